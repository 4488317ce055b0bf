"""REST latency of the manager (DESIGN.md section 6).

1. ``GET /trial-jobs`` of an experiment with 10,000 trials (made through the store, opened in
   view mode), next to the same request on a 10-trial experiment: median and p99.
2. API p99 while a tuner computes: a running experiment whose custom tuner spends ``--tuner-ms``
   of pure-Python CPU per suggestion; ``GET /check-status`` and ``GET /trial-jobs`` are timed
   while it works.
3. API p99 under bad clients: ``GET /check-status`` with ``--flood`` (1,000) idle connections
   open, then with as many half-sent requests trickling one header byte every 0.5 s (slowloris);
   the connections are held by a separate process, so the clients' work does not slow the timing.

Run: ``.venv/bin/python benchmarks/rest_latency.py [--trials 10000] [--requests 200] [--flood 1000]``
(``--only-flood`` runs part 3 alone).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import textwrap
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.webui.support import ManagerProcess, create_synthetic_experiment  # noqa: E402

BUSY_TUNER = textwrap.dedent('''
    import time
    from nni.tuner import Tuner

    class BusyTuner(Tuner):
        """Burns CPU in Python for every suggestion, as a heavy model-based tuner would."""

        def __init__(self, busy_ms=500):
            self.busy_s = busy_ms / 1000

        def update_search_space(self, search_space):
            pass

        def generate_parameters(self, parameter_id, **kwargs):
            deadline = time.process_time() + self.busy_s
            total = 0
            while time.process_time() < deadline:
                total += sum(range(1000))
            return {'x': parameter_id % 10}

        def receive_trial_result(self, parameter_id, parameters, value, **kwargs):
            pass
''')


def timed_get(url: str) -> float:
    started = time.perf_counter()
    with urllib.request.urlopen(url, timeout=60) as response:
        response.read()
    return (time.perf_counter() - started) * 1000


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def summary(samples: list[float]) -> str:
    return f'median {statistics.median(samples):7.1f} ms   p99 {percentile(samples, 0.99):7.1f} ms'


def measure_trial_jobs(workdir: Path, trials: int, requests: int) -> list[float]:
    experiment_id = f'lat{trials}'
    create_synthetic_experiment(workdir, experiment_id, trials)
    manager = ManagerProcess(workdir, experiment_id, action='view')
    try:
        url = manager.api('trial-jobs')
        timed_get(url)  # first request warms caches, as any later page load would find them
        return [timed_get(url) for _ in range(requests)]
    finally:
        manager.stop()


def measure_while_tuner_computes(workdir: Path, tuner_ms: int, requests: int) -> dict[str, list[float]]:
    code = workdir / 'busy_code'
    code.mkdir()
    (code / 'busy_tuner.py').write_text(BUSY_TUNER)
    (code / 'trial.py').write_text('import nni\nnni.get_next_parameter()\nnni.report_final_result(1)\n')
    config = {
        'searchSpace': {'x': {'_type': 'randint', '_value': [0, 10]}},
        'trialCommand': f'{sys.executable} trial.py', 'trialCodeDirectory': str(code),
        'trialConcurrency': 2, 'maxTrialNumber': 1000, 'experimentWorkingDirectory': str(workdir),
        'tuner': {'className': 'busy_tuner.BusyTuner', 'codeDirectory': str(code), 'classArgs': {'busy_ms': tuner_ms}},
        'trainingService': {'platform': 'local'},
    }
    manager = ManagerProcess(workdir, 'latbusy', action='create', config=config)
    try:
        time.sleep(1.0)  # the tuner is now suggesting back to back
        samples: dict[str, list[float]] = {'check-status': [], 'trial-jobs': []}
        for _ in range(requests):
            for name in samples:
                samples[name].append(timed_get(manager.api(name)))
        return samples
    finally:
        manager.stop()


def measure_under_flood(workdir: Path, flood: int, requests: int) -> dict[str, list[float]]:
    from tests.fault.edge_support import Flood, raise_fd_limit

    flood = min(flood, raise_fd_limit() - 200)
    create_synthetic_experiment(workdir, 'latflood', 10)
    manager = ManagerProcess(workdir, 'latflood', action='view')
    url = manager.api('check-status')
    samples: dict[str, list[float]] = {}
    try:
        timed_get(url)
        samples['no flood'] = [timed_get(url) for _ in range(requests)]
        idle = Flood(manager.port, flood)
        try:
            time.sleep(0.3)
            samples[f'{idle.opened} idle connections'] = [timed_get(url) for _ in range(requests)]
        finally:
            idle.stop()
        head = b'GET /api/v1/nni/check-status HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: '
        slow = Flood(manager.port, flood, head, trickle_s=0.5)
        try:
            time.sleep(0.3)
            samples[f'{slow.opened} half-sent requests'] = [timed_get(url) for _ in range(requests)]
        finally:
            slow.stop()
        return samples
    finally:
        manager.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--trials', type=int, default=10000)
    parser.add_argument('--requests', type=int, default=100)
    parser.add_argument('--tuner-ms', type=int, default=500)
    parser.add_argument('--flood', type=int, default=1000, help='idle / half-sent connections of part 3')
    parser.add_argument('--only-flood', action='store_true', help='run part 3 only')
    parser.add_argument('--json', help='also write the samples here')
    args = parser.parse_args(argv)
    results: dict[str, object] = {}
    with tempfile.TemporaryDirectory(prefix='nni-rest-latency-') as folder:
        workdir = Path(folder)
        import os

        os.environ['NNI_HOME_DIR'] = str(workdir / 'home')  # the synthetic experiments' manifest stays here
        flooded = measure_under_flood(workdir, args.flood, max(args.requests, 200))
        if not args.only_flood:
            small = measure_trial_jobs(workdir, 10, args.requests)
            large = measure_trial_jobs(workdir, args.trials, args.requests)
            busy = measure_while_tuner_computes(workdir, args.tuner_ms, args.requests)
    print('GET /check-status under bad clients:')
    for name, samples in flooded.items():
        print(f'  {name:<28}       {summary(samples)}   (budget: p99 <= 100 ms)')
    if args.only_flood:
        if args.json:
            Path(args.json).write_text(json.dumps({'flood': flooded}))
        return 0
    print(f'GET /trial-jobs, {10:>6} trials:       {summary(small)}')
    print(f'GET /trial-jobs, {args.trials:>6} trials:       {summary(large)}   (budget: <= 100 ms)')
    print(f'while the tuner computes ({args.tuner_ms} ms per suggestion, CPU-bound Python):')
    for name, samples in busy.items():
        print(f'  GET /{name:<14}                {summary(samples)}   (budget: p99 <= 50 ms)')
    results = {'small': small, 'large': large, 'busy': busy, 'trials': args.trials, 'tuner_ms': args.tuner_ms,
               'flood': flooded}
    if args.json:
        Path(args.json).write_text(json.dumps(results))
    return 0


if __name__ == '__main__':
    sys.exit(main())
