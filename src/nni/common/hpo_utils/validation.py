"""Validation of HPO search spaces.

Every check names the parameter's full path: ``lr`` for a top-level parameter and
``optimizer[1].lr`` for parameter ``lr`` of option 1 of the nested choice ``optimizer``.
Stdlib only, so that config validation can use it without numpy.
"""

from __future__ import annotations

import difflib
import json
import logging
import math
from collections.abc import Iterable, Sequence
from typing import Any

__all__ = ["ALL_TYPES", "NAS_TYPES", "validate_search_space"]

_logger = logging.getLogger(__name__)

# The ten standard types, in NNI's documentation order.
ALL_TYPES: tuple[str, ...] = (
    "choice",
    "randint",
    "uniform",
    "quniform",
    "loguniform",
    "qloguniform",
    "normal",
    "qnormal",
    "lognormal",
    "qlognormal",
)
# NAS-only types some tuners accept; their "_value" has its own shape and is not checked here.
NAS_TYPES: tuple[str, ...] = ("layer_choice", "input_choice", "mutable_layer")

# What "_value" must look like, per type; the text is part of the error messages.
_FORMS: dict[str, str] = {
    "randint": "[lower, upper] with integers lower < upper",
    "uniform": "[low, high] with low < high",
    "quniform": "[low, high, q] with low < high and q > 0",
    "loguniform": "[low, high] with 0 < low < high",
    "qloguniform": "[low, high, q] with 0 < low < high and q > 0",
    "normal": "[mu, sigma] with sigma > 0",
    "qnormal": "[mu, sigma, q] with sigma > 0 and q > 0",
    "lognormal": "[mu, sigma] with sigma > 0",
    "qlognormal": "[mu, sigma, q] with sigma > 0 and q > 0",
}


def validate_search_space(
    search_space: Any,
    support_types: Iterable[str] | None = None,
    raise_exception: bool = True,
) -> bool:
    """Check that a search space is well formed.

    Unlike NNI (which only checks top-level parameters and logs), nested sub-spaces are checked too,
    every message names the parameter's path, and by default an error is raised.

    Parameters
    ----------
    search_space
        The search space as the user wrote it (parsed JSON/YAML).
    support_types
        ``_type`` values the caller accepts; defaults to the ten standard types. Types outside the
        standard ten (NAS types) are accepted when listed, without checking their ``_value``.
    raise_exception
        Raise on the first error (default). When ``False``, log it and return ``False`` instead.

    Returns
    -------
    bool
        ``True`` if the space is valid.

    Raises
    ------
    ValueError
        On the first problem, when ``raise_exception`` is true.

    Examples
    --------
    >>> validate_search_space({'lr': {'_type': 'loguniform', '_value': [1e-4, 0.1]}})
    True
    >>> validate_search_space({'lr': {'_type': 'loguniform', '_value': [0, 1]}})
    Traceback (most recent call last):
        ...
    ValueError: lr: "_value" of loguniform must be [low, high] with 0 < low < high, got [0, 1]
    """
    types = list(ALL_TYPES) if support_types is None else [t for t in support_types if isinstance(t, str)]
    try:
        _check_space(search_space, "", types)
    except ValueError as error:
        if raise_exception:
            raise
        _logger.error("%s", error)
        return False
    return True


def _show(value: Any) -> str:
    # JSON is what users write, so show values the way they wrote them; repr() for anything else.
    try:
        text = json.dumps(value, allow_nan=True)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 200 else text[:197] + "..."


def _type_name(value: Any) -> str:
    return type(value).__name__


def _check_space(space: Any, prefix: str, types: Sequence[str]) -> None:
    where = prefix or "search space"
    if not isinstance(space, dict):
        raise ValueError(
            f'{where}: must be a dict mapping parameter names to {{"_type": ..., "_value": ...}}, '
            f"got {_type_name(space)}: {_show(space)}"
        )
    for name, spec in space.items():
        if prefix and name == "_name":
            continue  # the option's label inside a nested choice, not a parameter
        if not isinstance(name, str):
            raise ValueError(f"{where}: parameter names must be strings, got {_type_name(name)}: {name!r}")
        path = f"{prefix}.{name}" if prefix else name
        _check_spec(spec, path, types)


