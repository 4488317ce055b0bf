"""The progress display of ``Experiment.run()`` and ``nnictl create --foreground``."""

from __future__ import annotations

import doctest
import io
import os
import pty
import select
import subprocess
import sys
import textwrap
import types
from typing import Any

import pytest

from nni.experiment import progress
from nni.experiment.progress import ProgressMonitor, ProgressState, TerminalDisplay, create_display, emit_line

from .conftest import REPO, TRIAL_CODE, free_port


class FakeTerminal(io.StringIO):
    encoding = 'utf-8'

    def isatty(self) -> bool:
        return True


SUMMARY = {'status': 'RUNNING', 'trials': 7, 'running': 2, 'waiting': 1, 'maxTrialNumber': 10, 'execDuration': 40,
           'bestMetric': 0.91, 'bestTrialJobId': 'Ab3xZ'}


def test_doctests():
    assert doctest.testmod(progress).failed == 0


def test_state_from_summary():
    state = ProgressState.from_summary(SUMMARY, max_duration=600)
    assert (state.done, state.running, state.waiting, state.max_trials) == (4, 2, 1, 10)
    assert state.fraction == 0.4
    assert state.remaining == pytest.approx(60.0)  # 40 s for 4 trials, 6 to go; the time budget is later
    assert ProgressState.from_summary({**SUMMARY, 'status': 'DONE'}).remaining == 0.0
    unbounded = ProgressState.from_summary({'status': 'RUNNING', 'trials': 3, 'maxTrialNumber': None})
    assert unbounded.fraction is None and unbounded.remaining is None
    assert ProgressState.from_summary({'bestMetric': True}).best is None


def test_render_fits_the_width():
    state = ProgressState.from_summary(SUMMARY)
    text = progress.render_text(state, 200)
    assert text.startswith('RUNNING [') and '4/10 trials | 2 running | 1 waiting | best 0.91 |' in text
    assert text.endswith('0:00:40 elapsed, ~0:01:00 left')
    assert len(progress.render_text(state, 50)) <= 50


def test_terminal_display_repaints_in_place():
    stream = FakeTerminal()
    display = TerminalDisplay(stream)
    display.update(ProgressState.from_summary(SUMMARY))
    display.update(ProgressState.from_summary({**SUMMARY, 'trials': 8}))
    display.println('a log line')
    display.close()
    text = stream.getvalue()
    assert text.count('\r') >= 3 and '\x1b[K' in text
    assert '\r\x1b[Ka log line\n\r' in text  # the bar is cleared, the line printed, the bar repainted
    assert '█' in text
    assert text.endswith('\n')


def test_lines_unless_terminal_or_notebook(monkeypatch):
    assert isinstance(create_display(io.StringIO()), progress.LineDisplay)
    assert isinstance(create_display(FakeTerminal()), TerminalDisplay)
    monkeypatch.setenv('NNI_PROGRESS', '0')
    assert create_display(FakeTerminal()) is None


def test_emit_line_goes_above_the_active_bar():
    stream = FakeTerminal()
    display = TerminalDisplay(stream)
    monitor = ProgressMonitor(types.SimpleNamespace(port=None, url_prefix=None), display=display)
    with monitor:
        display.update(ProgressState.from_summary(SUMMARY))
        emit_line('manager says hi\n')
    assert 'manager says hi\n' in stream.getvalue()
    other = io.StringIO()
    emit_line('no bar now', other)
    assert other.getvalue() == 'no bar now\n'


def test_monitor_reads_summary_and_profile(monkeypatch):
    calls: list[str] = []

    def request(method: str, port: Any, api: str, data: Any = None, prefix: Any = None, **kwargs: Any) -> Any:
        calls.append(api)
        if api == '/experiment':
            return {'params': {'maxExperimentDuration': '10m'}}
        return SUMMARY

    monkeypatch.setattr('nni.experiment.rest.request', request)
    stream = FakeTerminal()
    with ProgressMonitor(types.SimpleNamespace(port=1, url_prefix=None), display=TerminalDisplay(stream)) as monitor:
        state = monitor.refresh()
    assert state is not None and state.max_duration == 600
    assert calls[:2] == ['/experiment', '/summary']
    assert '4/10 trials' in stream.getvalue()


