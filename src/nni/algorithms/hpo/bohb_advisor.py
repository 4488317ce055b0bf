"""BOHB advisor (Falkner et al., 2018): Hyperband brackets, configurations from a density model.

Configured under ``tuner`` (``name: BOHB``); trials read their budget from ``TRIAL_BUDGET``.
Needs scipy and statsmodels (``pip install nni[bo]``), imported when the first bracket is drawn.
Brackets and scheduling: :mod:`nni.algorithms.hpo._successive_halving`; the model:
:mod:`nni.algorithms.hpo._bohb_model`.
"""

from __future__ import annotations

import logging
from typing import Any

from ._early_stopping_validators import BOHBClassArgsValidator
from ._successive_halving import BUDGET_KEY, SuccessiveHalvingAdvisor, TrialRun, max_bracket_index

__all__ = ["BOHB", "BOHBClassArgsValidator"]

_logger = logging.getLogger(__name__)


class BOHB(SuccessiveHalvingAdvisor):
    """BOHB with NNI's class args.

    Parameters
    ----------
    optimize_mode
        ``'maximize'`` (default) or ``'minimize'``.
    min_budget, max_budget
        Budgets of the first round of the most aggressive bracket and of every last round.
    eta
        Keep ``1/eta`` of the configurations each round, with ``eta`` times the budget.
    min_points_in_model
        Results a budget needs before its model is used; ``None`` (or fewer than the number of
        parameters + 1) means parameters + 1.
    top_n_percent
        Percentage of results that form the "good" density.
    num_samples
        Candidates scored per proposed configuration.
    random_fraction
        Share of configurations drawn at random even when a model exists.
    bandwidth_factor
        Widening of the good density when drawing candidates.
    min_bandwidth
        Smallest kernel bandwidth.
    config_space
        Not supported (NNI: a ConfigSpace file replacing the search space); must be ``None``.
    exec_mode
        ``'parallelism'`` (default): a new bracket starts whenever nothing is queued, so every free
        slot runs a trial; ``'serial'``: one bracket at a time, as NNI's BOHB.
    seed
        Seed (ours); ``None`` draws one.
    """

    def __init__(self, optimize_mode: str = "maximize", min_budget: float = 1, max_budget: float = 3, eta: int = 3,
                 min_points_in_model: int | None = None, top_n_percent: int = 15, num_samples: int = 64,
                 random_fraction: float = 1 / 3, bandwidth_factor: float = 3.0, min_bandwidth: float = 1e-3,
                 config_space: str | None = None, exec_mode: str = "parallelism", seed: int | None = None) -> None:
        if config_space is not None:
            raise ValueError("config_space: ConfigSpace files are not supported; write the search space in NNI's "
                             "format")
        if not 0 < min_budget <= max_budget:
            raise ValueError(f"budgets should satisfy 0 < min_budget <= max_budget, got {min_budget}, {max_budget}")
        # statsmodels and scipy.stats take seconds to import: do it now, before trials run, rather
        # than at the first model fit in the middle of the experiment (a missing one shows here too)
        import scipy.stats  # noqa: F401
        import statsmodels.nonparametric.kernel_density  # noqa: F401

        s_max = max_bracket_index(max_budget / min_budget, eta) if isinstance(eta, int) and eta >= 2 else 0
        super().__init__(optimize_mode, eta, exec_mode, s_max, max_budget)
        self.min_budget = min_budget
        self.min_points_in_model = min_points_in_model
        self.top_n_percent = top_n_percent
        self.num_samples = num_samples
        self.random_fraction = random_fraction
        self.bandwidth_factor = bandwidth_factor
        self.min_bandwidth = min_bandwidth
        self._seed = seed
        self._rng: Any = None
        self._formatted: Any = None
        self.model: Any = None  # KdeConfigModel, built with the search space
        self._pending_imports: list[dict[str, Any]] = []

    def handle_update_search_space(self, data: dict[str, Any]) -> None:
        import numpy as np

        from nni.common.hpo_utils import format_search_space, validate_search_space

        from ._bohb_model import KdeConfigModel

        validate_search_space(data)
        super().handle_update_search_space(data)
        self._formatted = format_search_space(data)
        if self._rng is None:
            self._rng = np.random.default_rng(self._seed)
        dimensions = len(self._formatted)
        min_points = self.min_points_in_model
        if min_points is None or min_points < dimensions + 1:
            if min_points is not None:
                _logger.warning("min_points_in_model %s is below the number of parameters + 1; using %d",
                                min_points, dimensions + 1)
            min_points = dimensions + 1
        # a new space starts a new model: results in the old coordinates do not carry over
        self.model = KdeConfigModel(self._formatted, min_points, self.top_n_percent, self.num_samples,
                                    float(self.bandwidth_factor), float(self.min_bandwidth), self._rng)
        imports, self._pending_imports = self._pending_imports, []
        self.handle_import_data(imports)

    def handle_import_data(self, data: list[dict[str, Any]]) -> None:
        """``FD``: earlier results join the model, at their ``TRIAL_BUDGET`` (else ``max_budget``)."""
        from nni.common.hpo_utils import format_parameters

        if self.model is None:
            self._pending_imports.extend(data)
            return
        used = 0
        for entry in data:
            parameters = dict(entry.get("parameter") or {})
            budget = parameters.pop(BUDGET_KEY, self.max_budget)
            value = _number(entry.get("value"))
            if value is None:
                continue
            try:
                formatted = format_parameters(parameters, self._formatted)
            except ValueError as error:
                _logger.warning("import_data: skipping %r: %s", parameters, error)
                continue
            self.model.add(formatted, float(budget), self._loss(value))
            used += 1
        if used:
            _logger.info("BOHB: %d earlier result(s) added to the model", used)

    def _loss(self, value: float) -> float:
        return -value if self.optimize_mode == "maximize" else value

    def _on_result(self, run: TrialRun) -> None:
        from nni.common.hpo_utils import format_parameters

        try:
            formatted = format_parameters(run.parameters, self._formatted)
        except ValueError:
            return  # drawn from an earlier search space
        assert run.value is not None
        self.model.add(formatted, float(run.budget), self._loss(run.value))

    def _sample(self, count: int, budget: int | float) -> list[dict[str, Any]]:
        from nni.common.hpo_utils import deformat_parameters, sample_parameters

        configurations = []
        for _ in range(count):
            proposal = None
            if self._rng.uniform() >= self.random_fraction:
                proposal = self.model.propose()
            if proposal is None:
                proposal = sample_parameters(self._formatted, self._rng)
            configurations.append(deformat_parameters(proposal, self._formatted))
        return configurations


def _number(value: Any) -> float | None:
    import json

    from nni.utils import extract_scalar_reward

    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return None
    if not value and value != 0:
        return None
    try:
        return float(extract_scalar_reward(value))
    except (RuntimeError, TypeError, ValueError):
        return None
