"""Drives the tuner and assessor with NNI's dispatcher commands, in a worker thread.

The manager runs it next to its event loop; the legacy ``Experiment(tuner, 'local')`` form runs
it in the user's process, bridged to the manager over HTTP (:mod:`nni.runtime.tuner_bridge`).

The engine puts ``(code, content)`` commands (``IN``, ``GE``, ``ME``, ``EN``, ``SS``, ``FD``,
``AD``, ``TE``) on a queue; one worker thread runs the algorithms and answers with ``ID``,
``TR``, ``NO``, ``KI`` or ``ER`` through a callback that the engine makes thread-safe. One
thread (NNI uses two) keeps the order the engine chose: a trial's final metric reaches the
tuner before the request for the trial that replaces it, so a tuner always sees every finished
result when it suggests.

A tuner or assessor that raises sends ``ER`` with the traceback: the experiment goes to
``ERROR`` while the manager keeps serving.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import threading
import traceback
from collections.abc import Callable
from typing import Any

from .msg_dispatcher_base import MsgDispatcherBase
from .tuner_command_channel import CommandType

_logger = logging.getLogger('nni.dispatcher')

DISPATCHER_THREAD_NAME = 'nni-dispatcher'

SendCallback = Callable[[str, str], None]


def _decode_metric_value(value: Any) -> Any:
    """The trial's ``value`` is a JSON string of the metric; older senders pass the metric itself."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


class AlgorithmError(RuntimeError):
    """A tuner or assessor could not be created or raised while handling a command."""


