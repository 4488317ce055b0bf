"""Helpers for tuning algorithms and trials (``nni.utils``).

Stdlib only: trial code imports this module (``merge_parameter``), so it must stay light.
"""

from __future__ import annotations

import copy
import numbers
import os
from collections.abc import Callable, Iterable, Mapping
from enum import Enum
from typing import Any

__all__ = [
    "ClassArgsError",
    "ClassArgsValidator",
    "MetricType",
    "NodeType",
    "OptimizeMode",
    "extract_scalar_history",
    "extract_scalar_reward",
    "json2parameter",
    "json2space",
    "merge_parameter",
    "split_index",
]

_BAD_RESULT = (
    "Incorrect final result: the final result should be float/int, "
    'or a dict which has a key named "default" whose value is float/int.'
)


class OptimizeMode(Enum):
    """Whether a tuner minimizes or maximizes the metric (class arg ``optimize_mode``).

    ``OptimizeMode('max')`` raises ``ValueError: 'max' is not a valid OptimizeMode``.
    """

    Minimize = "minimize"
    Maximize = "maximize"


class MetricType:
    """Types of metric records a trial sends (plain string constants)."""

    FINAL = "FINAL"
    PERIODICAL = "PERIODICAL"
    REQUEST_PARAMETER = "REQUEST_PARAMETER"


class NodeType:
    """Reserved keys of search-space specs and of indexed parameter values."""

    ROOT = "root"
    TYPE = "_type"
    VALUE = "_value"
    INDEX = "_index"
    NAME = "_name"


def _to_scalar(value: Any) -> int | float | None:
    # Plain numbers pass unchanged (bool included: NNI accepts it as an int). Numpy scalars register
    # themselves with the ``numbers`` ABCs, so they are recognised here without importing numpy.
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    return None


def extract_scalar_reward(value: Any, scalar_key: str = "default") -> int | float:
    """Return the number a tuner optimizes from a trial's reported metric.

    Parameters
    ----------
    value
        A number, or a dict whose ``scalar_key`` entry is a number.
    scalar_key
        Key to read when ``value`` is a dict.

    Returns
    -------
    int or float
        The metric as a plain Python number (numpy scalars are converted).

    Raises
    ------
    RuntimeError
        If ``value`` is neither.

    Examples
    --------
    >>> extract_scalar_reward({'default': 0.9, 'loss': 0.1})
    0.9
    """
    scalar = _to_scalar(value)
    if scalar is None and isinstance(value, Mapping) and scalar_key in value:
        scalar = _to_scalar(value[scalar_key])
    if scalar is None:
        raise RuntimeError(_BAD_RESULT)
    return scalar


def extract_scalar_history(trial_history: Iterable[Any], scalar_key: str = "default") -> list[int | float]:
    """Apply :func:`extract_scalar_reward` to every item of an intermediate-result history.

    Parameters
    ----------
    trial_history
        Reported values, oldest first.
    scalar_key
        Key to read from dict values.

    Returns
    -------
    list
        The numbers.
    """
    return [extract_scalar_reward(item, scalar_key) for item in trial_history]


def split_index(params: Any) -> Any:
    """Replace every ``{"_index": i, "_value": v}`` wrapper (at any depth) by ``v``.

    Parameters
    ----------
    params
        Parameters in the indexed form used by some legacy tuners.

    Returns
    -------
    Any
        The same structure in the user's format.
    """
    if isinstance(params, dict):
        if NodeType.INDEX in params:
            return split_index(params[NodeType.VALUE])
        return {key: split_index(value) for key, value in params.items()}
    return params


def _spec_name(name: str, spec: Mapping[str, Any]) -> str:
    return f"{name}-{spec[NodeType.TYPE]}"


def _check_nested_option(option: Any) -> None:
    if isinstance(option, dict) and NodeType.NAME not in option:
        raise RuntimeError("'_name' key is not found in this nested search space.")


