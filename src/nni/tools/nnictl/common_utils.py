"""NNI's ``nni.tools.nnictl.common_utils``: file loading, coloured printing and process checks.

Printing goes through :mod:`.output` (our nnictl's own), process checks through the manifest's
``pid_alive``; this module only keeps NNI's function names for scripts that import them.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import sys
import tempfile
from typing import Any

from . import output

__all__ = ['get_yml_content', 'get_json_content', 'print_error', 'print_green', 'print_normal', 'print_warning',
           'detect_process', 'detect_port', 'get_user', 'generate_temp_dir']


def get_yml_content(file_path: str) -> Any:
    """Load a YAML file; on an unreadable or malformed file print the error and exit 1 (as NNI)."""
    import yaml

    try:
        with open(file_path, encoding='utf_8') as file:
            return yaml.safe_load(file)
    except (OSError, yaml.YAMLError) as error:
        print_error(f'cannot load YAML file {file_path}: {error}')
        sys.exit(1)


def get_json_content(file_path: str) -> Any:
    """Load a JSON file; ``None`` (with the error printed) when it is not valid JSON."""
    try:
        with open(file_path, encoding='utf_8') as file:
            return json.load(file)
    except (TypeError, ValueError) as error:
        print_error(f'json file format error in {file_path}: {error}')
        return None


def print_error(*content: Any) -> None:
    """``ERROR: ...`` (red on a terminal)."""
    output.error(' '.join(str(item) for item in content))


def print_green(*content: Any) -> None:
    """A line in green on a terminal."""
    output.success(' '.join(str(item) for item in content))


def print_normal(*content: Any) -> None:
    """``INFO:  ...``."""
    output.info(' '.join(str(item) for item in content))


def print_warning(*content: Any) -> None:
    """``WARNING: ...`` (yellow on a terminal)."""
    output.warning(' '.join(str(item) for item in content))


def detect_process(pid: Any) -> bool:
    """Whether ``pid`` is a running process (a zombie or ``None`` is not)."""
    from nni.experiment.manifest import pid_alive

    return pid_alive(pid)


def detect_port(port: int) -> bool:
    """Whether something accepts connections on ``127.0.0.1:port``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(1)
        return probe.connect_ex(('127.0.0.1', int(port))) == 0


def get_user() -> str:
    """The login name of the user running nnictl."""
    import getpass

    return getpass.getuser()


def generate_temp_dir() -> str:
    """Create and return a new folder under ``<tmp>/nni``."""
    base = os.path.join(tempfile.gettempdir(), 'nni')
    os.makedirs(base, exist_ok=True)
    while True:
        path = os.path.join(base, secrets.token_hex(4))
        try:
            os.mkdir(path)
            return path
        except FileExistsError:
            continue
