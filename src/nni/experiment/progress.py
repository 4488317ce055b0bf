"""
Live progress of a running experiment: trials done/total, running, best so far, elapsed and remaining time.

:meth:`Experiment.run() <nni.experiment.Experiment.run>` and ``nnictl create --foreground`` wrap their wait
loop in a :class:`ProgressMonitor`. What it shows depends on where the output goes:

* a terminal: one line repainted in place (``\\r`` + erase to end of line);
* a Jupyter notebook: an ``ipywidgets`` progress bar with a label, or, without ipywidgets, a plain text
  output repainted through IPython's display handles;
* anything else (a file, a pipe, CI logs): one plain line each time a trial finishes or the status changes,
  and at least every :data:`LINE_INTERVAL` seconds while nothing changes, so a log never goes silent.

Failed trials are counted everywhere (``3 failed``); when the first trials all fail, :func:`failure_notice`
gives the first failure's reason (exit code, the end of its stderr, where the files are) for the waiting
loop to print as it happens.

``NNI_PROGRESS=0`` turns the progress display off everywhere (failure notices are still printed). The monitor reads ``GET /summary`` (one small request) and,
every few seconds, ``GET /experiment`` for the duration limit. A failing request only skips one repaint:
showing progress must never break the experiment it watches.

Lines printed by others while a terminal bar is shown (e.g. the manager's log relayed by ``nnictl create
--foreground``) go through :func:`emit_line`, which clears the bar, prints the line and repaints the bar.
"""

from __future__ import annotations

import html
import os
import shutil
import sys
import threading
import time
from dataclasses import dataclass
from typing import IO, Any, Protocol

__all__ = ['LineDisplay', 'ProgressMonitor', 'ProgressState', 'create_display', 'emit_line', 'failure_notice',
           'format_duration', 'render_text', 'terminal_progress']

#: Seconds between two ``GET /experiment`` calls (the duration limit can be changed while running).
PROFILE_REFRESH = 5.0

#: Longest silence (seconds) of the line display on a file or pipe; ``NNI_PROGRESS_INTERVAL`` overrides it.
LINE_INTERVAL = 60.0

#: Narrowest bar worth drawing, and the widest one.
MIN_BAR, MAX_BAR = 10, 24

_lock = threading.RLock()
_active: TerminalDisplay | None = None


@dataclass
class ProgressState:
    """
    What one repaint shows; built from the manager's ``GET /summary`` answer.

    Attributes
    ----------
    status
        Experiment status.
    trials
        Trials created so far.
    running
        Trials running now.
    waiting
        Trials created but not started.
    max_trials
        ``maxTrialNumber``, or ``None`` when unlimited.
    elapsed
        Seconds the experiment has been running (``execDuration``).
    max_duration
        ``maxExperimentDuration`` in seconds, or ``None``.
    best
        Best default metric so far, or ``None``.
    best_trial
        Trial id of the best metric.
    succeeded
        Trials that succeeded.
    failed
        Trials that failed.
    first_failure
        The manager's ``firstFailure`` (trial id, exit code, stderr tail and paths), or ``None``.
    """

    status: str = 'INITIALIZED'
    trials: int = 0
    running: int = 0
    waiting: int = 0
    max_trials: int | None = None
    elapsed: float = 0.0
    max_duration: float | None = None
    best: float | None = None
    best_trial: str | None = None
    succeeded: int = 0
    failed: int = 0
    first_failure: dict[str, Any] | None = None

    @classmethod
    def from_summary(cls, summary: dict[str, Any], max_duration: float | None = None) -> ProgressState:
        """Build a state from ``GET /summary`` (unknown keys ignored, missing ones default)."""
        def number(key: str) -> int:
            value = summary.get(key)
            return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0

        max_trials = summary.get('maxTrialNumber')
        best = summary.get('bestMetric')
        return cls(
            status=str(summary.get('status') or 'INITIALIZED'),
            trials=number('trials'), running=number('running'), waiting=number('waiting'),
            max_trials=int(max_trials) if isinstance(max_trials, int) and max_trials > 0 else None,
            elapsed=float(summary.get('execDuration') or 0),
            max_duration=max_duration,
            best=float(best) if isinstance(best, (int, float)) and not isinstance(best, bool) else None,
            best_trial=summary.get('bestTrialJobId'),
            succeeded=number('succeeded'), failed=number('failed'),
            first_failure=summary.get('firstFailure') if isinstance(summary.get('firstFailure'), dict) else None,
        )

    @property
    def done(self) -> int:
        """Trials that reached a final status."""
        return max(self.trials - self.running - self.waiting, 0)

    @property
    def all_failed(self) -> bool:
        """Whether trials have failed and none has succeeded (yet)."""
        return self.failed > 0 and self.succeeded == 0

    @property
    def finished(self) -> bool:
        """Whether the experiment will not run more trials."""
        return self.status in ('DONE', 'STOPPED', 'ERROR', 'NO_MORE_TRIAL', 'TUNER_NO_MORE_TRIAL')

    @property
    def fraction(self) -> float | None:
        """Progress in [0, 1] from the trial budget, else from the time budget; ``None`` if unbounded."""
        if self.status == 'DONE':
            return 1.0
        fractions = []
        if self.max_trials:
            fractions.append(self.done / self.max_trials)
        if self.max_duration:
            fractions.append(self.elapsed / self.max_duration)
        return min(max(fractions), 1.0) if fractions else None

    @property
    def remaining(self) -> float | None:
        """Estimated seconds left: the sooner of the time budget and the trial budget at the current pace."""
        if self.finished:
            return 0.0
        estimates = []
        if self.max_duration:
            estimates.append(max(self.max_duration - self.elapsed, 0.0))
        if self.max_trials and self.done > 0 and self.elapsed > 0:
            estimates.append(self.elapsed * (self.max_trials - self.done) / self.done)
        return min(estimates) if estimates else None


