"""Hyperband brackets and the advisor that runs them; shared by Hyperband and BOHB.

A *bracket* ``s`` starts ``n`` configurations with a small budget ``r`` and, round after round,
keeps the best ``1/eta`` of them with ``eta`` times the budget (successive halving). Hyperband
runs brackets ``s = s_max .. 0`` and starts over. Every trial gets its budget as the parameter
``TRIAL_BUDGET``; a promoted configuration is a new trial with the same parameters and a larger
budget.

:class:`SuccessiveHalvingAdvisor` speaks NNI's advisor protocol (``handle_*`` methods, answers
with ``send``), keeps the "credit" of trials the manager asked for, and hands out queued
configurations, starting new brackets when the queue is empty. Subclasses only say how to draw
configurations (:meth:`SuccessiveHalvingAdvisor._sample`) and may learn from results
(:meth:`SuccessiveHalvingAdvisor._on_result`).

NNI's bookkeeping bugs not repeated here (see docs/compatibility.md):

* a round whose trials failed without a metric promotes the ones that have a result (NNI indexes
  past its list and crashes);
* a round is complete when each of its trials ended once (duplicate ends are not counted twice);
* parameter ids are strings and nothing compares them with integers (NNI's resume check raises
  ``TypeError`` on every metric, NNI issue #5263);
* ``serial`` mode starts a bracket once the previous one has *finished*, not once its last
  round was handed out;
* each result is kept with the budget its trial ran with (BOHB filed every final result under
  budget 0);
* in ``parallelism`` mode a round's promotions are handed out before the configurations of newer
  brackets that are still queued (NNI appends them behind, so a capped experiment could end
  before a bracket reached its larger budgets).
"""

from __future__ import annotations

import json
import logging
import math
import os
import sys
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from nni.runtime.msg_dispatcher_base import MsgDispatcherBase
from nni.runtime.tuner_command_channel import CommandType
from nni.utils import extract_scalar_reward

__all__ = ["Bracket", "SuccessiveHalvingAdvisor", "TrialRun", "bracket_rounds", "max_bracket_index"]

_logger = logging.getLogger(__name__)

EPS = 1e-6
BUDGET_KEY = "TRIAL_BUDGET"
FINAL_SEQUENCE = sys.maxsize


def max_bracket_index(budget_ratio: float, eta: int) -> int:
    """``s_max = floor(log_eta(max_budget / min_budget))`` (Hyperband: ``R / 1``)."""
    return max(0, math.floor(math.log(budget_ratio) / math.log(eta) + EPS))


def _budget(value: float) -> int | float:
    # NNI floors budgets to ints; a budget below 1 (fractional min_budget) stays a float
    floored = math.floor(value + EPS)
    return floored if floored >= 1 else round(value, 6)


def bracket_rounds(s: int, s_max: int, max_budget: float, eta: int) -> list[tuple[int, int | float]]:
    """The ``(number of configurations, budget)`` of each round of bracket ``s``.

    Parameters
    ----------
    s
        Bracket index, ``0 <= s <= s_max``.
    s_max
        Largest bracket index.
    max_budget
        Budget of the last round (Hyperband's ``R``, BOHB's ``max_budget``).
    eta
        Keep ``1/eta`` of the configurations each round, with ``eta`` times the budget.

    Returns
    -------
    list of (int, number)
        ``n_i = floor(n / eta^i)``, ``r_i = floor(r * eta^i)`` for rounds ``i = 0..s``, where
        ``n = ceil((s_max + 1) eta^s / (s + 1))`` and ``r = max_budget / eta^s``.

    Examples
    --------
    >>> bracket_rounds(4, 4, 81, 3)
    [(81, 1), (27, 3), (9, 9), (3, 27), (1, 81)]
    >>> bracket_rounds(1, 4, 81, 3)
    [(8, 27), (2, 81)]
    """
    n = math.ceil((s_max + 1) * eta ** s / (s + 1) - EPS)
    r = max_budget / eta ** s
    return [(math.floor(n / eta ** i + EPS), _budget(r * eta ** i)) for i in range(s + 1)]


