from __future__ import annotations

import pytest

from nni.experiment.config.utils import parse_memory_size, parse_time


@pytest.mark.parametrize(
    ('value', 'seconds'),
    [
        ('1.5h', 5400),
        ('10m', 600),
        ('0.1s', 1),
        ('1d', 86400),
        (' 2H', 7200),
        ('2h ', 7200),
        ('30S', 30),
        (60, 60),
        ('0.5m', 30),
        ('1.001s', 2),  # rounded up
    ],
)
def test_parse_time(value: str | int, seconds: int) -> None:
    assert parse_time(value) == seconds


@pytest.mark.parametrize(
    ('value', 'megabytes'),
    [('1gb', 1024), ('1.5gb', 1536), ('512b', 1), ('1tb', 1024 * 1024), ('100MB', 100), ('1kb', 1), (8192, 8192)],
)
def test_parse_memory_size(value: str | int, megabytes: int) -> None:
    assert parse_memory_size(value) == megabytes


def test_parse_time_bad_unit() -> None:
    with pytest.raises(ValueError, match=r'^Bad unit in "10", supported units are d, h, m, s$'):
        parse_time('10')


def test_parse_memory_size_bad_unit() -> None:
    with pytest.raises(ValueError, match=r'^Bad unit in "10", supported units are tb, gb, mb, kb, b$'):
        parse_memory_size('10')


@pytest.mark.parametrize('value', ['5ms', 'xh', 'infs', 'nanm', '', 'h'])
def test_parse_time_bad_number(value: str) -> None:
    with pytest.raises(ValueError):
        parse_time(value)


def test_parse_time_negative_is_parsed_validation_rejects_it() -> None:
    # the parser only converts; "must be positive" is the config's rule
    assert parse_time('-1h') == -3600
