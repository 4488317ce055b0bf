"""Regularized (aging) evolution for NAS search spaces (builtin tuner ``RegularizedEvolutionTuner``).

Real et al., "Regularized Evolution for Image Classifier Architecture Search" (AAAI 2019). The
search space holds only ``layer_choice`` (``_value``: the candidates) and ``input_choice``
(``_value``: ``{"candidates": [...], "n_chosen": k}``) entries. ``population_size`` random
architectures are evaluated first; after that each new architecture is a copy of the best of
``sample_size`` members drawn from the population, with one decision changed. Every result joins
the population and the *oldest* member leaves once it holds ``population_size`` results (aging, not
the worst: that is the "regularization").

Parameters come out as NNI's: ``{key: {"_value": candidate, "_idx": index}}`` for a layer choice and
``{key: {"_value": [candidates], "_idx": [indices]}}`` for an input choice.

Differences from NNI's tuner, all deliberate: a mutation always changes the decision it picks
(NNI may redraw the same one), and an architecture already given out is redrawn (up to 32 times)
instead of being trained again; an input choice picks ``n_chosen`` *different* inputs, in increasing
index order (NNI draws with replacement, so an input could be chosen twice); while every member is
still running and the initial population is handed out, a random architecture is given instead of
raising :class:`nni.NoMoreTrialError`; ``update_search_space`` may be called again (a new initial
population is drawn); ``import_data`` adds results to the population (NNI ignores them); ``seed``
is ours.
"""

from __future__ import annotations

import copy
import json
import logging
import math
import threading
from collections import deque
from typing import Any

from nni.tuner import Tuner
from nni.utils import OptimizeMode, extract_scalar_reward

from ._space_rules import check_search_space
from .random_tuner import _load_records, make_rng
from .validators import RegularizedEvolutionClassArgsValidator

__all__ = ["EvolutionClassArgsValidator", "RegularizedEvolutionTuner"]

# NNI's name for this module's validator
EvolutionClassArgsValidator = RegularizedEvolutionClassArgsValidator

_logger = logging.getLogger(__name__)

_RETRIES = 32


def _dump(arch: dict[str, Any]) -> str:
    return json.dumps(arch, sort_keys=True, default=repr)