class Dispatcher:
    """Runs one tuner (and optionally one assessor) in a worker thread.

    Parameters
    ----------
    tuner_config, assessor_config
        camelCase algorithm configs (``{"name", "classArgs"}`` or ``{"className",
        "codeDirectory", "classArgs"}``); ``assessor_config`` may be ``None``.
    send
        Called from the worker thread with each answer ``(code, content)``.
    first_parameter_id
        The first parameter id to hand out: on resume, one past every id already used, so ids
        stay unique across runs (NNI restarts them and mixes up histories).
    include_intermediate_results
        NNI's ``deprecated.includeIntermediateResults``: when the assessor stops a trial, its
        last intermediate result is given to the tuner as the final one.
    on_idle
        Called from the worker thread each time it has handled every queued command (the
        engine re-checks whether an exhausted experiment is done).
    """

    def __init__(self, tuner_config: dict[str, Any] | None, assessor_config: dict[str, Any] | None,
                 send: SendCallback, first_parameter_id: int = 0,
                 include_intermediate_results: bool = False, tuner: Any = None, assessor: Any = None,
                 on_idle: Callable[[], None] | None = None) -> None:
        self._tuner_config = tuner_config
        self._on_idle = on_idle
        self._assessor_config = assessor_config
        self._send = send
        self._next_id = first_parameter_id
        self._include_intermediate = include_intermediate_results
        self._commands: queue.SimpleQueue[tuple[str, str]] = queue.SimpleQueue()
        # commands queued and not yet handled: while there are any, an answer may still come
        self._unhandled = 0
        self._unhandled_lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name=DISPATCHER_THREAD_NAME, daemon=True)
        # algorithm objects given directly (the legacy ``Experiment(tuner, 'local')`` form)
        self.tuner: Any = tuner
        self.assessor: Any = assessor
        # parameter id -> parameters, for every suggestion of this run and every resumed trial
        self._parameters: dict[Any, Any] = {}
        self._resumed_ids: set[Any] = set()
        self._histories: dict[str, dict[int, Any]] = {}
        self._ended_trials: set[str] = set()
        self.failed = False
        # advisor mode (Hyperband, BOHB, NNI-style advisors): see "advisors" below
        self._advisor: Any = None
        self._advisor_in_flight: set[str] = set()
        self._advisor_held_no = False
        self._advisor_sent_initialized = False

    # engine side -------------------------------------------------------------------------

    def start(self) -> None:
        """Start the worker; it builds the algorithms first (which may import heavy libraries)."""
        self._thread.start()

    def command(self, code: str, content: str = '') -> None:
        """Queue one command for the algorithms."""
        with self._unhandled_lock:
            self._unhandled += 1
        self._commands.put((code, content))

    @property
    def busy(self) -> bool:
        """Whether commands are still queued or being handled (an answer, even a new trial, may come)."""
        return self._unhandled > 0 and self._thread.is_alive() and not self.failed

    def stop(self, timeout: float = 30.0) -> None:
        """Send ``TE`` and wait for the worker to finish the command in hand."""
        if self._thread.is_alive():
            self._commands.put(('TE', ''))
            self._thread.join(timeout)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    # worker side -------------------------------------------------------------------------

    def _run(self) -> None:
        try:
            self._create_algorithms()
        except Exception:  # noqa: BLE001 - any failure of user code must reach the user
            self._fail('cannot create the tuner/assessor', traceback.format_exc())
            return
        while True:
            code, content = self._commands.get()
            if code == 'TE':
                self._on_exit()
                return
            try:
                self._handle(code, content)
            except Exception:  # noqa: BLE001
                self._fail(f'the tuner/assessor raised while handling command {code}', traceback.format_exc())
                return
            finally:
                with self._unhandled_lock:
                    self._unhandled -= 1
                    idle = self._unhandled == 0
                if idle and self._on_idle is not None:
                    self._on_idle()

    def _fail(self, what: str, trace: str) -> None:
        self.failed = True
        _logger.error('%s:\n%s', what, trace)
        for algorithm in (self.tuner, self.assessor):
            hook = getattr(algorithm, '_on_error', None)
            if callable(hook):
                try:
                    hook()
                except Exception:  # noqa: BLE001
                    _logger.exception('_on_error hook raised')
        self._send('ER', f'{what}:\n{trace}')

    def _on_exit(self) -> None:
        for algorithm in (self.tuner, self.assessor):
            hook = getattr(algorithm, '_on_exit', None)
            if callable(hook):
                try:
                    hook()
                except Exception:  # noqa: BLE001
                    _logger.exception('_on_exit hook raised')

    def _create_algorithms(self) -> None:
        from nni.algorithms.hpo.registry import create_algorithm

        if self.tuner is None:
            if not self._tuner_config:
                raise AlgorithmError('the config has no tuner')
            self.tuner = create_algorithm(self._tuner_config, 'tuner')
        if self.tuner is None:
            raise AlgorithmError('the tuner class returned no instance')
        if _is_advisor(self.tuner):
            self._attach_advisor()
            return
        if self.assessor is None and self._assessor_config:
            self.assessor = create_algorithm(self._assessor_config, 'assessor')
        _logger.info('tuner %s ready%s', type(self.tuner).__name__,
                     f', assessor {type(self.assessor).__name__}' if self.assessor is not None else '')

    def _handle(self, code: str, content: str) -> None:
        if self._advisor is not None:
            self._handle_for_advisor(code, content)
            return
        handler = _HANDLERS.get(code)
        if handler is None:
            raise AlgorithmError(f'unknown dispatcher command {code!r}')
        handler(self, content)

    def _handle_initialize(self, content: str) -> None:
        self.tuner.update_search_space(json.loads(content))
        self._send('ID', '')

    def _handle_update_search_space(self, content: str) -> None:
        self.tuner.update_search_space(json.loads(content))

    def _handle_request_trials(self, content: str) -> None:
        from nni._errors import NoMoreTrialError

        count = int(content)
        ids = list(range(self._next_id, self._next_id + count))
        self._next_id += count
        try:
            generated = self.tuner.generate_multiple_parameters(ids, st_callback=self._send_trial)
        except NoMoreTrialError:
            generated = []
        generated = list(generated or [])
        for parameter_id, parameters in zip(ids, generated, strict=False):
            self._send_trial(parameter_id, parameters)
        if len(generated) < count:
            self._send('NO', '')

    def _send_trial(self, parameter_id: Any, parameters: Any, **_: Any) -> None:
        self._parameters[parameter_id] = parameters
        record = {'parameter_id': parameter_id, 'parameter_source': 'algorithm', 'parameters': parameters,
                  'parameter_index': 0}
        self._send('TR', json.dumps(record))

    def _handle_report_metric(self, content: str) -> None:
        envelope = json.loads(content)
        metric_type = envelope.get('type')
        parameter_id = envelope.get('parameter_id')
        trial_job_id = envelope.get('trial_job_id')
        if metric_type == 'FINAL':
            self._give_final_result(parameter_id, _decode_metric_value(envelope.get('value')), trial_job_id)
        elif metric_type == 'PERIODICAL':
            if self.assessor is not None and parameter_id not in self._resumed_ids:
                self._assess(trial_job_id, int(envelope.get('sequence', 0)),
                             _decode_metric_value(envelope.get('value')), parameter_id)
        elif metric_type == 'REQUEST_PARAMETER':
            _logger.warning('trial %s asked for another parameter set; multi-phase is not supported',
                            trial_job_id)
        else:
            raise AlgorithmError(f'unknown metric type {metric_type!r} from trial {trial_job_id}')

    def _give_final_result(self, parameter_id: Any, value: Any, trial_job_id: str | None) -> None:
        if parameter_id in self._resumed_ids:
            # a trial of an earlier run finished after the resume: its suggestion predates this
            # tuner, so it joins the history the same way the other earlier results did
            self.tuner.import_data([{'parameter': self._parameters[parameter_id], 'value': value}])
        elif parameter_id in self._parameters:
            self.tuner.receive_trial_result(parameter_id, self._parameters[parameter_id], value,
                                            customized=False, trial_job_id=trial_job_id)
        else:
            _logger.warning('final result of trial %s has unknown parameter id %r; ignored', trial_job_id,
                            parameter_id)

    def _assess(self, trial_job_id: str, sequence: int, value: Any, parameter_id: Any) -> None:
        from nni.assessor import AssessResult

        if trial_job_id in self._ended_trials:
            return
        history = self._histories.setdefault(trial_job_id, {})
        history[sequence] = value
        ordered = []
        while len(ordered) in history:
            ordered.append(history[len(ordered)])
        if len(ordered) <= sequence:
            return  # a gap: wait for the missing results before judging
        result = self.assessor.assess_trial(trial_job_id, ordered)
        if isinstance(result, bool):
            result = AssessResult.Good if result else AssessResult.Bad
        if not isinstance(result, AssessResult):
            raise AlgorithmError(f'assess_trial returned {result!r}; expected an AssessResult or a bool')
        if result is AssessResult.Bad:
            _logger.info('assessor stops trial %s after %d results', trial_job_id, len(ordered))
            self._send('KI', json.dumps(trial_job_id))
            # judged once: later results of a trial being stopped get no second KI (NNI sends one per result)
            self._ended_trials.add(trial_job_id)
            if self._include_intermediate:
                self._give_final_result(parameter_id, value, trial_job_id)

    def _handle_trial_end(self, content: str) -> None:
        data = json.loads(content)
        trial_job_id = data['trial_job_id']
        success = data.get('event') == 'SUCCEEDED'
        try:
            parameter_id = json.loads(data.get('hyper_params') or '{}').get('parameter_id')
        except (ValueError, AttributeError):
            parameter_id = None
        self._ended_trials.add(trial_job_id)
        if self._histories.pop(trial_job_id, None) is not None and self.assessor is not None:
            self.assessor.trial_end(trial_job_id, success)
        if self.tuner is None:
            return  # an assessor driven alone, as NNI's MsgDispatcher allows
        if parameter_id in self._resumed_ids and not getattr(self.tuner, 'tracks_resumed_trials', False):
            # an earlier run's suggestion: a tuner that did not make it would not know the id
            return
        self.tuner.trial_end(parameter_id, success)

    def _handle_import_data(self, content: str) -> None:
        data = json.loads(content)
        entries = []
        for entry in data:
            if isinstance(entry, str):
                entry = json.loads(entry)
            entry = dict(entry)
            entry['value'] = _decode_metric_value(entry.get('value'))
            entries.append(entry)
        if entries:
            _logger.info('giving the tuner %d earlier result(s) as history (import_data)', len(entries))
            self.tuner.import_data(entries)

    def _handle_add_resumed(self, content: str) -> None:
        records = json.loads(content) if content else []
        recover = getattr(self.tuner, 'recover_parameter_id', None)
        if callable(recover) and records:
            # NNI tuners written against Recoverable read recovered_trial_params from here
            recover(records)
        for record in records:
            if isinstance(record, str):
                record = json.loads(record)
            parameter_id = record.get('parameter_id')
            if parameter_id is None:
                continue
            self._parameters[parameter_id] = record.get('parameters')
            self._resumed_ids.add(parameter_id)
            if isinstance(parameter_id, int) and parameter_id >= self._next_id:
                self._next_id = parameter_id + 1

    def _handle_ping(self, content: str) -> None:
        pass

    # advisors ------------------------------------------------------------------------------
    #
    # An advisor (Hyperband, BOHB, or a user class written against NNI's MsgDispatcherBase)
    # plays tuner and assessor at once: it gets the commands themselves through its
    # ``handle_*`` methods and answers with ``send(command, content)``, which is pointed at
    # the engine here. Two things are added around it:
    # * ``NO`` is held back while trials the advisor started are still running: an advisor
    #   waiting for a round to finish says "nothing now" but sends more trials when one ends,
    #   and the engine would otherwise take "nothing now and nothing running" as the end.
    # * parameter ids are opaque (Hyperband uses strings); nothing compares them with ints.

    def _attach_advisor(self) -> None:
        self._advisor = self.tuner
        if self._assessor_config:
            _logger.warning('the tuner is an advisor, which does its own early stopping; '
                            'the configured assessor is not used')
        # an instance attribute wins over the class's send(); NNI's advisors call self.send(...)
        self._advisor.send = self._send_from_advisor
        if os.environ.get('NNI_MODE') == 'resume':
            load = getattr(self._advisor, 'load_checkpoint', None)
            if callable(load):
                load()
        _logger.info('advisor %s ready', type(self._advisor).__name__)

    def _send_from_advisor(self, command: Any, content: Any = '') -> None:
        code = str(getattr(command, 'value', command))
        if not isinstance(content, str):
            content = json.dumps(content)
        if code == 'ID':
            self._advisor_sent_initialized = True
        elif code == 'TR':
            self._advisor_held_no = False
            self._advisor_in_flight.add(_id_key(_parameter_id_of(content)))
        elif code == 'NO' and self._advisor_in_flight:
            self._advisor_held_no = True
            return
        self._send(code, content)

    def _handle_for_advisor(self, code: str, content: str) -> None:
        advisor = self._advisor
        if code == 'IN':
            advisor.handle_initialize(json.loads(content))
            if not self._advisor_sent_initialized:
                self._send_from_advisor('ID', '')
        elif code == 'SS':
            advisor.handle_update_search_space(json.loads(content))
        elif code == 'GE':
            advisor.handle_request_trial_jobs(int(content))
        elif code == 'ME':
            advisor.handle_report_metric_data(json.loads(content))
        elif code == 'EN':
            data = json.loads(content)
            advisor.handle_trial_end(data)
            self._advisor_in_flight.discard(_id_key(_parameter_id_of(data.get('hyper_params'))))
            if self._advisor_held_no and not self._advisor_in_flight:
                self._advisor_held_no = False
                self._send('NO', '')
        elif code == 'FD':
            entries = [json.loads(e) if isinstance(e, str) else dict(e) for e in json.loads(content)]
            for entry in entries:
                entry['value'] = _decode_metric_value(entry.get('value'))
            advisor.handle_import_data(entries)
        elif code == 'AD':
            records = [json.loads(r) if isinstance(r, str) else r for r in (json.loads(content) if content else [])]
            for record in records:
                if record.get('parameter_id') is not None:
                    self._advisor_in_flight.add(_id_key(record['parameter_id']))
            handler = getattr(advisor, 'handle_add_customized_trial', None)
            if callable(handler):
                handler(records)
        elif code == 'PI':
            handler = getattr(advisor, 'handle_ping', None)
            if callable(handler):
                handler(content)
        else:
            raise AlgorithmError(f'unknown dispatcher command {code!r}')


