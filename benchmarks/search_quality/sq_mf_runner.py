"""One run of the multi-fidelity benchmark: an algorithm spends a budget of epochs on the learning-curve problem.

Simulated in process, one trial at a time: no manager, no trial processes. Every epoch a trial
trains costs one epoch of the budget; a trial reports its accuracy after each epoch, and its last
one as the final result when it trains to its end. The algorithms are driven the way NNI's
dispatcher drives them (or Optuna's ``ask``/``tell`` loop):

* ``FAMILY:TUNER`` and ``FAMILY:TUNER+ASSESSOR`` (``FAMILY`` = ``ours`` or ``nni``; ``TUNER`` =
  ``Random`` or ``TPE``; ``ASSESSOR`` = ``Medianstop`` or ``Curvefitting``): trials of
  :data:`~sq_learning_curve.EPOCHS` epochs; after each epoch ``assess_trial(trial_id, history)``;
  a ``Bad`` verdict stops the trial. As in NNI (``includeIntermediateResults`` off), the tuner gets
  a final result only from trials that trained to the end, and ``trial_end(id, success)`` for
  every trial; the assessor gets ``trial_end(trial_id, success)``. ``Random`` is not a tuner
  object but the seed's :class:`~sq_learning_curve.RandomStream`, the same configurations in the
  same order for both families, so that their assessors judge exactly the same trials;
* ``FAMILY:Hyperband`` and ``FAMILY:BOHB``: the advisor's ``handle_*`` methods with its ``send``
  replaced by a list: ``handle_initialize``, ``handle_request_trial_jobs(1)`` (one slot), and for
  each ``NewTrialJob``: ``TRIAL_BUDGET`` epochs of ``PERIODICAL`` metrics (sequence 0, 1, ...), a
  ``FINAL`` metric (sequence 0, as NNI's trial runtime sends it) and ``handle_trial_end``, then one
  more ``handle_request_trial_jobs(1)`` (NNI's manager asks for one trial per ended trial);
* ``optuna:TPE``, ``optuna:TPE+MedianPruner``, ``optuna:TPE+HyperbandPruner``: ``TPESampler`` with
  Optuna's pruner (defaults; Hyperband with ``min_resource=1``, ``max_resource=EPOCHS``,
  ``reduction_factor=3``); ``trial.report(accuracy, epoch)`` then ``trial.should_prune()``.

Class args: Hyperband ``R=EPOCHS, eta=3``; BOHB ``min_budget=1, max_budget=EPOCHS, eta=3``;
Medianstop defaults (``start_step=0``); Curvefitting ``epoch_num=EPOCHS`` and defaults otherwise;
every algorithm ``optimize_mode='maximize'``. Same for both families.

Two shims for NNI 3.0, its algorithms untouched: its advisors' base class opens the manager's
websocket when built, so the channel URL is pointed at NNI's own unit-test placeholder (never
connected); and its resume check compares string parameter ids with an integer, a ``TypeError``
on every metric outside a resumed experiment (NNI issue #5263), so it answers "not resumed".

Needs the stdlib, numpy and the family's own packages: runs in the project venv (``ours``), the
NNI 3.0 venv (``nni``) and the peers venv (``optuna``), through ``sq_driver.py``'s ``mf_run``.
"""

from __future__ import annotations

import json
import random
import time
from collections import deque
from typing import Any

import numpy as np
import sq_learning_curve as lc

ASSESSORS = ("Medianstop", "Curvefitting")
ADVISORS = ("Hyperband", "BOHB")
PRUNERS = ("MedianPruner", "HyperbandPruner")
ETA = 3


class _Budget:
    """Epochs spent so far and the trials that trained to the end (when, observed, true final)."""

    def __init__(self, problem: lc.LearningCurveProblem, max_epochs: int) -> None:
        self.problem = problem
        self.max_epochs = max_epochs
        self.used = 0
        self.trials = 0
        self.stopped = 0
        self.completions: list[list[float]] = []

    @property
    def left(self) -> bool:
        return self.used < self.max_epochs

    def complete(self, params: dict[str, Any], observed: float) -> None:
        self.completions.append([self.used, observed, self.problem.true_final(params)])