def _clock(seconds: float | None) -> str:
    if seconds is None:
        return '?'
    seconds = int(max(seconds, 0))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f'{hours}:{minutes:02d}:{secs:02d}'


def format_duration(seconds: float | None) -> str:
    """
    A short duration for people: tenths under a minute, so a quick trial is not ``0s``.

    Examples
    --------
    >>> [format_duration(s) for s in (0.42, 7, 59.96, 61, 3725, 90061)]
    ['0.4s', '7.0s', '1m 0s', '1m 1s', '1h 2m 5s', '1d 1h 1m 1s']
    """
    if seconds is None:
        return '-'
    seconds = max(float(seconds), 0.0)
    if round(seconds, 1) < 60:
        return f'{seconds:.1f}s'
    whole = int(round(seconds))
    days, whole = divmod(whole, 86400)
    hours, whole = divmod(whole, 3600)
    minutes, secs = divmod(whole, 60)
    parts = [f'{days}d'] if days else []
    if days or hours:
        parts.append(f'{hours}h')
    parts += [f'{minutes}m', f'{secs}s']
    return ' '.join(parts)


def _tails(state: ProgressState) -> list[str]:
    # The text right of the bar, from the most to the least wordy: the first one that leaves room for a
    # bar wins, so the bar survives an 80-column terminal.
    total = str(state.max_trials) if state.max_trials else '?'
    best = 'best ' + (f'{state.best:.6g}' if state.best is not None else '-')
    failed = [f'{state.failed} failed'] if state.failed else []
    waiting = [f'{state.waiting} waiting'] if state.waiting else []
    remaining = state.remaining if not state.finished else None
    left = f'~{_clock(remaining)} left' if remaining is not None else ''
    full_time = f'{_clock(state.elapsed)} elapsed' + (f', {left}' if left else '')
    short_time = left or _clock(state.elapsed)
    return [
        ' | '.join([f'{state.done}/{total} trials', *failed, f'{state.running} running', *waiting, best,
                    full_time]),
        ' | '.join([f'{state.done}/{total} trials', *failed, f'{state.running} running', best, short_time]),
        ' | '.join([f'{state.done}/{total}', *failed, f'{state.running} run', best, short_time]),
    ]


