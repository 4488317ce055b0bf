"""Validation of HPO search spaces.

Every problem of a space is reported at once, each with the key path where it is: ``lr._value``
for the ``_value`` of top-level parameter ``lr``, ``optimizer._value[1].lr._type`` for the
``_type`` of parameter ``lr`` inside option 1 of the nested choice ``optimizer``. Config
validation prefixes them with ``searchSpace.``. Stdlib only, so that config validation can use it
without numpy.
"""

from __future__ import annotations

import difflib
import json
import logging
import math
from collections.abc import Iterable, Sequence
from typing import Any

__all__ = ["ALL_TYPES", "NAS_TYPES", "SearchSpaceError", "search_space_errors", "validate_search_space"]

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

# What "_value" must look like, per type; the text is part of the error messages. Ranges may be
# empty (low == high is a constant, as NNI's tuners treat it) except randint's [lower, upper).
_FORMS: dict[str, str] = {
    "randint": "[lower, upper] with integers lower < upper",
    "uniform": "[low, high] with low <= high",
    "quniform": "[low, high, q] with low <= high and q > 0",
    "loguniform": "[low, high] with 0 < low <= high",
    "qloguniform": "[low, high, q] with 0 < low <= high and q > 0",
    "normal": "[mu, sigma] with sigma > 0",
    "qnormal": "[mu, sigma, q] with sigma > 0 and q > 0",
    "lognormal": "[mu, sigma] with sigma > 0",
    "qlognormal": "[mu, sigma, q] with sigma > 0 and q > 0",
}


class SearchSpaceError(ValueError):
    """A search space with one or more problems.

    Attributes
    ----------
    errors : list[tuple[str, str]]
        ``(key path, message)`` per problem, in the order of the space; the key path is ``''``
        for the space itself.
    """

    def __init__(self, errors: list[tuple[str, str]]) -> None:
        self.errors = list(errors)
        super().__init__("\n".join(f"{path or 'search space'}: {message}" for path, message in self.errors))


def search_space_errors(search_space: Any, support_types: Iterable[str] | None = None) -> list[tuple[str, str]]:
    """Every problem of a search space, as ``(key path, message)`` pairs; empty when it is valid.

    Parameters
    ----------
    search_space
        The search space as the user wrote it (parsed JSON/YAML).
    support_types
        ``_type`` values the caller accepts; defaults to the ten standard types.

    Returns
    -------
    list[tuple[str, str]]
        One pair per problem; a parameter whose spec is broken gets one problem, the rest of the
        space is still checked.
    """
    types = list(ALL_TYPES) if support_types is None else [t for t in support_types if isinstance(t, str)]
    errors: list[tuple[str, str]] = []
    _check_space(search_space, "", types, errors)
    return errors


def validate_search_space(
    search_space: Any,
    support_types: Iterable[str] | None = None,
    raise_exception: bool = True,
) -> bool:
    """Check that a search space is well formed.

    Unlike NNI (which stops at the first top-level problem and only logs), nested sub-spaces are
    checked too, every problem is reported at once with its key path, and by default an error
    is raised.

    Parameters
    ----------
    search_space
        The search space as the user wrote it (parsed JSON/YAML).
    support_types
        ``_type`` values the caller accepts; defaults to the ten standard types. Types outside the
        standard ten (NAS types) are accepted when listed, without checking their ``_value``.
    raise_exception
        Raise on problems (default). When ``False``, log them and return ``False`` instead.

    Returns
    -------
    bool
        ``True`` if the space is valid.

    Raises
    ------
    SearchSpaceError
        A ``ValueError`` listing every problem, one line each, when ``raise_exception`` is true.

    Examples
    --------
    >>> validate_search_space({'lr': {'_type': 'loguniform', '_value': [1e-4, 0.1]}})
    True
    >>> validate_search_space({'lr': {'_type': 'loguniform', '_value': [0, 1]}})
    Traceback (most recent call last):
        ...
    nni.common.hpo_utils.validation.SearchSpaceError: lr._value: loguniform must be [low, high] with 0 < low <= high, got [0, 1]
    """
    errors = search_space_errors(search_space, support_types)
    if not errors:
        return True
    error = SearchSpaceError(errors)
    if raise_exception:
        raise error
    _logger.error("%s", error)
    return False


def _show(value: Any) -> str:
    # JSON is what users write, so show values the way they wrote them; repr() for anything else.
    try:
        text = json.dumps(value, allow_nan=True)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 200 else text[:197] + "..."


def _type_name(value: Any) -> str:
    return type(value).__name__


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def _check_space(space: Any, prefix: str, types: Sequence[str], errors: list[tuple[str, str]]) -> None:
    if not isinstance(space, dict):
        errors.append((prefix, 'must be a dict mapping parameter names to {"_type": ..., "_value": ...}, '
                               f"got {_type_name(space)}: {_show(space)}"))
        return
    for name, spec in space.items():
        if prefix and name == "_name":
            continue  # the option's label inside a nested choice, not a parameter
        if not isinstance(name, str):
            errors.append((prefix, f"parameter names must be strings, got {_type_name(name)}: {name!r}"))
            continue
        _check_spec(spec, _join(prefix, name), types, errors)


