"""Slurm training service: trivial-trial throughput next to the local service, and the cost of a poll.

1. Trials per second for ``--trials`` trivial trials (benchmarks/trivial_trial.py, Random tuner,
   concurrency ``--concurrency``), from the call to ``Experiment.start()`` until the status is
   ``DONE``, with ``platform: slurm`` and with ``platform: local`` on the same machine.
2. The cost of one poll cycle of the Slurm service with ``--queued`` jobs in the queue: that many
   held jobs (``sbatch --hold``) carry the experiment's job name; the service tracks them all and
   one poll (one ``squeue`` for all of them, parsed) is timed, median of ``--repeat``; next to it,
   what asking per job would cost (``scontrol show job`` for 50 of them, scaled to all). The jobs
   are cancelled afterwards.
3. Slurm's own floor: seconds from ``sbatch`` of an empty job until it is COMPLETED.

Needs a Slurm cluster: the one ``SLURM_CONF`` names, else (as root) a single-node one started with
scripts/test-slurm.sh in a temporary folder and stopped at the end.

Run: ``.venv/bin/python benchmarks/slurm_throughput.py [--trials 40] [--concurrency 4] [--queued 500]``
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
TRIAL = HERE / 'trivial_trial.py'
SLURM_SCRIPT = REPO / 'scripts' / 'test-slurm.sh'
sys.path.insert(0, str(REPO / 'src'))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def start_cluster() -> tuple[str, Path | None]:
    """``SLURM_CONF`` of a cluster that answers, and the folder of one started here (to stop)."""
    conf = os.environ.get('SLURM_CONF')
    if conf and subprocess.run(['scontrol', 'ping'], capture_output=True).returncode == 0:
        return conf, None
    if os.geteuid() != 0:
        raise SystemExit('no Slurm cluster: set SLURM_CONF to a running one, or run as root to start one')
    folder = Path(tempfile.mkdtemp(prefix='nni-bench-slurm-'))
    port = _free_port()
    while port >= 65535:
        port = _free_port()
    # a port of our own (and the next one for slurmd): another test cluster may hold the defaults
    env = dict(os.environ, SLURM_CPUS=os.environ.get('SLURM_CPUS', '4'), SLURM_PORT=str(port))
    out = subprocess.run(['bash', str(SLURM_SCRIPT), 'start', str(folder)], env=env, capture_output=True, text=True,
                         check=True).stdout
    values = dict(line.split('=', 1) for line in out.splitlines() if '=' in line)
    os.environ['SLURM_CONF'] = values['SLURM_CONF']
    return values['SLURM_CONF'], folder


def stop_cluster(folder: Path | None) -> None:
    if folder is not None:
        subprocess.run(['bash', str(SLURM_SCRIPT), 'stop', str(folder)], capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


def trials_per_second(platform: str, trials: int, concurrency: int, workdir: Path) -> dict[str, Any]:
    """Run ``trials`` trivial trials on ``platform``; trials/s from ``start()`` until DONE."""
    from nni.experiment import Experiment

    experiment = Experiment(platform)
    config = experiment.config
    config.experiment_working_directory = str(workdir)
    config.search_space = {'x': {'_type': 'uniform', '_value': [0, 1]}}
    config.trial_command = f'{sys.executable} {TRIAL.name}'
    config.trial_code_directory = HERE
    config.trial_concurrency = concurrency
    config.max_trial_number = trials
    config.tuner.name = 'Random'
    if platform == 'slurm':
        config.training_service.poll_interval = 1
    started = time.perf_counter()
    experiment.start(_free_port())
    try:
        while experiment.get_status() not in ('DONE', 'ERROR'):
            time.sleep(0.02)
        elapsed = time.perf_counter() - started
        statuses = [trial.status for trial in experiment.list_trial_jobs()]
    finally:
        experiment.stop()
    if statuses.count('SUCCEEDED') != trials:
        raise SystemExit(f'{platform}: expected {trials} SUCCEEDED trials, got {statuses}')
    return {'platform': platform, 'trials': trials, 'seconds': elapsed, 'trials_per_s': trials / elapsed}


def slurm_latency(repeat: int) -> float:
    """Median seconds from ``sbatch`` of an empty job until Slurm lists it COMPLETED: Slurm's own floor."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        job_id = subprocess.run(['sbatch', '--parsable', '--output=/dev/null', '--wrap', 'true'], capture_output=True,
                                text=True, check=True).stdout.strip().split(';')[0]
        while subprocess.run(['squeue', '-h', '-t', 'all', '-j', job_id, '-o', '%T'], capture_output=True,
                             text=True).stdout.strip() != 'COMPLETED':
            time.sleep(0.02)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


