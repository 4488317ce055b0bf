"""nni.tools.trial_tool's file channel: framed commands through files in ./commands."""

from __future__ import annotations

from argparse import Namespace
from pathlib import Path

import pytest

from nni.tools.trial_tool.base_channel import CommandType, decode_command, encode_command
from nni.tools.trial_tool.file_channel import FileChannel, command_path, manager_commands_file_name


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_runner_commands_are_appended_framed(in_tmp: Path) -> None:
    channel = FileChannel(Namespace(node_id=None))
    channel.send(CommandType.ReportGpuInfo, 'command1')
    channel.send(CommandType.ReportGpuInfo, {'gpus': [0]})
    channel.close()
    lines = (in_tmp / 'commands' / 'runner_commands.txt').read_bytes().splitlines()
    assert lines == [b'GI00000000000010"command1"', b'GI00000000000013{"gpus": [0]}']
    node = FileChannel(Namespace(node_id=2))
    node.send(CommandType.StdOut, 'x')
    node.close()
    assert (in_tmp / 'commands' / 'runner_commands_2.txt').exists()


def test_manager_commands_are_read_as_they_arrive(in_tmp: Path) -> None:
    channel = FileChannel(Namespace(node_id=None))
    assert channel.receive() == (None, None)  # no file yet
    Path(command_path).mkdir()
    manager = open(Path(command_path) / manager_commands_file_name, 'wb')  # noqa: SIM115
    manager.write(b'TR00000000000009"manager"\nKI0000000000')
    manager.flush()
    assert channel.receive() == (CommandType.NewTrialJob, 'manager')
    assert channel.receive() == (None, None)  # the second command is not complete yet
    manager.write(b'0005"abc"\n')
    manager.flush()
    assert channel.receive() == (CommandType.KillTrialJob, 'abc')
    manager.close()
    channel.close()


def test_framing_round_trip_and_bad_frames() -> None:
    frame = encode_command(CommandType.NewTrialJob, {'a': 'é'})
    assert decode_command(frame + b'rest') == ((CommandType.NewTrialJob, {'a': 'é'}), len(frame))
    with pytest.raises(ValueError):
        decode_command(b'ZZ00000000000002{}')
