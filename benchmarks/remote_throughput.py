"""Trials per second of trivial trials: the remote platform (a loopback sshd) vs local.

Starts a real OpenSSH server on 127.0.0.2 with ``scripts/test-sshd.sh`` (key login as the
current user), then runs the same experiment twice with the public ``Experiment`` API: once with
``platform: local`` and once with ``platform: remote`` on that one machine. The trial is
``benchmarks/trivial_trial.py`` (get the parameters, report one result). The time counted runs from
``start()`` until the status is DONE.

    .venv/bin/python benchmarks/remote_throughput.py [--trials 40] [--concurrency 4]

Loopback hides network latency, so the remote figure is the cost of the SSH round trips, the
per-trial wrapper and the polling (``NNI_REMOTE_POLL_INTERVAL``, default 0.5 s), not of a network.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def _run(platform: str, args: argparse.Namespace, work: Path, ssh: dict[str, str]) -> float:
    from nni.experiment import Experiment
    from nni.experiment.config import RemoteConfig, RemoteMachineConfig

    code = work / 'code'
    code.mkdir(exist_ok=True)
    shutil.copy(ROOT / 'benchmarks' / 'trivial_trial.py', code / 'trivial_trial.py')
    experiment = Experiment(platform)
    config = experiment.config
    config.experiment_working_directory = str(work / f'exp-{platform}')
    config.search_space = {'x': {'_type': 'uniform', '_value': [0, 1]}}
    config.trial_command = f'PYTHONPATH={ROOT / "src"} python3 trivial_trial.py'
    config.trial_code_directory = code
    config.trial_concurrency = args.concurrency
    config.max_trial_number = args.trials
    config.tuner.name = 'Random'
    if platform == 'remote':
        service = RemoteConfig()
        service.machine_list.append(RemoteMachineConfig(
            host=ssh['SSH_HOST'], port=int(ssh['SSH_PORT']), user=ssh['SSH_USER'], ssh_key_file=ssh['SSH_KEY'],
            python_path=str(Path(sys.executable).parent)))
        config.training_service = service
    else:
        config.trial_command = f'{sys.executable} trivial_trial.py'
    began = time.perf_counter()
    experiment.start(_free_port())
    try:
        while experiment.get_status() not in ('DONE', 'ERROR', 'STOPPED'):
            time.sleep(0.05)
        elapsed = time.perf_counter() - began
        status = experiment.get_status()
        succeeded = sum(trial.status == 'SUCCEEDED' for trial in experiment.list_trial_jobs())
    finally:
        experiment.stop()
        # what the remote platform left on the "machine" (this host, this user)
        shutil.rmtree(Path.home() / 'nni-remote' / experiment.id, ignore_errors=True)
    if status != 'DONE' or succeeded != args.trials:
        raise SystemExit(f'{platform}: experiment ended {status} with {succeeded}/{args.trials} trials succeeded')
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--trials', type=int, default=40)
    parser.add_argument('--concurrency', type=int, default=4)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix='nni-remote-bench-') as tmp:
        work = Path(tmp)
        os.environ['NNI_HOME_DIR'] = str(work / 'home')
        sshd_dir = work / 'sshd'
        output = subprocess.run(['bash', str(ROOT / 'scripts' / 'test-sshd.sh'), 'start', str(sshd_dir),
                                 str(_free_port())], env=dict(os.environ, SSH_LISTEN='127.0.0.2'),
                                check=True, capture_output=True, text=True).stdout
        ssh = dict(line.split('=', 1) for line in output.splitlines() if '=' in line)
        try:
            results = {platform: _run(platform, args, work, ssh) for platform in ('local', 'remote')}
        finally:
            subprocess.run(['bash', str(ROOT / 'scripts' / 'test-sshd.sh'), 'stop', str(sshd_dir)], check=False)
    print(f'{args.trials} trivial trials, concurrency {args.concurrency}')
    for platform, elapsed in results.items():
        print(f'{platform:>6}: {elapsed:6.2f} s  {args.trials / elapsed:6.2f} trials/s')
    print(f'remote/local throughput ratio: {results["local"] / results["remote"]:.2f}')


if __name__ == '__main__':
    main()
