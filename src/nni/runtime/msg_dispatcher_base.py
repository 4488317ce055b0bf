"""NNI's dispatcher base class (``nni.runtime.msg_dispatcher_base.MsgDispatcherBase``).

Advisors written for NNI subclass it and implement the ``handle_*`` methods, answering with
``self.send(CommandType..., payload)``. In our manager such an advisor runs in the manager's
dispatcher thread (:class:`nni.runtime.msg_dispatcher.Dispatcher` calls its ``handle_*`` methods
and points ``send`` at the engine), so the channel and worker threads below are only used when
the object drives itself with :meth:`MsgDispatcherBase.run`, as NNI's dispatcher process and
NNI's unit tests do.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from queue import Empty, Queue
from typing import Any

from nni.recoverable import Recoverable

from .tuner_command_channel import CommandType, TunerCommandChannel

__all__ = ['MsgDispatcherBase']

_logger = logging.getLogger(__name__)

#: A queue this long is logged: the algorithms are falling behind the manager.
QUEUE_LEN_WARNING_MARK = 20
#: When ``run()`` ends, workers drop the commands still queued (``False``: finish them first).
_worker_fast_exit_on_terminate = True

# commands that go to the assessor's worker, so a slow tuner never delays early stopping
_ASSESSOR_COMMANDS = (CommandType.TrialEnd, CommandType.ReportMetricData)


class MsgDispatcherBase(Recoverable):
    """Receives dispatcher commands and calls the matching ``handle_*`` method.

    Parameters
    ----------
    command_channel_url
        ``ws://...`` address of the manager's tuner channel; default: ``NNI_TUNER_COMMAND_CHANNEL``.
        An address starting with ``ws://_unittest_`` is not connected (tests set ``_channel``
        themselves), nor is a missing one (the object is then driven by our manager).
    """

    def __init__(self, command_channel_url: str | None = None) -> None:
        super().__init__()
        self.stopping = False
        if command_channel_url is None:
            command_channel_url = os.environ.get('NNI_TUNER_COMMAND_CHANNEL')
        self._channel: Any = TunerCommandChannel(command_channel_url) if command_channel_url else None
        if command_channel_url and not command_channel_url.startswith('ws://_unittest_'):
            self._channel.connect()
        self.default_command_queue: Queue[tuple[CommandType, Any]] = Queue()
        self.assessor_command_queue: Queue[tuple[CommandType, Any]] = Queue()
        self.default_worker = threading.Thread(target=self.command_queue_worker,
                                               args=(self.default_command_queue,), daemon=True)
        self.assessor_worker = threading.Thread(target=self.command_queue_worker,
                                                args=(self.assessor_command_queue,), daemon=True)
        self.worker_exceptions: list[BaseException] = []

    def run(self) -> None:
        """Serve commands from the channel until it closes, ``TE`` arrives or a handler raises."""
        self.default_worker.start()
        self.assessor_worker.start()
        if os.environ.get('NNI_MODE') == 'resume':
            self.load_checkpoint()
        while not self.stopping:
            command, data = self._channel._receive()
            if command is None or command is CommandType.Terminate:
                break
            self.enqueue_command(command, json.loads(data) if data else data)
            if self.worker_exceptions:
                break
        self.stopping = True
        self.default_worker.join()
        self.assessor_worker.join()
        self._channel.disconnect()

    def report_error(self, error: str) -> None:
        """Tell the manager about an error (``ER``); a broken channel is logged, not raised."""
        try:
            self.send(CommandType.Error, error)
        except Exception:  # noqa: BLE001 - nothing left to report it to
            _logger.error('cannot report an error to the manager: %s', error)

    def send(self, command: CommandType, data: str) -> None:
        """Send one command to the manager."""
        self._channel._send(command, data)

    def command_queue_worker(self, command_queue: Queue[tuple[CommandType, Any]]) -> None:
        """Process the commands of one queue until stopped; the first exception ends the worker."""
        while True:
            try:
                command, data = command_queue.get(timeout=0.2)
            except Empty:
                pass
            else:
                try:
                    self.process_command(command, data)
                except Exception as error:  # noqa: BLE001 - kept for run() and the caller to see
                    _logger.exception('dispatcher command %s failed', command)
                    self.worker_exceptions.append(error)
                    return
            if self.stopping and (_worker_fast_exit_on_terminate or command_queue.empty()):
                return

    def enqueue_command(self, command: CommandType, data: Any) -> None:
        """Queue a command for the worker that handles it (the assessor's or the default one)."""
        to_assessor = command is CommandType.TrialEnd or (
            command is CommandType.ReportMetricData and isinstance(data, dict) and data.get('type') == 'PERIODICAL')
        target = self.assessor_command_queue if to_assessor else self.default_command_queue
        target.put((command, data))
        if target.qsize() >= QUEUE_LEN_WARNING_MARK:
            _logger.warning('%s queue length: %d', 'assessor' if to_assessor else 'default', target.qsize())

    def process_command(self, command: CommandType, data: Any) -> None:
        """Call the ``handle_*`` method of one command.

        Raises
        ------
        AssertionError
            ``Unsupported command: ...`` for a command a dispatcher never receives.
        """
        handlers = {
            CommandType.Initialize: self.handle_initialize,
            CommandType.RequestTrialJobs: self.handle_request_trial_jobs,
            CommandType.UpdateSearchSpace: self.handle_update_search_space,
            CommandType.ImportData: self.handle_import_data,
            CommandType.AddCustomizedTrialJob: self.handle_add_customized_trial,
            CommandType.ReportMetricData: self.handle_report_metric_data,
            CommandType.TrialEnd: self.handle_trial_end,
            CommandType.Ping: self.handle_ping,
        }
        handler = handlers.get(command)
        if handler is None:
            raise AssertionError(f'Unsupported command: {command}')
        handler(data)

    def handle_ping(self, data: Any) -> None:
        """A keep-alive; nothing to do."""

    def handle_initialize(self, data: Any) -> None:
        """Take the search space (``data``) and answer ``send(CommandType.Initialized, '')``."""
        raise NotImplementedError('handle_initialize not implemented')

    def handle_request_trial_jobs(self, data: Any) -> None:
        """Send ``data`` (an int) trials, each as ``send(CommandType.NewTrialJob, packed_parameters)``."""
        raise NotImplementedError('handle_request_trial_jobs not implemented')

    def handle_update_search_space(self, data: Any) -> None:
        """Take a new search space (``data``)."""
        raise NotImplementedError('handle_update_search_space not implemented')

    def handle_import_data(self, data: Any) -> None:
        """Take earlier results: a list of ``{'parameter': ..., 'value': ...}``."""
        raise NotImplementedError('handle_import_data not implemented')

    def handle_add_customized_trial(self, data: Any) -> None:
        """Take trials added by hand (or resumed): their packed parameter records."""
        raise NotImplementedError('handle_add_customized_trial not implemented')

    def handle_report_metric_data(self, data: Any) -> None:
        """Take a metric: a dict with ``parameter_id``, ``trial_job_id``, ``type``, ``sequence``, ``value``."""
        raise NotImplementedError('handle_report_metric_data not implemented')

    def handle_trial_end(self, data: Any) -> None:
        """Take a trial's end: a dict with ``trial_job_id``, ``event`` and ``hyper_params``."""
        raise NotImplementedError('handle_trial_end not implemented')