class RegularizedEvolutionTuner(Tuner):
    """Aging evolution over ``layer_choice`` / ``input_choice`` decisions.

    Parameters
    ----------
    optimize_mode
        ``'maximize'`` (default) or ``'minimize'`` the trials' metric.
    population_size
        Random architectures evaluated first, and the number of results kept.
    sample_size
        Members drawn (with replacement) for each tournament.
    seed
        Seed of the random generator; ``None`` draws one and logs it.

    Examples
    --------
    >>> tuner = RegularizedEvolutionTuner('maximize', population_size=4, sample_size=2, seed=0)
    >>> tuner.update_search_space({'conv': {'_type': 'layer_choice', '_value': ['conv3', 'conv5']}})
    >>> sorted(tuner.generate_parameters(0)['conv'])
    ['_idx', '_value']
    """

    def __init__(
        self,
        optimize_mode: str = "maximize",
        population_size: int = 100,
        sample_size: int = 25,
        seed: int | None = None,
    ) -> None:
        RegularizedEvolutionClassArgsValidator().validate_class_args(
            optimize_mode=optimize_mode, population_size=population_size, sample_size=sample_size, seed=seed
        )
        self.optimize_mode = OptimizeMode(optimize_mode)
        self.population_size = population_size
        self.sample_size = sample_size
        self._rng = make_rng(seed)
        self.search_space: dict[str, Any] | None = None
        self._initial: deque[dict[str, Any]] = deque()
        self._population: deque[tuple[dict[str, Any], float]] = deque()  # (architecture, score), oldest first
        self._running: dict[Any, tuple[dict[str, Any], bool]] = {}  # id -> (architecture, from the initial set)
        self._given: set[str] = set()  # architectures handed out or imported
        self._lock = threading.RLock()

    def update_search_space(self, search_space: dict[str, Any]) -> None:
        """Take the NAS search space and draw the initial population.

        Raises
        ------
        ValueError
            If an entry is not a ``layer_choice`` or ``input_choice`` (naming it).
        """
        check_search_space("RegularizedEvolutionTuner", search_space)
        with self._lock:
            self.search_space = dict(search_space)
            self._initial = deque(self._random_model() for _ in range(self.population_size))
            self._population = deque(
                (arch, score) for arch, score in self._population if self._fits(arch)
            )

    def generate_parameters(self, parameter_id: Any, **kwargs: Any) -> dict[str, Any]:
        """Give the next initial architecture, then mutants of tournament winners."""
        with self._lock:
            if self.search_space is None:
                raise RuntimeError("RegularizedEvolutionTuner: update_search_space() must be called first")
            arch, initial = self._next_arch()
            for _ in range(_RETRIES):  # an architecture given out before is redrawn while that helps
                if _dump(arch) not in self._given:
                    break
                arch = self._next_arch()[0] if not initial else self._random_model()
            self._given.add(_dump(arch))
            self._running[parameter_id] = (arch, initial)
            return copy.deepcopy(arch)

    def _next_arch(self) -> tuple[dict[str, Any], bool]:
        if self._initial:
            return self._initial.popleft(), True
        if self._population:
            return self._mutate(self._tournament()), False
        return self._random_model(), True  # everything is still running

    def receive_trial_result(self, parameter_id: Any, parameters: Any, value: Any, **kwargs: Any) -> None:
        """Add the architecture and its score to the population (the oldest leaves when full)."""
        score = self._score(extract_scalar_reward(value))
        with self._lock:
            entry = self._running.pop(parameter_id, None)
            arch = entry[0] if entry is not None else parameters
            if isinstance(arch, dict) and self._fits(arch):
                self._add(arch, score)

    def trial_end(self, parameter_id: Any, success: bool, **kwargs: Any) -> None:
        """A failed architecture of the initial population is replaced by a new random one."""
        with self._lock:
            entry = self._running.pop(parameter_id, None)
            if entry is not None and not success and entry[1]:
                self._initial.append(self._random_model())

    def import_data(self, data: list[dict[str, Any]] | str) -> None:
        """Add earlier results to the population; each shortens the random start by one."""
        with self._lock:
            count = 0
            for record in _load_records(data):
                arch = record.get("parameter")
                try:
                    score = self._score(extract_scalar_reward(record.get("value")))
                except RuntimeError:
                    continue
                if isinstance(arch, dict) and self._fits(arch):
                    self._add(arch, score)
                    self._given.add(_dump(arch))
                    if self._initial:
                        self._initial.popleft()
                    count += 1
            _logger.info("Imported %d trials into the population", count)

    # -- internals ---------------------------------------------------------------------------------

    def _score(self, metric: float) -> float:
        score = float(metric) if self.optimize_mode is OptimizeMode.Maximize else -float(metric)
        return score if math.isfinite(score) else -math.inf

    def _add(self, arch: dict[str, Any], score: float) -> None:
        self._population.append((copy.deepcopy(arch), score))
        while len(self._population) > self.population_size:
            self._population.popleft()

    def _tournament(self) -> dict[str, Any]:
        picks = self._rng.integers(len(self._population), size=self.sample_size)
        best = max(picks, key=lambda i: (self._population[int(i)][1], -int(i)))
        return self._population[int(best)][0]

    def _mutate(self, parent: dict[str, Any]) -> dict[str, Any]:
        assert self.search_space is not None
        child = copy.deepcopy(parent)
        keys = list(self.search_space)
        key = keys[int(self._rng.integers(len(keys)))]
        for _ in range(16):  # redraw until it differs (when it can)
            child[key] = self._draw(key)
            if child[key] != parent.get(key):
                break
        return child

    def _random_model(self) -> dict[str, Any]:
        assert self.search_space is not None
        return {key: self._draw(key) for key in self.search_space}

    def _draw(self, key: str) -> dict[str, Any]:
        assert self.search_space is not None
        spec = self.search_space[key]
        if spec["_type"] == "layer_choice":
            index = int(self._rng.integers(len(spec["_value"])))
            return {"_value": spec["_value"][index], "_idx": index}
        candidates = spec["_value"]["candidates"]
        n_chosen = spec["_value"].get("n_chosen", 1)
        n_chosen = 1 if n_chosen is None else int(n_chosen)
        indices = sorted(int(i) for i in self._rng.choice(len(candidates), size=n_chosen, replace=False))
        return {"_value": [candidates[i] for i in indices], "_idx": indices}

    def _fits(self, arch: dict[str, Any]) -> bool:
        space = self.search_space or {}
        return set(arch) == set(space) and all(isinstance(arch[key], dict) and "_idx" in arch[key] for key in space)
