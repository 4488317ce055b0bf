"""Durations a REST update may set: NaN, infinity and negatives are refused with the field name."""

from __future__ import annotations

import math

import pytest

from nni.manager.engine import EngineError, parse_duration


@pytest.mark.parametrize('value', [math.nan, math.inf, -math.inf, -1, '-2h', 'nanh', 'infm', '1e400s', True, [1]])
def test_bad_durations_are_refused_naming_the_field(value):
    with pytest.raises(EngineError) as refused:
        parse_duration(value, 'maxExperimentDuration')
    assert 'maxExperimentDuration' in str(refused.value)
    assert refused.value.status == 400


@pytest.mark.parametrize(('value', 'seconds'), [(None, None), (90, 90.0), ('1.5h', 5400.0), ('0.1s', 1.0)])
def test_good_durations(value, seconds):
    assert parse_duration(value, 'maxTrialDuration') == seconds