def json2space(x: Any, oldy: Any = None, name: str = NodeType.ROOT) -> list[str]:
    """Names of the random variables of a search space, in NNI's indexed notation.

    A parameter ``lr`` of type ``uniform`` is ``'root[lr]-uniform'``; the parameters of option
    ``i`` of a nested choice get ``[i]`` appended to the choice's name. Evolution-style tuners use
    the names as keys of "re-draw this variable" flags (see :func:`json2parameter`).

    Parameters
    ----------
    x
        The search space (or a part of it).
    oldy
        Indexed parameters (``{"_index", "_value"}`` per choice): only the options chosen there are
        descended into; ``None`` descends into every option.
    name
        Name of ``x`` itself.

    Returns
    -------
    list[str]
        The names, children before the choice that holds them.
    """
    names: list[str] = []
    if isinstance(x, dict):
        if NodeType.TYPE in x:
            spec_name = _spec_name(name, x)
            if x[NodeType.TYPE] == "choice":
                if oldy is not None:
                    index = oldy[NodeType.INDEX]
                    names += json2space(x[NodeType.VALUE][index], oldy[NodeType.VALUE], f"{spec_name}[{index}]")
                else:
                    names += json2space(x[NodeType.VALUE], None, spec_name)
            names.append(spec_name)
        else:
            for key, value in x.items():
                names += json2space(value, oldy[key] if oldy else None, f"{name}[{key}]")
    elif isinstance(x, list):
        for index, item in enumerate(x):
            _check_nested_option(item)
            names += json2space(item, oldy[index] if oldy else None, f"{name}[{index}]")
    return names


def _draw(type_: str, args: list[Any], random_state: Any) -> Any:
    """One value of a numeric type, drawn with a ``numpy.random.RandomState``-like object."""
    import math

    def clip(value: float, low: float, high: float) -> float:
        return min(max(value, low), high)

    if type_ == "randint":
        return int(random_state.randint(args[0], args[1]))
    if type_ == "uniform":
        return float(random_state.uniform(args[0], args[1]))
    if type_ == "quniform":
        low, high, q = args
        return clip(round(random_state.uniform(low, high) / q) * q, low, high)
    if type_ == "loguniform":
        return float(math.exp(random_state.uniform(math.log(args[0]), math.log(args[1]))))
    if type_ == "qloguniform":
        low, high, q = args
        value = math.exp(random_state.uniform(math.log(low), math.log(high)))
        return clip(round(value / q) * q, low, high)
    if type_ == "normal":
        return float(random_state.normal(args[0], args[1]))
    if type_ == "qnormal":
        return round(random_state.normal(args[0], args[1]) / args[2]) * args[2]
    if type_ == "lognormal":
        return float(math.exp(random_state.normal(args[0], args[1])))
    if type_ == "qlognormal":
        return round(math.exp(random_state.normal(args[0], args[1])) / args[2]) * args[2]
    raise ValueError(f'unknown search space type "{type_}"')