def _is_advisor(algorithm: Any) -> bool:
    """An advisor answers the commands itself (NNI: a ``MsgDispatcherBase`` subclass)."""
    return all(callable(getattr(algorithm, name, None)) for name in (
        'handle_initialize', 'handle_request_trial_jobs', 'handle_report_metric_data', 'handle_trial_end'))


def _parameter_id_of(packed: Any) -> Any:
    """The ``parameter_id`` of a packed parameter record (a dict or its JSON text), else ``None``."""
    if isinstance(packed, str):
        try:
            packed = json.loads(packed)
        except ValueError:
            return None
    return packed.get('parameter_id') if isinstance(packed, dict) else None


def _id_key(parameter_id: Any) -> str:
    # ids are opaque JSON values; their JSON text is a type-safe key (no str/int comparisons)
    return json.dumps(parameter_id)


_HANDLERS: dict[str, Callable[[Dispatcher, str], None]] = {
    'IN': Dispatcher._handle_initialize,
    'SS': Dispatcher._handle_update_search_space,
    'GE': Dispatcher._handle_request_trials,
    'ME': Dispatcher._handle_report_metric,
    'EN': Dispatcher._handle_trial_end,
    'FD': Dispatcher._handle_import_data,
    'AD': Dispatcher._handle_add_resumed,
    'PI': Dispatcher._handle_ping,
}


