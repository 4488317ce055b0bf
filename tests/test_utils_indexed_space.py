"""nni.utils.json2space / json2parameter and the hyperopt_tuner helpers: NNI's indexed notation."""

from __future__ import annotations

import numpy as np
import pytest

from nni.algorithms.hpo import hyperopt_tuner
from nni.utils import json2parameter, json2space, split_index

SPACE = {
    'lr': {'_type': 'loguniform', '_value': [1e-4, 1e-1]},
    'model': {'_type': 'choice', '_value': [
        {'_name': 'linear'},
        {'_name': 'mlp', 'units': {'_type': 'randint', '_value': [8, 16]},
         'act': {'_type': 'choice', '_value': ['relu', 'tanh']}},
    ]},
    'q': {'_type': 'quniform', '_value': [0, 10, 2.5]},
}  # fmt: skip


def test_json2space_names_every_variable() -> None:
    names = json2space(SPACE)
    assert names == [
        'root[lr]-loguniform',
        'root[model]-choice[1][units]-randint', 'root[model]-choice[1][act]-choice', 'root[model]-choice',
        'root[q]-quniform',
    ]  # fmt: skip
    chosen = {'lr': 0.01, 'model': {'_index': 0, '_value': {'_name': 'linear'}}, 'q': 5.0}
    assert 'root[model]-choice[1][units]-randint' not in json2space(SPACE, chosen)


def test_json2parameter_draws_in_range_and_keeps_what_is_not_redrawn() -> None:
    rng = np.random.RandomState(0)
    everything = dict.fromkeys(json2space(SPACE), True)
    for _ in range(50):
        drawn = json2parameter(SPACE, everything, rng)
        plain = split_index(drawn)
        assert 1e-4 <= plain['lr'] <= 1e-1
        assert plain['q'] in (0.0, 2.5, 5.0, 7.5, 10.0)
        if drawn['model']['_index'] == 1:
            assert 8 <= plain['model']['units'] < 16 and plain['model']['act'] in ('relu', 'tanh')
    keep_lr = dict(everything, **{'root[lr]-loguniform': False})
    again = json2parameter(SPACE, keep_lr, rng, oldy=drawn)
    assert again['lr'] == drawn['lr']


def test_nested_option_without_name_is_refused() -> None:
    with pytest.raises(RuntimeError, match="'_name' key"):
        json2space({'x': {'_type': 'choice', '_value': [{'a': {'_type': 'uniform', '_value': [0, 1]}}]}})


def test_hyperopt_helpers_round_trip() -> None:
    flat = {'root[lr]-loguniform': 0.01, 'root[model]-choice': 1, 'root[model]-choice[1][units]-randint': 9,
            'root[model]-choice[1][act]-choice': 0, 'root[q]-quniform': 2.5}
    indexed = hyperopt_tuner.json2parameter(SPACE, flat)
    assert split_index(indexed) == {'lr': 0.01, 'model': {'_name': 'mlp', 'units': 9, 'act': 'relu'}, 'q': 2.5}
    back: dict = {}
    hyperopt_tuner.json2vals(SPACE, indexed, back)
    assert back == flat


def test_hyperopt_json2space_builds_hyperopt_expressions() -> None:
    hyperopt = pytest.importorskip('hyperopt')
    space = hyperopt_tuner.json2space(SPACE)
    assert isinstance(space['lr'], hyperopt.pyll.base.Apply)
    sample = hyperopt.pyll.stochastic.sample(space, rng=np.random.default_rng(1))
    assert 1e-4 <= sample['lr'] <= 1e-1


def test_random_tuner_suggest_and_prefer_new() -> None:
    from nni import NoMoreTrialError
    from nni.algorithms.hpo.random_tuner import prefer_new, suggest
    from nni.common.hpo_utils import Deduplicator, deformat_parameters, format_search_space

    space = format_search_space({'x': {'_type': 'choice', '_value': ['a', 'b']}})
    rng = np.random.default_rng(0)
    dedup = Deduplicator(space)
    seen = {deformat_parameters(prefer_new(dedup, suggest(rng, space)), space)['x'] for _ in range(2)}
    assert seen == {'a', 'b'}  # new ones first
    with pytest.raises(NoMoreTrialError):
        dedup(suggest(rng, space))
    repeat = prefer_new(dedup, suggest(rng, space))  # used up: a repeat instead of an error
    assert deformat_parameters(repeat, space)['x'] in ('a', 'b')