def _check_spec(spec: Any, path: str, types: Sequence[str]) -> None:
    if not isinstance(spec, dict):
        raise ValueError(
            f'{path}: must be a dict with "_type" and "_value", got {_type_name(spec)}: {_show(spec)}'
        )
    if "_type" not in spec or "_value" not in spec:
        raise ValueError(f'{path}: must have both "_type" and "_value", got {_show(spec)}')
    type_ = spec["_type"]
    if not isinstance(type_, str):
        raise ValueError(f'{path}: "_type" must be a string, got {_type_name(type_)}: {_show(type_)}')
    if type_ not in types:
        if type_ in ALL_TYPES or type_ in NAS_TYPES:
            raise ValueError(
                f'{path}: type "{type_}" is not supported here; supported types: {", ".join(types)}'
            )
        hint = difflib.get_close_matches(type_, list(ALL_TYPES) + list(types), n=1)
        did_you_mean = f' (did you mean "{hint[0]}"?)' if hint else ""
        raise ValueError(f'{path}: unknown type "{type_}"{did_you_mean}; valid types: {", ".join(types)}')
    if type_ not in ALL_TYPES:
        return  # a NAS or tuner-specific type the caller asked for; its "_value" is the tuner's business
    values = spec["_value"]
    if not isinstance(values, (list, tuple)):
        raise ValueError(
            f'{path}: "_value" of {type_} must be a list, got {_type_name(values)}: {_show(values)}'
        )
    if type_ == "choice":
        _check_choice(list(values), path, types)
    else:
        _check_numeric(type_, list(values), path)


def _is_nested_option(option: Any) -> bool:
    return isinstance(option, dict) and "_name" in option


def _check_choice(options: list[Any], path: str, types: Sequence[str]) -> None:
    if not options:
        raise ValueError(f'{path}: "_value" of choice must be a non-empty list of options, got []')
    nested = [_is_nested_option(option) for option in options]
    if any(nested) and not all(nested):
        # Formatting would silently treat the whole choice as plain values; that is never intended.
        bad = nested.index(False)
        raise ValueError(
            f'{path}[{bad}]: options of a nested choice must all be dicts with a "_name" key, '
            f"got {_show(options[bad])}"
        )
    if all(nested):
        for index, option in enumerate(options):
            _check_space(option, f"{path}[{index}]", types)
    # Plain options may be any JSON value: Random and TPE only pick an index.


def _as_number(value: Any) -> float | None:
    # bool is an int subclass but `uniform: [false, true]` is a mistake; huge ints overflow float().
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def _check_numeric(type_: str, values: list[Any], path: str) -> None:
    form = _FORMS[type_]
    shown = _show(values)

    def fail() -> None:
        raise ValueError(f'{path}: "_value" of {type_} must be {form}, got {shown}')

    expected_len = 3 if type_.startswith("q") else 2
    if type_ == "randint" and len(values) == 1:
        values = [0, *values]  # legacy form [upper], meaning [0, upper)
    if len(values) != expected_len:
        fail()
    numbers = [_as_number(value) for value in values]
    if any(number is None for number in numbers):
        fail()
    first, second = numbers[0], numbers[1]
    assert first is not None and second is not None
    if type_ == "randint":
        # NNI wants Python ints; 2.0 from a YAML/JSON writer is accepted as the integer it is.
        if any(not float(number).is_integer() for number in numbers if number is not None):
            fail()
    if type_ in ("randint", "uniform", "quniform", "loguniform", "qloguniform"):
        if not first < second:
            fail()
        if "log" in type_ and first <= 0:
            fail()
        if not math.isfinite(second - first):
            raise ValueError(f'{path}: "_value" of {type_} spans a range too large for a float, got {shown}')
        if type_ == "randint" and math.ceil(second) - math.ceil(first) >= 2**63:
            raise ValueError(f'{path}: "_value" of randint spans more than 2**63 - 1 integers, got {shown}')
    elif second <= 0:  # normal family: sigma
        fail()
    if expected_len == 3:
        q = numbers[2]
        assert q is not None
        if q <= 0:
            fail()