def _check_spec(spec: Any, path: str, types: Sequence[str], errors: list[tuple[str, str]]) -> None:
    if not isinstance(spec, dict):
        errors.append((path, f'must be a dict with "_type" and "_value", got {_type_name(spec)}: {_show(spec)}'))
        return
    if "_type" not in spec or "_value" not in spec:
        errors.append((path, f'must have both "_type" and "_value", got {_show(spec)}'))
        return
    type_ = spec["_type"]
    type_path = f"{path}._type"
    if not isinstance(type_, str):
        errors.append((type_path, f"must be a string, got {_type_name(type_)}: {_show(type_)}"))
        return
    if type_ not in types:
        if type_ in ALL_TYPES or type_ in NAS_TYPES:
            errors.append((type_path, f'type "{type_}" is not supported here; supported types: {", ".join(types)}'))
            return
        hint = difflib.get_close_matches(type_, list(ALL_TYPES) + list(types), n=1)
        did_you_mean = f' (did you mean "{hint[0]}"?)' if hint else ""
        errors.append((type_path, f'unknown type "{type_}"{did_you_mean}; valid types: {", ".join(types)}'))
        return
    if type_ not in ALL_TYPES:
        return  # a NAS or tuner-specific type the caller asked for; its "_value" is the tuner's business
    values = spec["_value"]
    value_path = f"{path}._value"
    if not isinstance(values, (list, tuple)):
        errors.append((value_path, f"must be a list for {type_}, got {_type_name(values)}: {_show(values)}"))
        return
    if type_ == "choice":
        _check_choice(list(values), value_path, types, errors)
    else:
        message = _numeric_problem(type_, list(values))
        if message is not None:
            errors.append((value_path, message))


def _is_nested_option(option: Any) -> bool:
    return isinstance(option, dict) and "_name" in option


def _is_json(value: Any) -> bool:
    if value is None or isinstance(value, (str, bool, int, float)):
        return True
    if isinstance(value, (list, tuple)):
        return all(_is_json(item) for item in value)
    if isinstance(value, dict):
        return all(isinstance(key, str) and _is_json(item) for key, item in value.items())
    return False


def _check_choice(options: list[Any], path: str, types: Sequence[str], errors: list[tuple[str, str]]) -> None:
    if not options:
        errors.append((path, "choice must have at least one option, got []"))
        return
    nested = [_is_nested_option(option) for option in options]
    if any(nested) and not all(nested):
        # Formatting would silently treat the whole choice as plain values; that is never intended.
        bad = nested.index(False)
        errors.append((f"{path}[{bad}]", 'options of a nested choice must all be dicts with a "_name" key, '
                                         f"got {_show(options[bad])}"))
        return
    if all(nested):
        for index, option in enumerate(options):
            _check_space(option, f"{path}[{index}]", types, errors)
        return
    for index, option in enumerate(options):
        # NNI: "(choice) should only contain numbers or strings"; any JSON value works for our
        # tuners (they pick an index), but an object that cannot be stored or sent cannot.
        if not _is_json(option):
            errors.append((f"{path}[{index}]", "choice should only contain numbers, strings or other JSON values, "
                                               f"got {_type_name(option)}: {_show(option)}"))


def _as_number(value: Any) -> float | None:
    # bool is an int subclass but `uniform: [false, true]` is a mistake; huge ints overflow float().
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def _numeric_problem(type_: str, values: list[Any]) -> str | None:
    """The problem of a numeric ``_value``, or ``None`` when it is fine."""
    form = _FORMS[type_]
    shown = _show(values)
    bad = f"{type_} must be {form}, got {shown}"
    expected_len = 3 if type_.startswith("q") else 2
    if type_ == "randint" and len(values) == 1:
        values = [0, *values]  # legacy form [upper], meaning [0, upper)
    if len(values) != expected_len:
        return bad
    numbers = [_as_number(value) for value in values]
    if any(number is None for number in numbers):
        return bad
    first, second = numbers[0], numbers[1]
    assert first is not None and second is not None
    if type_ == "randint" and not all(isinstance(value, int) for value in values):
        # NNI's words; 2.0 would reach the trial as a float where an int was promised
        return f"randint must have int values: {form}, got {shown}"
    if type_ == "randint":
        if not first < second:
            return bad
        if math.ceil(second) - math.ceil(first) >= 2**63:
            return f"randint spans more than 2**63 - 1 integers, got {shown}"
    elif type_ in ("uniform", "quniform", "loguniform", "qloguniform"):
        if not first <= second:
            return bad
        if "log" in type_ and first <= 0:
            return bad
        if not math.isfinite(second - first):
            return f"{type_} spans a range too large for a float, got {shown}"
    elif second <= 0:  # normal family: sigma
        return bad
    if expected_len == 3:
        q = numbers[2]
        assert q is not None
        if q <= 0:
            return bad
    return None
