"""Helpers shared by the web portal tests and benchmarks/portal_render.py.

* :func:`create_synthetic_experiment` writes a stopped experiment of any size straight through
  the store (what a finished real run leaves behind), plus its manifest entry;
* :class:`ManagerProcess` runs ``python -m nni.manager`` on it (``--action view``) or on a config;
* :func:`chromium_path` finds Debian's chromium for Playwright.
"""

from __future__ import annotations

import json
import math
import os
import random
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from tests.polling import free_port  # noqa: F401 - re-exported to the tests

SEARCH_SPACE: dict[str, Any] = {
    'learning_rate': {'_type': 'loguniform', '_value': [1e-5, 0.1]},
    'batch_size': {'_type': 'choice', '_value': [16, 32, 64, 128]},
    'optimizer': {'_type': 'choice', '_value': ['sgd', 'adam', 'rmsprop']},
    'dropout': {'_type': 'uniform', '_value': [0.0, 0.6]},
    'layers': {'_type': 'randint', '_value': [1, 8]},
}
STATUS_MIX = [('SUCCEEDED', 0.85), ('FAILED', 0.08), ('USER_CANCELED', 0.04), ('EARLY_STOPPED', 0.03)]


def chromium_path() -> str | None:
    """Debian's chromium binary (or ``$CHROMIUM_PATH``); ``None`` when the machine has none."""
    for candidate in (os.environ.get('CHROMIUM_PATH'), '/usr/lib/chromium/chromium', '/usr/bin/chromium',
                      shutil.which('chromium'), shutil.which('chromium-browser')):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


def _score(params: dict[str, Any], rng: random.Random) -> float:
    # a smooth made-up response surface, so charts show structure rather than noise
    lr = math.log10(params['learning_rate'])
    score = 0.93 - 0.02 * (lr + 2.5) ** 2 - 0.15 * (params['dropout'] - 0.25) ** 2
    score += {'sgd': -0.02, 'adam': 0.01, 'rmsprop': 0.0}[params['optimizer']]
    score -= 0.004 * abs(params['layers'] - 4) + 0.003 * abs(math.log2(params['batch_size']) - 6)
    return round(score + rng.gauss(0, 0.008), 6)


def create_synthetic_experiment(workdir: Path, experiment_id: str, trials: int, *, intermediates: int = 5,
                                multi_objective: bool = False, seed: int = 0, files_for: int = 20,
                                name: str | None = None) -> Path:
    """Write a stopped experiment with ``trials`` trials into ``workdir/<id>``; returns that folder.

    Trials get ``intermediates`` periodical results each and, when they succeeded, a final one
    (a dict with ``default``, ``loss`` and ``latency`` when ``multi_objective``). The first
    ``files_for`` trials also get stdout/stderr files.
    """
    from nni.experiment.manifest import Experiments
    from nni.manager.store import ExperimentStore

    rng = random.Random(seed)
    root = workdir / experiment_id
    for folder in ('db', 'log', 'checkpoint', 'trials'):
        (root / folder).mkdir(parents=True, exist_ok=True)
    store = ExperimentStore(root / 'db' / 'nni.sqlite', create=True)
    start = int(time.time() * 1000) - trials * 4000 - 60_000
    params = {
        'experimentName': name or f'synthetic-{trials}',
        'searchSpace': SEARCH_SPACE,
        'trialCommand': 'python3 trial.py',
        'trialCodeDirectory': str(workdir),
        'trialConcurrency': 4,
        'maxTrialNumber': trials,
        'maxExperimentDuration': '10d',
        'experimentWorkingDirectory': str(workdir),
        'tuner': {'name': 'TPE', 'classArgs': {'optimize_mode': 'maximize'}},
        'trainingService': {'platform': 'local'},
    }
    # one transaction for the whole fixture: 10,000 trials are ~100,000 rows, which row-by-row
    # commits would take tens of seconds to write
    db = store._db  # noqa: SLF001 - test fixture writing in bulk
    db.execute('BEGIN')
    statuses, weights = zip(*STATUS_MIX, strict=True)
    clock = start
    for index in range(trials):
        trial_id = f't{index:05d}'
        parameters = {
            'learning_rate': round(10 ** rng.uniform(-5, -1), 8),
            'batch_size': rng.choice([16, 32, 64, 128]),
            'optimizer': rng.choice(['sgd', 'adam', 'rmsprop']),
            'dropout': round(rng.uniform(0, 0.6), 4),
            'layers': rng.randint(1, 8),
        }
        record = json.dumps({'parameter_id': index, 'parameter_source': 'algorithm', 'parameters': parameters,
                             'parameter_index': 0})
        log_path = str(root / 'environments' / 'local-env' / 'trials' / trial_id)
        status = rng.choices(statuses, weights)[0]
        submitted = clock
        began = submitted + rng.randint(5, 200)
        ended = began + rng.randint(20_000, 90_000)
        clock += 4000
        store.add_trial_event(trial_id, 'WAITING', data=record, log_path=log_path, sequence_id=index,
                              environment_id='local-env', timestamp=submitted)
        store.add_trial_event(trial_id, 'RUNNING', log_path=log_path, sequence_id=index,
                              environment_id='local-env', timestamp=began)
        final = _score(parameters, rng)
        reports = intermediates if status == 'SUCCEEDED' else rng.randint(0, intermediates)
        for step in range(reports):
            value = round(final - (0.25 * (reports - step) / max(1, reports)) * rng.uniform(0.8, 1.2), 6)
            data = value if not multi_objective else {'default': value, 'loss': round(1 - value, 6)}
            store.add_metric(trial_id, str(index), 'PERIODICAL', step, json.dumps(json.dumps(data)),
                             timestamp=began + (step + 1) * 1000)
        if status == 'SUCCEEDED':
            data: Any = final
            if multi_objective:
                data = {'default': final, 'loss': round(1 - final + rng.gauss(0, 0.01), 6),
                        'latency': round(5 + parameters['layers'] * 3 + rng.gauss(0, 2) + 40 * (final - 0.8), 3)}
            store.add_metric(trial_id, str(index), 'FINAL', 0, json.dumps(json.dumps(data)), timestamp=ended - 10)
        store.add_trial_event(trial_id, status, log_path=log_path, sequence_id=index, timestamp=ended,
                              message='exit code 1' if status == 'FAILED' else None)
        if index < files_for:
            folder = Path(log_path)
            folder.mkdir(parents=True, exist_ok=True)
            (folder / 'trial.stdout').write_text(
                ''.join(f'epoch {step}: accuracy {final - 0.01 * (reports - step):.4f}\n' for step in range(reports))
                + '<script>document.title="pwned"</script> <b>not bold</b>\n', encoding='utf-8')
            (folder / 'trial.stderr').write_text('' if status != 'FAILED' else 'Traceback: boom\n', encoding='utf-8')
            (folder / 'model.txt').write_text('weights\n', encoding='utf-8')
    end = clock + 60_000
    store.store_profile({'params': params, 'id': experiment_id, 'execDuration': (end - start) // 1000,
                         'startTime': start, 'endTime': end, 'logDir': str(root), 'nextSequenceId': trials,
                         'revision': 1})
    db.execute('COMMIT')
    store.close()
    Experiments().add_experiment(experiment_id, None, start, 'local', params['experimentName'], endTime=end,
                                 status='STOPPED', logDir=str(workdir))
    return root


