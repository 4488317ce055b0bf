"""RemoteTrainingService driven directly (no manager): login errors, kill, stop, reattach, GPUs."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from nni.manager.training_service.base import TrainingServiceError, TrialExit, TrialSpec
from nni.manager.training_service.remote import RemoteTrainingService

from .conftest import (
    PASSWORD,
    PASSWORD_USER,
    experiment_processes,
    machine_a_config,
    machine_b_config,
    remove_remote_folders,
    wait_for,
)

pytestmark = [pytest.mark.slow, pytest.mark.integration, pytest.mark.ssh]


def _camel(machine: dict[str, Any]) -> dict[str, Any]:
    names = {'ssh_key_file': 'sshKeyFile', 'python_path': 'pythonPath'}
    return {names.get(key, key): value for key, value in machine.items()}


def _service(root: Path, code: Path, machines: list[dict[str, Any]]) -> RemoteTrainingService:
    config = {'platform': 'remote', 'machineList': [_camel(m) for m in machines],
              'trialCodeDirectory': str(code), 'trialCommand': 'unused'}
    return RemoteTrainingService(config, root)


def _spec(root: Path, trial_id: str, command: str, gpu_number: int | None = None) -> TrialSpec:
    trial_dir = root / 'environments' / 'remote-env' / 'trials' / trial_id
    env = {'NNI_PLATFORM': 'remote', 'NNI_EXP_ID': root.name, 'NNI_TRIAL_JOB_ID': trial_id,
           'NNI_TRIAL_SEQ_ID': '0',
           # nothing listens there: the trial falls back to its metrics file
           'NNI_TRIAL_COMMAND_CHANNEL': 'http://127.0.0.1:9/env/remote-env/' + trial_id}
    record = json.dumps({'parameter_id': 0, 'parameter_source': 'algorithm', 'parameters': {'x': 3},
                         'parameter_index': 0})
    return TrialSpec(trial_id=trial_id, sequence_id=0, command=command, code_dir=Path('.'), trial_dir=trial_dir,
                     parameter_record=record, env=env, gpu_number=gpu_number)


class Exits:
    def __init__(self, service: RemoteTrainingService) -> None:
        self.seen: dict[str, TrialExit] = {}
        service.set_exit_callback(lambda e: self.seen.__setitem__(e.trial_id, e))

    async def wait(self, trial_id: str, timeout: float = 30) -> TrialExit:
        for _ in range(int(timeout / 0.05)):
            if trial_id in self.seen:
                return self.seen[trial_id]
            await asyncio.sleep(0.05)
        raise AssertionError(f'no exit for {trial_id}')


def _trial_processes(trial_id: str) -> list[int]:
    needle = f'NNI_TRIAL_JOB_ID={trial_id}'.encode()
    found = []
    for entry in os.listdir('/proc'):
        if entry.isdigit():
            try:
                if needle in Path(f'/proc/{entry}/environ').read_bytes().split(b'\0'):
                    found.append(int(entry))
            except OSError:
                pass
    return found


@pytest.fixture
def root(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / f'exp{os.getpid() % 10000}{len(str(tmp_path)) % 100}'
    path.mkdir()
    yield path
    remove_remote_folders(path.name)


def test_wrong_password_is_one_clear_error_naming_the_machine(machines, root, trial_code):
    wrong = dict(machine_b_config(machines), password='not-the-password')
    service = _service(root, trial_code, [machine_a_config(machines), wrong])
    with pytest.raises(TrainingServiceError) as caught:
        asyncio.run(service.start())
    message = str(caught.value)
    port = machines['b'].port
    assert f'trainingService.machineList[1] ({PASSWORD_USER}@127.0.0.3:{port})' in message
    assert 'login refused' in message
    assert 'machineList[0]' not in message  # the good machine is not blamed


def test_unreachable_host_and_bad_key_are_named(machines, root, trial_code, tmp_path):
    bad_key = tmp_path / 'not-a-key'
    bad_key.write_text('junk')
    closed = dict(machine_a_config(machines), port=1)
    keyless = dict(machine_a_config(machines), ssh_key_file=str(bad_key))
    service = _service(root, trial_code, [closed, keyless])
    with pytest.raises(TrainingServiceError) as caught:
        asyncio.run(service.start())
    message = str(caught.value)
    assert 'machineList[0]' in message and ':1)' in message and 'cannot connect' in message
    assert 'machineList[1]' in message and 'cannot read private key' in message


def test_trial_runs_collects_files_and_metrics_file(machines, root, trial_code, trial_pythonpath):
    (trial_code / '.nniignore').write_text('big/\n*.ckpt\n')
    (trial_code / 'big').mkdir()
    (trial_code / 'big' / 'data.bin').write_bytes(b'x' * 1000)
    (trial_code / 'model.ckpt').write_text('weights')
    (trial_code / 'helper.py').write_text('VALUE = 1\n')

    async def scenario() -> None:
        service = _service(root, trial_code, [machine_b_config(machines)])
        exits = Exits(service)
        await service.start()
        remote_code = Path(f'/home/{PASSWORD_USER}/nni-remote/{root.name}/code')
        assert sorted(p.name for p in remote_code.iterdir()) == ['helper.py', 'trial.py']  # .nniignore honoured
        spec = _spec(root, 'T1', f'PYTHONPATH={trial_pythonpath} python3 trial.py')
        await service.submit(spec)
        assert service.trial_machine('T1') == f'{PASSWORD_USER}@127.0.0.3:{machines["b"].port}'
        done = await exits.wait('T1')
        assert done.exit_code == 0, (spec.trial_dir / 'trial.stderr').read_text()
        # metrics went to the remote metrics file (no channel) and came back with the folder
        metrics = (spec.trial_dir / '.nni' / 'metrics').read_bytes()
        assert metrics.count(b'ME') == 2 and b'FINAL' in metrics
        assert (spec.trial_dir / 'where.txt').read_text().startswith(PASSWORD_USER)
        assert (spec.trial_dir / '.nni' / 'exitcode').read_text().strip() == '0'
        # the wrapper holds the trial's token: private on the machine, not copied back
        wrapper = Path(f'/home/{PASSWORD_USER}/nni-remote/{root.name}/trials/T1/.nni/run.sh')
        assert wrapper.stat().st_mode & 0o077 == 0
        assert not (spec.trial_dir / '.nni' / 'run.sh').exists()
        await service.stop()

    asyncio.run(scenario())


def test_kill_ends_the_trial_and_what_it_daemonized(machines, root, trial_code):
    async def scenario() -> None:
        service = _service(root, trial_code, [machine_a_config(machines)])
        exits = Exits(service)
        await service.start()
        # a background child in the group, a daemon in its own session, and a foreground sleep
        command = 'sleep 300 & setsid sleep 301 < /dev/null > /dev/null 2>&1 & sleep 302'
        await service.submit(_spec(root, 'K1', command))
        wait_for(lambda: len(_trial_processes('K1')) >= 4, timeout=15)
        await service.kill('K1')
        await exits.wait('K1', timeout=20)
        await asyncio.sleep(0)
        assert _trial_processes('K1') == []
        await service.stop()

    asyncio.run(scenario())


def test_stop_leaves_no_process_on_any_machine(machines, root, trial_code):
    async def scenario() -> None:
        service = _service(root, trial_code, [machine_a_config(machines), machine_b_config(machines)])
        Exits(service)
        await service.start()
        for trial_id in ('S1', 'S2', 'S3'):
            await service.submit(_spec(root, trial_id, 'setsid sleep 303 < /dev/null > /dev/null 2>&1 & sleep 304'))
        wait_for(lambda: len(experiment_processes(root.name)) >= 6, timeout=15)
        users = {Path(f'/proc/{pid}').stat().st_uid for pid in experiment_processes(root.name)}
        assert len(users) == 2  # trials ran on both "machines" (root and the password user)
        await service.stop()
        wait_for(lambda: not experiment_processes(root.name), timeout=10)

    asyncio.run(scenario())


def test_reattach_after_a_manager_restart(machines, root, trial_code):
    async def scenario() -> None:
        first = _service(root, trial_code, [machine_a_config(machines)])
        await first.start()
        flag = root / 'release'
        spec = _spec(root, 'R1', f'while [ ! -e {flag} ]; do sleep 0.1; done; exit 7')
        await first.submit(spec)
        quick = _spec(root, 'R2', 'exit 3')
        await first.submit(quick)
        handles = {tid: json.loads(json.dumps(first.trial_handle(tid))) for tid in ('R1', 'R2')}
        # the manager dies: no stop, its connection just goes away
        first._stopping = True
        first._poll_task.cancel()
        for machine in first._machines:
            await machine.ssh.close()
        await asyncio.sleep(1)

        second = _service(root, trial_code, [machine_a_config(machines)])
        exits = Exits(second)
        await second.start()
        assert await second.reattach(spec, handles['R1']) is None
        ended = await second.reattach(quick, handles['R2'])
        assert ended is not None and ended.exit_code == 3
        flag.write_text('go')
        done = await exits.wait('R1')
        assert done.exit_code == 7
        # a handle whose process is gone and left no exit code is reported lost, not running
        gone = dict(handles['R1'], pid=handles['R1']['pid'], startTicks='1', remoteDir='/nonexistent')
        lost = await second.reattach(_spec(root, 'R3', 'true'), gone)
        assert lost is not None and lost.exit_code is None and lost.message and lost.lost
        await second.stop()

    asyncio.run(scenario())


def test_fake_gpu_inventory_schedules_per_machine(machines, root, trial_code, monkeypatch):
    a, b = machines['a'], machines['b']
    monkeypatch.setenv('NNI_FAKE_REMOTE_GPU_INVENTORY', json.dumps(
        {f'{a.host}:{a.port}': [0, {'index': 1, 'busy': True}, 2], f'{b.host}:{b.port}': [5]}))

    async def scenario() -> None:
        service = _service(root, trial_code, [machine_a_config(machines), machine_b_config(machines)])
        exits = Exits(service)
        await service.start()
        assert service.check_gpu_request(2) is None
        assert 'no remote machine has that many usable GPUs' in service.check_gpu_request(3)
        specs = [_spec(root, f'G{i}', 'echo "$CUDA_VISIBLE_DEVICES" > "$NNI_OUTPUT_DIR/gpus.txt"; sleep 1') for i in range(4)]
        for spec in specs:
            spec.gpu_number = 1
        started = []
        for spec in specs:
            if not service.can_start(spec):
                break
            await service.submit(spec)
            started.append(spec)
        assert len(started) == 3  # GPU 1 of machine A is busy; the fourth trial waits
        for spec in started:
            await exits.wait(spec.trial_id)
        seen = sorted((spec.trial_dir / 'gpus.txt').read_text().strip() for spec in started)
        assert seen == ['0', '2', '5']
        assert service.can_start(specs[3])
        await service.stop()

    asyncio.run(scenario())


def test_a_machine_that_cannot_start_trials_is_passed_over(machines, root, trial_code):
    async def scenario() -> None:
        service = _service(root, trial_code, [machine_b_config(machines), machine_a_config(machines)])
        exits = Exits(service)
        await service.start()
        trials = Path(f'/home/{PASSWORD_USER}/nni-remote/{root.name}/trials')
        trials.chmod(0o500)  # machine B's user can no longer create trial folders
        try:
            for trial_id in ('P1', 'P2'):
                await service.submit(_spec(root, trial_id, 'true'))
                assert service.trial_machine(trial_id) == f'{machines["a"].info["SSH_USER"]}@127.0.0.2:{machines["a"].port}'
                assert (await exits.wait(trial_id)).exit_code == 0
        finally:
            trials.chmod(0o755)
        await service.stop()

    asyncio.run(scenario())


def test_ssh_shell_runs_scripts_with_args_input_and_recovers_from_a_timeout(machines):
    from nni.manager.training_service.ssh import SshConnection, SshError, SshShell

    async def scenario() -> None:
        async with SshConnection(_camel(machine_a_config(machines))) as connection:
            shell = SshShell(connection)
            status, output = await shell.run('echo "$1|$2"; cat; echo oops >&2; exit 3', 'a b', "c'd",
                                             input='line 1\nline 2')
            assert (status, output) == (3, "a b|c'd\nline 1\nline 2\noops\n")
            assert await shell.run('printf no-newline') == (0, 'no-newline')
            with pytest.raises(SshError, match='timed out'):
                await shell.run('sleep 30', timeout=0.3)
            assert await shell.run('echo back') == (0, 'back\n')  # a fresh shell took over
            await shell.close()

    asyncio.run(scenario())


def test_nnictl_platform_clean_removes_our_remote_folders(machines: dict[str, Any], tmp_path: Path) -> None:
    import subprocess
    import sys

    import yaml

    leftover = Path(f'/home/{PASSWORD_USER}/nni-remote/old-experiment/trials/T1')
    leftover.mkdir(parents=True)
    subprocess.run(['chown', '-R', f'{PASSWORD_USER}:', str(leftover.parents[2])], check=True)
    config = tmp_path / 'config.yml'
    machine = machines['b']
    config.write_text(yaml.safe_dump({'trainingService': {'platform': 'remote', 'machineList': [
        {'host': machine.host, 'port': machine.port, 'user': PASSWORD_USER, 'password': PASSWORD}]}}))
    result = subprocess.run([sys.executable, '-m', 'nni.tools.nnictl', 'platform', 'clean', '--config', str(config)],
                            input='y\n', capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f'{machine.host}:{machine.port}~/nni-remote' in result.stdout
    assert not leftover.parents[2].exists()
