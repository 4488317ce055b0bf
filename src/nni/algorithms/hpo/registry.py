"""Builtin algorithm names and how to build tuners/assessors from an experiment config.

The registry is a plain dict of metadata with lazy class paths: nothing is imported until an
algorithm is created or its class args are validated. Builtins whose module is not part of this
version yet are listed (so their names are recognised) but report that they are not available.

Config shapes (camelCase, as in ``ExperimentConfig.json()``)::

    {"name": "TPE", "classArgs": {"optimize_mode": "maximize"}}
    {"className": "my_tuner.MyTuner", "codeDirectory": "/abs/dir", "classArgs": {...}}
"""

from __future__ import annotations

import difflib
import importlib
import importlib.util
import inspect
import os
import sys
from collections.abc import Mapping
from typing import Any, Literal

__all__ = [
    "BUILTIN_ALGORITHMS",
    "builtin_names",
    "create_algorithm",
    "get_algorithm_meta",
    "is_available",
    "search_space_validator",
    "validate_algorithm_config",
]

Kind = Literal["tuner", "assessor"]
_HPO = "nni.algorithms.hpo"


def _meta(
    name: str,
    algo_type: Literal["tuner", "assessor", "advisor"],
    class_name: str,
    validator: str | None = None,
    *,
    alias: str | None = None,
    class_args: dict[str, Any] | None = None,
    accept_class_args: bool = True,
    extra: str | None = None,
) -> dict[str, Any]:
    return {
        "builtinName": name,
        "alias": alias,
        "algoType": algo_type,
        "className": f"{_HPO}.{class_name}",
        "classArgs": dict(class_args or {}),
        "classArgsValidator": f"{_HPO}.{validator}" if validator else None,
        "acceptClassArgs": accept_class_args,
        "isAdvisor": algo_type == "advisor",
        "source": "nni",
        # optional dependency group (pyproject extra) the algorithm needs, see _EXTRAS
        "extra": extra,
    }


# NNI 3.0's builtin list, in its order. Keys are the canonical names.
BUILTIN_ALGORITHMS: dict[str, dict[str, Any]] = {
    meta["builtinName"]: meta
    for meta in [
        # validators of these four live in a numpy-free module; NNI's paths re-export them
        _meta("Medianstop", "assessor", "medianstop_assessor.MedianstopAssessor",
              "_early_stopping_validators.MedianstopClassArgsValidator"),
        _meta("Curvefitting", "assessor", "curvefitting_assessor.CurvefittingAssessor",
              "_early_stopping_validators.CurvefittingClassArgsValidator", extra="bo"),
        _meta("PPO", "tuner", "ppo_tuner.PPOTuner", "ppo_tuner.PPOClassArgsValidator", alias="PPOTuner"),
        _meta("SMAC", "tuner", "smac_tuner.SMACTuner", "validators.SMACClassArgsValidator", extra="bo"),
        # NNI registers no validator for TPE; ours catches bad class args before the experiment starts.
        _meta("TPE", "tuner", "tpe_tuner.TpeTuner", "validators.TpeClassArgsValidator"),
        _meta("TPE_legacy", "tuner", "hyperopt_tuner.HyperoptTuner", "validators.HyperoptClassArgsValidator",
              class_args={"algorithm_name": "tpe"}),
        _meta("Random", "tuner", "random_tuner.RandomTuner", "validators.RandomClassArgsValidator"),
        _meta("Anneal", "tuner", "hyperopt_tuner.HyperoptTuner", "validators.HyperoptClassArgsValidator",
              class_args={"algorithm_name": "anneal"}),
        _meta("Evolution", "tuner", "evolution_tuner.EvolutionTuner", "validators.EvolutionClassArgsValidator"),
        _meta("Batch", "tuner", "batch_tuner.BatchTuner", alias="BatchTuner", accept_class_args=False),
        _meta("GridSearch", "tuner", "gridsearch_tuner.GridSearchTuner", accept_class_args=False),
        _meta("NetworkMorphism", "tuner", "networkmorphism_tuner.NetworkMorphismTuner",
              "networkmorphism_tuner.NetworkMorphismClassArgsValidator"),
        _meta("Metis", "tuner", "metis_tuner.MetisTuner", "validators.MetisClassArgsValidator", alias="MetisTuner",
              extra="bo"),
        _meta("GP", "tuner", "gp_tuner.GPTuner", "validators.GPClassArgsValidator", alias="GPTuner", extra="bo"),
        _meta("PBT", "tuner", "pbt_tuner.PBTTuner", "validators.PBTClassArgsValidator", alias="PBTTuner"),
        _meta("RegularizedEvolutionTuner", "tuner", "regularized_evolution_tuner.RegularizedEvolutionTuner",
              "validators.RegularizedEvolutionClassArgsValidator"),
        _meta("DNGO", "tuner", "dngo_tuner.DNGOTuner", "validators.DNGOClassArgsValidator", alias="DNGOTuner",
              extra="bo"),
        _meta("Hyperband", "advisor", "hyperband_advisor.Hyperband",
              "_early_stopping_validators.HyperbandClassArgsValidator"),
        _meta("BOHB", "advisor", "bohb_advisor.BOHB", "_early_stopping_validators.BOHBClassArgsValidator",
              extra="bo"),
    ]
}  # fmt: skip