def test_monitor_survives_a_dead_manager(monkeypatch):
    def request(*args: Any, **kwargs: Any) -> Any:
        raise ConnectionRefusedError

    monkeypatch.setattr('nni.experiment.rest.request', request)
    stream = FakeTerminal()
    with ProgressMonitor(types.SimpleNamespace(port=1, url_prefix=None), display=TerminalDisplay(stream)) as monitor:
        assert monitor.refresh() is None
    assert stream.getvalue() == ''


class _Handle:
    def __init__(self) -> None:
        self.updates: list[Any] = []

    def update(self, obj: Any, raw: bool = False) -> None:
        self.updates.append(obj)


def _fake_ipython(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    shown: list[Any] = []
    handle = _Handle()

    def display(obj: Any, raw: bool = False, display_id: bool = False) -> Any:
        shown.append(obj)
        return handle

    shell = types.SimpleNamespace(kernel=object())
    ipython = types.ModuleType('IPython')
    ipython.get_ipython = lambda: shell  # type: ignore[attr-defined]
    display_module = types.ModuleType('IPython.display')
    display_module.display = display  # type: ignore[attr-defined]
    ipython.display = display_module  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, 'IPython', ipython)
    monkeypatch.setitem(sys.modules, 'IPython.display', display_module)
    shown.append(handle)
    return shown


def test_notebook_without_ipywidgets_repaints_text(monkeypatch):
    shown = _fake_ipython(monkeypatch)
    monkeypatch.setitem(sys.modules, 'ipywidgets', None)  # "not installed"
    display = create_display(io.StringIO())
    assert isinstance(display, progress.NotebookDisplay)
    display.update(ProgressState.from_summary(SUMMARY))
    handle = shown[0]
    assert shown[1] == {'text/plain': 'Starting...'}
    assert '4/10 trials' in handle.updates[-1]['text/plain']
    assert not progress.terminal_progress(FakeTerminal())  # in a notebook, no terminal relay


def test_notebook_with_ipywidgets(monkeypatch):
    shown = _fake_ipython(monkeypatch)

    class Widget:
        def __init__(self, *children: Any, **kwargs: Any) -> None:
            self.__dict__.update(kwargs)
            self.children = children

    widgets = types.ModuleType('ipywidgets')
    widgets.FloatProgress = widgets.HTML = widgets.HBox = Widget  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, 'ipywidgets', widgets)
    display = create_display()
    assert isinstance(display, progress.NotebookDisplay)
    display.update(ProgressState.from_summary({**SUMMARY, 'status': 'DONE', 'trials': 10, 'running': 0, 'waiting': 0}))
    box = shown[1]
    bar, label = box.children[0]
    assert bar.value == 1.0 and bar.bar_style == 'success'
    assert '10/10 trials' in label.value


_RUN_SCRIPT = textwrap.dedent('''\
    import sys
    from nni.experiment import Experiment
    experiment = Experiment('local')
    config = experiment.config
    config.experiment_working_directory = sys.argv[1]
    config.search_space = {'x': {'_type': 'randint', '_value': [0, 9]}, 'sleep': {'_type': 'choice', '_value': [0.3]}}
    config.trial_command = sys.executable + ' trial.py'
    config.trial_code_directory = sys.argv[2]
    config.trial_concurrency = 2
    config.max_trial_number = 4
    config.tuner.name = 'Random'
    print('RESULT', experiment.run(int(sys.argv[3])), flush=True)
    experiment.stop()
''')


def _run_script(tmp_path: Any, use_pty: bool) -> str:
    script = tmp_path / 'run.py'
    script.write_text(_RUN_SCRIPT)
    args = [sys.executable, str(script), str(tmp_path / 'exp'), str(TRIAL_CODE), str(free_port())]
    env = {**os.environ, 'PYTHONPATH': str(REPO / 'src'), 'COLUMNS': '120'}
    if not use_pty:
        return subprocess.run(args, capture_output=True, text=True, env=env, timeout=120).stdout
    master, slave = pty.openpty()
    proc = subprocess.Popen(args, stdout=slave, stderr=slave, env=env)
    os.close(slave)
    chunks = []
    while True:
        ready, _, _ = select.select([master], [], [], 120)
        if not ready:
            break
        try:
            data = os.read(master, 4096)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(30)
    os.close(master)
    return b''.join(chunks).decode('utf-8', errors='replace')


