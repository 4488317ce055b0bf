"""Starting the test sshd of ``scripts/test-sshd.sh`` and reading what the service scripts print."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SSHD_SCRIPT = ROOT / 'scripts' / 'test-sshd.sh'


def script_values(output: str) -> dict[str, str]:
    """The ``KEY=VALUE`` lines a service script prints when it has started (``SSH_PORT=...``, ``SLURM_CONF=...``)."""
    return dict(line.split('=', 1) for line in output.splitlines() if '=' in line)


def start_test_sshd(folder: Path, port: int, listen: str, **env: str) -> dict[str, str]:
    """Start one test sshd in ``folder`` listening on ``listen:port``; return what the script printed."""
    output = subprocess.run(['bash', str(SSHD_SCRIPT), 'start', str(folder), str(port)],
                            env=dict(os.environ, SSH_LISTEN=listen, **env), check=True, capture_output=True,
                            text=True, timeout=120).stdout
    return script_values(output)
