from __future__ import annotations

import logging
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nni.common.hpo_utils import ALL_TYPES, SearchSpaceError, search_space_errors, validate_search_space

VALID_SPECS = {
    "choice": {"_type": "choice", "_value": ["sgd", "adam", 3, 0.5]},
    "choice_any_json": {"_type": "choice", "_value": [None, [1, 2], {"a": 1}, True]},
    "randint": {"_type": "randint", "_value": [1, 5]},
    "uniform": {"_type": "uniform", "_value": [0.1, 0.5]},
    "quniform": {"_type": "quniform", "_value": [0, 10, 2.5]},
    "loguniform": {"_type": "loguniform", "_value": [1e-4, 0.1]},
    "qloguniform": {"_type": "qloguniform", "_value": [16, 128, 0.725]},
    "normal": {"_type": "normal", "_value": [0, 1]},
    "qnormal": {"_type": "qnormal", "_value": [10, 3, 1]},
    "lognormal": {"_type": "lognormal", "_value": [-2, 1]},
    "qlognormal": {"_type": "qlognormal", "_value": [1, 0.5, 2]},
}


def test_every_standard_type_is_valid() -> None:
    assert set(ALL_TYPES) <= {spec["_type"] for spec in VALID_SPECS.values()}
    assert validate_search_space(VALID_SPECS) is True


def test_nested_choice_is_checked_recursively() -> None:
    space = {
        "model": {
            "_type": "choice",
            "_value": [
                {"_name": "linear"},
                {
                    "_name": "mlp",
                    "hidden": {"_type": "randint", "_value": [16, 128]},
                    "opt": {
                        "_type": "choice",
                        "_value": [{"_name": "sgd", "lr": {"_type": "loguniform", "_value": [1e-4, 1]}}],
                    },
                },
            ],
        }
    }
    assert validate_search_space(space)
    space["model"]["_value"][1]["opt"]["_value"][0]["lr"]["_value"] = [0, 1]
    with pytest.raises(ValueError) as info:
        validate_search_space(space)
    assert str(info.value) == (
        'model._value[1].opt._value[0].lr._value: loguniform must be [low, high] with 0 < low <= high, got [0, 1]'
    )


def test_message_names_path_for_brief_example() -> None:
    space = {"optimizer": {"_type": "choice", "_value": [
        {"_name": "sgd"},
        {"_name": "adam", "lr": {"_type": "loguniform", "_value": [0, 1]}},
    ]}}  # fmt: skip
    with pytest.raises(
        ValueError,
        match=r'^optimizer\._value\[1\]\.lr\._value: loguniform must be \[low, high\] '
        r"with 0 < low <= high, got \[0, 1\]$",
    ):
        validate_search_space(space)


