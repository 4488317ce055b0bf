"""Population Based Training (builtin tuner ``PBT``).

Jaderberg et al., "Population Based Training of Neural Networks" (2017), in NNI's synchronous
form. A population of ``population_size`` members trains in generations; in each generation every
member runs one trial that loads a checkpoint, trains one step, saves a checkpoint and reports a
final metric. The trial finds the two directories in its parameters::

    params = nni.get_next_parameter()
    params['load_checkpoint_dir']   # load from here if it holds a checkpoint
    params['save_checkpoint_dir']   # save here (the tuner creates the directory)

Both are ``<all_checkpoint_dir>/<member>/<generation>`` (generation 0 loads and saves in the same
place). When a generation has finished, members are ranked; each of the worst
``ceil(fraction * population_size)`` copies a random one of the best as many: it loads *their*
checkpoint (exploit) and takes their hyper-parameters, each perturbed (explore): with probability
``resample_probability`` redrawn from the search space, otherwise moved up or down by one step:
the neighbouring option of a ``choice``, ±1 for ``randint``, ±``factor`` × the range for
``uniform``, ×/÷ ``exp(factor × log-range)`` for ``loguniform``, ±q for q types, ±``factor`` × sigma
(×/÷ ``exp(factor × sigma)``) for ``normal`` (``lognormal``), clamped to the bounds. The others keep
their hyper-parameters and continue from their own checkpoint.

``all_checkpoint_dir`` defaults to the experiment's checkpoint directory
(``NNI_CHECKPOINT_DIRECTORY``, ``~/nni-experiments/<id>/checkpoint``); for remote or Slurm trials
set it to a directory every trial can reach (shared storage).

Resume: the tuner rebuilds the population from the history the manager gives it (the finished
trials' parameters carry their member and generation in ``save_checkpoint_dir``, and the trials of
the earlier run still to be run again are announced too). Members of the latest generation that
have neither a result nor a running trial are planned again from the generation before.

Differences from NNI's PBT, all deliberate: a failed trial or one that reported no final result
makes its member copy a better one in the next generation (NNI lets it continue from a checkpoint
that may not exist); the validator accepts ``factor`` (NNI's checks ``factors`` but the tuner takes
``factor``, so neither could be set) and ``resample_probability``; ``fraction`` is at most 0.5 so
the best and the worst never overlap; a q-type step lands on a multiple of q; ``seed`` is ours;
the history is used on resume (NNI accepts it only before any trial ran).
"""

from __future__ import annotations

import logging
import math
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from nni._errors import NoMoreTrialError
from nni.common.hpo_utils import deformat_value, format_search_space, sample_spec
from nni.tuner import Tuner
from nni.utils import OptimizeMode, extract_scalar_reward

from ._space_rules import check_search_space
from .random_tuner import _load_records, make_rng
from .validators import PBTClassArgsValidator

__all__ = ["PBTClassArgsValidator", "PBTTuner"]

_logger = logging.getLogger(__name__)

LOAD_KEY = "load_checkpoint_dir"
SAVE_KEY = "save_checkpoint_dir"

_PENDING, _RUNNING, _RESUMED, _DONE, _FAILED = "pending", "running", "resumed", "done", "failed"


@dataclass
class _Member:
    """One member's trial in the current generation."""

    index: int
    params: dict[str, Any]  # hyper-parameters, without the two directories
    load_dir: str
    save_dir: str
    state: str = _PENDING
    parameter_id: Any = None
    loss: float = math.inf

    def parameters(self) -> dict[str, Any]:
        return {**self.params, LOAD_KEY: self.load_dir, SAVE_KEY: self.save_dir}


@dataclass
class _Record:
    """A trial of an earlier run: a member's generation, what it ran with, and its loss if any."""

    params: dict[str, Any]
    load_dir: str
    save_dir: str
    loss: float = math.inf
    parameter_id: Any = None


