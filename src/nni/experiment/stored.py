"""
Answers of a stopped experiment's queries, read from its database instead of the REST API.

After :meth:`Experiment.stop() <nni.experiment.Experiment.stop>` (or Ctrl-C in ``run()``) the manager is
gone but ``<working directory>/<id>/db/nni.sqlite`` still holds every trial and metric, so a script written
as in the README (``experiment.run(); print(experiment.export_data())``) keeps working. Each function returns
what the matching REST call would (same JSON shapes), so :mod:`nni.experiment.data` builds the same objects.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

__all__ = ['database_path', 'export_data', 'job_statistics', 'metric_data', 'trial_jobs']


def database_path(exp_id: str, working_directories: list[Any]) -> Path | None:
    """The first ``<dir>/<exp_id>/db/nni.sqlite`` that exists among ``working_directories`` (``None``s skipped)."""
    for directory in working_directories:
        if not directory:
            continue
        path = Path(os.path.expanduser(str(directory)), exp_id, 'db', 'nni.sqlite')
        if path.is_file():
            return path
    return None


def export_data(path: Path) -> list[dict[str, Any]]:
    """``GET /export-data``."""
    from nni.tools.nnictl import experiment_db

    return experiment_db.export_records(path)


def metric_data(path: Path, trial_id: str | None = None) -> list[dict[str, Any]]:
    """``GET /metric-data`` (or ``/metric-data/{trial_id}``)."""
    from nni.tools.nnictl import experiment_db

    return [row for row in experiment_db.metric_records(path) if trial_id is None or row['trialJobId'] == trial_id]


def trial_jobs(path: Path) -> list[dict[str, Any]]:
    """``GET /trial-jobs``: each trial's status, times, paths, parameters and final metric."""
    from nni.manager.trial_records import normalise_parameter_record
    from nni.tools.nnictl import experiment_db

    finals: dict[str, dict[str, Any]] = {}
    for row in experiment_db.metric_records(path):
        if row['type'] == 'FINAL':
            finals.setdefault(row['trialJobId'], row)
    jobs = []
    for view in experiment_db.trials(path):
        job: dict[str, Any] = {'trialJobId': view.trial_job_id, 'status': view.status,
                               'hyperParameters': [], 'sequenceId': view.sequence_id,
                               'startTime': view.start_time if view.start_time is not None else view.end_time}
        if view.parameter_record is not None:
            job['hyperParameters'].append(normalise_parameter_record(view.parameter_record)[0])
        if view.log_path:
            job['logPath'] = view.log_path
        if view.end_time is not None:
            job['endTime'] = view.end_time
        if view.status == 'SUCCEEDED' and view.trial_job_id in finals:
            job['finalMetricData'] = [finals[view.trial_job_id]]
        if view.status == 'FAILED' and view.log_path:
            job['stderrPath'] = view.log_path.rstrip('/') + '/stderr'
        jobs.append(job)
    return jobs


def job_statistics(path: Path) -> list[dict[str, Any]]:
    """``GET /job-statistics``."""
    counts: dict[str, int] = {}
    for job in trial_jobs(path):
        counts[job['status']] = counts.get(job['status'], 0) + 1
    return [{'trialJobStatus': status, 'trialJobNumber': number} for status, number in counts.items()]


def pareto_front(path: Path) -> dict[str, Any]:
    """``GET /pareto-front``: the objectives and the Pareto-optimal trials (empty for one objective)."""
    from types import SimpleNamespace

    from nni.common.objectives import pareto_trials
    from nni.tools.nnictl import experiment_db

    profile = experiment_db.latest_profile(path)
    records = {
        view.trial_job_id: SimpleNamespace(
            trial_job_id=view.trial_job_id, sequence_id=view.sequence_id, status=view.status,
            parameters=view.parameters, final_metric=SimpleNamespace(data=view.final[0]) if view.final else None,
        )
        for view in experiment_db.trials(path)
    }
    return pareto_trials((profile or {}).get('params') or {}, records)