def json2parameter(x: Any, is_rand: Mapping[str, bool], random_state: Any, oldy: Any = None, Rand: bool = False,
                   name: str = NodeType.ROOT) -> Any:
    """Draw parameters in NNI's indexed form: a choice becomes ``{"_index": i, "_value": v}``.

    Parameters
    ----------
    x
        The search space (or a part of it).
    is_rand
        For each name of :func:`json2space`, whether that variable is drawn anew; the others keep
        their value from ``oldy``.
    random_state
        A ``numpy.random.RandomState`` (anything with ``randint``, ``uniform``, ``normal``).
    oldy
        The previous indexed parameters, for the variables not drawn anew.
    Rand
        Draw everything below this point (set when an enclosing choice was redrawn).
    name
        Name of ``x`` itself.

    Returns
    -------
    Any
        Indexed parameters; :func:`split_index` turns them into the user's form.
    """
    if isinstance(x, dict):
        if NodeType.TYPE in x:
            type_, values = x[NodeType.TYPE], x[NodeType.VALUE]
            spec_name = _spec_name(name, x)
            Rand = Rand or bool(is_rand[spec_name])
            if not Rand:
                return copy.deepcopy(oldy)
            if type_ == "choice":
                index = int(random_state.randint(len(values)))
                return {NodeType.INDEX: index,
                        NodeType.VALUE: json2parameter(values[index], is_rand, random_state, None, Rand,
                                                       f"{spec_name}[{index}]")}
            return _draw(type_, list(values), random_state)
        return {key: json2parameter(value, is_rand, random_state, oldy[key] if oldy else None, Rand, f"{name}[{key}]")
                for key, value in x.items()}
    if isinstance(x, list):
        drawn = []
        for index, item in enumerate(x):
            _check_nested_option(item)
            drawn.append(json2parameter(item, is_rand, random_state, oldy[index] if oldy else None, Rand,
                                        f"{name}[{index}]"))
        return drawn
    return copy.deepcopy(x)


def _compatible_value(key: str, default: Any, value: Any) -> Any:
    if default is None or value is None or type(default) is type(value):
        return value
    # Tuners send quniform results as floats and JSON may turn 1.0 into 1: an int is a fine float.
    if isinstance(default, float) and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    raise ValueError(
        f'Expected "{key}" in override parameters to have type {type(default)}, but found {type(value)}'
    )


def merge_parameter(base_params: Any, override_params: Mapping[str, Any] | None) -> Any:
    """Overwrite defaults (a dict or an ``argparse.Namespace``) with the parameters a trial received.

    Parameters
    ----------
    base_params
        The defaults; updated in place.
    override_params
        Usually ``nni.get_next_parameter()``; ``None`` leaves ``base_params`` unchanged.

    Returns
    -------
    Any
        ``base_params``.

    Raises
    ------
    ValueError
        If a key is not among the defaults, or its type differs from the default's (an int is
        accepted for a float default and converted; a ``None`` default accepts anything).

    Examples
    --------
    >>> merge_parameter({'lr': 0.1, 'layers': 2}, {'lr': 1})
    {'lr': 1.0, 'layers': 2}
    """
    if override_params is None:
        return base_params
    is_dict = isinstance(base_params, dict)
    for key, value in override_params.items():
        if is_dict:
            if key not in base_params:
                raise ValueError(f"Key '{key}' not found in base parameters.")
            base_params[key] = _compatible_value(key, base_params[key], value)
        else:
            if not hasattr(base_params, key):
                raise ValueError(f"Key '{key}' not found in base parameters.")
            setattr(base_params, key, _compatible_value(key, getattr(base_params, key), value))
    return base_params


class ClassArgsError(ValueError):
    """Raised by :class:`ClassArgsValidator` checks when a class argument is not acceptable."""


# A rule raises ClassArgsError on a bad value and returns True otherwise, so that it also works as a
# callable inside a ``schema.Schema`` in validators written for NNI.
Rule = Callable[[Any], bool]
RuleSpec = Any  # a Rule, a type, a tuple of types, or a list of those (all must pass)


