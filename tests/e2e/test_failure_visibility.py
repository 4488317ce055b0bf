"""A user always knows what happened: failed trials, busy ports, Ctrl-C, NaN metrics (issue 15).

Real managers, real trial processes; README-style launch scripts run in child processes so their
output is what a user would see in a file or pipe.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from nni.experiment import rest

from .conftest import free_port, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.integration]

REPO = Path(__file__).resolve().parents[2]
MISSING_MODULE = 'nni_issue15_no_such_module'

# The README's launch script, with the working directory, trial command and port from argv.
README_SCRIPT = textwrap.dedent('''\
    import sys
    from nni.experiment import Experiment

    experiment = Experiment('local')
    experiment.config.experiment_working_directory = sys.argv[1]
    experiment.config.trial_command = sys.argv[2]
    experiment.config.trial_code_directory = sys.argv[3]
    experiment.config.search_space = {'x': {'_type': 'randint', '_value': [0, 9]}}
    experiment.config.tuner.name = 'Random'
    experiment.config.trial_concurrency = 2
    experiment.config.max_trial_number = int(sys.argv[5])
    print('RESULT', experiment.run(int(sys.argv[4])), flush=True)
    data = experiment.export_data()
    jobs = experiment.list_trial_jobs()
    print('EXPORTED', len(data), 'JOBS', len(jobs), sorted({job.status for job in jobs}), flush=True)
    experiment.stop()
''')


def _env(nni_home: Path) -> dict[str, str]:
    return {**os.environ, 'NNI_HOME_DIR': str(nni_home), 'PYTHONPATH': str(REPO / 'src'),
            'NNI_PROGRESS_INTERVAL': '600'}


def _script_args(tmp_path: Path, workdir: Path, command: str, port: int, trials: int) -> list[str]:
    script = tmp_path / 'launch.py'
    script.write_text(README_SCRIPT)
    code = tmp_path / 'code'
    code.mkdir(exist_ok=True)
    return [sys.executable, str(script), str(workdir), command, str(code), str(port), str(trials)]


def test_all_failing_trials_are_reported_everywhere(tmp_path, workdir, nni_home):
    # the case: a trial command whose python lacks a module the trial imports
    command = f'{sys.executable} -c "import {MISSING_MODULE}"'
    result = subprocess.run(_script_args(tmp_path, workdir, command, free_port(), 3), capture_output=True,
                            text=True, env=_env(nni_home), timeout=120)
    out = result.stdout
    assert result.returncode == 0, result.stderr
    assert 'RESULT False' in out                                   # not a success: no trial succeeded
    # the reason, as it happened: trial, exit code, the stderr's last line and where it is
    assert f"ModuleNotFoundError: No module named '{MISSING_MODULE}'" in out
    assert 'failed (exit code 1) and no trial has succeeded yet' in out
    stderr_path = next(line for line in out.splitlines() if line.startswith('The end of its stderr (')).split('(')[1]
    assert Path(stderr_path.rstrip('):')).is_file()
    assert 'ERROR: No trial succeeded: 3 of 3 trials failed' in out
    # a pipe gets plain progress lines with the failures counted, never a repainted bar
    progress = [line for line in out.splitlines() if ' trials |' in line]
    assert progress and '3/3 trials | 3 failed' in progress[-1] and '\r' not in out
    # the stopped experiment's data is still readable
    assert "EXPORTED 0 JOBS 3 ['FAILED']" in out

    # nnictl experiment status counts the failures from the stored database
    exp_id = next(iter(json.loads((nni_home / '.experiment').read_text())))
    status = subprocess.run([sys.executable, '-m', 'nni.tools.nnictl', 'experiment', 'status', exp_id, '--json'],
                            capture_output=True, text=True, env=_env(nni_home), timeout=60)
    assert json.loads(status.stdout)['trials'] == {'total': 3, 'succeeded': 0, 'failed': 3, 'running': 0}


def test_failures_show_in_rest_and_the_guard_stops_the_experiment(make_experiment, workdir):
    experiment = make_experiment(search_space={'x': {'_type': 'randint', '_value': [0, 9]}},
                                 trial_command=f'{sys.executable} -c "import sys; sys.exit(3)"',
                                 trial_concurrency=1, max_trial_number=20, max_consecutive_failed_trials=3)
    assert experiment.run(free_port()) is False
    check = rest.get(experiment.port, '/check-status')
    assert check['status'] == 'ERROR'
    assert 'trials failed in a row (maxConsecutiveFailedTrials is 3)' in check['errors'][0]
    first = check['firstFailure']
    assert first['exitCode'] == 3 and Path(first['trialDir']).is_dir()
    summary = rest.get(experiment.port, '/summary')
    assert summary['succeeded'] == 0 and 3 <= summary['failed'] < 20  # stopped long before 20 trials
    time.sleep(1.5)  # nothing more is started once it stopped
    assert len(experiment.list_trial_jobs()) == summary['trials']


def test_busy_port_in_the_python_api_names_holder_and_fix_and_leaves_no_folder(make_experiment, workdir,
                                                                              nni_home):
    from nni.experiment.port_check import PortBusyError

    with socket.socket() as holder:
        holder.bind(('127.0.0.1', 0))
        holder.listen()
        port = holder.getsockname()[1]
        experiment = make_experiment()
        with pytest.raises(PortBusyError) as caught:
            experiment.run(port)
    message = str(caught.value)
    assert message.startswith(f'Port {port} is not idle: it is used by process {os.getpid()} ')
    assert 'Use another port: experiment.run(' in message and 'nnictl create --port' in message
    assert isinstance(caught.value, RuntimeError)  # what NNI raised, for scripts that catch it
    assert list(workdir.iterdir()) == []           # no experiment folder left behind
    manifest = nni_home / '.experiment'
    assert not manifest.exists() or experiment.id not in json.loads(manifest.read_text())


def test_ctrl_c_in_run_then_the_script_exports_data(tmp_path, workdir, nni_home):
    port = free_port()
    code = tmp_path / 'code'
    code.mkdir()
    # the first two trials succeed at once, the later ones are still running at Ctrl-C
    (code / 'trial.py').write_text('import os, time, nni\np = nni.get_next_parameter()\n'
                                   'time.sleep(30 if int(os.environ["NNI_TRIAL_SEQ_ID"]) >= 2 else 0)\n'
                                   'nni.report_final_result(p["x"])\n')
    args = _script_args(tmp_path, workdir, f'{sys.executable} trial.py', port, 50)
    args[4] = str(code)
    # SIG_DFL: a child of a background job inherits an ignored SIGINT, and Python then never raises
    # KeyboardInterrupt
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=_env(nni_home),
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        def succeeded() -> bool:
            try:
                return rest.get(port, '/summary')['succeeded'] >= 1
            except (OSError, RuntimeError, KeyError):
                return False

        wait_for(succeeded, timeout=60, interval=0.2)
        proc.send_signal(signal.SIGINT)  # Ctrl-C in run()
        out, _ = proc.communicate(timeout=90)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, out
    assert 'KeyboardInterrupt detected' in out and 'RESULT None' in out
    exported = next(line for line in out.splitlines() if line.startswith('EXPORTED')).split()
    assert int(exported[1]) >= 1 and int(exported[3]) >= 2  # read from the stored database
    with pytest.raises(OSError):
        rest.request('GET', port, '/check-status', timeout=2.0, log_errors=False)  # the manager is gone


def test_nan_final_metric_is_stored_with_a_warning(make_experiment, tmp_path):
    code = tmp_path / 'nan_code'
    code.mkdir()
    (code / 'trial.py').write_text("import nni\nnni.get_next_parameter()\nnni.report_final_result(float('nan'))\n")
    experiment = make_experiment(trial_command=f'{sys.executable} trial.py', trial_code_directory=code,
                                 max_trial_number=1, trial_concurrency=1)
    experiment.run(free_port())
    [job] = experiment.list_trial_jobs()
    assert job.status == 'SUCCEEDED'
    stderr = (Path(job.logPath) / 'trial.stderr').read_text()
    assert 'reported a final metric that is not a finite number (nan)' in stderr
    [record] = experiment.export_data()
    assert record.value != record.value  # NaN, kept as NNI keeps it