BAD_SPACES = [
    ([1, 2], "search space: must be a dict"),
    ({"x": 3}, 'x: must be a dict with "_type" and "_value", got int: 3'),
    ({"x": {"_type": "uniform"}}, 'x: must have both "_type" and "_value"'),
    ({"x": {"_value": [0, 1]}}, 'x: must have both "_type" and "_value"'),
    ({"x": {"_type": 3, "_value": [0, 1]}}, 'x._type: must be a string'),
    ({"x": {"_type": "unifrom", "_value": [0, 1]}}, 'x._type: unknown type "unifrom" (did you mean "uniform"?)'),
    ({"x": {"_type": "uniform", "_value": {"low": 0}}}, 'x._value: must be a list for uniform, got dict'),
    ({"x": {"_type": "choice", "_value": []}}, 'x._value: choice must have at least one option'),
    (
        {"x": {"_type": "choice", "_value": [{"_name": "a"}, {"b": 1}]}},
        'x._value[1]: options of a nested choice must all be dicts with a "_name" key',
    ),
    (
        {"x": {"_type": "uniform", "_value": [0, 1, 2]}},
        'x._value: uniform must be [low, high] with low <= high, got [0, 1, 2]',
    ),
    (
        {"x": {"_type": "uniform", "_value": [1, 0]}},
        'x._value: uniform must be [low, high] with low <= high',
    ),
    ({"x": {"_type": "randint", "_value": [1.0, 2.0]}}, "x._value: randint must have int values"),
    (
        {"x": {"_type": "choice", "_value": ["a", object()]}},
        "x._value[1]: choice should only contain numbers, strings or other JSON values, got object",
    ),
    ({"x": {"_type": "uniform", "_value": ["0", 1]}}, 'got ["0", 1]'),
    ({"x": {"_type": "uniform", "_value": [0, math.inf]}}, "got [0, Infinity]"),
    ({"x": {"_type": "uniform", "_value": [False, True]}}, "got [false, true]"),
    (
        {"x": {"_type": "quniform", "_value": [0, 1]}},
        'quniform must be [low, high, q] with low <= high and q > 0',
    ),
    ({"x": {"_type": "quniform", "_value": [0, 1, 0]}}, "got [0, 1, 0]"),
    ({"x": {"_type": "loguniform", "_value": [-1, 1]}}, "with 0 < low <= high"),
    ({"x": {"_type": "qloguniform", "_value": [0, 10, 1]}}, "[low, high, q] with 0 < low <= high and q > 0"),
    (
        {"x": {"_type": "randint", "_value": [0.5, 3]}},
        'randint must have int values: [lower, upper] with integers',
    ),
    ({"x": {"_type": "randint", "_value": [3, 3]}}, "got [3, 3]"),
    ({"x": {"_type": "normal", "_value": [0, 0]}}, 'x._value: normal must be [mu, sigma] with sigma > 0'),
    (
        {"x": {"_type": "lognormal", "_value": [0, -1]}},
        'lognormal must be [mu, sigma] with sigma > 0',
    ),
    ({"x": {"_type": "qnormal", "_value": [0, 1, -1]}}, "[mu, sigma, q] with sigma > 0 and q > 0"),
    ({"x": {"_type": "qlognormal", "_value": [0, 1]}}, "[mu, sigma, q] with sigma > 0 and q > 0"),
    ({1: {"_type": "uniform", "_value": [0, 1]}}, "parameter names must be strings"),
    (
        {"x": {"_type": "uniform", "_value": [-1e308, 1e308]}},
        'x._value: uniform spans a range too large',
    ),
    ({"x": {"_type": "randint", "_value": [-(2**63), 2**63]}}, "spans more than 2**63 - 1 integers"),
    ({"m": {"_type": "choice", "_value": [{"_name": "a", "y": 5}]}}, 'm._value[0].y: must be a dict with "_type"'),
]


@pytest.mark.parametrize(("space", "message"), BAD_SPACES)
def test_bad_spaces_raise_with_message(space: object, message: str) -> None:
    with pytest.raises(ValueError) as info:
        validate_search_space(space)
    assert message in str(info.value)


def test_no_raise_logs_and_returns_false(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR):
        assert (
            validate_search_space({"x": {"_type": "uniform", "_value": [1, 0]}}, raise_exception=False)
            is False
        )
    assert "x._value: " in caplog.text


def test_support_types_restrict_and_extend() -> None:
    space = {"x": {"_type": "normal", "_value": [0, 1]}}
    with pytest.raises(
        ValueError, match='x._type: type "normal" is not supported here; supported types: choice, uniform'
    ):
        validate_search_space(space, ["choice", "uniform"])
    nas = {"layer": {"_type": "input_choice", "_value": {"candidates": ["a", "b"], "n_chosen": 1}}}
    with pytest.raises(ValueError, match="not supported here"):
        validate_search_space(nas)
    assert validate_search_space(nas, ["layer_choice", "input_choice"])


def test_lenient_where_nni_is_lenient() -> None:
    # Extra keys are ignored, slashes in names are plain characters, mu of lognormal may be negative,
    # a batch-tuner style choice of dicts is a plain choice, and a range may be a single point.
    assert validate_search_space({
        "mnist/conv_size/choice": {"_type": "choice", "_value": [2, 3], "comment": "annotation style"},
        "combine_params": {"_type": "choice", "_value": [{"lr": 0.1}, {"lr": 0.01}]},
        "x": {"_type": "lognormal", "_value": [-5, 1]},
        "u": {"_type": "uniform", "_value": [99.9, 99.9]},
        "q": {"_type": "qloguniform", "_value": [2, 2, 1]},
    })  # fmt: skip