@dataclass
class _History:
    finished: dict[tuple[int, int], _Record] = field(default_factory=dict)
    in_flight: dict[tuple[int, int], _Record] = field(default_factory=dict)


class PBTTuner(Tuner):
    """Population Based Training.

    Parameters
    ----------
    optimize_mode
        ``'maximize'`` (default) or ``'minimize'`` the trials' metric.
    all_checkpoint_dir
        Directory of all checkpoints; default: the experiment's checkpoint directory.
    population_size
        Members of the population (trials per generation).
    factor
        Size of a perturbation step (see the module docstring).
    resample_probability
        Probability of redrawing a hyper-parameter instead of stepping it.
    fraction
        Share of members that copy better ones each generation (at most 0.5).
    factors
        Alias of ``factor`` (the key NNI's validator checks).
    seed
        Seed of the random generator; ``None`` draws one and logs it.
    """

    def __init__(
        self,
        optimize_mode: str = "maximize",
        all_checkpoint_dir: str | None = None,
        population_size: int = 10,
        factor: float = 0.2,
        resample_probability: float = 0.25,
        fraction: float = 0.2,
        factors: float | None = None,
        seed: int | None = None,
    ) -> None:
        PBTClassArgsValidator().validate_class_args(
            optimize_mode=optimize_mode, all_checkpoint_dir=all_checkpoint_dir, population_size=population_size,
            factor=factor if factors is None else factors, resample_probability=resample_probability,
            fraction=fraction, seed=seed,
        )  # fmt: skip
        self.optimize_mode = OptimizeMode(optimize_mode)
        self.all_checkpoint_dir = all_checkpoint_dir
        self.population_size = int(population_size)
        self.factor = float(factor if factors is None else factors)
        self.resample_probability = float(resample_probability)
        self.fraction = float(fraction)
        self.epoch = 0
        self._rng = make_rng(seed)
        self._raw_space: dict[str, Any] | None = None
        self._space: Any = None
        self._root = ""
        self._members: list[_Member] = []
        self._credits: list[Any] = []  # ids of requests answered with NoMoreTrialError
        self._send: Callable[..., None] | None = None
        self._history = _History()
        self._started = False  # a trial was handed out by this tuner
        self._lock = threading.RLock()

    # -- Tuner interface ---------------------------------------------------------------------------

    def update_search_space(self, search_space: dict[str, Any]) -> None:
        """Take the search space; the first call draws generation 0.

        A later call changes what resampling draws and the bounds steps are clamped to, from the next
        generation on.

        Raises
        ------
        ValueError
            If the space has a nested choice or a non-standard type (naming the parameter).
        """
        check_search_space("PBT", search_space)
        with self._lock:
            first = self._raw_space is None
            self._raw_space = dict(search_space)
            self._space = format_search_space(search_space)
            if first:
                self._root = os.path.abspath(self._checkpoint_root())
                _logger.info("PBT checkpoints go to %s", self._root)
                self._members = [self._fresh_member(i, 0) for i in range(self.population_size)]

    def generate_multiple_parameters(self, parameter_id_list: list[Any], **kwargs: Any) -> list[dict[str, Any]]:
        """Hand out members of the current generation; requests beyond it wait for the next one.

        Requests that find nothing to run are remembered, and answered through ``st_callback`` as soon
        as the next generation is ready.
        """
        with self._lock:
            if kwargs.get("st_callback") is not None:
                self._send = kwargs["st_callback"]
            result = []
            for position, parameter_id in enumerate(parameter_id_list):
                try:
                    result.append(self.generate_parameters(parameter_id))
                except NoMoreTrialError:
                    self._credits.extend(parameter_id_list[position:])
                    break
            return result

    def generate_parameters(self, parameter_id: Any, **kwargs: Any) -> dict[str, Any]:
        """Hand out the next member of the current generation.

        Raises
        ------
        nni.NoMoreTrialError
            When every member of the generation is running or done.
        """
        with self._lock:
            if self._raw_space is None:
                raise RuntimeError("PBTTuner: update_search_space() must be called before generating parameters")
            member = next((m for m in self._members if m.state == _PENDING), None)
            if member is None:
                raise NoMoreTrialError("No more parameters now.")
            member.state, member.parameter_id = _RUNNING, parameter_id
            self._started = True
            _make_dir(member.save_dir)
            _logger.info("PBT generation %d, member %d: %s", self.epoch, member.index, member.params)
            return member.parameters()

    def receive_trial_result(self, parameter_id: Any, parameters: Any, value: Any, **kwargs: Any) -> None:
        """Record a member's score; the next generation starts once every member has one."""
        loss = self._loss(extract_scalar_reward(value))
        with self._lock:
            member = next((m for m in self._members if m.parameter_id == parameter_id and m.state == _RUNNING), None)
            if member is None:
                member = self._member_of(parameters)
            if member is None or member.state in (_DONE, _PENDING):
                _logger.warning("PBT: result of parameter id %r matches no member running now; ignored", parameter_id)
                return
            member.state, member.loss = _DONE, loss
            self._advance_if_complete()

    #: the dispatcher also reports the end of an earlier run's trial that was run again after a
    #: resume: a member waiting for it must not wait forever when it fails
    tracks_resumed_trials = True

    def trial_end(self, parameter_id: Any, success: bool, **kwargs: Any) -> None:
        """A member whose trial ended without a final result counts as failed for this generation."""
        with self._lock:
            for member in self._members:
                if member.parameter_id == parameter_id and member.state in (_RUNNING, _RESUMED):
                    _logger.info("PBT: member %d ended without a result (success=%s)", member.index, success)
                    member.state, member.loss = _FAILED, math.inf
                    self._advance_if_complete()
                    return

    def import_data(self, data: list[dict[str, Any]] | str) -> int:
        """Take results of earlier trials (resume): the population is rebuilt from them.

        Returns
        -------
        int
            The generation the population is at afterwards (as NNI's, which its tests read).
        """
        with self._lock:
            for record in _load_records(data):
                key_record = self._parse(record.get("parameter"))
                if key_record is None:
                    continue
                key, parsed = key_record
                try:
                    parsed.loss = self._loss(extract_scalar_reward(record.get("value")))
                except RuntimeError:
                    continue
                if self._started:
                    # a trial of the earlier run, run again after the resume, has finished
                    member = self._member_of(record.get("parameter"))
                    if member is not None and member.state in (_RESUMED, _RUNNING, _FAILED):
                        member.state, member.loss = _DONE, parsed.loss
                        self._advance_if_complete()
                    continue
                self._history.finished[key] = parsed
                self._history.in_flight.pop(key, None)
            if not self._started:
                self._rebuild()
                self._serve_credits()  # requests that found everyone running may be served now
            return self.epoch

    def recover_parameter_id(self, data: Any) -> int:
        """Note the earlier run's trials that are being run again (they finish through ``import_data``)."""
        result = super().recover_parameter_id(data)
        with self._lock:
            for record in data if isinstance(data, list) else [data]:
                if not isinstance(record, dict):
                    continue
                key_record = self._parse(record.get("parameters"))
                if key_record is None:
                    continue
                key, parsed = key_record
                parsed.parameter_id = record.get("parameter_id")
                if key not in self._history.finished and not self._started:
                    self._history.in_flight[key] = parsed
            if not self._started:
                self._rebuild()
        return result

    # -- generations -------------------------------------------------------------------------------

    def _advance_if_complete(self) -> None:
        if any(m.state not in (_DONE, _FAILED) for m in self._members):
            return
        self._next_generation()
        self._serve_credits()

    def _serve_credits(self) -> None:
        while self._credits and self._send is not None:
            if not any(m.state == _PENDING for m in self._members):
                return
            parameter_id = self._credits.pop(0)
            params = self.generate_parameters(parameter_id)
            self._send(parameter_id, params)

    def _ranking(self, members: list[_Member]) -> tuple[list[_Member], list[_Member]]:
        """Best ``cutoff`` members and the members that must copy one (worst ``cutoff`` and failed)."""
        ranked = sorted(members, key=lambda m: m.loss)
        cutoff = min(max(math.ceil(self.fraction * len(ranked)), 1), len(ranked) // 2)
        tops = [m for m in ranked[:cutoff] if math.isfinite(m.loss)]
        bottoms = ranked[len(ranked) - cutoff:] if cutoff else []
        bottoms += [m for m in ranked if not math.isfinite(m.loss) and m not in bottoms]
        return tops, bottoms

    def _next_generation(self) -> None:
        self.epoch += 1
        tops, bottoms = self._ranking(self._members)
        new_members = []
        for member in self._members:
            if member in bottoms and tops:
                new_members.append(self._exploit(member.index, self._pick(tops), self.epoch))
            elif member.state == _DONE or not tops:
                # continue from its own checkpoint; a failed member with nobody to copy retries its step
                load = member.save_dir if member.state == _DONE else member.load_dir
                new_members.append(_Member(member.index, dict(member.params), load, self._dir(member.index, self.epoch)))
            else:
                new_members.append(self._exploit(member.index, self._pick(tops), self.epoch))
        self._members = new_members
        _logger.info("PBT: generation %d starts (best loss so far in the last one: %s)", self.epoch,
                     tops[0].loss if tops else None)

    def _exploit(self, index: int, top: _Member | _Record, epoch: int) -> _Member:
        return _Member(index, self._explore(top.params), top.save_dir, self._dir(index, epoch))

    def _pick(self, members: list[Any]) -> Any:
        return members[int(self._rng.integers(len(members)))]

    # -- resume ------------------------------------------------------------------------------------

    def _rebuild(self) -> None:
        """Rebuild the population from the whole history (called again as more history arrives)."""
        history = self._history
        keys = [k for k in [*history.finished, *history.in_flight] if k[0] < self.population_size]
        if not keys:
            return
        epoch = max(k[1] for k in keys)
        previous = [_as_member(i, r) for (i, e), r in history.finished.items() if e == epoch - 1]
        tops, bottoms = self._ranking(previous) if previous else ([], [])
        bottom_indices = {m.index for m in bottoms}
        members = []
        for i in range(self.population_size):
            if (i, epoch) in history.finished:
                member = _as_member(i, history.finished[(i, epoch)])
                member.state = _DONE
            elif (i, epoch) in history.in_flight:
                member = _as_member(i, history.in_flight[(i, epoch)])
                member.state, member.parameter_id = _RESUMED, history.in_flight[(i, epoch)].parameter_id
            elif epoch == 0 or not previous:
                member = self._fresh_member(i, epoch)
            else:
                own = history.finished.get((i, epoch - 1))
                if own is not None and i not in bottom_indices and math.isfinite(own.loss):
                    member = _Member(i, dict(own.params), own.save_dir, self._dir(i, epoch))
                else:
                    member = self._exploit(i, self._pick(tops or previous), epoch)
            members.append(member)
        self.epoch, self._members = epoch, members
        states = [m.state for m in members]
        _logger.info("PBT resumed at generation %d: %d done, %d running again, %d to run", epoch,
                     states.count(_DONE), states.count(_RESUMED), states.count(_PENDING))
        if all(state == _DONE for state in states):
            self._next_generation()

    def _parse(self, parameters: Any) -> tuple[tuple[int, int], _Record] | None:
        """``((member, generation), record)`` of a trial's parameters, if they are this tuner's."""
        if not isinstance(parameters, dict) or not self._root:
            return None
        save = parameters.get(SAVE_KEY)
        load = parameters.get(LOAD_KEY, save)  # NNI's tests import records without it
        if not isinstance(save, str) or not isinstance(load, str):
            return None
        relative = os.path.relpath(os.path.abspath(save), self._root).split(os.sep)
        if len(relative) != 2 or not all(part.isdigit() for part in relative):
            return None
        params = {k: v for k, v in parameters.items() if k not in (SAVE_KEY, LOAD_KEY)}
        return (int(relative[0]), int(relative[1])), _Record(params, load, save)

    def _member_of(self, parameters: Any) -> _Member | None:
        parsed = self._parse(parameters)
        if parsed is None:
            return None
        (index, epoch), _ = parsed
        if epoch != self.epoch or index >= len(self._members):
            return None
        return self._members[index]

    # -- hyper-parameters --------------------------------------------------------------------------

    def _fresh_member(self, index: int, epoch: int) -> _Member:
        directory = self._dir(index, epoch)
        params = {key[0]: deformat_value(spec, sample_spec(spec, self._rng)) for key, spec in self._space.items()}
        return _Member(index, params, directory, directory)

    def _explore(self, params: dict[str, Any]) -> dict[str, Any]:
        result = {}
        for key, spec in self._space.items():
            name = key[0]
            value = params.get(name)
            if name not in params or self._rng.random() < self.resample_probability:
                result[name] = deformat_value(spec, sample_spec(spec, self._rng))
            else:
                result[name] = _step(spec, value, self.factor, up=bool(self._rng.random() < 0.5))
        return result

    def _loss(self, metric: float) -> float:
        loss = float(metric) if self.optimize_mode is OptimizeMode.Minimize else -float(metric)
        return loss if math.isfinite(loss) else math.inf

    def _checkpoint_root(self) -> str:
        if self.all_checkpoint_dir:
            return os.path.expanduser(self.all_checkpoint_dir)
        directory = os.environ.get("NNI_CHECKPOINT_DIRECTORY")
        if directory:
            return directory
        return os.path.join(os.path.expanduser("~"), "nni", "checkpoint")

    def _dir(self, index: int, epoch: int) -> str:
        return os.path.join(self._root, str(index), str(epoch))


def _as_member(index: int, record: _Record) -> _Member:
    return _Member(index, dict(record.params), record.load_dir, record.save_dir, _DONE, None, record.loss)


def _make_dir(path: str) -> None:
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as error:  # remote trials may see another file system; they create it themselves
        _logger.warning("cannot create checkpoint directory %s: %s", path, error)


def _step(spec: Any, value: Any, factor: float, up: bool) -> Any:
    """Move one hyper-parameter (user value) one step up or down, within its bounds."""
    sign = 1 if up else -1
    values = spec.values
    kind = spec.type
    if kind == "choice":
        index = values.index(value) if value in values else 0
        return values[min(max(index + sign, 0), len(values) - 1)]
    if kind == "randint":
        low = math.ceil(values[0]) if len(values) == 2 else 0
        high = math.ceil(values[-1]) - 1
        return int(min(max(int(value) + sign, low), high))
    x = float(value)
    if kind in ("quniform", "qloguniform"):
        q = float(values[2])
        x = round(x / q) * q + sign * q
        return float(min(max(x, float(values[0])), float(values[1])))
    if kind in ("qnormal", "qlognormal"):
        q = float(values[2])
        x = round(x / q) * q + sign * q
        return float(max(x, 0.0) if kind == "qlognormal" else x)
    if kind == "uniform":
        low, high = float(values[0]), float(values[1])
        return float(min(max(x + sign * (high - low) * factor, low), high))
    if kind == "loguniform":
        low, high = float(values[0]), float(values[1])
        x = x * math.exp(sign * (math.log(high) - math.log(low)) * factor)
        return float(min(max(x, low), high))
    if kind == "normal":
        return float(x + sign * float(values[1]) * factor)
    # lognormal
    return float(x * math.exp(sign * float(values[1]) * factor))