def run(algorithm: str, seed: int, max_epochs: int) -> dict[str, Any]:
    """Run ``algorithm`` on seed ``seed``'s instance until it has trained ``max_epochs`` epochs.

    Returns
    -------
    dict
        ``algorithm``, ``seed``, ``epochs`` (trained), ``trials`` (started), ``stopped`` (stopped
        early by the algorithm), ``completions`` (``[epochs used when it ended, observed final,
        true final]`` of every trial that trained all :data:`~sq_learning_curve.EPOCHS` epochs) and
        ``seconds`` (wall time of the run, the simulation included).
    """
    family, _, name = algorithm.partition(":")
    random.seed(seed)
    np.random.seed(seed)  # NNI 3.0's Curvefitting and BOHB draw from the global generators
    problem = lc.LearningCurveProblem(seed)
    budget = _Budget(problem, max_epochs)
    began = time.perf_counter()
    if family == "optuna":
        _run_optuna(name, seed, budget)
    elif family in ("ours", "nni") and name in ADVISORS:
        _run_advisor(family, name, seed, budget)
    elif family in ("ours", "nni"):
        tuner, _, assessor = name.partition("+")
        _run_tuner(family, tuner, assessor or None, seed, budget)
    else:
        raise ValueError(f"unknown multi-fidelity algorithm {algorithm!r}")
    return {"algorithm": algorithm, "seed": seed, "epochs": budget.used, "trials": budget.trials,
            "stopped": budget.stopped, "completions": budget.completions,
            "seconds": time.perf_counter() - began}  # fmt: skip


# ---------------------------------------------------------------------------------------------------
# Tuner (+ assessor)


def _make_tuner(family: str, name: str, seed: int) -> Any:
    seed_arg = {"seed": seed}
    if name == "TPE":
        from nni.algorithms.hpo.tpe_tuner import TpeTuner

        tuner = TpeTuner(optimize_mode="maximize", **seed_arg)
    else:
        raise ValueError(f"unknown tuner {name!r} for the multi-fidelity benchmark; known: Random, TPE")
    tuner.update_search_space(lc.SPACE)
    return tuner


def _make_assessor(name: str) -> Any:
    if name == "Medianstop":
        from nni.algorithms.hpo.medianstop_assessor import MedianstopAssessor

        return MedianstopAssessor(optimize_mode="maximize")
    if name == "Curvefitting":
        from nni.algorithms.hpo.curvefitting_assessor import CurvefittingAssessor

        return CurvefittingAssessor(epoch_num=lc.EPOCHS)
    raise ValueError(f"unknown assessor {name!r}; known: {', '.join(ASSESSORS)}")


def _is_bad(verdict: Any) -> bool:
    # AssessResult of either family (Good = True, Bad = False), or a plain bool
    return not bool(getattr(verdict, "value", verdict))


def _run_tuner(family: str, tuner_name: str, assessor_name: str | None, seed: int, budget: _Budget) -> None:
    stream = budget.problem.random_stream() if tuner_name == "Random" else None
    tuner = None if stream is not None else _make_tuner(family, tuner_name, seed)
    assessor = _make_assessor(assessor_name) if assessor_name else None
    parameter_id = 0
    while budget.left:
        params = stream.next() if stream is not None else tuner.generate_parameters(parameter_id)
        budget.trials += 1
        curve = budget.problem.observed_curve(params)
        trial_id = f"trial{parameter_id}"
        history: list[float] = []
        outcome = "done"
        for value in curve:
            if not budget.left:
                outcome = "cut"  # the budget ran out in the middle of this trial
                break
            budget.used += 1
            history.append(value)
            if assessor is not None and _is_bad(assessor.assess_trial(trial_id, list(history))):
                outcome = "stopped"
                break
        success = outcome == "done"
        if success:
            budget.complete(params, history[-1])
            if tuner is not None:
                tuner.receive_trial_result(parameter_id, params, history[-1])
        elif outcome == "stopped":
            budget.stopped += 1
        if assessor is not None:
            assessor.trial_end(trial_id, success)
        if tuner is not None:
            tuner.trial_end(parameter_id, success)
        parameter_id += 1


# ---------------------------------------------------------------------------------------------------
# Advisors


def _make_advisor(family: str, name: str, seed: int) -> Any:
    if family == "nni":
        _detach_nni_dispatcher_base()
    if name == "Hyperband":
        from nni.algorithms.hpo.hyperband_advisor import Hyperband

        args: dict[str, Any] = {"optimize_mode": "maximize", "R": lc.EPOCHS, "eta": ETA}
        advisor = Hyperband(**args, seed=seed) if family == "ours" else Hyperband(**args)
    elif name == "BOHB":
        from nni.algorithms.hpo.bohb_advisor import BOHB

        args = {"optimize_mode": "maximize", "min_budget": 1, "max_budget": lc.EPOCHS, "eta": ETA}
        advisor = BOHB(**args, seed=seed) if family == "ours" else BOHB(**args)
    else:
        raise ValueError(f"unknown advisor {name!r}; known: {', '.join(ADVISORS)}")
    if family == "nni":
        advisor.is_created_in_previous_exp = lambda parameter_id: False
        _seed_nni_advisor(advisor, name, seed)
    return advisor


