"""Hyperband advisor (Li et al., 2017): random configurations, successive halving of budgets.

Configured under ``tuner`` (``name: Hyperband``); each trial reads its budget from the parameter
``TRIAL_BUDGET`` (epochs, batches, seconds: the trial decides). See
:mod:`nni.algorithms.hpo._successive_halving` for brackets and scheduling.
"""

from __future__ import annotations

import logging
from typing import Any

from ._early_stopping_validators import HyperbandClassArgsValidator
from ._successive_halving import SuccessiveHalvingAdvisor, max_bracket_index

__all__ = ["Hyperband", "HyperbandClassArgsValidator"]

_logger = logging.getLogger(__name__)


class Hyperband(SuccessiveHalvingAdvisor):
    """Hyperband with NNI's class args.

    Parameters
    ----------
    optimize_mode
        ``'maximize'`` (default) or ``'minimize'``.
    R
        Largest budget a trial gets (``TRIAL_BUDGET`` of a bracket's last round).
    eta
        Keep ``1/eta`` of the configurations each round, with ``eta`` times the budget.
    exec_mode
        ``'parallelism'`` (default): brackets overlap so every free slot runs a trial;
        ``'serial'``: one bracket at a time.
    seed
        Seed of the random sampler (ours); ``None`` draws one.

    Examples
    --------
    >>> sent = []
    >>> advisor = Hyperband(optimize_mode='maximize', R=9, eta=3, seed=0)
    >>> advisor.send = lambda command, content: sent.append(command.value)
    >>> advisor.handle_initialize({'lr': {'_type': 'loguniform', '_value': [1e-4, 1e-1]}})
    >>> advisor.handle_request_trial_jobs(2)
    >>> sent
    ['ID', 'TR', 'TR']
    """

    def __init__(self, optimize_mode: str = "maximize", R: int = 60, eta: int = 3,
                 exec_mode: str = "parallelism", seed: int | None = None) -> None:
        if not isinstance(R, int) or R < 1:
            raise ValueError(f"R should be an integer >= 1, got {R!r}")
        s_max = max_bracket_index(R, eta) if isinstance(eta, int) and eta >= 2 else 0
        super().__init__(optimize_mode, eta, exec_mode, s_max, R)
        self.R = R
        self._seed = seed
        self._rng: Any = None
        self._formatted: Any = None

    def handle_update_search_space(self, data: dict[str, Any]) -> None:
        from nni.common.hpo_utils import format_search_space, validate_search_space

        validate_search_space(data)
        super().handle_update_search_space(data)
        self._formatted = format_search_space(data)

    def _sample(self, count: int, budget: int | float) -> list[dict[str, Any]]:
        import numpy as np

        from nni.common.hpo_utils import deformat_parameters, sample_parameters

        if self._rng is None:
            self._rng = np.random.default_rng(self._seed)
        return [deformat_parameters(sample_parameters(self._formatted, self._rng), self._formatted)
                for _ in range(count)]