# NNI's Python API ----------------------------------------------------------------------------
#
# ``MsgDispatcher`` and ``_pack_parameter`` keep NNI's names for code (and NNI's tests) that drive
# a dispatcher by hand. The commands are handled by the ``Dispatcher`` above; this layer only
# adapts NNI's object interface (channel, worker threads, ``handle_*`` methods, ``send``).

def _pack_parameter(parameter_id: Any, params: Any, customized: bool = False, trial_job_id: str | None = None,
                    parameter_index: int | None = None) -> str:
    """The JSON record of one suggestion, as the manager stores it and a trial receives it.

    Parameters
    ----------
    parameter_id
        Id of the suggestion.
    params
        The parameters.
    customized
        ``parameter_source`` is ``'customized'`` instead of ``'algorithm'``.
    trial_job_id, parameter_index
        Added when given (``parameter_index`` defaults to 0).

    Returns
    -------
    str
        ``{"parameter_id", "parameter_source", "parameters", "parameter_index"[, "trial_job_id"]}``.
    """
    record: dict[str, Any] = {
        'parameter_id': parameter_id,
        'parameter_source': 'customized' if customized else 'algorithm',
        'parameters': params,
    }
    if trial_job_id is not None:
        record['trial_job_id'] = trial_job_id
    record['parameter_index'] = 0 if parameter_index is None else parameter_index
    return json.dumps(record)