@dataclass(eq=False)
class TrialRun:
    """One trial of a bracket round: a configuration with a budget, and what it reported."""

    parameter_id: str
    parameters: dict[str, Any]
    budget: int | float
    bracket: Bracket = field(repr=False)
    round: int
    serial: int
    value: float | None = None
    value_sequence: int = -1
    ended: bool = False

    def trial_parameters(self) -> dict[str, Any]:
        return {**self.parameters, BUDGET_KEY: self.budget}


@dataclass(eq=False)
class Bracket:
    """The rounds of one successive-halving bracket and the runs of each round."""

    bracket_id: str
    s: int
    rounds: list[tuple[int, int | float]]
    runs: list[list[TrialRun]] = field(default_factory=list)

    @property
    def current_round(self) -> int:
        return len(self.runs) - 1

    def round_complete(self) -> bool:
        return bool(self.runs) and all(run.ended for run in self.runs[-1])

    def finished(self) -> bool:
        """All rounds handed out and the last one complete (or nothing left to promote)."""
        if not self.runs:
            return False
        last_round = self.current_round == len(self.rounds) - 1 or not self.runs[-1]
        return last_round and self.round_complete()


class SuccessiveHalvingAdvisor(MsgDispatcherBase):
    """Base of the Hyperband and BOHB advisors (NNI's advisor protocol).

    Like NNI's advisors it is a ``MsgDispatcherBase``; it opens no channel of its own (the
    manager's dispatcher calls its ``handle_*`` methods and points :meth:`send` at the engine).

    Parameters
    ----------
    optimize_mode
        ``'maximize'`` or ``'minimize'``.
    eta
        Reduction factor between rounds.
    exec_mode
        ``'parallelism'``: when nothing is queued, a new bracket starts (brackets overlap and
        every free slot gets a trial); ``'serial'``: a bracket starts only once the previous one
        has finished.
    s_max
        Largest bracket index.
    max_budget
        Budget of the last round of every bracket.
    """

    def __init__(self, optimize_mode: str, eta: int, exec_mode: str, s_max: int, max_budget: float) -> None:
        if optimize_mode not in ("maximize", "minimize"):
            raise ValueError(f"optimize_mode should be 'maximize' or 'minimize', got {optimize_mode!r}")
        if exec_mode not in ("parallelism", "serial"):
            raise ValueError(f"exec_mode should be 'parallelism' or 'serial', got {exec_mode!r}")
        if not isinstance(eta, int) or eta < 2:
            raise ValueError(f"eta should be an integer >= 2, got {eta!r}")
        super().__init__(command_channel_url="")  # "": never connect, whatever the environment says
        self.optimize_mode = optimize_mode
        self.eta = eta
        self.exec_mode = exec_mode
        self.s_max = s_max
        self.max_budget = max_budget
        self.search_space: dict[str, Any] | None = None
        self.brackets: list[Bracket] = []
        self._credit = 0
        self._queue: deque[TrialRun] = deque()
        self._runs: dict[str, TrialRun] = {}
        self._next_iteration = 0
        self._next_s = s_max
        self._next_serial = 0

    # protocol -------------------------------------------------------------------------------

    def send(self, command: Any, data: str) -> None:
        """Answer the manager; the dispatcher replaces this when it runs the advisor."""
        raise RuntimeError(f"{type(self).__name__} is not attached to a dispatcher (tried to send {command})")

    def handle_initialize(self, data: dict[str, Any]) -> None:
        """``IN``: take the search space and answer ``ID``."""
        self.handle_update_search_space(data)
        self.send(CommandType.Initialized, "")

    def handle_update_search_space(self, data: dict[str, Any]) -> None:
        """``SS``: configurations drawn from now on come from the new space."""
        self.search_space = data

    def handle_request_trial_jobs(self, data: int) -> None:
        """``GE n``: the manager has room for ``n`` more trials."""
        self._credit += int(data)
        self._hand_out()

    def handle_report_metric_data(self, data: dict[str, Any]) -> None:
        """``ME``: remember a trial's latest result (the final one wins over intermediates)."""
        run = self._runs.get(_key(data.get("parameter_id")))
        if run is None or run.ended:
            return  # a customized trial, a trial of an earlier run, or a late metric
        metric_type = data.get("type")
        if metric_type == "FINAL":
            sequence = FINAL_SEQUENCE
        elif metric_type == "PERIODICAL":
            sequence = int(data.get("sequence") or 0)
        else:
            return
        value = _scalar(data.get("value"))
        if value is None:
            _logger.warning("trial %s reported a metric that is not a number: %r", data.get("trial_job_id"),
                            data.get("value"))
            return
        if sequence >= run.value_sequence:
            run.value, run.value_sequence = value, sequence

    def handle_trial_end(self, data: dict[str, Any]) -> None:
        """``EN``: a trial ended; when its round is complete, promote the best to the next round."""
        run = self._runs.get(_key(_parameter_id(data.get("hyper_params"))))
        if run is None or run.ended:
            return
        run.ended = True
        if run.value is not None:
            self._on_result(run)
        bracket = run.bracket
        if run.round == bracket.current_round and bracket.round_complete():
            self._promote(bracket)
        self._hand_out()

    def handle_import_data(self, data: list[dict[str, Any]]) -> None:
        """``FD``: earlier results; plain Hyperband does not use them (as in NNI)."""

    def handle_add_customized_trial(self, data: list[dict[str, Any]]) -> None:
        """``AD`` (resume): trials of the earlier run that run again; new ids are kept clear of theirs."""
        for record in data:
            parsed = _parse_id(record.get("parameter_id") if isinstance(record, dict) else None)
            if parsed is not None:
                iteration, serial = parsed
                self._next_iteration = max(self._next_iteration, iteration + 1)
                self._next_serial = max(self._next_serial, serial + 1)

    # checkpoint (id counters only: brackets of the earlier run are not continued) -------------

    def _checkpoint_file(self) -> str | None:
        directory = self.get_checkpoint_path()
        return os.path.join(directory, f"{type(self).__name__.lower()}_advisor.json") if directory else None

    def save_checkpoint(self) -> None:
        """Write the id counters, so a resumed experiment never reuses a parameter id."""
        path = self._checkpoint_file()
        if path is None:
            return
        state = {"next_iteration": self._next_iteration, "next_serial": self._next_serial}
        temporary = path + ".tmp"
        with open(temporary, "w", encoding="utf-8") as handle:
            json.dump(state, handle)
        os.replace(temporary, path)

    def load_checkpoint(self) -> None:
        """Read the id counters written by :meth:`save_checkpoint` (resume)."""
        path = self._checkpoint_file()
        if path is None or not os.path.exists(path):
            return
        try:
            with open(path, encoding="utf-8") as handle:
                state = json.load(handle)
            self._next_iteration = max(self._next_iteration, int(state["next_iteration"]))
            self._next_serial = max(self._next_serial, int(state["next_serial"]))
        except (OSError, ValueError, KeyError, TypeError) as error:
            _logger.warning("ignoring unreadable advisor checkpoint %s: %s", path, error)

    # hooks for subclasses -----------------------------------------------------------------

    def _sample(self, count: int, budget: int | float) -> list[dict[str, Any]]:
        """Draw ``count`` configurations (without ``TRIAL_BUDGET``) for a new bracket."""
        raise NotImplementedError

    def _on_result(self, run: TrialRun) -> None:
        """A trial ended with a result (``run.value`` at ``run.budget``)."""

    # scheduling ---------------------------------------------------------------------------

    def _hand_out(self) -> None:
        while self._credit > 0:
            if not self._queue and not self._start_bracket():
                break  # serial mode waiting for a bracket: the credit is kept for later
            if not self._queue:
                break
            run = self._queue.popleft()
            self._credit -= 1
            record = {"parameter_id": run.parameter_id, "parameter_source": "algorithm",
                      "parameters": run.trial_parameters(), "parameter_index": 0}
            self.send(CommandType.NewTrialJob, json.dumps(record))

    def _start_bracket(self) -> bool:
        if self.search_space is None:
            return False
        self.brackets = [bracket for bracket in self.brackets if not bracket.finished()]
        if self.exec_mode == "serial" and self.brackets:
            return False
        s = self._next_s
        bracket = Bracket(f"{self._next_iteration}-{s}", s, bracket_rounds(s, self.s_max, self.max_budget, self.eta))
        if s == 0:
            self._next_s, self._next_iteration = self.s_max, self._next_iteration + 1
        else:
            self._next_s = s - 1
        count, budget = bracket.rounds[0]
        configurations = self._sample(count, budget)
        runs = []
        for parameters in configurations:
            runs.append(self._new_run(bracket, 0, self._next_serial, parameters))
            self._next_serial += 1
        bracket.runs.append(runs)
        self.brackets.append(bracket)
        self._queue.extend(runs)
        _logger.info("bracket %s: %s (configurations, budget) per round", bracket.bracket_id, bracket.rounds)
        try:
            self.save_checkpoint()
        except OSError as error:
            _logger.warning("cannot write the advisor checkpoint: %s", error)
        return bool(runs)

    def _new_run(self, bracket: Bracket, round_index: int, serial: int, parameters: dict[str, Any]) -> TrialRun:
        budget = bracket.rounds[round_index][1]
        run = TrialRun(f"{bracket.bracket_id}_{round_index}_{serial}", parameters, budget, bracket, round_index,
                       serial)
        self._runs[_key(run.parameter_id)] = run
        return run

    def _promote(self, bracket: Bracket) -> None:
        next_round = bracket.current_round + 1
        if next_round >= len(bracket.rounds):
            return
        keep = bracket.rounds[next_round][0]
        # trials without a result (failed before reporting) cannot be ranked and are not promoted
        ranked = [run for run in bracket.runs[-1] if run.value is not None and not math.isnan(run.value)]
        ranked.sort(key=lambda run: run.value, reverse=self.optimize_mode == "maximize")
        promoted = [self._new_run(bracket, next_round, run.serial, run.parameters) for run in ranked[:keep]]
        bracket.runs.append(promoted)
        # promotions go first, ahead of configurations of newer brackets still queued: a bracket's
        # larger budgets are what its earlier rounds were spent for
        self._queue.extendleft(reversed(promoted))
        _logger.info("bracket %s: round %d promotes %d of %d configurations", bracket.bracket_id, next_round,
                     len(promoted), len(bracket.runs[-2]))


def _key(parameter_id: Any) -> str:
    return json.dumps(parameter_id)


def _parameter_id(hyper_params: Any) -> Any:
    if isinstance(hyper_params, str):
        try:
            hyper_params = json.loads(hyper_params)
        except ValueError:
            return None
    return hyper_params.get("parameter_id") if isinstance(hyper_params, dict) else None


def _parse_id(parameter_id: Any) -> tuple[int, int] | None:
    """``"<iteration>-<s>_<round>_<serial>"`` -> ``(iteration, serial)``."""
    if not isinstance(parameter_id, str):
        return None
    try:
        bracket_id, _round, serial = parameter_id.rsplit("_", 2)
        return int(bracket_id.split("-", 1)[0]), int(serial)
    except ValueError:
        return None


def _scalar(value: Any) -> float | None:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return None
    try:
        return float(extract_scalar_reward(value))
    except (RuntimeError, TypeError, ValueError):
        return None