def test_legacy_single_value_randint() -> None:
    assert validate_search_space({"x": {"_type": "randint", "_value": [5]}})
    with pytest.raises(ValueError, match=r"got \[0\]"):
        validate_search_space({"x": {"_type": "randint", "_value": [0]}})


json_leaf = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5)
json_value = st.recursive(
    json_leaf,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4)
    ),
    max_leaves=20,
)
spec_like = st.fixed_dictionaries(
    {"_type": st.sampled_from([*ALL_TYPES, "bogus", "input_choice"]) | json_leaf, "_value": json_value}
)
nested_choice = st.fixed_dictionaries({
    "_type": st.just("choice"),
    "_value": st.lists(
        st.dictionaries(st.text(max_size=3), spec_like | json_value, max_size=3).map(lambda d: {"_name": "o", **d}),
        max_size=3,
    ),
})  # fmt: skip
space_like = json_value | st.dictionaries(
    st.text(max_size=5) | st.integers(), spec_like | nested_choice | json_value
)


@settings(max_examples=200, deadline=None)
@given(space_like)
def test_validator_never_crashes(space: object) -> None:
    try:
        result = validate_search_space(space)
    except ValueError as error:
        assert str(error)
    else:
        assert result is True
    assert validate_search_space(space, raise_exception=False) in (True, False)


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(["uniform", "quniform", "loguniform", "qloguniform", "normal", "qnormal", "lognormal",
                     "qlognormal", "randint"]),
    st.lists(st.integers(-5, 5) | st.floats(-10, 10, allow_nan=False), min_size=2, max_size=3),
)  # fmt: skip
def test_accepted_numeric_specs_format_and_sample(type_: str, values: list[float]) -> None:
    # Whatever the validator accepts, formatting and sampling must handle.
    import numpy as np

    from nni.common.hpo_utils import deformat_parameters, format_search_space, sample_parameters

    space = {"x": {"_type": type_, "_value": values}}
    if not validate_search_space(space, raise_exception=False):
        return
    formatted = format_search_space(space)
    params = deformat_parameters(sample_parameters(formatted, np.random.default_rng(0)), formatted)
    assert isinstance(params["x"], int if type_ == "randint" else float)


SIX_MISTAKES = {
    "lr": {"_type": "loguniform", "_value": [0, 0.1]},
    "optimizer": {"_type": "choic", "_value": ["sgd", "adam"]},
    "layers": {"_type": "randint", "_value": [1.0, 4.0]},
    "batch": {"_type": "choice", "_value": ["a", object()]},
    "model": {"_type": "choice", "_value": [
        {"_name": "mlp", "hidden": {"_type": "quniform", "_value": [8, 64]}},
        {"_name": "cnn", "kernel": {"_type": "normal", "_value": [3, 0]}},
    ]},
    "ok": {"_type": "uniform", "_value": [0, 1]},
}  # fmt: skip


def test_every_mistake_is_reported_at_once_with_its_key_path() -> None:
    with pytest.raises(SearchSpaceError) as info:
        validate_search_space(SIX_MISTAKES)
    paths = [path for path, _ in info.value.errors]
    assert paths == [
        "lr._value", "optimizer._type", "layers._value", "batch._value[1]",
        "model._value[0].hidden._value", "model._value[1].kernel._value",
    ]  # fmt: skip
    lines = str(info.value).splitlines()
    assert len(lines) == 6 and all(line.startswith(f"{path}: ") for line, path in zip(lines, paths, strict=True))
    assert search_space_errors(SIX_MISTAKES) == info.value.errors
    assert search_space_errors({"ok": SIX_MISTAKES["ok"]}) == []


def test_nni_rejections_and_acceptances() -> None:
    # NNI refuses a non-JSON choice option and float randint bounds; its tuners take low == high
    assert not validate_search_space({"x": {"_type": "choice", "_value": ["a", object()]}}, raise_exception=False)
    assert not validate_search_space({"x": {"_type": "randint", "_value": [1.0, 2.0]}}, raise_exception=False)
    assert validate_search_space({"x": {"_type": "uniform", "_value": [0.5, 0.5]}})
    assert validate_search_space({"x": {"_type": "loguniform", "_value": [1, 1]}})
    with pytest.raises(ValueError, match=r"got \[0, 0\]"):
        validate_search_space({"x": {"_type": "randint", "_value": [0, 0]}})