class ClassArgsValidator:
    """Base class of validators for an algorithm's ``classArgs``, run before the experiment starts.

    Subclasses override :meth:`validate_class_args` and raise (any exception; its text is shown to
    the user) when the arguments are wrong. The helpers :meth:`choices`, :meth:`range` and :meth:`path`
    build rules, and :meth:`check` applies a ``{key: rule}`` table, rejecting unknown keys.

    Examples
    --------
    >>> class MyValidator(ClassArgsValidator):
    ...     def validate_class_args(self, **kwargs):
    ...         self.check(kwargs, {
    ...             'optimize_mode': self.choices('optimize_mode', 'maximize', 'minimize'),
    ...             'population_size': self.range('population_size', int, 1, 99999),
    ...         }, required=['optimize_mode'])
    >>> MyValidator().validate_class_args(optimize_mode='maximize', population_size=10)
    >>> MyValidator().validate_class_args(optimize_mode='max')
    Traceback (most recent call last):
        ...
    nni.utils.ClassArgsError: optimize_mode should be in ['maximize', 'minimize']!
    """

    def validate_class_args(self, **kwargs: Any) -> None:
        """Check the class arguments; accepts everything by default.

        Parameters
        ----------
        **kwargs
            The ``classArgs`` of the algorithm config.

        Raises
        ------
        Exception
            Any exception means "invalid"; its message is shown to the user.
        """

    def choices(self, key: str, *args: Any) -> Rule:
        """Build a rule: the value must equal one of ``args``.

        Error text: ``"<key> should be in [<values>]!"``.
        """
        allowed = ", ".join(repr(arg) for arg in args)

        def rule(value: Any) -> bool:
            if value not in args:
                raise ClassArgsError(f"{key} should be in [{allowed}]!")
            return True

        return rule

    def range(self, key: str, keyType: type, start: Any, end: Any) -> Rule:
        """Build a rule: the value must be of type ``keyType`` and within ``[start, end]``.

        ``None`` for ``start`` or ``end`` means unbounded. The type check is strict: an int is not a
        float. Error texts: ``"<key> should be <type> type!"``, ``"<key> should be in range of
        (<start>, <end>)!"``.
        """

        def rule(value: Any) -> bool:
            if not isinstance(value, keyType) or (isinstance(value, bool) and keyType is not bool):
                raise ClassArgsError(f"{key} should be {keyType.__name__} type!")
            if (start is not None and value < start) or (end is not None and value > end):
                raise ClassArgsError(f"{key} should be in range of ({start}, {end})!")
            return True

        return rule

    def path(self, key: str) -> Rule:
        """Build a rule: the value must be a string naming an existing file or directory.

        Error texts: ``"<key> should be a string!"``, ``"<key> path does not exist!"``.
        """

        def rule(value: Any) -> bool:
            if not isinstance(value, str):
                raise ClassArgsError(f"{key} should be a string!")
            if not os.path.exists(value):
                raise ClassArgsError(f"{key} path does not exist!")
            return True

        return rule

    def check(
        self,
        kwargs: Mapping[str, Any],
        rules: Mapping[str, RuleSpec],
        required: Iterable[str] = (),
    ) -> None:
        """Apply ``rules`` to ``kwargs``.

        Parameters
        ----------
        kwargs
            The class arguments.
        rules
            Key to rule. A rule is a callable from :meth:`choices` / :meth:`range` / :meth:`path` (or any
            callable raising on a bad value), a type or tuple of types (``isinstance`` check), or a list
            of rules that must all pass.
        required
            Keys that must be present; every other key of ``rules`` is optional.

        Raises
        ------
        ClassArgsError
            On an unknown key, a missing required key, or a value a rule rejects.
        """
        for key in required:
            if key not in kwargs:
                raise ClassArgsError(f"Missing key: {key!r}")
        for key, value in kwargs.items():
            if key not in rules:
                allowed = ", ".join(rules) or "none"
                raise ClassArgsError(f"Wrong key {key!r} in {dict(kwargs)!r}; allowed keys: {allowed}")
            _apply_rule(key, rules[key], value)


def _apply_rule(key: str, rule: RuleSpec, value: Any) -> None:
    if isinstance(rule, list):
        for item in rule:
            _apply_rule(key, item, value)
    elif isinstance(rule, type) or (isinstance(rule, tuple) and all(isinstance(t, type) for t in rule)):
        types = rule if isinstance(rule, tuple) else (rule,)
        # bool is an int subclass, but `seed: true` is a mistake rather than a seed.
        if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
            names = " or ".join(t.__name__ for t in types)
            raise ClassArgsError(f"{key} should be {names} type!")
    else:
        rule(value)
