"""The fallback metrics file written by trials that cannot reach the manager."""

from __future__ import annotations

import json
from pathlib import Path

from nni.manager.trial_metrics_file import read_metrics_file


def _frame(envelope: dict, count_newline: bool = True) -> bytes:
    body = json.dumps(envelope).encode()
    length = len(body) + 1 if count_newline else len(body)
    return b'ME' + f'{length:06d}'.encode() + body + b'\n'


def test_reads_every_complete_record(tmp_path: Path):
    path = tmp_path / 'metrics'
    first = {'type': 'PERIODICAL', 'sequence': 0, 'value': '1'}
    second = {'type': 'FINAL', 'sequence': 0, 'value': '{"default": 2}'}
    path.write_bytes(_frame(first) + _frame(second))
    assert [json.loads(text) for text in read_metrics_file(path)] == [first, second]


def test_length_without_newline_is_tolerated(tmp_path: Path):
    path = tmp_path / 'metrics'
    records = [{'sequence': index} for index in range(3)]
    path.write_bytes(b''.join(_frame(record, count_newline=False) for record in records))
    assert [json.loads(text) for text in read_metrics_file(path)] == records


def test_truncated_tail_keeps_what_came_before(tmp_path: Path):
    path = tmp_path / 'metrics'
    good = _frame({'sequence': 0})
    path.write_bytes(good + _frame({'sequence': 1})[:-5])
    assert [json.loads(text) for text in read_metrics_file(path)] == [{'sequence': 0}]


def test_missing_file_has_no_metrics(tmp_path: Path):
    assert read_metrics_file(tmp_path / 'nope') == []
