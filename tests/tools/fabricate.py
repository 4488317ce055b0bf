"""Stopped experiments made on disk without a manager: a manifest entry and a database with trials."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from nni.experiment.manifest import Experiments
from nni.manager.store import ExperimentStore

START = 1_700_000_000_000


def make_experiment(
    workdir: Path,
    exp_id: str,
    metrics: list[float | dict[str, float] | None] | None = None,
    *,
    status: str = 'STOPPED',
    pid: int | None = None,
    port: int | None = 8080,
    optimize_mode: str = 'maximize',
    params: dict[str, Any] | None = None,
    name: str | None = 'fake',
) -> Path:
    """
    Create ``<workdir>/<exp_id>`` with a database and logs, and its manifest entry.

    ``metrics``: one final metric per trial (``None``: the trial failed). Trial ``t<i>`` has parameters
    ``{"x": i, "name": "n<i>"}`` and intermediate results ``[i/10, i/5]``.
    """
    root = workdir / exp_id
    config = {
        'experimentName': name,
        'searchSpace': {'x': {'_type': 'randint', '_value': [0, 10]}},
        'trialCommand': 'python3 trial.py',
        'trialCodeDirectory': str(workdir / 'code'),
        'trialConcurrency': 1,
        'experimentWorkingDirectory': str(workdir),
        'tuner': {'name': 'TPE', 'classArgs': {'optimize_mode': optimize_mode}},
        'trainingService': {'platform': 'local'},
        **(params or {}),
    }
    store = ExperimentStore(root / 'db' / 'nni.sqlite', create=True)
    store.store_profile({'params': config, 'id': exp_id, 'execDuration': 5, 'startTime': START, 'endTime': START + 5000,
                         'logDir': str(root), 'nextSequenceId': len(metrics or []), 'revision': 1})
    for index, metric in enumerate(metrics or []):
        trial_id = f't{index}'
        trial_dir = root / 'trials' / trial_id
        trial_dir.mkdir(parents=True)
        (trial_dir / 'trial.log').write_text(f'log of {trial_id}\n')
        record = json.dumps({'parameter_id': index, 'parameter_source': 'algorithm',
                             'parameters': {'x': index, 'name': f'n{index}'}, 'parameter_index': 0})
        store.add_trial_event(trial_id, 'WAITING', data=record, log_path=str(trial_dir), sequence_id=index,
                              timestamp=START + index * 1000)
        store.add_trial_event(trial_id, 'RUNNING', log_path=str(trial_dir), timestamp=START + index * 1000 + 10)
        for step, value in enumerate((index / 10, index / 5)):
            store.add_metric(trial_id, str(index), 'PERIODICAL', step, json.dumps(json.dumps(value)))
        if metric is None:
            store.add_trial_event(trial_id, 'FAILED', timestamp=START + index * 1000 + 500)
        else:
            store.add_metric(trial_id, str(index), 'FINAL', 0, json.dumps(json.dumps(metric)))
            store.add_trial_event(trial_id, 'SUCCEEDED', timestamp=START + index * 1000 + 500)
    store.close()
    (root / 'db' / 'token').write_text('secret')
    log_dir = root / 'log'
    log_dir.mkdir(parents=True, exist_ok=True)
    (log_dir / 'nnictl_stdout.log').write_text(''.join(f'stdout line {i}\n' for i in range(5)))
    (log_dir / 'nnictl_stderr.log').write_text('stderr line\n')
    (root / 'checkpoint').mkdir(exist_ok=True)
    Experiments().add_experiment(exp_id, port, START, 'local', name, endTime=START + 5000, status=status, pid=pid,
                                 logDir=str(workdir))
    return root