@pytest.mark.slow
def test_run_shows_progress_on_a_terminal(tmp_path):
    output = _run_script(tmp_path, use_pty=True)
    assert 'RESULT True' in output
    assert '\r' in output and '\x1b[K' in output
    assert 'DONE [' in output and '4/4 trials' in output


@pytest.mark.slow
def test_run_prints_plain_lines_when_piped(tmp_path):
    output = _run_script(tmp_path, use_pty=False)
    assert 'RESULT True' in output
    assert '\r' not in output and '\x1b' not in output
    lines = [line for line in output.splitlines() if 'trials |' in line]
    # a line per finished trial at most (plus status changes), never a bar, the last one DONE
    assert 1 <= len(lines) <= 4 + 4 and lines[-1].split('] ', 1)[1].startswith('DONE  4/4 trials')


def test_bar_and_failures_fit_80_columns():
    state = ProgressState.from_summary({**SUMMARY, 'failed': 3, 'succeeded': 1}, max_duration=3600)
    text = progress.render_text(state, 79)
    assert len(text) <= 79 and '[' in text and '█' in text  # the bar survives an 80-column terminal
    assert '3 failed' in text
    full = progress.render_text(state, 200)
    assert '4/10 trials | 3 failed | 2 running | 1 waiting |' in full


def test_line_display_writes_on_change_and_never_stays_silent():
    stream = io.StringIO()
    display = progress.LineDisplay(stream, interval=0.2)
    state = ProgressState.from_summary(SUMMARY)
    display.update(state)
    display.update(state)  # nothing changed: no new line yet
    assert len(stream.getvalue().splitlines()) == 1
    display.update(ProgressState.from_summary({**SUMMARY, 'trials': 8}))  # a trial finished
    assert len(stream.getvalue().splitlines()) == 2
    import time
    time.sleep(0.25)
    display.update(ProgressState.from_summary({**SUMMARY, 'trials': 8}))  # quiet too long: a heartbeat line
    lines = stream.getvalue().splitlines()
    assert len(lines) == 3 and all('\r' not in line and '█' not in line for line in lines)


def test_failure_notice_only_while_nothing_succeeded():
    first = {'trialJobId': 'Ab3xZ', 'exitCode': 1, 'stderrTail': "ModuleNotFoundError: No module named 'sklearn'",
             'stderrPath': '/e/trials/Ab3xZ/trial.stderr', 'trialDir': '/e/trials/Ab3xZ', 'message': None}
    failing = ProgressState.from_summary({**SUMMARY, 'failed': 2, 'succeeded': 0, 'firstFailure': first})
    notice = progress.failure_notice(failing)
    assert notice is not None
    assert 'trial Ab3xZ failed (exit code 1) and no trial has succeeded yet (2 failed)' in notice
    assert "    ModuleNotFoundError: No module named 'sklearn'" in notice and '/e/trials/Ab3xZ' in notice
    recovered = ProgressState.from_summary({**SUMMARY, 'failed': 2, 'succeeded': 1, 'firstFailure': first})
    assert progress.failure_notice(recovered) is None


def test_monitor_announces_the_first_failure_once_even_without_display(monkeypatch):
    first = {'trialJobId': 'T1', 'exitCode': 3, 'stderrTail': 'boom', 'stderrPath': '/p', 'trialDir': '/d'}
    answers = {'/summary': {**SUMMARY, 'failed': 1, 'succeeded': 0, 'firstFailure': first}, '/experiment': {}}
    monkeypatch.setattr('nni.experiment.rest.request', lambda method, port, api, **kw: answers[api])
    out = io.StringIO()
    monitor = ProgressMonitor(types.SimpleNamespace(port=1, url_prefix=None), display=None, notice_stream=out)
    with monitor:
        monitor.refresh(force=True)
        monitor.refresh(force=True)
    assert out.getvalue().count('trial T1 failed (exit code 3)') == 1
    assert monitor.last_state is not None and monitor.last_state.all_failed
