"""A flat, ordered representation of (possibly nested) search spaces, used by the builtin tuners.

``format_search_space`` turns the user's space into an ordered dict ``key -> ParameterSpec`` whose
keys are tuple paths: ``("lr",)`` for a top-level parameter and ``("model", 1, "hidden")`` for
parameter ``hidden`` of option 1 of the nested choice ``model``. Parents come before their children,
so a tuner that samples in order always knows whether a nested parameter is active.

Tuners work on *formatted parameters*, ``key -> number``: the option index for categorical
parameters, and for numerical ones the value in internal space (log space for log types, before
q-rounding). ``deformat_parameters`` builds the nested dict the trial receives;
``format_parameters`` goes back (inexact for q types and repeated choice options).

Stdlib only.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from typing import Any, NamedTuple

__all__ = [
    "FormattedParameters",
    "FormattedSearchSpace",
    "ParameterKey",
    "ParameterSpec",
    "deformat_parameters",
    "deformat_value",
    "format_parameters",
    "format_search_space",
    "is_nested_choice",
]

ParameterKey = tuple[Any, ...]  # alternating names (str) and option indices (int)
FormattedParameters = dict[ParameterKey, Any]  # values are int (categorical) or float


class ParameterSpec(NamedTuple):
    """One parameter of a formatted search space.

    Attributes
    ----------
    name
        The parameter's JSON key (last element of ``key``).
    type
        ``_type``.
    values
        The raw ``_value`` list.
    key
        Tuple path of the parameter.
    categorical
        ``True`` for ``choice`` and ``randint``.
    size
        Number of options of a categorical parameter.
    chosen_size
        Number of options chosen at once; always 1 (reserved).
    low, high
        Bounds of the uniform family, in internal space (natural log for log types).
    normal_distributed
        ``True`` for the normal family, ``False`` for the uniform family, ``None`` if categorical.
    mu, sigma
        Mean and standard deviation of the normal family (of the log for log types).
    q
        Quantization step of q types.
    clip
        Original ``(low, high)`` bounds of ``quniform`` and ``qloguniform``, applied after rounding.
    log_distributed
        ``True`` for log types, ``None`` if categorical.
    """

    name: str
    type: str
    values: list[Any]
    key: ParameterKey
    categorical: bool
    size: int | None = None
    chosen_size: int | None = 1
    low: float | None = None
    high: float | None = None
    normal_distributed: bool | None = None
    mu: float | None = None
    sigma: float | None = None
    q: float | None = None
    clip: tuple[float, float] | None = None
    log_distributed: bool | None = None

    def is_nested(self) -> bool:
        """Tell whether this parameter lives inside an option of a nested choice."""
        return len(self.key) >= 2 and isinstance(self.key[-2], int)

    def is_activated_in(self, partial_parameters: Mapping[ParameterKey, Any]) -> bool:
        """Tell whether this parameter is used, given the formatted values chosen so far.

        A nested parameter is active when its parent choice picked the option it belongs to.
        """
        if not self.is_nested():
            return True
        return partial_parameters.get(self.key[:-2]) == self.key[-2]

    def is_nested_choice(self) -> bool:
        """Tell whether this is a choice whose options are sub-search-spaces."""
        return self.type == "choice" and is_nested_choice(self.values)


FormattedSearchSpace = dict[ParameterKey, ParameterSpec]


def is_nested_choice(options: Any) -> bool:
    """Tell whether a choice's options make it nested: a non-empty list of dicts that all have ``_name``."""
    return (
        isinstance(options, (list, tuple))
        and len(options) > 0
        and all(isinstance(option, dict) and "_name" in option for option in options)
    )