def render_text(state: ProgressState, width: int = 100, unicode: bool = True, bar: bool = True) -> str:
    """
    The one-line text of a state, fitted to ``width`` columns.

    Parameters
    ----------
    state
        What to show.
    width
        Columns available.
    unicode
        Draw the bar with block characters (else ``#`` and ``-``).
    bar
        Draw a bar at all (the line display of a log file does not).

    Examples
    --------
    >>> state = ProgressState('RUNNING', 8, 2, 0, 10, 12.0, None, 0.98, 'Ab3xZ')
    >>> render_text(state, 100, unicode=False)
    'RUNNING [#############--------] 6/10 trials | 2 running | best 0.98 | 0:00:12 elapsed, ~0:00:08 left'
    >>> render_text(state, 79, unicode=False)
    'RUNNING [##########-------] 6/10 trials | 2 running | best 0.98 | ~0:00:08 left'
    """
    head = state.status
    fraction = state.fraction if bar else None
    tails = _tails(state)
    if fraction is None:
        text = head + '  ' + tails[0]
        for tail in tails:
            if len(head) + 2 + len(tail) <= width:
                text = head + '  ' + tail
                break
    else:
        for tail in tails:
            bar_width = min(MAX_BAR, width - len(head) - len(tail) - 4)
            if bar_width >= MIN_BAR:
                break
        if bar_width >= 6:  # a narrow terminal: a short bar still beats none
            filled = round(fraction * bar_width)
            full, empty = ('█', '░') if unicode else ('#', '-')
            text = head + ' [' + full * filled + empty * (bar_width - filled) + '] ' + tail
        else:
            text = head + '  ' + tail
    if len(text) <= width:
        return text
    return text[:max(width - 1, 0)] + '…' if unicode else text[:width]


class Display(Protocol):
    """Where a monitor paints."""

    def update(self, state: ProgressState) -> None:
        """Show ``state``."""

    def close(self) -> None:
        """Leave the last state visible and release the output."""


class TerminalDisplay:
    """
    A line repainted in place on a terminal.

    Parameters
    ----------
    stream
        The terminal (default ``sys.stdout``).
    """

    def __init__(self, stream: IO[str] | None = None) -> None:
        self._stream = stream if stream is not None else sys.stdout
        encoding = (getattr(self._stream, 'encoding', None) or '').lower()
        self._unicode = encoding.replace('-', '') in ('utf8', 'utf16', 'utf32')
        self._text = ''
        self._shown = False

    def _width(self) -> int:
        return max(shutil.get_terminal_size((100, 24)).columns - 1, 20)

    def _paint(self) -> None:
        self._stream.write('\r' + self._text + '\x1b[K')
        self._stream.flush()
        self._shown = True

    def update(self, state: ProgressState) -> None:
        """Repaint with ``state``."""
        with _lock:
            self._text = render_text(state, self._width(), self._unicode)
            self._paint()

    def println(self, line: str) -> None:
        """Print ``line`` above the bar, then repaint the bar."""
        with _lock:
            if self._shown:
                self._stream.write('\r\x1b[K')
            self._stream.write(line.rstrip('\n') + '\n')
            if self._text:
                self._paint()
            else:
                self._stream.flush()

    def close(self) -> None:
        """End the bar's line so later output starts on a fresh one."""
        with _lock:
            if self._shown:
                self._stream.write('\n')
                self._stream.flush()
            self._shown = False
            self._text = ''


class LineDisplay:
    """
    Plain lines for a file or a pipe: one when a trial finishes or the status changes, else one every
    ``interval`` seconds, so a log shows progress and never goes silent.

    Parameters
    ----------
    stream
        Where to write (default ``sys.stdout``).
    interval
        Longest silence in seconds (default ``NNI_PROGRESS_INTERVAL`` or :data:`LINE_INTERVAL`).
    """

    def __init__(self, stream: IO[str] | None = None, interval: float | None = None) -> None:
        self._stream = stream if stream is not None else sys.stdout
        if interval is None:
            try:
                interval = float(os.environ.get('NNI_PROGRESS_INTERVAL') or LINE_INTERVAL)
            except ValueError:
                interval = LINE_INTERVAL
        self._interval = max(interval, 0.1)
        self._last_key: tuple[Any, ...] | None = None
        self._last_at = 0.0

    def update(self, state: ProgressState) -> None:
        """Write a line if something changed or the stream was quiet for ``interval`` seconds."""
        key = (state.status, state.done, state.failed, state.best)
        now = time.monotonic()
        if key == self._last_key and now - self._last_at < self._interval:
            return
        self._last_key, self._last_at = key, now
        stamp = time.strftime('%Y-%m-%d %H:%M:%S')
        with _lock:
            self._stream.write(f'[{stamp}] {render_text(state, 200, unicode=False, bar=False)}\n')
            self._stream.flush()

    def close(self) -> None:
        """Nothing to release: every line is complete."""