class MsgDispatcher(MsgDispatcherBase):
    """NNI's dispatcher of one tuner and an optional assessor.

    Parameters
    ----------
    command_channel_url
        See :class:`~nni.runtime.msg_dispatcher_base.MsgDispatcherBase`.
    tuner
        A :class:`nni.tuner.Tuner` (``None`` for an assessor alone).
    assessor
        A :class:`nni.assessor.Assessor`, or ``None``.
    """

    def __init__(self, command_channel_url: str | None, tuner: Any, assessor: Any = None) -> None:
        super().__init__(command_channel_url)
        self.tuner = tuner
        self.assessor = assessor
        self._core = Dispatcher(None, None, self._send_code, tuner=tuner, assessor=assessor,
                                include_intermediate_results=os.environ.get(
                                    'NNI_INCLUDE_INTERMEDIATE_RESULTS') == 'true')

    def _send_code(self, code: str, content: str) -> None:
        self.send(CommandType(code), content)

    def load_checkpoint(self) -> None:
        for algorithm in (self.tuner, self.assessor):
            if algorithm is not None:
                algorithm.load_checkpoint()

    def save_checkpoint(self) -> None:
        for algorithm in (self.tuner, self.assessor):
            if algorithm is not None:
                algorithm.save_checkpoint()

    def handle_initialize(self, data: Any) -> None:
        self._core._handle_initialize(json.dumps(data))

    def handle_request_trial_jobs(self, data: Any) -> None:
        self._core._handle_request_trials(str(data))

    def handle_update_search_space(self, data: Any) -> None:
        self._core._handle_update_search_space(json.dumps(data))

    def handle_import_data(self, data: Any) -> None:
        self._core._handle_import_data(json.dumps(data))

    def handle_add_customized_trial(self, data: Any) -> None:
        self._core._handle_add_resumed(json.dumps(data))

    def handle_report_metric_data(self, data: Any) -> None:
        self._core._handle_report_metric(json.dumps(data))

    def handle_trial_end(self, data: Any) -> None:
        self._core._handle_trial_end(json.dumps(data))
