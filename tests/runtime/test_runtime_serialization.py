"""nni.dump / nni.load / nni.trace."""

from __future__ import annotations

import io
import math
from pathlib import Path

import numpy as np
import pytest

import nni


def test_round_trip_with_numpy_and_nan():
    text = nni.dump({'a': np.int64(3), 'b': np.float32(0.5), 'c': np.arange(3), 'd': (1, 2),
                     'e': float('nan'), 'f': np.bool_(True), 'g': {2, 1}, 'h': Path('/x')})
    assert text == '{"a": 3, "b": 0.5, "c": [0, 1, 2], "d": [1, 2], "e": NaN, "f": true, "g": [1, 2], "h": "/x"}'
    back = nni.load(text)
    assert math.isnan(back.pop('e'))
    assert back == {'a': 3, 'b': 0.5, 'c': [0, 1, 2], 'd': [1, 2], 'f': True, 'g': [1, 2], 'h': '/x'}


def test_file_objects_and_ignored_json_tricks_options():
    buffer = io.StringIO()
    assert nni.dump([1], buffer, use_trace=True, pickle_size_limit=10, indent=None) is None
    buffer.seek(0)
    assert nni.load(fp=buffer, ignore_comments=True, preserve_order=True) == [1]


def test_errors():
    with pytest.raises(TypeError, match='nni.dump cannot encode'):
        nni.dump(object())
    with pytest.raises(ValueError, match='exactly one'):
        nni.load()


def test_trace_is_identity():
    class Model:
        pass

    assert nni.trace(Model) is Model
    assert nni.trace(kw_only=False)(Model) is Model