class NotebookDisplay:
    """
    A progress bar in a Jupyter notebook: ``ipywidgets`` when installed, else repainted plain text.

    Parameters
    ----------
    display
        ``IPython.display.display``.
    """

    def __init__(self, display: Any) -> None:
        self._display = display
        self._widgets: tuple[Any, Any] | None = None
        self._handle: Any = None
        try:
            import ipywidgets  # type: ignore[import-not-found]
        except ImportError:
            self._handle = display({'text/plain': 'Starting...'}, raw=True, display_id=True)
        else:
            bar = ipywidgets.FloatProgress(value=0.0, min=0.0, max=1.0, description='NNI')
            label = ipywidgets.HTML(value='Starting...')
            self._widgets = (bar, label)
            display(ipywidgets.HBox([bar, label]))

    def update(self, state: ProgressState) -> None:
        """Show ``state``."""
        text = render_text(state, 160)
        if self._widgets is not None:
            bar, label = self._widgets
            fraction = state.fraction
            bar.value = fraction if fraction is not None else 0.0
            bar.bar_style = {'DONE': 'success', 'ERROR': 'danger'}.get(state.status, '')
            label.value = html.escape(text)
        elif self._handle is not None:
            self._handle.update({'text/plain': text}, raw=True)

    def close(self) -> None:
        """Nothing to release: the last state stays in the notebook."""


def _notebook_display() -> Any | None:
    # Only look at IPython when it is already loaded: importing it would cost ~0.5 s for nothing.
    ipython = sys.modules.get('IPython')
    if ipython is None:
        return None
    try:
        shell = ipython.get_ipython()
    except Exception:  # noqa: BLE001 - a broken IPython must not break run()
        return None
    if shell is None or getattr(shell, 'kernel', None) is None:
        return None  # the IPython terminal, or a plain interpreter that imported IPython
    try:
        from IPython.display import display  # type: ignore[import-not-found]
    except ImportError:
        return None
    return display


def _disabled() -> bool:
    return os.environ.get('NNI_PROGRESS', '').lower() in ('0', 'false', 'no', 'off')


def terminal_progress(stream: IO[str] | None = None) -> bool:
    """Whether :func:`create_display` would paint a terminal bar on ``stream`` (default ``sys.stdout``)."""
    if _disabled() or _notebook_display() is not None:
        return False
    stream = stream if stream is not None else sys.stdout
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def create_display(stream: IO[str] | None = None) -> Display | None:
    """
    The display fitting the current output, or ``None`` when progress must stay quiet.

    Parameters
    ----------
    stream
        Terminal stream to paint on (default ``sys.stdout``).
    """
    if _disabled():
        return None
    display = _notebook_display()
    if display is not None:
        return NotebookDisplay(display)
    stream = stream if stream is not None else sys.stdout
    try:
        if stream.isatty():
            return TerminalDisplay(stream)
    except (AttributeError, ValueError):
        return None
    return LineDisplay(stream)


def failure_notice(state: ProgressState) -> str | None:
    """
    What to tell the user when trials fail and none has succeeded yet; ``None`` otherwise.

    Names the first failed trial, its exit code, the last lines of its stderr and where its files are, so
    the cause (e.g. a ``python3`` without the trial's packages) is seen while the experiment runs.
    """
    info = state.first_failure
    if not state.all_failed or not info:
        return None
    code = info.get('exitCode')
    how = f' (exit code {code})' if code is not None else ''
    lines = [f'WARNING: trial {info.get("trialJobId")} failed{how} and no trial has succeeded yet '
             f'({state.failed} failed).']
    tail = info.get('stderrTail') or ''
    if tail:
        lines.append(f'The end of its stderr ({info.get("stderrPath")}):')
        lines += ['    ' + line for line in str(tail).splitlines()]
    elif info.get('message'):
        lines.append(f'Reason: {info["message"]}')
    if info.get('trialDir'):
        lines.append(f'Trial directory: {info["trialDir"]}')
    lines.append('Check that the trial command runs by itself (same python, packages installed).')
    return '\n'.join(lines)


def emit_line(line: str, stream: IO[str] | None = None) -> None:
    """
    Print ``line`` without garbling an active terminal bar.

    Parameters
    ----------
    line
        Text of one line (a trailing newline is optional).
    stream
        Where to write when no bar is active (default ``sys.stdout``).
    """
    with _lock:
        if _active is not None:
            _active.println(line)
            return
        out = stream if stream is not None else sys.stdout
        out.write(line.rstrip('\n') + '\n')
        out.flush()


