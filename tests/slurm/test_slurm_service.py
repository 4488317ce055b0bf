"""The Slurm training service against the real single-node cluster, driven directly (no manager)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from nni.manager.training_service.base import TrainingServiceError, TrialExit, TrialSpec
from nni.manager.training_service.slurm import SlurmTrainingService
from nni.manager.training_service.slurm_jobs import FINAL_STATES, job_name, parse_squeue
from nni.manager.training_service.slurm_shell import LocalSlurmShell

pytestmark = [pytest.mark.slow, pytest.mark.integration, pytest.mark.slurm]


class RecordingShell(LocalSlurmShell):
    """The real local shell, remembering every command it ran."""

    def __init__(self) -> None:
        self.commands: list[list[str]] = []

    async def run(self, argv: list[str], timeout: float = 60.0) -> tuple[int, str, str]:
        self.commands.append(list(argv))
        return await super().run(argv, timeout)


def _service(root: Path, cluster: Any, **config: Any) -> tuple[SlurmTrainingService, list[TrialExit]]:
    service = SlurmTrainingService({'platform': 'slurm', 'partition': cluster.partition, 'pollInterval': 1, **config},
                                   root)
    exits: list[TrialExit] = []
    service.set_exit_callback(exits.append)
    return service, exits


def _root(tmp_path: Path, label: str) -> Path:
    """An experiment folder whose name (the job name) no earlier run on the same cluster used."""
    return tmp_path / f'{label}-{uuid.uuid4().hex[:8]}'


def _spec(root: Path, trial_id: str, command: str, attempt: int = 0) -> TrialSpec:
    trial_dir = root / 'trials' / trial_id
    return TrialSpec(trial_id=trial_id, sequence_id=0, command=command, code_dir=root, trial_dir=trial_dir,
                     parameter_record='{"parameter_id": 0}', env={'NNI_PLATFORM': 'slurm'}, attempt=attempt)


async def _submit_then_die(root: Path, cluster: Any, commands: dict[str, str]) -> dict[str, dict]:
    """A manager that submits ``{trial id: command}`` and dies before its jobs end; the trials' handles."""
    service, _ = _service(root, cluster)
    await service.start()
    for trial_id, command in commands.items():
        await service.submit(_spec(root, trial_id, command))
    service._poll_task.cancel()  # the manager dies: nothing watches the jobs any more
    return {trial_id: service.trial_handle(trial_id) for trial_id in commands}


