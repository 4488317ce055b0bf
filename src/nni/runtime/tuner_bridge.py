"""Runs a tuner object of the launching process for a manager (legacy ``Experiment(tuner, ...)``).

NNI's launch-from-Python documentation builds the tuner in the user's script
(``HyperoptTuner('tpe')``) and hands it to ``Experiment``. The manager then queues dispatcher
commands for it; this bridge fetches them (``GET /tuner/commands``, long poll), runs them
through a :class:`~nni.runtime.msg_dispatcher.Dispatcher` holding the user's tuner, and posts
the answers back (``POST /tuner/answers``). Both requests carry the experiment token.
"""

from __future__ import annotations

import http.client
import json
import logging
import threading
import time
from typing import Any

from .msg_dispatcher import Dispatcher

_logger = logging.getLogger('nni.tuner_bridge')

POLL_WAIT_S = 1.0


class TunerBridge:
    """Connects an in-process tuner (and optional assessor) to a running manager.

    Parameters
    ----------
    port, url_prefix
        Where the manager listens (on loopback).
    token
        The experiment token (``<experiment dir>/db/token``).
    tuner, assessor
        The algorithm objects; they run in a worker thread of this process.
    """

    def __init__(self, port: int, url_prefix: str | None, token: str, tuner: Any, assessor: Any = None) -> None:
        prefix = f'/{url_prefix.strip("/")}' if url_prefix and url_prefix.strip('/') else ''
        self._base = f'{prefix}/tuner'
        self._port = port
        self._token = token
        self._stop = threading.Event()
        self._answers_lock = threading.Lock()
        self._dispatcher = Dispatcher(None, None, self._send_answer, tuner=tuner, assessor=assessor)
        self._poller = threading.Thread(target=self._poll, name='nni-tuner-bridge', daemon=True)

    def start(self) -> None:
        """Start the algorithm thread and the command poller."""
        self._dispatcher.start()
        self._poller.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop polling and stop the algorithms after the command in hand."""
        self._stop.set()
        self._dispatcher.stop(timeout)
        if self._poller.is_alive() and threading.current_thread() is not self._poller:
            self._poller.join(timeout)

    def _request(self, method: str, path: str, body: bytes | None, timeout: float) -> tuple[int, bytes]:
        connection = http.client.HTTPConnection('127.0.0.1', self._port, timeout=timeout)
        try:
            headers = {'X-NNI-Token': self._token, 'Content-Type': 'application/json'}
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            return response.status, response.read()
        finally:
            connection.close()

    def _poll(self) -> None:
        failures = 0
        while not self._stop.is_set():
            try:
                status, body = self._request('GET', f'{self._base}/commands?wait={POLL_WAIT_S}', None,
                                             timeout=POLL_WAIT_S + 10)
            except OSError as error:
                failures += 1
                if failures > 5:
                    _logger.warning('manager unreachable, in-process tuner stops: %s', error)
                    break
                time.sleep(0.5 * failures)
                continue
            if status != 200:
                _logger.warning('manager answered %d to the tuner poll; in-process tuner stops', status)
                break
            failures = 0
            for code, content in json.loads(body):
                if code == 'TE':
                    self._stop.set()
                    break
                self._dispatcher.command(code, content)
        self._dispatcher.stop(10.0)

    def _send_answer(self, code: str, content: str) -> None:
        body = json.dumps([[code, content]]).encode()
        with self._answers_lock:
            for attempt in range(5):
                try:
                    status, reply = self._request('POST', f'{self._base}/answers', body, timeout=20)
                except OSError as error:
                    _logger.warning('cannot send %s to the manager (try %d): %s', code, attempt + 1, error)
                    time.sleep(0.2 * (attempt + 1))
                    continue
                if status != 200:
                    _logger.error('manager refused tuner answer %s: %d %s', code, status, reply[:200])
                return
