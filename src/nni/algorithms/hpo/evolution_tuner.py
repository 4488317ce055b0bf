"""Naive evolution (builtin tuner ``Evolution``).

Real et al., "Large-Scale Evolution of Image Classifiers" (ICML 2017), as NNI uses it: a population
of ``population_size`` random configurations is evaluated first; after that each new configuration
is a mutated copy of the winner of a tournament among the evaluated population, and the population
keeps its best ``population_size`` members.

Differences from NNI's tuner, all deliberate:

* a mutation moves a parameter *near* its parent's value (see :mod:`._local_moves`) instead of
  redrawing it from the prior, each parameter changes with probability ``1 / n`` (at least one),
  and the step size is drawn anew each time over a wide range, so the search both refines and
  still jumps;
* the tournament grows with the population (2 + size / 8 contestants) and the worst member
  leaves, rather than the loser of one binary tournament, which selects harder on small budgets;
* when every member is still running (concurrency above ``population_size``) a random
  configuration is given instead of raising :class:`nni.NoMoreTrialError` and leaving a worker idle;
* parameter sets are not repeated while new ones are left; once a finite space is used up it keeps
  suggesting (repeats), as NNI's does;
* ``import_data`` adds imported results to the population (NNI ignores them); ``seed`` is ours.
"""

from __future__ import annotations

import logging
import math
import threading
from typing import Any

import numpy as np

from nni.common.hpo_utils import (
    Deduplicator,
    FormattedParameters,
    FormattedSearchSpace,
    ParameterSpec,
    deformat_parameters,
    format_search_space,
    sample_parameters,
    validate_search_space,
)
from nni.utils import OptimizeMode

from ._local_moves import build_child, move
from ._scored_history import ScoredHistoryTuner
from .random_tuner import make_rng, prefer_new
from .validators import EvolutionClassArgsValidator

__all__ = ["EvolutionClassArgsValidator", "EvolutionTuner"]

_logger = logging.getLogger(__name__)

# Attempts at a new (not yet given out) child before falling back to random draws, then to the
# deduplicator's enumeration.
_MUTATION_RETRIES = 8
_RANDOM_RETRIES = 16
# Mutation steps are drawn log-uniformly between these fractions of a parameter's range.
_SMALLEST_STEP = 0.01
_LARGEST_STEP = 0.3


class EvolutionTuner(ScoredHistoryTuner):
    """Evolutionary search: tournament selection and local mutation.

    Parameters
    ----------
    optimize_mode
        ``'maximize'`` (default, as in NNI) or ``'minimize'`` the trials' metric.
    population_size
        Number of random configurations evaluated first, and size of the population kept. Should be
        larger than the trial concurrency.
    seed
        Seed of the random generator; ``None`` draws one and logs it.

    Raises
    ------
    ValueError
        If ``optimize_mode`` is invalid or ``population_size`` is below 1.

    Examples
    --------
    >>> tuner = EvolutionTuner('minimize', population_size=8, seed=0)
    >>> tuner.update_search_space({'x': {'_type': 'uniform', '_value': [-1, 1]}})
    >>> for i in range(40):
    ...     params = tuner.generate_parameters(i)
    ...     tuner.receive_trial_result(i, params, params['x'] ** 2)
    >>> abs(tuner.generate_parameters(40)['x']) < 0.5
    True
    """

    def __init__(self, optimize_mode: str = "maximize", population_size: int = 32, seed: int | None = None) -> None:
        self.optimize_mode = OptimizeMode(optimize_mode)
        if isinstance(population_size, bool) or not isinstance(population_size, int) or population_size < 1:
            raise ValueError(f"population_size must be an integer >= 1, got {population_size!r}")
        self.population_size = population_size
        self._rng = make_rng(seed)
        self._space: FormattedSearchSpace | None = None
        self._dedup: Deduplicator | None = None
        self._population: list[tuple[FormattedParameters, float]] = []  # evaluated, best first
        self._random_left = 0  # initial random configurations still to give out
        self._running: dict[Any, FormattedParameters] = {}
        self._lock = threading.RLock()  # trial_end() may come from another thread

    def update_search_space(self, search_space: dict[str, Any]) -> None:
        """Take a (new) search space and start a new random population in it (as NNI does).

        Raises
        ------
        ValueError
            If the search space is invalid.
        """
        validate_search_space(search_space)
        with self._lock:
            self._space = format_search_space(search_space)
            self._dedup = Deduplicator(self._space)
            self._population = []
            self._running = {}
            self._random_left = self.population_size

    def generate_parameters(self, parameter_id: Any, **kwargs: Any) -> dict[str, Any]:
        """Give a random configuration while the first population is drawn, then a mutated one.

        Once every configuration of a finite space has been given out, configurations repeat.
        """
        with self._lock:
            if self._space is None or self._dedup is None:
                raise RuntimeError(
                    "EvolutionTuner: update_search_space() must be called before generating parameters"
                )
            space, dedup = self._space, self._dedup
            if self._random_left > 0 or not self._population:
                self._random_left = max(self._random_left - 1, 0)
                params = self._random(space, dedup)
            else:
                params = self._mutant(space, dedup)
            params = prefer_new(dedup, params)
            self._running[parameter_id] = params
            return deformat_parameters(params, space)

    _import_message = 'Imported %d trials into the population'

    def _after_import_record(self) -> None:
        self._random_left = max(self._random_left - 1, 0)

    # -- internals ---------------------------------------------------------------------------------

    def _add(self, formatted: FormattedParameters, loss: float) -> None:
        population = self._population
        # Insert in loss order; equal losses keep arrival order.
        index = len(population)
        while index > 0 and population[index - 1][1] > loss:
            index -= 1
        population.insert(index, (formatted, loss))
        if len(population) > self.population_size:
            population.pop()

    def _random(self, space: FormattedSearchSpace, dedup: Deduplicator) -> FormattedParameters:
        params = sample_parameters(space, self._rng)
        for _ in range(_RANDOM_RETRIES):
            if not dedup.is_duplicate(params):
                break
            params = sample_parameters(space, self._rng)
        return params

    def _mutant(self, space: FormattedSearchSpace, dedup: Deduplicator) -> FormattedParameters:
        child: FormattedParameters = {}
        for _ in range(_MUTATION_RETRIES):
            child = self._mutate(space, self._select())
            if not dedup.is_duplicate(child):
                return child
        return self._random(space, dedup)

    def _select(self) -> FormattedParameters:
        # Tournament: the population is sorted, so the winner is the contestant of lowest index.
        size = len(self._population)
        contestants = min(size, 2 + size // 8)
        winner = int(self._rng.choice(size, contestants, replace=False).min())
        return self._population[winner][0]

    def _mutate(self, space: FormattedSearchSpace, parent: FormattedParameters) -> FormattedParameters:
        rng = self._rng
        active = [key for key in parent if key in space]
        if not active:
            return sample_parameters(space, rng)
        chance = 1.0 / len(active)
        forced = active[int(rng.integers(len(active)))]  # at least one parameter changes
        scale = float(np.exp(rng.uniform(math.log(_SMALLEST_STEP), math.log(_LARGEST_STEP))))

        def change(spec: ParameterSpec, value: Any) -> Any | None:
            if spec.key == forced or rng.random() < chance:
                return move(spec, value, scale, rng)
            return None

        return build_child(space, parent, rng, change)