def format_search_space(search_space: Mapping[str, Any]) -> FormattedSearchSpace:
    """Flatten a search space into an ordered ``key -> ParameterSpec`` dict.

    Parameters
    ----------
    search_space
        The user's search space; see :func:`validate_search_space` for what is accepted.

    Returns
    -------
    dict
        Specs in depth-first order, parents before children, in the user's key order.

    Raises
    ------
    ValueError
        If a spec cannot be formatted (unknown type, empty choice, wrong number of values).

    Examples
    --------
    >>> space = format_search_space({'x': {'_type': 'loguniform', '_value': [1, 100]}})
    >>> spec = space[('x',)]
    >>> spec.low, round(spec.high, 4), spec.log_distributed
    (0.0, 4.6052, True)
    """
    formatted: FormattedSearchSpace = {}
    _format_into(formatted, search_space, ())
    return formatted


def _format_into(formatted: FormattedSearchSpace, space: Mapping[str, Any], prefix: ParameterKey) -> None:
    for name, raw in space.items():
        if prefix and name == "_name":
            continue
        key = (*prefix, name)
        if not isinstance(raw, Mapping) or "_type" not in raw or "_value" not in raw:
            raise ValueError(f'{_path_text(key)}: must be a dict with "_type" and "_value", got {raw!r}')
        spec = _format_spec(name, raw["_type"], raw["_value"], key)
        formatted[key] = spec
        if spec.is_nested_choice():
            for index, option in enumerate(spec.values):
                _format_into(formatted, option, (*key, index))


def _format_spec(name: str, type_: str, values: Any, key: ParameterKey) -> ParameterSpec:
    where = _path_text(key)
    if not isinstance(values, (list, tuple)):
        raise ValueError(f'{where}: "_value" must be a list, got {values!r}')
    values = list(values)
    if type_ == "choice":
        if not values:
            raise ValueError(f"{where}: choice has no options")
        return ParameterSpec(name, type_, values, key, categorical=True, size=len(values))
    if type_ == "randint":
        bounds = [0, *values] if len(values) == 1 else values  # legacy [upper]
        if len(bounds) != 2:
            raise ValueError(f'{where}: "_value" of randint must be [lower, upper], got {values!r}')
        lower, upper = math.ceil(bounds[0]), math.ceil(bounds[1])
        return ParameterSpec(name, type_, values, key, categorical=True, size=max(upper - lower, 0))

    if type_ not in _NUMERIC_TYPES:
        raise ValueError(f'{where}: unsupported type "{type_}"')
    quantized = type_.startswith("q")
    if len(values) != (3 if quantized else 2):
        raise ValueError(f'{where}: "_value" of {type_} has {len(values)} elements')
    log = "log" in type_
    q = float(values[2]) if quantized else None
    if "normal" in type_:
        return ParameterSpec(
            name, type_, values, key, categorical=False, normal_distributed=True,
            mu=float(values[0]), sigma=float(values[1]), q=q, log_distributed=log,
        )  # fmt: skip
    low, high = float(values[0]), float(values[1])
    clip = (low, high) if quantized else None
    if log:
        low, high = math.log(low), math.log(high)
    return ParameterSpec(
        name, type_, values, key, categorical=False, low=low, high=high, normal_distributed=False,
        q=q, clip=clip, log_distributed=log,
    )  # fmt: skip


_NUMERIC_TYPES = frozenset(
    ["uniform", "quniform", "loguniform", "qloguniform", "normal", "qnormal", "lognormal", "qlognormal"]
)


def _path_text(key: ParameterKey) -> str:
    # ("optimizer", 1, "lr") -> "optimizer[1].lr", the form used in validation messages.
    text = ""
    for part in key:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def _randint_lower(spec: ParameterSpec) -> int:
    bounds = [0, *spec.values] if len(spec.values) == 1 else spec.values
    return min(math.ceil(bounds[0]), math.ceil(bounds[1]))


def deformat_value(spec: ParameterSpec, value: Any) -> Any:
    """Turn one formatted value into the value the trial receives (for a nested choice: the option).

    Numerical values go through ``exp`` (log types), q-rounding (half to even) and clipping, in that
    order, and come out as Python floats. Categorical values are indices.
    """
    if spec.categorical:
        index = int(value)
        if spec.type == "randint":
            return int(_randint_lower(spec) + index)
        return spec.values[index]
    x = float(value)
    if spec.log_distributed:
        try:
            x = math.exp(x)
        except OverflowError:
            x = math.inf
    if spec.q is not None and math.isfinite(x / spec.q):
        x = round(x / spec.q) * spec.q
    if spec.clip is not None:
        x = min(max(x, spec.clip[0]), spec.clip[1])
    return float(x)