def _detach_nni_dispatcher_base() -> None:
    """NNI 3.0's ``MsgDispatcherBase()`` connects to the manager's websocket unless the URL is its test one."""
    import nni.runtime.msg_dispatcher_base as base

    base.dispatcher_env_vars = base.dispatcher_env_vars._replace(NNI_TUNER_COMMAND_CHANNEL="ws://_unittest_sq_")


def _seed_nni_advisor(advisor: Any, name: str, seed: int) -> None:
    """NNI 3.0's advisors take no seed: seed the generators they draw from (a fresh one per space)."""
    update = advisor.handle_update_search_space

    def seeded_update(data: Any) -> None:
        update(data)
        if name == "Hyperband":
            advisor.random_state = np.random.RandomState(seed)
        else:
            advisor.search_space.seed(seed)  # a ConfigSpace.ConfigurationSpace

    advisor.handle_update_search_space = seeded_update


def _decode(family: str, content: str) -> Any:
    if family == "nni":
        import nni

        return nni.load(content)  # json_tricks, as NNI's manager reads it
    return json.loads(content)


def _run_advisor(family: str, name: str, seed: int, budget: _Budget) -> None:
    advisor = _make_advisor(family, name, seed)
    outbox: deque[tuple[str, str]] = deque()
    advisor.send = lambda command, content: outbox.append((getattr(command, "value", str(command)), content))
    advisor.handle_initialize(lc.SPACE)
    advisor.handle_request_trial_jobs(1)
    serial = 0
    while budget.left:
        job = None
        while outbox:
            code, content = outbox.popleft()
            if code == "TR":
                job = content
                break
        if job is None:
            raise RuntimeError(f"{family}:{name} handed out no trial for a free slot (stalled after "
                               f"{budget.trials} trials)")  # fmt: skip
        record = _decode(family, job)
        parameters = dict(record["parameters"])
        trial_budget = int(parameters.pop("TRIAL_BUDGET"))
        if not 1 <= trial_budget <= lc.EPOCHS:
            raise RuntimeError(f"{family}:{name} asked for TRIAL_BUDGET={trial_budget}")
        trial_id = f"trial{serial}"
        serial += 1
        budget.trials += 1
        curve = budget.problem.observed_curve(parameters)
        base = {"parameter_id": record["parameter_id"], "trial_job_id": trial_id, "parameter_index": 0}
        event = "SUCCEEDED"
        for sequence in range(trial_budget):
            if not budget.left:
                event = "USER_CANCELED"
                break
            budget.used += 1
            advisor.handle_report_metric_data({**base, "type": "PERIODICAL", "sequence": sequence,
                                               "value": json.dumps(curve[sequence])})  # fmt: skip
        if event == "SUCCEEDED":
            final = curve[trial_budget - 1]
            advisor.handle_report_metric_data({**base, "type": "FINAL", "sequence": 0, "value": json.dumps(final)})
            if trial_budget == lc.EPOCHS:
                budget.complete(parameters, final)
            else:
                budget.stopped += 1  # a low-budget rung: the advisor's own early stopping
        advisor.handle_trial_end({"trial_job_id": trial_id, "event": event, "hyper_params": json.dumps(record)})
        if event != "SUCCEEDED":
            break
        advisor.handle_request_trial_jobs(1)


# ---------------------------------------------------------------------------------------------------
# Optuna


def _run_optuna(name: str, seed: int, budget: _Budget) -> None:
    import optuna
    from sq_driver import make_optuna_sampler, optuna_suggest

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    sampler_name, _, pruner_name = name.partition("+")
    sampler = make_optuna_sampler(optuna, sampler_name, seed)
    if not pruner_name:
        pruner: Any = optuna.pruners.NopPruner()
    elif pruner_name == "MedianPruner":
        pruner = optuna.pruners.MedianPruner()
    elif pruner_name == "HyperbandPruner":
        pruner = optuna.pruners.HyperbandPruner(min_resource=1, max_resource=lc.EPOCHS, reduction_factor=ETA)
    else:
        raise ValueError(f"unknown Optuna pruner {pruner_name!r}; known: {', '.join(PRUNERS)}")
    study = optuna.create_study(direction="maximize", sampler=sampler, pruner=pruner)
    while budget.left:
        trial = study.ask()
        params = optuna_suggest(trial, lc.SPACE)
        budget.trials += 1
        curve = budget.problem.observed_curve(params)
        state = "complete"
        for epoch, value in enumerate(curve, 1):
            if not budget.left:
                state = "cut"
                break
            budget.used += 1
            trial.report(value, epoch)
            if trial.should_prune():
                state = "pruned"
                break
        if state == "complete":
            budget.complete(params, curve[-1])
            study.tell(trial, curve[-1])
        elif state == "pruned":
            budget.stopped += 1
            study.tell(trial, state=optuna.trial.TrialState.PRUNED)
        else:
            study.tell(trial, state=optuna.trial.TrialState.FAIL)
