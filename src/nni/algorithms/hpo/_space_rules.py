"""Which search spaces the model-based builtins accept, checked without importing numpy.

The experiment config is validated before anything starts (in the launching process and again in
the manager), so a search space a tuner cannot handle must be refused there, with the parameter and
its type named. The tuners run the same check in ``update_search_space``.

The accepted types are NNI's for each algorithm (``spec/algorithms.md``):

========================== ============================================================ ========
builtin                    types                                                        nested
========================== ============================================================ ========
GP, DNGO                   choice (numbers), randint, uniform, quniform, loguniform,    no
                           qloguniform
Metis                      choice (numbers), randint, uniform, quniform                 no
SMAC                       choice, randint, uniform, quniform, loguniform               no
PBT                        the ten standard types                                       no
RegularizedEvolutionTuner  layer_choice, input_choice                                   no
========================== ============================================================ ========
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from nni.common.hpo_utils.validation import ALL_TYPES, validate_search_space

__all__ = ["SPACE_RULES", "SpaceRule", "check_search_space"]


class SpaceRule(NamedTuple):
    """What one algorithm accepts.

    Attributes
    ----------
    types
        Accepted ``_type`` values.
    numeric_choice
        ``choice`` options must all be numbers (the model treats them as an ordered axis).
    """

    types: tuple[str, ...]
    numeric_choice: bool = False


_BO_TYPES = ("choice", "randint", "uniform", "quniform", "loguniform", "qloguniform")
NAS_TYPES = ("layer_choice", "input_choice")

SPACE_RULES: dict[str, SpaceRule] = {
    "GP": SpaceRule(_BO_TYPES, numeric_choice=True),
    "DNGO": SpaceRule(_BO_TYPES, numeric_choice=True),
    "Metis": SpaceRule(("choice", "randint", "uniform", "quniform"), numeric_choice=True),
    "SMAC": SpaceRule(("choice", "randint", "uniform", "quniform", "loguniform")),
    "PBT": SpaceRule(ALL_TYPES),
    "RegularizedEvolutionTuner": SpaceRule(NAS_TYPES),
}


def check_search_space(algorithm: str, search_space: Any) -> bool:
    """Check that ``algorithm`` (a key of :data:`SPACE_RULES`) can search ``search_space``.

    Parameters
    ----------
    algorithm
        Builtin name.
    search_space
        The space as the user wrote it.

    Returns
    -------
    bool
        ``True`` (errors raise).

    Raises
    ------
    ValueError
        Naming the parameter, its type and what the algorithm accepts.

    Examples
    --------
    >>> check_search_space('GP', {'x': {'_type': 'normal', '_value': [0, 1]}})
    Traceback (most recent call last):
        ...
    ValueError: x: type "normal" is not supported by GP; it accepts choice, randint, uniform, quniform, loguniform, qloguniform
    """
    rule = SPACE_RULES[algorithm]
    if not isinstance(search_space, Mapping):
        validate_search_space(search_space)  # raises its usual message
    for name, spec in search_space.items():
        type_ = spec.get("_type") if isinstance(spec, Mapping) else None
        if isinstance(type_, str) and (type_ in ALL_TYPES or type_ in NAS_TYPES) and type_ not in rule.types:
            raise ValueError(
                f'{name}: type "{type_}" is not supported by {algorithm}; it accepts {", ".join(rule.types)}'
            )
    if rule.types == NAS_TYPES:
        for name, spec in search_space.items():
            _check_nas_spec(name, spec)
        return True
    validate_search_space(search_space, rule.types)
    for name, spec in search_space.items():
        if spec["_type"] != "choice":
            continue
        options = spec["_value"]
        if all(isinstance(option, Mapping) and "_name" in option for option in options):
            raise ValueError(f"{name}: nested choices (sub-search-spaces) are not supported by {algorithm}")
        if rule.numeric_choice:
            for index, option in enumerate(options):
                if not _is_number(option):
                    raise ValueError(
                        f"{name}[{index}]: {algorithm} needs numeric choice options (it models them as "
                        f"numbers), got {option!r}"
                    )
    return True


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _check_nas_spec(name: Any, spec: Any) -> None:
    if not isinstance(spec, Mapping) or "_type" not in spec or "_value" not in spec:
        raise ValueError(f'{name}: must be a dict with "_type" and "_value", got {spec!r}')
    type_, value = spec["_type"], spec["_value"]
    if type_ not in NAS_TYPES:
        raise ValueError(
            f'{name}: type "{type_}" is not supported by RegularizedEvolutionTuner; '
            f'it accepts {", ".join(NAS_TYPES)}'
        )
    if type_ == "layer_choice":
        if not isinstance(value, list) or not value:
            raise ValueError(f'{name}: "_value" of layer_choice must be a non-empty list of candidates, got {value!r}')
        return
    candidates = value.get("candidates") if isinstance(value, Mapping) else None
    if not isinstance(candidates, list) or not candidates:
        raise ValueError(
            f'{name}: "_value" of input_choice must be {{"candidates": [...], "n_chosen": k}} with a '
            f"non-empty candidate list, got {value!r}"
        )
    n_chosen = value.get("n_chosen", 1)
    if n_chosen is not None and (not isinstance(n_chosen, int) or isinstance(n_chosen, bool)
                                 or not 0 <= n_chosen <= len(candidates)):
        raise ValueError(
            f"{name}: n_chosen of input_choice must be an integer from 0 to the number of candidates "
            f"({len(candidates)}), got {n_chosen!r}"
        )


def validator_for(algorithm: str) -> Callable[[Any], bool] | None:
    """Return the search-space check of a builtin, or ``None`` when it has no rule of its own."""
    if algorithm not in SPACE_RULES:
        return None
    return lambda search_space: check_search_space(algorithm, search_space)