class ManagerProcess:
    """``python -m nni.manager`` for one experiment, stopped by :meth:`stop`."""

    def __init__(self, workdir: Path, experiment_id: str, *, action: str = 'view', config: dict[str, Any] | None = None,
                 port: int | None = None, url_prefix: str = '', env: dict[str, str] | None = None,
                 bind_address: str | None = None) -> None:
        self.port = port or free_port()
        self.experiment_id = experiment_id
        self.url_prefix = url_prefix.strip('/')
        command = [sys.executable, '-m', 'nni.manager', '--port', str(self.port), '--experiment-id', experiment_id,
                   '--action', action, '--experiments-directory', str(workdir)]
        if self.url_prefix:
            command += ['--url-prefix', self.url_prefix]
        if bind_address:
            command += ['--bind-address', bind_address]
        log = workdir / f'manager-{experiment_id}.out'
        self._out = open(log, 'ab')  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(command, stdout=self._out, stderr=subprocess.STDOUT,
                                        env={**os.environ, **(env or {})})
        self._wait_ready()
        self.request('POST', 'experiment', config if config is not None else {})
        if action == 'view':
            self.wait_status({'VIEWED'})

    @property
    def url(self) -> str:
        return f'http://127.0.0.1:{self.port}/' + (f'{self.url_prefix}/' if self.url_prefix else '')

    def api(self, path: str) -> str:
        return f'{self.url}api/v1/nni/{path.lstrip("/")}'

    def request(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.api(path), data=data, method=method,
                                         headers={'Content-Type': 'application/json'})
        with urllib.request.urlopen(request, timeout=30) as response:
            text = response.read().decode()
        return json.loads(text) if text else None

    def _wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f'the manager exited with code {self.process.returncode}')
            try:
                self.request('GET', 'check-status')
                return
            except (OSError, urllib.error.URLError, ValueError):
                time.sleep(0.05)
        raise RuntimeError('the manager did not answer in time')

    def wait_status(self, wanted: set[str], timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        status = ''
        while time.monotonic() < deadline:
            status = self.request('GET', 'check-status')['status']
            if status in wanted:
                return status
            time.sleep(0.1)
        raise AssertionError(f'status {status}, wanted one of {sorted(wanted)}')

    def stop(self) -> None:
        if self.process.poll() is None:
            try:
                self.request('DELETE', 'experiment')
            except (OSError, urllib.error.URLError):
                pass
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._out.close()
