"""50 manager SIGKILLs at random points, each followed by a resume: nothing acknowledged is lost,
nothing is stored twice, every trial's final reaches the store once and the tuner at most once,
and no process is left behind at the end."""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from .conftest import (
    TRIAL_CODE,
    make_config,
    open_store,
    process_alive,
    processes_of_experiment,
    resume_detached,
    start_detached,
    wait_for,
)

pytestmark = [pytest.mark.slow, pytest.mark.integration, pytest.mark.fault]

KILLS = 50
#: the campaign gives up (and fails) after this many seconds of kills
KILL_PHASE_LIMIT_S = 120.0


def _start_manager(experiment_id: str | None, config):
    return start_detached(config) if experiment_id is None else resume_detached(experiment_id)


def _sigkill(experiment) -> None:
    pid = experiment._proc.pid
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and process_alive(pid):
        time.sleep(0.01)
    if experiment._proc is not None and hasattr(experiment._proc, 'wait'):
        experiment._proc.wait(timeout=5)
    experiment._proc = None
    experiment.port = None


def _journal_entries(trials_root: Path) -> dict[str, set[tuple[str, int, int]]]:
    found: dict[str, set[tuple[str, int, int]]] = {}
    for folder in trials_root.glob('*'):
        entries = found.setdefault(folder.name, set())
        for path in folder.glob('journal-*'):
            for line in path.read_text().splitlines():
                kind, sequence, value = line.split()
                entries.add((kind, int(sequence), int(value)))
    return found


def test_fifty_manager_sigkills_with_resume(workdir, tmp_path, monkeypatch, seeded_rng, cleanup_experiments):
    monkeypatch.setenv('FAULT_STEPS', '6')
    monkeypatch.setenv('FAULT_STEP_S', '0.03')
    tuner_journal = tmp_path / 'tuner-journal'
    monkeypatch.setenv('FAULT_TUNER_JOURNAL', str(tuner_journal))
    # half the trials run through a compound command (bash stays the trial's first process)
    command = (f'if [ $((RANDOM % 2)) = 0 ]; then cd {TRIAL_CODE} && {sys.executable} fault_trial.py '
               f'| tee -a tee.log > /dev/null; else {sys.executable} fault_trial.py; fi')
    config = make_config(workdir, trials=60, concurrency=4, command=command)
    experiment = _start_manager(None, config)
    experiment_id = experiment.id
    cleanup_experiments.append(experiment_id)
    began = time.monotonic()
    kills = 0
    while kills < KILLS:
        assert time.monotonic() - began < KILL_PHASE_LIMIT_S, f'only {kills} kills in {KILL_PHASE_LIMIT_S} s'
        # random points: right after start (resume work, trial starts), or later (metric writes)
        time.sleep(seeded_rng.choice([0.0, 0.01, 0.05]) + seeded_rng.random() * 0.4)
        _sigkill(experiment)
        kills += 1
        experiment = _start_manager(experiment_id, None)
    print(f'{kills} manager SIGKILLs survived in {time.monotonic() - began:.1f} s')
    try:
        wait_for(lambda: experiment.get_status() == 'DONE', timeout=90)
        trials = experiment.list_trial_jobs()
    finally:
        experiment.stop()
    wait_for(lambda: not processes_of_experiment(experiment_id), timeout=20)
    supervisor = json.loads((workdir / experiment_id / 'db' / 'supervisor.json').read_text())['pid']
    wait_for(lambda: not Path(f'/proc/{supervisor}').exists() or
             Path(f'/proc/{supervisor}/stat').read_bytes().rsplit(b')', 1)[1].split()[0] == b'Z', timeout=20)

    statuses = Counter(trial.status for trial in trials)
    assert statuses == {'SUCCEEDED': 60}, statuses
    with open_store(workdir, experiment_id) as db:
        current = db.execute('SELECT trialJobId, type, sequence, data FROM MetricData').fetchall()
        superseded = db.execute('SELECT trialJobId, type, sequence, data, attempt FROM SupersededMetricData').fetchall()
        integrity = db.execute('PRAGMA integrity_check').fetchone()[0]
    assert integrity == 'ok'
    keys = Counter((trial, kind, sequence) for trial, kind, sequence, _ in current)
    duplicates = [key for key, count in keys.items() if count > 1]
    assert not duplicates, f'(trial, type, sequence) stored twice: {duplicates[:10]}'
    finals = Counter(trial for trial, kind, _, _ in current if kind == 'FINAL')
    assert set(finals) == {trial.trialJobId for trial in trials} and set(finals.values()) == {1}

    stored = {}
    for trial, kind, sequence, data in current:
        stored.setdefault(trial, set()).add((kind, sequence, int(float(json.loads(json.loads(data))))))
    for trial, kind, sequence, data, _attempt in superseded:
        stored.setdefault(trial, set()).add((kind, sequence, int(float(json.loads(json.loads(data))))))
    journals = _journal_entries(workdir / experiment_id / 'environments' / 'local-env' / 'trials')
    lost = {trial: sorted(entries - stored.get(trial, set())) for trial, entries in journals.items()
            if entries - stored.get(trial, set())}
    assert not lost, f'journaled (acknowledged or saved) metrics missing from the store: {lost}'

    received = Counter(line.split()[0] for line in tuner_journal.read_text().splitlines()) \
        if tuner_journal.exists() else Counter()
    twice = {trial: count for trial, count in received.items() if count > 1}
    assert not twice, f'the tuner received a final more than once: {twice}'
    reruns = sum(1 for row in superseded if row[1] == 'FINAL')
    print(f'records lost: 0; duplicates: 0; trials: {len(trials)}; superseded attempts with a final: {reruns}')
