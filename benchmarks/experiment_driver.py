"""Runs one benchmark experiment in the interpreter that executes it, and prints the result as JSON.

benchmarks/overhead.py runs this file twice over: with our venv's interpreter (our ``nni``) and with the
NNI 3.0 venv's interpreter (the anchor), so both sides go through the same steps. It only uses the
public ``nni.experiment.Experiment`` API and the standard library.

Modes:

* ``start``: time ``Experiment.start()`` (it returns once the REST API answers and has taken the
  config), check that the API answers, then time ``stop()``.
* ``trials``: run ``--trials`` trivial trials at ``--concurrency`` with the Random tuner and time from
  the call to ``start()`` until the status is ``DONE``.

The result is the last line of stdout: ``BENCH-RESULT`` followed by a JSON object (``error`` holds a
traceback when the run failed). The caller chooses the port, points ``HOME`` and ``NNI_HOME_DIR`` at a
temporary folder, and gives a temporary experiment working directory and trial code directory.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import traceback

RESULT_MARKER = 'BENCH-RESULT '

#: Statuses after which an experiment will not reach DONE.
FAILED_STATUSES = ('ERROR', 'STOPPED', 'STOPPING')


def _make_experiment(args: argparse.Namespace, trials: int, concurrency: int):
    from nni.experiment import Experiment

    experiment = Experiment('local')
    config = experiment.config
    config.experiment_name = f'overhead-benchmark-{args.mode}'
    config.experiment_working_directory = args.workdir
    config.search_space = {'x': {'_type': 'uniform', '_value': [0, 1]}}
    config.trial_command = f'{sys.executable} trivial_trial.py'
    config.trial_code_directory = args.code_dir
    config.trial_concurrency = concurrency
    config.max_trial_number = trials
    config.tuner.name = 'Random'
    return experiment


def _stop(experiment, result: dict) -> None:
    began = time.perf_counter()
    experiment.stop()
    result['stop_s'] = time.perf_counter() - began


def run_start(args: argparse.Namespace, result: dict) -> None:
    experiment = _make_experiment(args, trials=1, concurrency=1)
    began = time.perf_counter()
    experiment.start(args.port)
    result['start_s'] = time.perf_counter() - began
    try:
        asked = time.perf_counter()
        result['status_after_start'] = experiment.get_status()
        result['first_request_s'] = time.perf_counter() - asked
    finally:
        _stop(experiment, result)


def run_trials(args: argparse.Namespace, result: dict) -> None:
    experiment = _make_experiment(args, trials=args.trials, concurrency=args.concurrency)
    began = time.perf_counter()
    experiment.start(args.port)
    result['start_s'] = time.perf_counter() - began
    try:
        deadline = began + args.timeout
        status = experiment.get_status()
        while status != 'DONE':
            if status in FAILED_STATUSES:
                raise RuntimeError(f'experiment ended with status {status} before DONE')
            if time.perf_counter() > deadline:
                raise TimeoutError(f'experiment still {status} after {args.timeout} s')
            time.sleep(args.poll)
            status = experiment.get_status()
        result['elapsed_s'] = time.perf_counter() - began
        statuses: dict[str, int] = {}
        durations = []
        for job in experiment.list_trial_jobs():
            statuses[job.status] = statuses.get(job.status, 0) + 1
            if job.startTime and job.endTime and job.endTime > 0:
                durations.append((job.endTime - job.startTime) / 1000)
        result['trial_statuses'] = statuses
        # How long the manager saw each trial run (launch to exit), to tell trial cost from scheduling gaps.
        result['trial_mean_s'] = sum(durations) / len(durations) if durations else None
        result['succeeded'] = statuses.get('SUCCEEDED', 0)
        result['trials_per_s'] = sum(statuses.values()) / result['elapsed_s']
    finally:
        _stop(experiment, result)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('mode', choices=('start', 'trials'))
    parser.add_argument('--port', type=int, required=True)
    parser.add_argument('--workdir', required=True, help='experiment_working_directory')
    parser.add_argument('--code-dir', required=True, help='trial_code_directory holding trivial_trial.py')
    parser.add_argument('--trials', type=int, default=50)
    parser.add_argument('--concurrency', type=int, default=4)
    parser.add_argument('--timeout', type=float, default=300.0, help='seconds to wait for DONE')
    parser.add_argument('--poll', type=float, default=0.02, help='seconds between two status requests')
    args = parser.parse_args(argv)

    result: dict = {'mode': args.mode, 'python': sys.executable}
    try:
        import nni

        result['nni_version'] = nni.__version__
        result['nni_file'] = nni.__file__
        (run_start if args.mode == 'start' else run_trials)(args, result)
    except BaseException:
        result['error'] = traceback.format_exc()
    sys.stdout.flush()
    print(RESULT_MARKER + json.dumps(result), flush=True)
    return 1 if 'error' in result else 0


if __name__ == '__main__':
    sys.exit(main())
