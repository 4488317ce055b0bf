"""Python trials forked by the warm interpreter behave like trials started by a fresh interpreter.

Real supervisor, real warm interpreter, real trial processes (no manager). Each behaviour is checked
by running the same script cold (``NNI_TRIAL_WARM_START=0``) and warm and comparing what it saw.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from pathlib import Path

import pytest

from nni.manager.training_service.base import TrialSpec
from nni.manager.training_service.local import LocalTrainingService
from nni.manager.training_service.warm_start import plan_for

PROBE = '''\
import sys
warm = 'nni' in sys.modules  # a fresh interpreter has not imported nni yet
import atexit, json, os, threading, time
report = {
    'argv': sys.argv, 'path0': sys.path[0], 'file': __file__, 'name': __name__, 'cwd': os.getcwd(),
    'trial': os.environ.get('NNI_TRIAL_JOB_ID'), 'extra': os.environ.get('EXTRA_PATH_ENTRY'),
    'in_path': os.environ.get('EXTRA_PATH_ENTRY') in sys.path, 'stdin': sys.stdin.read(),
    'leader': os.getsid(0) == os.getpid(), 'umask': os.umask(0o22), 'sigint': str(__import__('signal').getsignal(2)),
    'loader': type(__loader__).__name__, 'spec': __spec__, 'package': __package__,
    'fds': len(os.listdir('/proc/self/fd')),  # nothing of the warm interpreter's leaks into the trial
    # tools find trials by these in /proc/<pid>/environ (the kernel's copy, not os.environ)
    'proc_environ': sorted(item.decode() for item in open('/proc/self/environ', 'rb').read().split(b'\\0')
                           if item.startswith((b'NNI_EXP_ID=', b'NNI_TRIAL_JOB_ID=', b'EXTRA_PATH_ENTRY'))),
}
import random
with open(os.path.join(os.environ['NNI_SYS_DIR'], '..', 'random.txt'), 'a') as out:
    out.write(f'{random.random()}\\n')
with open(os.path.join(os.environ['NNI_SYS_DIR'], 'probe.json'), 'w') as out:
    json.dump(dict(report, warm=warm), out)
atexit.register(lambda: print('atexit ran'))
threading.Thread(target=lambda: (time.sleep(0.1), print('thread ended'))).start()
mode = sys.argv[1]
if mode == 'raise':
    def inner():
        raise ValueError('boom')
    inner()
if mode == 'message':
    sys.exit('a message')
if mode == 'sleep':
    import subprocess
    child = subprocess.Popen(['sleep', '300'])
    print('child', child.pid, flush=True)
    try:
        time.sleep(300)
    except KeyboardInterrupt:
        print('interrupted', flush=True)
        raise
sys.exit(int(mode))
'''

EXPERIMENT = f'warm{os.getpid()}'


def _spec(tmp_path: Path, trial_id: str, argument: str, **env: str) -> TrialSpec:
    trial_dir = tmp_path / 'trials' / trial_id
    return TrialSpec(trial_id=trial_id, sequence_id=0, command=f'{sys.executable} probe.py {argument}',
                     code_dir=tmp_path, trial_dir=trial_dir, parameter_record='{}',
                     env={'NNI_EXP_ID': EXPERIMENT, 'NNI_TRIAL_JOB_ID': trial_id, 'NNI_SYS_DIR': str(trial_dir),
                          **env})


async def _until(predicate, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, 'condition not met in time'
        await asyncio.sleep(0.02)


class _Runner:
    """Runs probe trials one at a time through a real local training service."""

    def __init__(self, tmp_path: Path) -> None:
        (tmp_path / 'probe.py').write_text(PROBE)
        (tmp_path / 'exp' / 'db').mkdir(parents=True)
        self.tmp_path = tmp_path
        self.service = LocalTrainingService({'platform': 'local'}, tmp_path / 'exp', EXPERIMENT)
        self.exits: dict = {}
        self.service.set_exit_callback(lambda outcome: self.exits.__setitem__(outcome.trial_id, outcome))
        self.count = 0

    async def run(self, argument: str, warm: bool, **env: str) -> tuple[dict, int | None, str, str]:
        """Run ``probe.py argument``; with ``warm``, again until the warm interpreter ran it."""
        for _ in range(50):
            self.count += 1
            trial_id = f'T{self.count}'
            spec = _spec(self.tmp_path, trial_id, argument, **env, **({} if warm else {'NNI_TRIAL_WARM_START': '0'}))
            await self.service.submit(spec)
            await _until(lambda trial_id=trial_id: trial_id in self.exits)
            report = json.loads((spec.trial_dir / 'probe.json').read_text())
            if report.pop('warm') == warm:
                for key in ('trial', 'cwd'):
                    assert report[key] == (trial_id if key == 'trial' else str(self.tmp_path))
                    report.pop(key)
                assert f'NNI_TRIAL_JOB_ID={trial_id}' in report['proc_environ']
                report['proc_environ'].remove(f'NNI_TRIAL_JOB_ID={trial_id}')
                return (report, self.exits[trial_id].exit_code, (spec.trial_dir / 'trial.stdout').read_text(),
                        (spec.trial_dir / 'trial.stderr').read_text())
            assert not warm or self.count < 50
            await asyncio.sleep(0.05)
        raise AssertionError(f'never ran {"warm" if warm else "cold"}')


@pytest.mark.slow
@pytest.mark.integration
@pytest.mark.parametrize('argument', ['0', '3', 'raise', 'message'])
def test_a_warm_trial_sees_and_ends_as_a_fresh_one(tmp_path, argument):
    async def scenario(runner: _Runner) -> None:
        cold = await runner.run(argument, warm=False)
        warm = await runner.run(argument, warm=True)
        assert warm == cold
        drawn = (tmp_path / 'trials' / 'random.txt').read_text().split()
        assert len(set(drawn)) == len(drawn), 'forked trials must not share the random module state'
        report, code, stdout, stderr = warm
        assert report['argv'] == ['probe.py', argument] and report['name'] == '__main__'
        assert report['file'] == str(tmp_path / 'probe.py') and report['path0'] == str(tmp_path)
        assert report['stdin'] == '' and report['leader'] and report['umask'] == 0o022
        assert stdout == 'thread ended\natexit ran\n'
        expected_code = {'0': 0, '3': 3, 'raise': 1, 'message': 1}[argument]
        assert code == expected_code
        if argument == 'raise':
            assert stderr.startswith('Traceback (most recent call last):\n  File "' + str(tmp_path / 'probe.py'))
            assert 'warm_python' not in stderr and stderr.endswith('ValueError: boom\n')
        elif argument == 'message':
            assert stderr == 'a message\n'
    _with_service(tmp_path, scenario)


@pytest.mark.slow
@pytest.mark.integration
def test_a_warm_trial_is_killed_with_its_children_and_gets_keyboard_interrupt(tmp_path):
    async def scenario(runner: _Runner) -> None:
        await runner.run('0', warm=True)  # the warm interpreter is up
        spec = _spec(tmp_path, 'K1', 'sleep')
        await runner.service.submit(spec)
        stdout = spec.trial_dir / 'trial.stdout'
        await _until(lambda: stdout.exists() and 'child' in stdout.read_text())
        assert json.loads((spec.trial_dir / 'probe.json').read_text())['warm']
        child = int(stdout.read_text().split()[1])
        # ps and pgrep -f find a warm trial by its command, as they find a fresh one
        pid = runner.service.trial_handle('K1')['pid']
        shown = Path(f'/proc/{pid}/cmdline').read_bytes().rstrip(b'\0').replace(b'\0', b' ')
        assert shown == f'{sys.executable} probe.py sleep'.encode()
        assert Path(f'/proc/{pid}/comm').read_text() == 'probe.py\n'
        await runner.service.kill('K1')
        await _until(lambda: 'K1' in runner.exits)
        await _until(lambda: not Path(f'/proc/{child}').exists() or _zombie(child))
        assert 'interrupted' in stdout.read_text()
        assert 'KeyboardInterrupt' in (spec.trial_dir / 'trial.stderr').read_text()
    _with_service(tmp_path, scenario)


@pytest.mark.slow
@pytest.mark.integration
def test_a_trial_whose_interpreter_settings_differ_gets_its_own_warm_interpreter(tmp_path):
    async def scenario(runner: _Runner) -> None:
        for entry in ('/first/entry', '/second/entry'):
            report, code, _, _ = await runner.run('0', warm=True, PYTHONPATH=entry, EXTRA_PATH_ENTRY=entry)
            # PYTHONPATH is read when an interpreter starts: a warm interpreter started for
            # another PYTHONPATH must not run this trial
            assert report['in_path'] and code == 0
    _with_service(tmp_path, scenario)


def _with_service(tmp_path: Path, scenario) -> None:  # type: ignore[no-untyped-def]
    async def run() -> None:
        runner = _Runner(tmp_path)
        await runner.service.start()
        try:
            await scenario(runner)
        finally:
            await runner.service.stop()
    asyncio.run(run())


def _zombie(pid: int) -> bool:
    try:
        with open(f'/proc/{pid}/stat', 'rb') as handle:
            return handle.read().rsplit(b')', 1)[1].split()[0] == b'Z'
    except OSError:
        return True


def _request(tmp_path: Path, command: str, **env: str) -> dict:
    return {'command': command, 'cwd': str(tmp_path), 'env': {'PATH': os.environ.get('PATH', ''), **env}}


def test_only_plain_python_script_commands_run_warm(tmp_path):
    (tmp_path / 'train.py').write_text('pass\n')
    python = sys.executable
    plan = plan_for(_request(tmp_path, f'{python} train.py --lr 0.1'))
    assert plan is not None and plan.argv == ['train.py', '--lr', '0.1'] and plan.interpreter == python
    assert plan_for(_request(tmp_path, 'python3 train.py')) is not None or not _on_path('python3')
    for command in (f'{python} train.py | tee log', f'cd x && {python} train.py', f'{python} -u train.py',
                    f'{python} missing.py', 'bash train.py', f'{python}', f'FOO=1 {python} train.py',
                    f'{python} train.py "quoted arg"', f'{python} train.py $HOME'):
        assert plan_for(_request(tmp_path, command)) is None, command
    assert plan_for(_request(tmp_path, f'{python} train.py', NNI_TRIAL_WARM_START='0')) is None
    (tmp_path / 'nni.py').write_text('')
    assert plan_for(_request(tmp_path, f'{python} train.py')) is None, 'a local nni.py would be shadowed'


def test_per_trial_variables_do_not_change_the_warm_interpreter_but_others_do(tmp_path):
    (tmp_path / 'train.py').write_text('pass\n')
    command = f'{sys.executable} train.py'
    first = plan_for(_request(tmp_path, command, NNI_TRIAL_JOB_ID='a', CUDA_VISIBLE_DEVICES='0'))
    second = plan_for(_request(tmp_path, command, NNI_TRIAL_JOB_ID='b', CUDA_VISIBLE_DEVICES='1'))
    other = plan_for(_request(tmp_path, command, NNI_TRIAL_JOB_ID='c', PYTHONHASHSEED='1'))
    assert first is not None and second is not None and other is not None
    assert first.key == second.key and first.key != other.key


def _on_path(program: str) -> bool:
    return any(os.access(os.path.join(folder, program), os.X_OK) for folder in os.environ.get('PATH', '').split(':'))


@pytest.mark.slow
@pytest.mark.integration
def test_the_warm_interpreter_is_ready_before_the_first_trial_when_the_command_is_known(tmp_path):
    async def scenario() -> None:
        runner = _Runner(tmp_path)
        runner.service.expect_trials(f'{sys.executable} probe.py 0', tmp_path, {})
        await runner.service.start()
        try:
            log = tmp_path / 'exp' / 'log' / 'supervisor.log'
            await _until(lambda: log.exists() and 'warm interpreter' in log.read_text() and 'ready' in log.read_text())
            await runner.run('0', warm=True)
            assert runner.count == 1, 'the first trial started cold'
        finally:
            await runner.service.stop()
    asyncio.run(scenario())