def deformat_parameters(
    formatted_parameters: Mapping[ParameterKey, Any],
    formatted_search_space: FormattedSearchSpace,
) -> dict[str, Any]:
    """Build the parameter dict a trial receives from formatted parameters.

    Parameters
    ----------
    formatted_parameters
        ``key -> value`` for the active parameters.
    formatted_search_space
        The space from :func:`format_search_space`.

    Returns
    -------
    dict
        The user's nested format: a nested choice becomes ``{"_name": ..., <its parameters>}``.

    Examples
    --------
    >>> space = format_search_space({'model': {'_type': 'choice', '_value': [
    ...     {'_name': 'linear'},
    ...     {'_name': 'mlp', 'hidden': {'_type': 'quniform', '_value': [16, 128, 16]}}]}})
    >>> deformat_parameters({('model',): 1, ('model', 1, 'hidden'): 50.0}, space)
    {'model': {'_name': 'mlp', 'hidden': 48.0}}
    """
    result: dict[str, Any] = {}
    for key, spec in formatted_search_space.items():
        if key not in formatted_parameters:
            continue
        value = formatted_parameters[key]
        if spec.is_nested_choice():
            user_value: Any = {"_name": spec.values[int(value)]["_name"]}
        else:
            user_value = deformat_value(spec, value)
        container = result
        names = [part for part in key if not isinstance(part, int)]
        for name in names[:-1]:
            container = container.setdefault(name, {})
        container[names[-1]] = user_value
    return result


def format_parameters(
    parameters: Mapping[str, Any],
    formatted_search_space: FormattedSearchSpace,
) -> FormattedParameters:
    """Map parameters in the user's format back to formatted parameters (for import and resume).

    Inexact where information is lost: q-rounded values are taken as they are, and a repeated choice
    option maps to its first index.

    Parameters
    ----------
    parameters
        A parameter dict as a trial received it.
    formatted_search_space
        The space from :func:`format_search_space`.

    Returns
    -------
    dict
        ``key -> value`` for the active parameters.

    Raises
    ------
    ValueError
        If a parameter is missing or its value cannot belong to the space.
    """
    formatted: FormattedParameters = {}
    for key, spec in formatted_search_space.items():
        if not spec.is_activated_in(formatted):
            continue
        value = _lookup(parameters, key)
        formatted[key] = _format_value(spec, value, key)
    return formatted


def _lookup(parameters: Mapping[str, Any], key: ParameterKey) -> Any:
    container: Any = parameters
    for name in (part for part in key if not isinstance(part, int)):
        if not isinstance(container, Mapping) or name not in container:
            raise ValueError(f"{_path_text(key)}: missing from parameters {parameters!r}")
        container = container[name]
    return container


def _format_value(spec: ParameterSpec, value: Any, key: ParameterKey) -> Any:
    where = _path_text(key)
    if spec.is_nested_choice():
        name = value.get("_name") if isinstance(value, Mapping) else None
        for index, option in enumerate(spec.values):
            if option["_name"] == name:
                return index
        raise ValueError(f"{where}: no option named {name!r}")
    if spec.type == "choice":
        for index, option in enumerate(spec.values):
            if option == value:
                return index
        raise ValueError(f"{where}: {value!r} is not one of the options")
    if spec.type == "randint":
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not float(value).is_integer():
            raise ValueError(f"{where}: {value!r} is not an integer")
        index = int(value) - _randint_lower(spec)
        if not 0 <= index < (spec.size or 0):
            raise ValueError(f"{where}: {value!r} is out of range")
        return index
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{where}: {value!r} is not a number")
    x = float(value)
    if spec.log_distributed:
        if x < 0:
            raise ValueError(f"{where}: {value!r} is negative but {spec.type} values are positive")
        x = math.log(x) if x > 0 else -math.inf  # qlognormal can round down to 0
    return x
