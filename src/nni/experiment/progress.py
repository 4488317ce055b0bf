"""
Live progress of a running experiment: trials done/total, running, best so far, elapsed and remaining time.

:meth:`Experiment.run() <nni.experiment.Experiment.run>` and ``nnictl create --foreground`` wrap their wait
loop in a :class:`ProgressMonitor`. What it shows depends on where the output goes:

* a terminal: one line repainted in place (``\\r`` + erase to end of line);
* a Jupyter notebook: an ``ipywidgets`` progress bar with a label, or, without ipywidgets, a plain text
  output repainted through IPython's display handles;
* anything else (a file, a pipe, CI logs): nothing at all, so logs stay clean.

``NNI_PROGRESS=0`` turns it off everywhere. The monitor reads ``GET /summary`` (one small request) and,
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

__all__ = ['ProgressMonitor', 'ProgressState', 'create_display', 'emit_line', 'render_text', 'terminal_progress']

#: Seconds between two ``GET /experiment`` calls (the duration limit can be changed while running).
PROFILE_REFRESH = 5.0

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
        )

    @property
    def done(self) -> int:
        """Trials that reached a final status."""
        return max(self.trials - self.running - self.waiting, 0)

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


def render_text(state: ProgressState, width: int = 100, unicode: bool = True) -> str:
    """
    The one-line text of a state, fitted to ``width`` columns.

    Examples
    --------
    >>> state = ProgressState('RUNNING', 8, 2, 0, 10, 12.0, None, 0.98, 'Ab3xZ')
    >>> render_text(state, 100, unicode=False)
    'RUNNING [###########--------] 6/10 trials | 2 running | best 0.98 | 0:00:12 elapsed, ~0:00:08 left'
    """
    total = str(state.max_trials) if state.max_trials else '?'
    parts = [f'{state.done}/{total} trials', f'{state.running} running']
    if state.waiting:
        parts.append(f'{state.waiting} waiting')
    parts.append('best ' + (f'{state.best:.6g}' if state.best is not None else '-'))
    timing = f'{_clock(state.elapsed)} elapsed'
    remaining = state.remaining
    if remaining is not None and not state.finished:
        timing += f', ~{_clock(remaining)} left'
    parts.append(timing)
    tail = ' | '.join(parts)
    head = state.status
    fraction = state.fraction
    bar_width = min(24, width - len(head) - len(tail) - 6)
    if fraction is not None and bar_width >= 6:
        filled = round(fraction * bar_width)
        full, empty = ('█', '░') if unicode else ('#', '-')
        head += ' [' + full * filled + empty * (bar_width - filled) + '] '
    else:
        head += '  '
    text = head + tail
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
        pass
    return None


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

    Use as a context manager around the wait loop and call :meth:`refresh` on each iteration.

    Parameters
    ----------
    experiment
        Anything with ``port`` and ``url_prefix`` attributes (an :class:`~nni.experiment.Experiment`).
    display
        Where to paint; by default :func:`create_display` decides (``None``: stay quiet).
    """

    def __init__(self, experiment: Any, display: Display | None | str = 'auto') -> None:
        self._experiment = experiment
        self._display: Display | None = create_display() if display == 'auto' else display  # type: ignore[assignment]
        self._max_duration: float | None = None
        self._profile_at = 0.0

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

    def refresh(self) -> ProgressState | None:
        """Fetch the experiment's summary and repaint; returns the state shown (``None`` if nothing)."""
        if self._display is None:
            return None
        summary = self._summary()
        if summary is None:
            return None
        state = ProgressState.from_summary(summary, self._max_duration)
        try:
            self._display.update(state)
        except Exception:  # noqa: BLE001 - e.g. a closed terminal: stop painting, keep waiting
            self._display = None
        return state

    def close(self, final_refresh: bool = True) -> None:
        """Paint the final state (unless ``final_refresh`` is false) and release the output."""
        global _active
        if self._display is None:
            return
        if final_refresh:
            self.refresh()
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