# pyproject extras: the top-level modules each needs, and how users call them in messages.
_EXTRAS: dict[str, tuple[tuple[str, str], ...]] = {
    "bo": (("scipy", "scipy"), ("sklearn", "scikit-learn")),
}
# builtins that need only part of their extra: the modules they import
_NEEDED_MODULES: dict[str, tuple[tuple[str, str], ...]] = {
    "Curvefitting": (("scipy", "scipy"),),
    "BOHB": (("scipy", "scipy"), ("statsmodels", "statsmodels")),
}


def _missing_extra_message(meta: Mapping[str, Any], kind: str) -> str | None:
    """Name the uninstalled packages of a builtin's extra, or ``None`` when all are there.

    Looks modules up with ``find_spec`` only: nothing heavy is imported while a config is checked.
    """
    extra = meta.get("extra")
    if not extra:
        return None
    missing = []
    for module, package in _NEEDED_MODULES.get(meta["builtinName"], _EXTRAS.get(extra, ())):
        try:
            found = importlib.util.find_spec(module) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            missing.append(package)
    if not missing:
        return None
    return (
        f'{kind}.name: algorithm "{meta["builtinName"]}" needs {" and ".join(missing)}, which '
        f"{'is' if len(missing) == 1 else 'are'} not installed; install them with: pip install nni[{extra}]"
    )


def search_space_validator(algo_config: Any) -> Any:
    """Return the search-space check that fits the configured tuner.

    Builtins that accept only some types (GP, Metis, SMAC, DNGO, PBT, RegularizedEvolutionTuner) get
    their own check, which names the parameter and its type; every other tuner gets the generic
    :func:`nni.common.hpo_utils.validate_search_space`. Nothing heavy is imported.

    Parameters
    ----------
    algo_config
        The tuner's camelCase config, or ``None``.

    Returns
    -------
    callable
        ``check(search_space) -> bool``, raising ``ValueError`` on a problem.
    """
    from nni.common.hpo_utils import validate_search_space

    from ._space_rules import validator_for

    name = algo_config.get("name") if isinstance(algo_config, Mapping) else None
    meta = get_algorithm_meta(name, "tuner") if isinstance(name, str) and name else None
    check = validator_for(meta["builtinName"]) if meta is not None and meta.get("source") == "nni" else None
    return check or validate_search_space


def _kind_matches(meta: Mapping[str, Any], kind: str) -> bool:
    # Advisors are configured under "tuner".
    if kind == "tuner":
        return meta["algoType"] in ("tuner", "advisor")
    return meta["algoType"] == kind


def builtin_names(kind: str) -> list[str]:
    """Return the canonical builtin names of one kind.

    Parameters
    ----------
    kind
        ``'tuner'`` (advisors included, as they are configured under ``tuner``), ``'assessor'`` or
        ``'advisor'``.

    Returns
    -------
    list of str
        Names in NNI's order, aliases excluded.
    """
    return [name for name, meta in BUILTIN_ALGORITHMS.items() if _kind_matches(meta, kind)]


def get_algorithm_meta(name: str, kind: str | None = None) -> dict[str, Any] | None:
    """Find a builtin by name or alias, case-insensitively.

    Parameters
    ----------
    name
        Name or alias as written in the config.
    kind
        Restrict the search to one kind (see :func:`builtin_names`); ``None`` searches all.

    Returns
    -------
    dict or None
        A copy of the metadata, or ``None`` if no builtin of that kind has this name.
    """
    wanted = name.lower()
    for meta in BUILTIN_ALGORITHMS.values():
        names = [meta["builtinName"], meta["alias"]]
        if any(n and n.lower() == wanted for n in names) and (kind is None or _kind_matches(meta, kind)):
            return {**meta, "classArgs": dict(meta["classArgs"])}
    # algorithms registered with `nnictl algo register` are used by name like builtins
    return importlib.import_module("nni.tools.nnictl.algo_registry").find_registered_algorithm(name, kind)


