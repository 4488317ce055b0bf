"""
``nnictl top [--time N]``: refresh the status of running experiments and their trials every N seconds.

NNI's layout, with ``Duration`` fixed (NNI always printed ``N/A`` for running experiments) and one more line
per experiment with the trial counts and the best metric. On a terminal the screen is cleared before each
refresh and statuses are coloured; piped, each refresh is simply appended.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from .errors import CliError
from .experiments import ExperimentRef, refresh
from .output import (
    STATUS_COLORS,
    colored,
    format_duration,
    format_metric,
    format_ms,
    format_slash_ms,
    info,
    rich_output,
    warning,
)

__all__ = ['add_parsers', 'render_experiment']

_DASHES = '-' * 85
_ROW = '%-15s %-25s %-25s %-15s'


def add_parsers(commands: Any) -> None:
    """Register ``top``."""
    top = commands.add_parser('top', help='monitor the experiment')
    top.add_argument('--time', '-t', dest='time', type=int, default=3,
                     help='the time interval to update the experiment status, the unit is second')
    top.set_defaults(func=cmd_top)


def _elapsed(entry: dict[str, Any]) -> float | None:
    start = entry.get('startTime')
    if not isinstance(start, (int, float)):
        return None
    end = entry.get('endTime')
    end_ms = end if isinstance(end, (int, float)) else time.time() * 1000
    return (end_ms - start) / 1000


def render_experiment(ref: ExperimentRef) -> str:
    """The block ``top`` prints for one running experiment."""
    entry = ref.entry
    lines = [
        f'Id: {ref.id}    Status: {colored(ref.status, STATUS_COLORS.get(ref.status))}    Port: {entry.get("port")}    '
        f'Platform: {entry.get("platform")}    ',
        f'StartTime: {format_ms(entry.get("startTime", "N/A"))}    Duration: {format_duration(_elapsed(entry))}',
    ]
    trials: list[dict[str, Any]] = []
    summary: dict[str, Any] | None = None
    if ref.probe() is not None:
        try:
            trials = list(ref.request('GET', '/trial-jobs', timeout=5.0) or [])
            summary = ref.request('GET', '/summary', timeout=5.0)
        except (OSError, ValueError):
            pass
    if isinstance(summary, dict):
        done = sum(1 for t in trials if t.get('status') not in ('WAITING', 'RUNNING', 'UNKNOWN'))
        total = summary.get('maxTrialNumber') or '?'
        failed = sum(1 for t in trials if t.get('status') == 'FAILED')
        lines.append(f'Trials: {done}/{total} done    Failed: {failed}    Running: {summary.get("running", 0)}    '
                     f'BestMetric: {format_metric(summary.get("bestMetric"))}'
                     + (f' ({summary["bestTrialJobId"]})' if summary.get('bestTrialJobId') else ''))
        first = summary.get('firstFailure')
        if failed and not summary.get('succeeded') and isinstance(first, dict):
            # every finished trial failed: say why, or the user only sees a DONE experiment
            reason = (first.get('stderrTail') or first.get('message') or '').strip().splitlines()
            lines.append(colored(f'No trial succeeded. First failure {first.get("trialJobId")}'
                                 + (f' (exit code {first["exitCode"]})' if first.get('exitCode') is not None else '')
                                 + (f': {reason[-1]}' if reason else '')
                                 + f'  [{first.get("stderrPath") or first.get("trialDir")}]', 'red'))
    lines += [_DASHES, _ROW % ('trialId', 'startTime', 'endTime', 'status'), _DASHES]
    for trial in trials:
        status = str(trial.get('status'))
        row = _ROW % (trial.get('trialJobId'), format_slash_ms(trial.get('startTime')),
                      format_slash_ms(trial.get('endTime')), status)
        if STATUS_COLORS.get(status):
            row = row[:-15] + colored(f'{status:15s}', STATUS_COLORS[status])
        lines.append(row)
    lines += [_DASHES, '', '']
    return '\n'.join(lines)


def cmd_top(args: argparse.Namespace) -> int:
    """``nnictl top``: loops until Ctrl-C."""
    if args.time <= 0:
        raise CliError('please input a positive integer as time interval, the unit is second.')
    clear = rich_output()
    try:
        while True:
            if clear:
                sys.stdout.write('\x1b[H\x1b[2J')
            entries = refresh()
            if not entries:
                print('There is no experiment running...')
                return 1
            running = {k: v for k, v in entries.items() if v.get('status') != 'STOPPED'}
            if not running:
                warning('There is no experiment running...')
            for exp_id, entry in running.items():
                print(render_experiment(ExperimentRef(exp_id, entry)))
            sys.stdout.flush()
            time.sleep(args.time)
    except KeyboardInterrupt:
        info('Exiting...')
        return 0