async def _until(predicate: Callable[[], Any], timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        if time.monotonic() > deadline:
            raise AssertionError(f'condition not met within {timeout} s')
        await asyncio.sleep(0.1)
    return value


def _queue(experiment_id: str) -> dict[str, Any]:
    out = subprocess.run(['squeue', '-h', '-t', 'all', f'--name={job_name(experiment_id)}',
                          '--Format=JobID:|,State:|,exit_code:|,Comment:|,Reason:'],
                         capture_output=True, text=True, check=True).stdout
    return parse_squeue(out)


def test_unknown_partition_is_refused_at_start(slurm_cluster, tmp_path: Path) -> None:
    service, _ = _service(_root(tmp_path, 'exp-part'), slurm_cluster, partition='no-such-partition')
    with pytest.raises(TrainingServiceError) as caught:
        asyncio.run(service.start())
    message = str(caught.value)
    assert "trainingService.partition: Slurm has no partition 'no-such-partition'" in message
    assert slurm_cluster.partition in message  # and says which exist


def test_trials_end_with_their_exit_codes_and_kill_cancels_the_job(slurm_cluster, tmp_path: Path) -> None:
    root = _root(tmp_path, 'exp-codes')

    async def scenario() -> list[TrialExit]:
        service, exits = _service(root, slurm_cluster)
        await service.start()
        await service.submit(_spec(root, 'ok', 'echo hello; exit 0'))
        await service.submit(_spec(root, 'bad', 'echo oops >&2; exit 3'))
        await service.submit(_spec(root, 'long', 'sleep 60'))
        assert service.trial_handle('long')['job_id'].isdigit()
        await _until(lambda: _queue(root.name).get(service.trial_handle('long')['job_id'], None)
                     and _queue(root.name)[service.trial_handle('long')['job_id']].state == 'RUNNING')
        await service.kill('long')
        await _until(lambda: len(exits) == 3)
        await service.stop()
        return exits

    exits = {exit.trial_id: exit for exit in asyncio.run(scenario())}
    assert exits['ok'].exit_code == 0 and exits['ok'].message is None
    assert exits['bad'].exit_code == 3
    assert exits['long'].exit_code is None  # cancelled: the engine knows it asked
    assert (root / 'trials' / 'ok' / 'trial.stdout').read_text().strip() == 'hello'
    assert 'oops' in (root / 'trials' / 'bad' / 'trial.stderr').read_text()
    assert (root / 'trials' / 'bad' / '.nni' / 'exitcode').read_text().strip() == '3'
    assert {row.state for row in _queue(root.name).values()} == {'COMPLETED', 'FAILED', 'CANCELLED'}


def test_one_poll_is_one_slurm_command_whatever_the_number_of_jobs(slurm_cluster, tmp_path: Path) -> None:
    root = _root(tmp_path, 'exp-poll')

    async def scenario() -> tuple[list[list[str]], list[list[str]]]:
        service, _ = _service(root, slurm_cluster, pollInterval=3600)  # polls only when told here
        shell = RecordingShell()
        service._shell = shell
        await service.start()
        for index in range(8):
            await service.submit(_spec(root, f't{index}', 'sleep 30'))
        service._poll_task.cancel()
        shell.commands.clear()
        await service._poll_queue()
        one_poll = list(shell.commands)
        # jobs Slurm no longer knows: still one squeue, plus at most one accounting look-up for all
        for index, job in enumerate(service._jobs.values()):
            job.job_id = str(900000 + index)
        shell.commands.clear()
        await service._poll_queue()
        gone_poll = list(shell.commands)
        await service.stop()
        return one_poll, gone_poll

    one_poll, gone_poll = asyncio.run(scenario())
    assert [command[0] for command in one_poll] == ['squeue']
    assert f'--name={job_name(root.name)}' in one_poll[0]
    assert [command[0] for command in gone_poll] in (['squeue'], ['squeue', 'sacct'])
    assert not any(command[0] == 'scontrol' for command in one_poll + gone_poll)


def test_a_new_service_reattaches_to_running_and_ended_jobs(slurm_cluster, tmp_path: Path) -> None:
    root = _root(tmp_path, 'exp-reattach')

    async def first_manager() -> dict[str, dict]:
        return await _submit_then_die(root, slurm_cluster, {'quick': 'exit 4', 'slow': 'sleep 4; echo done; exit 5'})

    async def second_manager(handles: dict[str, dict]) -> tuple[TrialExit | None, TrialExit | None, list[TrialExit]]:
        await _until(lambda: (root / 'trials' / 'quick' / '.nni' / 'exitcode').exists())
        service, exits = _service(root, slurm_cluster)
        await service.start()
        quick = await service.reattach(_spec(root, 'quick', 'exit 4'), handles['quick'])
        slow = await service.reattach(_spec(root, 'slow', 'sleep 4; exit 5'), handles['slow'])
        await _until(lambda: exits, timeout=60)
        await service.stop()
        return quick, slow, exits

    handles = asyncio.run(first_manager())
    quick, slow, exits = asyncio.run(second_manager(handles))
    assert quick == TrialExit('quick', 4, None)
    assert slow is None  # still running: the new service owns it
    assert exits == [TrialExit('slow', 5, None)]
    assert (root / 'trials' / 'slow' / 'trial.stdout').read_text().strip() == 'done'


def test_a_job_no_handle_names_is_cancelled_before_its_trial_runs_again(slurm_cluster, tmp_path: Path) -> None:
    root = _root(tmp_path, 'exp-orphan')

    async def scenario() -> tuple[str, str]:
        # the first manager died before the handle reached the store
        old_job = (await _submit_then_die(root, slurm_cluster, {'twice': 'sleep 60'}))['twice']['job_id']
        second, exits = _service(root, slurm_cluster)
        await second.start()
        await second.submit(_spec(root, 'twice', 'exit 0', attempt=1))
        new_job = second.trial_handle('twice')['job_id']
        await _until(lambda: exits)
        await second.stop()
        return old_job, new_job

    old_job, new_job = asyncio.run(scenario())
    queue = _queue(root.name)
    assert queue[old_job].state == 'CANCELLED'
    assert queue[new_job].state == 'COMPLETED'


def test_stop_cancels_every_job_of_the_experiment(slurm_cluster, tmp_path: Path) -> None:
    root = _root(tmp_path, 'exp-stop')

    async def scenario() -> None:
        service, exits = _service(root, slurm_cluster)
        await service.start()
        for index in range(3):
            await service.submit(_spec(root, f's{index}', 'sleep 120'))
        # a job of the experiment that no handle names (submitted by an earlier manager)
        subprocess.run(['sbatch', '--parsable', f'--job-name={job_name(root.name)}', f'--output={root}/stray.out',
                        '--wrap', 'sleep 120'], check=True, capture_output=True)
        await service.stop()
        assert exits == []  # a stop reports nothing: the engine decides what the trials become

    asyncio.run(scenario())
    queue = _queue(root.name)
    assert len(queue) == 4
    assert all(row.state in FINAL_STATES for row in queue.values()), queue
    assert {row.state for row in queue.values()} == {'CANCELLED'}


def test_shared_directory_holds_trial_folders_and_metrics_file(slurm_cluster, tmp_path: Path) -> None:
    root = _root(tmp_path, 'exp-shared')
    shared = tmp_path / 'shared'
    root.mkdir()  # the trial code directory of the specs

    async def scenario() -> tuple[TrialSpec, list[TrialExit]]:
        service, exits = _service(root, slurm_cluster, sharedDirectory=str(shared), metricsChannel='file')
        await service.start()
        spec = _spec(root, 'm1', 'echo "$NNI_SYS_DIR"; test -z "$NNI_TRIAL_COMMAND_CHANNEL"')
        spec.env['NNI_TRIAL_COMMAND_CHANNEL'] = 'http://127.0.0.1:1/env/slurm-env/m1'
        await service.submit(spec)
        await _until(lambda: exits)
        await service.stop()
        return spec, exits

    spec, exits = asyncio.run(scenario())
    expected = shared / root.name / 'trials' / 'm1'
    assert exits == [TrialExit('m1', 0, None)]
    assert spec.trial_dir == expected  # the engine reads metrics and logs there
    assert (expected / 'trial.stdout').read_text().strip() == str(expected)
    assert (expected / 'parameter.cfg').read_text() == '{"parameter_id": 0}'
    assert os.stat(expected / '.nni' / 'job.sbatch').st_mode & 0o077 == 0  # holds the trial token


def test_gpus_per_trial_become_gres_and_slurm_assigns_them(slurm_cluster, tmp_path: Path) -> None:
    """With the cluster's fake GPUs (GRES device files, no real GPU): Slurm schedules and exposes them."""
    if slurm_cluster.gpus < 2:
        pytest.skip('the cluster has fewer than 2 GPUs (GRES gpu)')
    root = _root(tmp_path, 'exp-gpu')

    async def scenario() -> tuple[list[TrialExit], str]:
        service, exits = _service(root, slurm_cluster, gpusPerTrial=1)
        await service.start()
        for index in range(3):
            await service.submit(_spec(root, f'g{index}', 'echo "$CUDA_VISIBLE_DEVICES"; sleep 1'))
        too_many, _ = _service(root, slurm_cluster, gpusPerTrial=slurm_cluster.gpus + 1)
        with pytest.raises(TrainingServiceError) as refused:
            await too_many.submit(_spec(root, 'greedy', 'true'))
        await _until(lambda: len(exits) == 3)
        await service.stop()
        return exits, str(refused.value)

    exits, refused = asyncio.run(scenario())
    assert {exit.exit_code for exit in exits} == {0}
    seen = [(root / 'trials' / f'g{index}' / 'trial.stdout').read_text().strip() for index in range(3)]
    assert set(seen) <= {'0', '1'}, seen  # one GPU each, picked by Slurm
    assert 'sbatch refused trial greedy' in refused and 'not available' in refused


def test_a_job_cancelled_by_a_stop_is_lost_on_resume(slurm_cluster, tmp_path: Path) -> None:
    root = _root(tmp_path, 'exp-stopped')

    async def scenario() -> TrialExit | None:
        first, _ = _service(root, slurm_cluster)
        await first.start()
        await first.submit(_spec(root, 'cut', 'sleep 60'))
        handle = first.trial_handle('cut')
        await first.stop()  # the experiment is stopped: its jobs are cancelled
        second, _ = _service(root, slurm_cluster)
        await second.start()
        outcome = await second.reattach(_spec(root, 'cut', 'sleep 60'), handle)
        await second.stop()
        return outcome

    outcome = asyncio.run(scenario())
    assert outcome is not None and outcome.lost  # no result of its own: the trial runs again
    assert outcome.exit_code is None and 'cancelled' in (outcome.message or '')
