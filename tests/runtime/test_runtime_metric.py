"""Metric validation and encoding rules."""

from __future__ import annotations

import decimal
import fractions
import json
import math

import numpy as np
import pytest

from nni.runtime.metric import MAX_METRIC_BYTES, encode_envelope, encode_value, normalize_metric


@pytest.mark.parametrize(('metric', 'expected'), [
    (0.5, 0.5),
    (3, 3),
    (-2, -2),
    (True, 1),
    (False, 0),
    (10 ** 30, 10 ** 30),
    (decimal.Decimal('0.25'), 0.25),
    (fractions.Fraction(1, 4), 0.25),
])
def test_plain_numbers(metric, expected):
    value = normalize_metric(metric)
    assert value == expected
    assert type(value) is type(expected)


@pytest.mark.parametrize(('metric', 'expected'), [
    (np.float64(0.5), 0.5),
    (np.float32(0.25), 0.25),
    (np.float16(0.5), 0.5),
    (np.int64(7), 7),
    (np.int8(-3), -3),
    (np.uint32(9), 9),
    (np.bool_(True), 1),
    (np.array(2.5), 2.5),
    (np.array(4), 4),
])
def test_numpy_scalars(metric, expected):
    value = normalize_metric(metric)
    assert value == expected
    assert type(value) is type(expected)


def test_numpy_float32_encodes_like_python_float():
    assert encode_value(normalize_metric(np.float32(0.1))) == repr(float(np.float32(0.1)))


def test_non_finite_numbers_are_json_tokens():
    assert encode_value(normalize_metric(float('nan'))) == 'NaN'
    assert encode_value(normalize_metric(np.float32('inf'))) == 'Infinity'
    assert encode_value(normalize_metric(-math.inf)) == '-Infinity'


def test_dict_metric_with_extras():
    metric = {'default': np.float32(0.5), 'loss': np.float64(1.5), 'per_class': np.array([1, 2]),
              'ok': True, 'name': 'run', 'nested': {'k': (np.int16(1), None)}, 3: 'int key'}
    value = normalize_metric(metric)
    assert value == {'default': 0.5, 'loss': 1.5, 'per_class': [1, 2], 'ok': True, 'name': 'run',
                     'nested': {'k': [1, None]}, '3': 'int key'}
    assert json.loads(encode_value(value)) == value
    assert metric['default'] == np.float32(0.5)  # the user's dict is not modified


@pytest.mark.parametrize(('metric', 'error', 'given'), [
    ('0.9', TypeError, "got '0.9' (type str)"),
    (None, TypeError, 'got None (type NoneType)'),
    ([0.1, 0.2], TypeError, 'got [0.1, 0.2] (type list)'),
    ((0.1,), TypeError, 'type tuple'),
    (1j, TypeError, 'type complex'),
    (object(), TypeError, 'type object'),
    (np.array([0.1, 0.2]), TypeError, 'type numpy.ndarray'),
    ({'acc': 0.9}, ValueError, "got a dict without a 'default' key (keys: 'acc')"),
    ({'default': 'high'}, TypeError, "got a dict whose 'default' is 'high' (type str)"),
    ({'default': None}, TypeError, "'default' is None"),
    ({'default': [1]}, TypeError, "'default' is [1] (type list)"),
])
def test_bad_metrics_are_rejected_with_clear_messages(metric, error, given):
    with pytest.raises(error) as info:
        normalize_metric(metric, 'nni.report_final_result')
    message = str(info.value)
    assert message.startswith('nni.report_final_result() ')
    assert given in message
    assert 'a metric must be a number' in message


def test_unserializable_extra_value_is_named():
    with pytest.raises(TypeError, match=r"metric\['extra'\]\[1\] is <object"):
        normalize_metric({'default': 1, 'extra': [1, object()]}, 'nni.report_intermediate_result')


def test_long_repr_is_truncated():
    with pytest.raises(TypeError) as info:
        normalize_metric('x' * 1000)
    assert len(str(info.value)) < 300


def test_envelope_text_is_exact():
    text = encode_envelope('FINAL', 0, 'Ab3xZ', 0, {'default': 0.5})
    assert text == ('{"parameter_id": 0, "trial_job_id": "Ab3xZ", "type": "FINAL", "sequence": 0, '
                    '"value": "{\\"default\\": 0.5}"}')
    assert encode_envelope('PERIODICAL', None, 'Ab3xZ', 4, 1).startswith('{"parameter_id": null,')


def test_envelope_size_limit():
    big = {'default': 1, 'blob': 'x' * MAX_METRIC_BYTES}
    with pytest.raises(ValueError, match='metric too large'):
        encode_envelope('FINAL', 0, 'Ab3xZ', 0, big)
    encode_envelope('FINAL', 0, 'Ab3xZ', 0, {'default': 1, 'blob': 'x' * 900_000})
