"""Does early stopping pay? Wall time and best final accuracy on a learning-curve problem.

Real experiments (manager, trial processes) on a synthetic training job: each trial trains for
``--epochs`` epochs (``TRIAL_BUDGET`` epochs under Hyperband/BOHB), sleeping ``--epoch-sleep``
seconds per epoch, and reports an accuracy-like learning curve whose plateau and speed depend on
its hyper-parameters (``lr``, ``momentum``, ``width``); the plateau is the final quality.

Part A, assessors: the Random tuner with a fixed seed (so every run trains the same
configurations) and no assessor, Medianstop or Curvefitting. Printed: wall time from start to
DONE, trials stopped early, epochs actually trained, and the best final accuracy among trials
that ran to the end.

Part B, advisors at equal total budget: Random (every trial ``--epochs`` epochs), Hyperband and
BOHB (``R`` / ``max_budget`` = ``--epochs``) each get ``--budget-trials x --epochs`` epochs in total
(trial submission stops once the budgets handed out reach it). Printed: wall time, epochs used, and
the best final accuracy among trials trained for the full ``--epochs``.

Usage::

    .venv/bin/python benchmarks/early_stopping.py            # 3 seeds, ~5 minutes
    .venv/bin/python benchmarks/early_stopping.py --seeds 1 --trials 24
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

TRIAL_CODE = textwrap.dedent('''\
    """Synthetic training job: an accuracy curve whose plateau and speed depend on the parameters."""
    import math
    import random
    import time

    import nni

    params = nni.get_next_parameter()
    lr, momentum, width = params['lr'], params['momentum'], params['width']
    epochs = int(params.get('TRIAL_BUDGET', {epochs}))
    # plateau: best near lr = 10^-2.5, momentum 0.9 and a wide model
    plateau = 0.95 * math.exp(-((math.log10(lr) + 2.5) / 1.2) ** 2) * (1 - 0.5 * abs(momentum - 0.9))
    plateau *= 0.8 + 0.2 * width / 256
    # speed: larger learning rates learn faster (so early epochs mislead a little)
    tau = 2.0 + 6.0 * (math.log10(lr) + 5) / 4
    noise = random.Random(repr(sorted(params.items()))).gauss
    accuracy = 0.0
    for epoch in range(1, epochs + 1):
        time.sleep({epoch_sleep})
        accuracy = plateau * (1 - math.exp(-epoch / max(tau, 0.5))) + noise(0, 0.004)
        nni.report_intermediate_result(accuracy)
    nni.report_final_result(accuracy)
''')

SEARCH_SPACE = {
    'lr': {'_type': 'loguniform', '_value': [1e-5, 1e-1]},
    'momentum': {'_type': 'uniform', '_value': [0.5, 0.99]},
    'width': {'_type': 'choice', '_value': [32, 64, 128, 256]},
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def _experiment(workdir: Path, code_dir: Path, concurrency: int, max_trials: int, tuner: dict,
                assessor: dict | None) -> Any:
    from nni.experiment import Experiment
    from nni.experiment.config import ExperimentConfig

    config = ExperimentConfig(
        experiment_name='early-stopping-benchmark', search_space=SEARCH_SPACE,
        trial_command=f'{sys.executable} trial.py', trial_code_directory=str(code_dir),
        trial_concurrency=concurrency, max_trial_number=max_trials, tuner=tuner, assessor=assessor,
        experiment_working_directory=str(workdir), training_service={'platform': 'local'})
    return Experiment(config)


def _budget_of(job: Any, full: int) -> int:
    return int(job.hyperParameters[0].parameters.get('TRIAL_BUDGET', full))


def _run(workdir: Path, code_dir: Path, args: argparse.Namespace, tuner: dict, assessor: dict | None = None,
         epoch_budget: int | None = None) -> dict[str, Any]:
    """One experiment to DONE; with ``epoch_budget`` submission stops once that many epochs are handed out."""
    max_trials = args.trials if epoch_budget is None else 10_000
    experiment = _experiment(workdir, code_dir, args.concurrency, max_trials, tuner, assessor)
    began = time.perf_counter()
    experiment.start(_free_port())
    try:
        capped = epoch_budget is None
        while True:
            status = experiment.get_status()
            if status in ('DONE', 'ERROR', 'STOPPED'):
                break
            if not capped:
                jobs = experiment.list_trial_jobs()
                if sum(_budget_of(job, args.epochs) for job in jobs) >= epoch_budget:
                    experiment.update_max_trial_number(max(1, len(jobs)))
                    capped = True
            time.sleep(0.02)
        wall = time.perf_counter() - began
        if status != 'DONE':
            raise RuntimeError(f'experiment ended {status}')
        jobs = experiment.list_trial_jobs()
        metrics = experiment.get_job_metrics()
        trained = sum(sum(m.type == 'PERIODICAL' for m in metrics.get(job.trialJobId, [])) for job in jobs)
        finals = []
        for job in jobs:
            if job.status == 'SUCCEEDED' and _budget_of(job, args.epochs) == args.epochs and job.finalMetricData:
                finals.append(_number(job.finalMetricData[0].data))
        return {
            'wall_s': wall,
            'trials': len(jobs),
            'early_stopped': sum(job.status == 'EARLY_STOPPED' for job in jobs),
            'epochs': trained,
            'best_final': max(finals) if finals else float('nan'),
        }
    finally:
        experiment.stop()


def _number(data: Any) -> float:
    while isinstance(data, str):  # the REST answer may still be JSON text
        data = json.loads(data)
    return float(data['default'] if isinstance(data, dict) else data)


def _table(title: str, rows: dict[str, list[dict[str, Any]]], columns: list[str]) -> None:
    print(f'\n{title}')
    header = f'{"method":<14}' + ''.join(f'{column:>16}' for column in columns)
    print(header)
    print('-' * len(header))
    for name, results in rows.items():
        cells = []
        for column in columns:
            values = [result[column] for result in results]
            mean = statistics.fmean(values)
            cells.append(f'{mean:16.3f}' if isinstance(values[0], float) else f'{mean:16.1f}')
        print(f'{name:<14}' + ''.join(cells))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--seeds', type=int, default=3, help='repetitions (seeds 0..N-1); means are printed')
    parser.add_argument('--trials', type=int, default=32, help='trials per run in part A')
    parser.add_argument('--budget-trials', type=int, default=32,
                        help='part B: total budget, in full-length trials')
    parser.add_argument('--epochs', type=int, default=16, help='epochs of a full trial (R, max_budget)')
    parser.add_argument('--epoch-sleep', type=float, default=0.1, help='seconds per epoch')
    parser.add_argument('--concurrency', type=int, default=4)
    parser.add_argument('--part', choices=['A', 'B', 'both'], default='both')
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix='nni-early-stopping-') as folder:
        root = Path(folder)
        code_dir = root / 'code'
        code_dir.mkdir()
        (code_dir / 'trial.py').write_text(TRIAL_CODE.format(epochs=args.epochs, epoch_sleep=args.epoch_sleep))
        workdir = root / 'experiments'
        workdir.mkdir()

        if args.part in ('A', 'both'):
            part_a: dict[str, list[dict[str, Any]]] = {'no assessor': [], 'Medianstop': [], 'Curvefitting': []}
            for seed in range(args.seeds):
                tuner = {'name': 'Random', 'classArgs': {'seed': seed}}
                part_a['no assessor'].append(_run(workdir, code_dir, args, tuner))
                part_a['Medianstop'].append(_run(workdir, code_dir, args, tuner, {
                    'name': 'Medianstop', 'classArgs': {'optimize_mode': 'maximize', 'start_step': 4}}))
                part_a['Curvefitting'].append(_run(workdir, code_dir, args, tuner, {
                    'name': 'Curvefitting', 'classArgs': {'epoch_num': args.epochs, 'start_step': 5,
                                                          'threshold': 0.95}}))
            _table(f'A. assessors: Random tuner, {args.trials} trials x {args.epochs} epochs, '
                   f'{args.epoch_sleep} s/epoch, concurrency {args.concurrency}; mean of {args.seeds} seed(s)',
                   part_a, ['wall_s', 'early_stopped', 'epochs', 'best_final'])

        if args.part in ('B', 'both'):
            budget = args.budget_trials * args.epochs
            part_b: dict[str, list[dict[str, Any]]] = {'Random': [], 'Hyperband': [], 'BOHB': []}
            for seed in range(args.seeds):
                part_b['Random'].append(_run(workdir, code_dir, args, {'name': 'Random', 'classArgs': {'seed': seed}},
                                             epoch_budget=budget))
                part_b['Hyperband'].append(_run(workdir, code_dir, args, {'name': 'Hyperband', 'classArgs': {
                    'optimize_mode': 'maximize', 'R': args.epochs, 'eta': 2, 'seed': seed}}, epoch_budget=budget))
                part_b['BOHB'].append(_run(workdir, code_dir, args, {'name': 'BOHB', 'classArgs': {
                    'optimize_mode': 'maximize', 'min_budget': 1, 'max_budget': args.epochs, 'eta': 2,
                    'seed': seed}}, epoch_budget=budget))
            _table(f'B. advisors at equal total budget ({budget} epochs), concurrency {args.concurrency}; '
                   f'mean of {args.seeds} seed(s)', part_b, ['wall_s', 'trials', 'epochs', 'best_final'])


if __name__ == '__main__':
    main()