class ProgressMonitor:
    """
    Shows the progress of a running experiment while its owner waits for it.

    Use as a context manager around the wait loop and call :meth:`refresh` on each iteration. Whatever the
    display, the first failure is announced (:func:`failure_notice`) while no trial has succeeded, and
    :attr:`last_state` keeps the latest summary for the caller's verdict.

    Parameters
    ----------
    experiment
        Anything with ``port`` and ``url_prefix`` attributes (an :class:`~nni.experiment.Experiment`).
    display
        Where to paint; by default :func:`create_display` decides (``None``: stay quiet).
    notice_stream
        Where failure notices go when no terminal bar is active (default ``sys.stdout``).
    """

    #: Seconds between two summary reads when nothing is displayed (failure notices only).
    QUIET_REFRESH = 2.0

    def __init__(self, experiment: Any, display: Display | None | str = 'auto',
                 notice_stream: IO[str] | None = None) -> None:
        self._experiment = experiment
        self._display: Display | None = create_display() if display == 'auto' else display  # type: ignore[assignment]
        self._max_duration: float | None = None
        self._profile_at = 0.0
        self._summary_at = -1e9
        self._notice_stream = notice_stream
        self._announced = False
        #: The latest state read from the manager (``None`` before the first read).
        self.last_state: ProgressState | None = None

    @property
    def active(self) -> bool:
        """Whether anything is shown."""
        return self._display is not None

    def __enter__(self) -> ProgressMonitor:
        global _active
        if isinstance(self._display, TerminalDisplay):
            with _lock:
                _active = self._display
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *exc: object) -> None:
        # after Ctrl-C or an error, do not make the user wait for one more request
        self.close(final_refresh=exc_type is None)

    def _summary(self) -> dict[str, Any] | None:
        from . import rest

        port = getattr(self._experiment, 'port', None)
        prefix = getattr(self._experiment, 'url_prefix', None)
        try:
            now = time.monotonic()
            if now - self._profile_at >= PROFILE_REFRESH:
                self._profile_at = now
                profile = rest.request('GET', port, '/experiment', prefix=prefix, timeout=2.0, log_errors=False)
                self._max_duration = _duration_seconds((profile or {}).get('params', {}).get('maxExperimentDuration'))
            summary = rest.request('GET', port, '/summary', prefix=prefix, timeout=2.0, log_errors=False)
        except Exception:  # noqa: BLE001 - a missed repaint is harmless; the wait loop reports real failures
            return None
        return summary if isinstance(summary, dict) else None

    def refresh(self, force: bool = False) -> ProgressState | None:
        """
        Fetch the experiment's summary, repaint and announce a first failure; returns the state read (``None``
        if nothing was read). Without a display the summary is read every :attr:`QUIET_REFRESH` seconds
        unless ``force``.
        """
        now = time.monotonic()
        if self._display is None and not force and now - self._summary_at < self.QUIET_REFRESH:
            return None
        self._summary_at = now
        summary = self._summary()
        if summary is None:
            return None
        state = ProgressState.from_summary(summary, self._max_duration)
        self.last_state = state
        if self._display is not None:
            try:
                self._display.update(state)
            except Exception:  # noqa: BLE001 - e.g. a closed terminal: stop painting, keep waiting
                self._display = None
        if not self._announced:
            notice = failure_notice(state)
            if notice is not None:
                self._announced = True
                emit_line(notice, self._notice_stream)
        return state

    def close(self, final_refresh: bool = True) -> None:
        """Paint the final state (unless ``final_refresh`` is false) and release the output."""
        global _active
        if final_refresh:
            self.refresh(force=True)
        if self._display is None:
            return
        try:
            self._display.close()
        finally:
            with _lock:
                if _active is self._display:
                    _active = None
            self._display = None


def _duration_seconds(value: Any) -> float | None:
    units = {'s': 1, 'm': 60, 'h': 3600, 'd': 86400}
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value) if value > 0 else None
    text = str(value).strip().lower()
    try:
        if text and text[-1] in units:
            return float(text[:-1]) * units[text[-1]]
        return float(text)
    except ValueError:
        return None
