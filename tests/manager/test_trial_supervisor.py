"""The local training service and its trial supervisor, with real processes (no manager)."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from pathlib import Path

import pytest

from nni.manager.training_service.base import TrialSpec, read_exit_code
from nni.manager.training_service.local import LocalTrainingService

pytestmark = [pytest.mark.slow, pytest.mark.integration]

DAEMON = ("python3 -c \"import os, sys, time\nif os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n"
          "        time.sleep(300)\n    os._exit(0)\nos.wait()\"")


def _spec(tmp_path: Path, trial_id: str, command: str, experiment_id: str) -> TrialSpec:
    env = {'NNI_EXP_ID': experiment_id, 'NNI_TRIAL_JOB_ID': trial_id}
    return TrialSpec(trial_id=trial_id, sequence_id=0, command=command, code_dir=tmp_path,
                     trial_dir=tmp_path / 'trials' / trial_id, parameter_record='{}', env=env)


def _tagged(experiment_id: str) -> list[int]:
    needle = f'NNI_EXP_ID={experiment_id}'.encode()
    found = []
    for entry in os.listdir('/proc'):
        if entry.isdigit():
            try:
                with open(f'/proc/{entry}/stat', 'rb') as handle:
                    if handle.read().rsplit(b')', 1)[1].split()[0] == b'Z':
                        continue
                with open(f'/proc/{entry}/environ', 'rb') as handle:
                    if needle in handle.read().split(b'\0'):
                        found.append(int(entry))
            except OSError:
                pass
    return found


async def _until(predicate, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, 'condition not met in time'
        await asyncio.sleep(0.02)


def _service(root: Path, experiment_id: str) -> tuple[LocalTrainingService, list]:
    (root / 'db').mkdir(parents=True, exist_ok=True)
    service = LocalTrainingService({'platform': 'local'}, root, experiment_id)
    exits: list = []
    service.set_exit_callback(exits.append)
    return service, exits


def test_exit_codes_and_the_exit_code_file(tmp_path):
    async def scenario():
        service, exits = _service(tmp_path / 'exp', 'supexit')
        await service.start()
        spec = _spec(tmp_path, 'T1', 'echo out; echo err >&2; exit 3', 'supexit')
        await service.submit(spec)
        await _until(lambda: exits)
        assert exits[0].trial_id == 'T1' and exits[0].exit_code == 3
        assert read_exit_code(spec.trial_dir) == 3
        assert (spec.trial_dir / 'trial.stdout').read_text() == 'out\n'
        await service.stop()
    asyncio.run(scenario())


def test_kill_removes_the_whole_tree_including_a_daemon(tmp_path):
    experiment_id = f'supkill{os.getpid()}'

    async def scenario():
        service, exits = _service(tmp_path / 'exp', experiment_id)
        await service.start()
        command = f'{DAEMON}; sleep 300 & cd {tmp_path} && sleep 300 | cat'
        await service.submit(_spec(tmp_path, 'T1', command, experiment_id))
        await _until(lambda: len(_tagged(experiment_id)) >= 4)
        await service.kill('T1')
        await _until(lambda: exits)
        await _until(lambda: not _tagged(experiment_id))
        await service.stop()
    asyncio.run(scenario())


def test_a_new_manager_reattaches_and_a_recycled_pid_is_never_adopted(tmp_path):
    experiment_id = f'supreat{os.getpid()}'
    root = tmp_path / 'exp'

    async def first_manager() -> dict:
        service, _ = _service(root, experiment_id)
        await service.start()
        await service.submit(_spec(tmp_path, 'T1', 'sleep 1.5; exit 7', experiment_id))
        await service.submit(_spec(tmp_path, 'T2', 'sleep 300', experiment_id))
        handles = {trial: service.trial_handle(trial) for trial in ('T1', 'T2')}
        # the manager "dies": its connection goes without a stop
        service._supervisor.closing = True
        service._supervisor._writer.transport.abort()
        return handles

    handles = asyncio.run(first_manager())
    assert handles['T1']['pid'] != handles['T2']['pid']

    async def second_manager():
        service, exits = _service(root, experiment_id)
        await service.start()
        assert await service.reattach(_spec(tmp_path, 'T1', '', experiment_id), handles['T1']) is None
        # a handle whose start time does not match is a recycled pid: never adopted
        forged = dict(handles['T2'], start_ticks=handles['T2']['start_ticks'] + 1)
        outcome = await service.reattach(_spec(tmp_path, 'T2', '', experiment_id), forged)
        assert outcome is not None and outcome.lost
        await _until(lambda: exits, timeout=20)
        assert [(e.trial_id, e.exit_code) for e in exits] == [('T1', 7)]
        await service.stop()
    asyncio.run(second_manager())
    # the forged handle's trial (T2) was stopped with the rest at stop
    asyncio.run(_until_async_none(experiment_id))


async def _until_async_none(experiment_id: str) -> None:
    await _until(lambda: not _tagged(experiment_id))


def test_with_no_manager_back_the_supervisor_stops_the_trials(tmp_path, monkeypatch):
    monkeypatch.setenv('NNI_TRIAL_ORPHAN_GRACE', '0.5')
    experiment_id = f'supgrace{os.getpid()}'
    root = tmp_path / 'exp'

    async def scenario():
        service, _ = _service(root, experiment_id)
        await service.start()
        spec = _spec(tmp_path, 'T1', 'sleep 300', experiment_id)
        await service.submit(spec)
        handle = service.trial_handle('T1')
        service._supervisor.closing = True
        service._supervisor._writer.transport.abort()
        return spec, handle

    spec, handle = asyncio.run(scenario())
    supervisor = json.loads((root / 'db' / 'supervisor.json').read_text())['pid']
    deadline = time.monotonic() + 20
    while _tagged(experiment_id) or Path(f'/proc/{supervisor}/cmdline').exists():
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert (spec.trial_dir / '.nni' / 'interrupted').exists()

    async def resumed():
        service, _ = _service(root, experiment_id)
        await service.start()
        outcome = await service.reattach(spec, handle)
        assert outcome is not None and outcome.lost, 'an interrupted attempt runs again'
        await service.stop()
    asyncio.run(resumed())


def test_the_trial_gets_the_users_umask_and_a_fresh_attempt_keeps_the_old_files(tmp_path, monkeypatch):
    monkeypatch.setenv('NNI_USER_UMASK', '027')
    experiment_id = f'supumask{os.getpid()}'

    async def scenario():
        service, exits = _service(tmp_path / 'exp', experiment_id)
        await service.start()
        spec = _spec(tmp_path, 'T1', 'umask; echo first', experiment_id)
        await service.submit(spec)
        await _until(lambda: exits)
        assert (spec.trial_dir / 'trial.stdout').read_text() == '0027\nfirst\n'
        spec.attempt = 1
        spec.command = 'echo second'
        await service.submit(spec)
        await _until(lambda: len(exits) == 2)
        assert (spec.trial_dir / 'trial.stdout').read_text() == 'second\n'
        assert (spec.trial_dir / 'trial.stdout.attempt-0').read_text() == '0027\nfirst\n'
        await service.stop()
    asyncio.run(scenario())
    assert sys.platform.startswith('linux')


def _cgroups_writable() -> bool:
    from nni.manager.training_service.trial_cgroups import TrialCgroups

    probe = TrialCgroups(f'probe{os.getpid()}', lambda message: None)
    active = probe.active
    probe.close()
    return active


def _processes_with_argv(*argv: str) -> list[int]:
    needle = ('\0'.join(argv) + '\0').encode()
    found = []
    for entry in os.listdir('/proc'):
        if entry.isdigit():
            try:
                if Path(f'/proc/{entry}/cmdline').read_bytes() == needle:
                    found.append(int(entry))
            except OSError:
                pass
    return found


@pytest.mark.skipif(not sys.platform.startswith('linux') or not _cgroups_writable(),
                    reason='no writable cgroup v2 here: the session and environment sweeps are tested instead')
@pytest.mark.parametrize('warm', [False, True])
def test_with_cgroups_a_daemon_that_cleared_its_environment_ends_with_its_trial(tmp_path, warm):
    experiment_id = f'supcg{os.getpid()}{int(warm)}'
    seconds = f'{300 + os.getpid() % 1000}.{int(warm)}'
    # a new session, no NNI_* variables, re-parented to the supervisor: only the cgroup still knows it
    (tmp_path / 'daemon.py').write_text(
        'import subprocess, time\n'
        f'subprocess.run(["setsid", "-f", "sleep", "{seconds}"], env={{}})\n'
        'time.sleep(0.3)\n')
    command = f'{sys.executable} daemon.py' if warm else f'env -i setsid -f sleep {seconds}; sleep 0.3'

    async def scenario():
        service, exits = _service(tmp_path / 'exp', experiment_id)
        service.expect_trials(command, tmp_path, {})
        await service.start()
        if warm:
            log = tmp_path / 'exp' / 'log' / 'supervisor.log'
            await _until(lambda: log.exists() and 'ready' in log.read_text())
        await service.submit(_spec(tmp_path, 'T1', command, experiment_id))
        await _until(lambda: exits)
        assert exits[0].exit_code == 0
        # the trial ended while the experiment goes on: its daemon is gone now, not at experiment stop
        await _until(lambda: not _processes_with_argv('sleep', seconds), timeout=10)
        await service.stop()
    asyncio.run(scenario())