def is_available(meta: Mapping[str, Any]) -> bool:
    """Tell whether the module implementing a builtin exists in this version."""
    module = meta["className"].rpartition(".")[0]
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def _field(config: Mapping[str, Any], camel: str, snake: str) -> Any:
    return config.get(camel, config.get(snake))


def _unknown_name_message(name: str, kind: str) -> str:
    other = get_algorithm_meta(name)
    if other is not None:
        return f'{kind}.name: "{name}" is {_article(other["algoType"])} {other["algoType"]}, not {_article(kind)} {kind}'
    valid = builtin_names(kind)
    candidates = {n.lower(): n for n in valid}
    for meta in BUILTIN_ALGORITHMS.values():
        if meta["alias"] and _kind_matches(meta, kind):
            candidates[meta["alias"].lower()] = meta["alias"]
    close = difflib.get_close_matches(name.lower(), list(candidates), n=1, cutoff=0.5)
    hint = f' Did you mean "{candidates[close[0]]}"?' if close else ""
    return f'{kind}.name: unknown {kind} "{name}"; valid names: {", ".join(valid)}.{hint}'


def _article(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"


def _unavailable_message(meta: Mapping[str, Any], kind: str) -> str:
    module = meta["className"].rpartition(".")[0]
    return (
        f'{kind}.name: algorithm "{meta["builtinName"]}" is not available in this version of nni '
        f"(module {module} is not implemented yet)"
    )


def _import_object(path: str) -> Any:
    module_name, _, attribute = path.rpartition(".")
    module = importlib.import_module(module_name)
    return getattr(module, attribute)


def _check_class_args(meta: Mapping[str, Any], class_args: Mapping[str, Any], kind: str) -> list[str]:
    """Class-args problems of a builtin whose module is available."""
    if not meta["acceptClassArgs"]:
        if class_args:
            return [
                f"{kind}.classArgs: {meta['builtinName']} does not accept classArgs, got {dict(class_args)!r}"
            ]
        return []
    validator_path = meta.get("classArgsValidator")
    validator_cls = None
    if validator_path:
        try:
            validator_cls = _import_object(validator_path)
        except (ImportError, AttributeError):
            validator_cls = None  # module present but no validator: fall back to the signature
    if validator_cls is not None:
        try:
            validator_cls().validate_class_args(**class_args)
        except Exception as error:  # a validator may raise anything; its text is the message
            return [f"{kind}.classArgs: {error}"]
        return []
    try:
        algorithm_cls = _import_object(meta["className"])
        inspect.signature(algorithm_cls).bind(**{**meta["classArgs"], **class_args})
    except TypeError as error:
        return [f"{kind}.classArgs: {error}"]
    return []


def validate_algorithm_config(algo_config: Any, kind: Kind) -> list[str]:
    """Check a tuner/assessor config without creating the algorithm.

    Builtin names, their class args (with the algorithm's validator, else its constructor signature)
    and custom algorithms' code directories are checked; custom code is not imported.

    Parameters
    ----------
    algo_config
        The camelCase config dict (see the module docstring).
    kind
        ``'tuner'`` (advisors included) or ``'assessor'``.

    Returns
    -------
    list of str
        Human-readable problems, each starting with the field path; empty when the config is fine.

    Examples
    --------
    >>> validate_algorithm_config({'name': 'tpe', 'classArgs': {'optimize_mode': 'maximize'}}, 'tuner')
    []
    >>> validate_algorithm_config({'name': 'TPE', 'classArgs': {'optimize_mode': 'max'}}, 'tuner')
    ["tuner.classArgs: optimize_mode should be in ['maximize', 'minimize']!"]
    """
    if not isinstance(algo_config, Mapping):
        return [f'{kind}: must be a dict with "name" or "className", got {type(algo_config).__name__}']
    name = algo_config.get("name")
    class_name = _field(algo_config, "className", "class_name")
    class_args = _field(algo_config, "classArgs", "class_args")
    errors: list[str] = []
    if class_args is not None and not isinstance(class_args, Mapping):
        errors.append(f"{kind}.classArgs: must be a dict, got {type(class_args).__name__}: {class_args!r}")
        class_args = None
    class_args = dict(class_args or {})

    if name and class_name:
        return [f'{kind}: set either "name" (builtin algorithm) or "className" (custom algorithm), not both']
    if name:
        if not isinstance(name, str):
            return [*errors, f"{kind}.name: must be a string, got {name!r}"]
        if _field(algo_config, "codeDirectory", "code_directory") is not None:
            errors.append(f'{kind}.codeDirectory: only allowed with "className", not with a builtin name')
        meta = get_algorithm_meta(name, kind)
        if meta is None:
            return [*errors, _unknown_name_message(name, kind)]
        if not is_available(meta):
            return [*errors, _unavailable_message(meta, kind)]
        missing = _missing_extra_message(meta, kind)
        if missing:
            return [*errors, missing]
        return errors + _check_class_args(meta, class_args, kind)
    if class_name:
        if not isinstance(class_name, str) or "." not in class_name.strip("."):
            errors.append(f'{kind}.className: must be "module.ClassName", got {class_name!r}')
        directory = _field(algo_config, "codeDirectory", "code_directory")
        if directory is not None and not os.path.isdir(directory):
            errors.append(f'{kind}.codeDirectory: "{directory}" is not a directory')
        return errors
    return [*errors, f'{kind}: "name" (builtin algorithm) or "className" (custom algorithm) must be set']


def create_algorithm(algo_config: Mapping[str, Any], kind: Kind) -> Any:
    """Create the tuner (or advisor) or assessor an experiment config asks for.

    Parameters
    ----------
    algo_config
        ``{"name": ..., "classArgs": {...}}`` for a builtin (name or alias, any case; the builtin's
        fixed class args are merged under the user's), or ``{"className": "module.Class",
        "codeDirectory": "/abs/dir", "classArgs": {...}}`` for a custom one (``codeDirectory`` is
        added to ``sys.path``, then the module is imported).
    kind
        ``'tuner'`` (advisors included) or ``'assessor'``.

    Returns
    -------
    object
        The algorithm instance.

    Raises
    ------
    ValueError
        If the name is unknown, the builtin is not available in this version, the class args do not
        fit the constructor, the code directory does not exist, or the class cannot be imported.
        Exceptions raised by the algorithm's constructor propagate unchanged.
    """
    if not isinstance(algo_config, Mapping):
        raise ValueError(
            f'{kind}: must be a dict with "name" or "className", got {type(algo_config).__name__}'
        )
    name = algo_config.get("name")
    class_args = _field(algo_config, "classArgs", "class_args") or {}
    if not isinstance(class_args, Mapping):
        raise ValueError(f"{kind}.classArgs: must be a dict, got {type(class_args).__name__}: {class_args!r}")
    if name:
        meta = get_algorithm_meta(str(name), kind)
        if meta is None:
            raise ValueError(_unknown_name_message(str(name), kind))
        if not is_available(meta):
            raise ValueError(_unavailable_message(meta, kind))
        if not meta["acceptClassArgs"] and class_args:
            raise ValueError(f"{kind}.classArgs: {meta['builtinName']} does not accept classArgs")
        missing = _missing_extra_message(meta, kind)
        if missing:
            raise ValueError(missing)
        algorithm_cls = _import_object(meta["className"])
        args = {**meta["classArgs"], **class_args}
        if meta["builtinName"] == "TPE" and isinstance(args.get("optimize_mode"), Mapping):
            # several objectives: TPE on non-dominated ranks (nni.common.objectives)
            algorithm_cls = _import_object(f"{_HPO}.mo_tpe_tuner.MultiObjectiveTpeTuner")
    else:
        class_name = _field(algo_config, "className", "class_name")
        if not isinstance(class_name, str) or "." not in class_name.strip("."):
            raise ValueError(f'{kind}.className: must be "module.ClassName", got {class_name!r}')
        directory = _field(algo_config, "codeDirectory", "code_directory") or "."
        directory = os.path.abspath(directory)
        if not os.path.isdir(directory):
            raise ValueError(f"{kind}.codeDirectory: Directory not found: {directory}")
        if directory not in sys.path:
            sys.path.append(directory)
        try:
            algorithm_cls = _import_object(class_name)
        except (ImportError, AttributeError) as error:
            raise ValueError(
                f'{kind}.className: cannot import "{class_name}" from {directory}: {error}'
            ) from error
        args = dict(class_args)
    try:
        inspect.signature(algorithm_cls).bind(**args)
    except TypeError as error:
        raise ValueError(f"{kind}.classArgs: {error}") from error
    except ValueError:
        pass  # no introspectable signature (a builtin or C class): let the call decide
    instance = algorithm_cls(**args)
    if instance is None:
        raise ValueError(f"Failed to create {kind} instance")
    return instance