async def poll_cost(queued: int, repeat: int, workdir: Path) -> dict[str, Any]:
    """Median seconds of one poll cycle with ``queued`` held jobs of the experiment in the queue."""
    from nni.manager.training_service.base import TrialSpec
    from nni.manager.training_service.slurm import SlurmTrainingService, _Job
    from nni.manager.training_service.slurm_jobs import job_name

    experiment_id = f'bench{uuid.uuid4().hex[:8]}'
    root = workdir / experiment_id
    name = job_name(experiment_id)
    submit_started = time.perf_counter()
    job_ids = []
    for _ in range(queued):
        out = subprocess.run(['sbatch', '--parsable', '--hold', f'--job-name={name}', '--output=/dev/null',
                              '--wrap', 'true'], capture_output=True, text=True, check=True).stdout
        job_ids.append(out.strip().split(';')[0])
    submit_seconds = time.perf_counter() - submit_started
    service = SlurmTrainingService({'platform': 'slurm', 'pollInterval': 3600}, root)
    try:
        await service.start()
        for index, job_id in enumerate(job_ids):
            trial_id = f't{index}'
            spec = TrialSpec(trial_id=trial_id, sequence_id=index, command='true', code_dir=root,
                             trial_dir=root / trial_id, parameter_record='{}')
            service._jobs[trial_id] = _Job(spec, job_id, str(root / trial_id))
        times = []
        for _ in range(repeat):
            started = time.perf_counter()
            await service._poll_queue()
            times.append(time.perf_counter() - started)
        if len(service._jobs) != queued:
            raise SystemExit(f'a poll lost track of {queued - len(service._jobs)} held jobs')
        # what one command per job would cost: scontrol for 50 of them, scaled
        sample = job_ids[:50]
        started = time.perf_counter()
        for job_id in sample:
            subprocess.run(['scontrol', '-o', 'show', 'job', job_id], capture_output=True, check=True)
        per_job = (time.perf_counter() - started) / len(sample)
    finally:
        subprocess.run(['scancel', f'--name={name}'], capture_output=True)
        await service.stop()
    return {'queued': queued, 'poll_seconds_median': statistics.median(times), 'poll_seconds_max': max(times),
            'per_job_scontrol_seconds_scaled': per_job * queued, 'submit_seconds': submit_seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n', 1)[0])
    parser.add_argument('--trials', type=int, default=40)
    parser.add_argument('--concurrency', type=int, default=4)
    parser.add_argument('--queued', type=int, default=500)
    parser.add_argument('--repeat', type=int, default=7)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix='nni-bench-'))
    os.environ['NNI_HOME_DIR'] = str(work / 'home')
    conf, started_here = start_cluster()
    try:
        print(f'Slurm: {conf}; {os.cpu_count()} CPUs here; {args.trials} trivial trials at concurrency '
              f'{args.concurrency}')
        local = trials_per_second('local', args.trials, args.concurrency, work / 'local')
        slurm = trials_per_second('slurm', args.trials, args.concurrency, work / 'slurm')
        for result in (local, slurm):
            print(f'  {result["platform"]:>5}: {result["trials_per_s"]:.2f} trials/s '
                  f'({result["trials"]} in {result["seconds"]:.1f} s)')
        print(f'  slurm / local: {slurm["trials_per_s"] / local["trials_per_s"]:.2f}x')
        floor = slurm_latency(5)
        print(f'  Slurm alone: an empty job takes {floor:.2f} s from sbatch to COMPLETED (median of 5), which bounds '
              f'concurrency {args.concurrency} to {args.concurrency / floor:.2f} jobs/s')
        cost = asyncio.run(poll_cost(args.queued, args.repeat, work / 'poll'))
        print(f'poll with {cost["queued"]} held jobs queued: {cost["poll_seconds_median"] * 1000:.1f} ms per cycle '
              f'(median of {args.repeat}, max {cost["poll_seconds_max"] * 1000:.1f} ms; one squeue for all jobs)')
        print(f'  one scontrol per job instead would take {cost["per_job_scontrol_seconds_scaled"]:.2f} s per cycle; '
              f'submitting the {cost["queued"]} held jobs took {cost["submit_seconds"]:.1f} s')
    finally:
        stop_cluster(started_here)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == '__main__':
    main()
