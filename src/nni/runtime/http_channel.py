"""Trial side of the HTTP trial channel (docs/internals.md, "Trial channel").

* First parameters: ``NNI_SYS_DIR/parameter.cfg``, written before launch, so no round trip. Only if
  that file is missing does the trial ``GET`` the channel URL (long poll: 408 = ask again,
  410 = closed).
* Metrics: one ``PUT`` each, body ``{"type": "metric", "metric": "<envelope json>"}``, header
  ``X-NNI-Token``, over one kept-alive HTTP/1.1 connection.
* When the manager cannot be reached, the trial first looks for ``NNI_SYS_DIR/.nni/manager-url``:
  a resumed manager that took the trial over writes its own channel URL there (it may listen on
  another port), and the request is sent there instead.
* When the manager still cannot be reached (connection error, timeout, non-2xx answer) the envelope is
  appended to ``NNI_SYS_DIR/.nni/metrics``; the manager ingests that file when the trial ends, so no
  metric is lost. The exception is 400: the manager refused the metric itself, and the trial gets a
  ``ValueError`` with the manager's message.
"""

from __future__ import annotations

import os

from nni.runtime.trial_command_channel.base import TrialCommandChannel

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from nni.runtime.mini_http import Connection

__all__ = ['HttpTrialCommandChannel']

#: Seconds a request may take (connect, send, answer) before the manager counts as unreachable.
REQUEST_TIMEOUT = 15.0
#: After a failed delivery, metrics go straight to the file for this many seconds, so that an
#: unreachable manager costs one timeout, not one per metric.
OFFLINE_COOLDOWN = 5.0
#: How many times a parameter request is retried when the manager cannot be reached at all.
PARAMETER_CONNECT_RETRIES = 10


def _split_http_url(url: str) -> tuple[str, int, str]:
    """(host, port, path) of an ``http://`` URL; parsed by hand to keep ``urllib`` out of trials."""
    if not url.startswith('http://'):
        raise ValueError(f'NNI_TRIAL_COMMAND_CHANNEL must be an http:// URL, got {url!r}')
    rest = url[len('http://'):]
    authority, slash, path = rest.partition('/')
    path = slash + path if slash else '/'
    if authority.startswith('['):  # [::1]:8080
        host, _, port_text = authority[1:].partition(']')
        port_text = port_text.lstrip(':')
    else:
        host, _, port_text = authority.rpartition(':') if ':' in authority else (authority, '', '')
    if not host:
        raise ValueError(f'NNI_TRIAL_COMMAND_CHANNEL has no host: {url!r}')
    try:
        port = int(port_text) if port_text else 80
    except ValueError:
        raise ValueError(f'NNI_TRIAL_COMMAND_CHANNEL has a bad port: {url!r}') from None
    return host, port, path


class _Unreachable(Exception):
    """The manager did not take the request; the message says why."""


class HttpTrialCommandChannel(TrialCommandChannel):
    """Trial command channel speaking HTTP to the manager.

    Parameters
    ----------
    url
        ``NNI_TRIAL_COMMAND_CHANNEL``, e.g. ``http://127.0.0.1:8080/env/local-env/Ab3xZ``.
    token
        ``NNI_TRIAL_TOKEN``, sent as ``X-NNI-Token`` on every request.
    sys_dir
        ``NNI_SYS_DIR``: where ``parameter.cfg`` is read and ``.nni/metrics`` written.
    timeout
        Seconds one request may take.
    """

    def __init__(self, url: str, *, token: str | None = None, sys_dir: str | None = None,
                 timeout: float = REQUEST_TIMEOUT) -> None:
        host, port, path = _split_http_url(url)
        self.url = url
        self.token = token
        self.sys_dir = sys_dir
        self.timeout = timeout
        self._host = host
        self._port = port
        self._path = path
        self._headers = {'Content-Type': 'application/json', 'Accept': 'application/json'}
        if token:
            self._headers['X-NNI-Token'] = token
        self._conn: Connection | None = None
        self._conn_pid = 0
        self._offline_until = 0.0
        self._served = False
        # _thread rather than threading: the trial must not pay for importing threading
        import _thread

        self._lock = _thread.allocate_lock()

    # -- connection ---------------------------------------------------------------------------

    def _connection(self) -> Connection:
        # A forked child must not write into its parent's socket: give it its own connection.
        if self._conn is None or self._conn_pid != os.getpid():
            from nni.runtime.mini_http import Connection

            self._conn = Connection(self._host, self._port, timeout=self.timeout)
            self._conn_pid = os.getpid()
        return self._conn

    def close(self) -> None:
        """Close the kept-alive connection (a later request opens a new one)."""
        with self._lock:
            self._drop_connection()

    def _drop_connection(self) -> None:
        if self._conn is not None and self._conn_pid == os.getpid():
            self._conn.close()
        self._conn = None

    def _request(self, method: str, body: bytes | None = None) -> tuple[int, bytes]:
        """Send one request and read the whole answer; follows a resumed manager to its new URL."""
        try:
            return self._request_once(method, body)
        except _Unreachable:
            if not self._follow_new_manager():
                raise
            return self._request_once(method, body)

    def _follow_new_manager(self) -> bool:
        """Switch to the URL a resumed manager left in ``.nni/manager-url``; whether it changed."""
        if self.sys_dir is None:
            return False
        try:
            with open(os.path.join(self.sys_dir, '.nni', 'manager-url'), encoding='utf-8') as handle:
                url = handle.read().strip()
        except OSError:
            return False
        if not url or url == self.url:
            return False
        try:
            host, port, path = _split_http_url(url)
        except ValueError:
            return False
        self._drop_connection()
        self.url, self._host, self._port, self._path = url, host, port, path
        self._offline_until = 0.0
        return True

    def _request_once(self, method: str, body: bytes | None = None) -> tuple[int, bytes]:
        """Send one request and read the whole answer (which keeps the connection reusable)."""
        from nni.runtime.mini_http import HttpError, StaleConnection

        for attempt in (1, 2):
            conn = self._connection()
            try:
                return conn.request(method, self._path, body, self._headers)
            except StaleConnection as exc:
                self._drop_connection()
                # The manager may close an idle kept-alive connection at any time; the request then
                # dies before reaching it. Try once more on a fresh connection before giving up.
                if attempt == 1:
                    continue
                raise _Unreachable(f'{type(exc).__name__}: {exc}') from exc
            except HttpError as exc:
                self._drop_connection()
                raise _Unreachable(str(exc)) from exc
        raise AssertionError('unreachable')  # pragma: no cover - the loop always returns or raises

    # -- parameters ---------------------------------------------------------------------------

    def receive_parameter(self) -> dict[str, Any] | None:
        """Return the trial's parameter record on the first call, ``None`` afterwards.

        Raises
        ------
        OSError
            The manager could not be reached or answered with an unexpected status.
        """
        with self._lock:
            if self._served:
                return None
            record = None
            if self.sys_dir is not None:
                from nni.runtime.file_channel import read_parameter_file

                record = read_parameter_file(os.path.join(self.sys_dir, 'parameter.cfg'))
            if record is None:
                record = self._request_parameter()
            self._served = True
            return record

    def _request_parameter(self) -> dict[str, Any] | None:
        import time

        from nni.runtime.lean_json import loads
        from nni.runtime.serialization import load

        failures = 0
        while True:
            try:
                status, data = self._request('GET')
            except _Unreachable as exc:
                failures += 1
                if failures > PARAMETER_CONNECT_RETRIES:
                    raise OSError(f'cannot reach the NNI manager at {self.url} to get parameters: {exc}') from None
                time.sleep(min(0.2 * 2 ** failures, 3.0))
                continue
            failures = 0
            if status == 408:  # nothing queued yet: the manager's long poll timed out
                continue
            if status == 410:  # the channel is closed: no parameters will come
                return None
            if status != 200:
                raise OSError(f'NNI manager answered HTTP {status} to a parameter request at {self.url}: '
                              f'{data[:200].decode("utf-8", "replace")}')
            command = loads(data)
            if not isinstance(command, dict) or command.get('type') != 'parameter':
                self._log().debug('ignoring command while waiting for parameters: %.200s', data)
                continue
            record = command.get('parameter')
            if isinstance(record, (str, bytes)):
                record = load(record)
            if not isinstance(record, dict) or 'parameters' not in record:
                raise OSError(f'NNI manager sent a malformed parameter record: {str(record)[:200]}')
            return record

    # -- metrics ------------------------------------------------------------------------------

    def send_metric(self, type: str, parameter_id: Any, trial_job_id: str | None, sequence: int,
                    value: Any) -> None:
        """PUT one metric; on failure append it to ``.nni/metrics`` instead.

        Raises
        ------
        ValueError
            The manager answered 400: it refused the metric itself.
        OSError
            Neither the manager nor the metrics file could take the metric.
        """
        import time

        from nni.runtime.lean_json import dumps
        from nni.runtime.metric import encode_envelope

        envelope = encode_envelope(type, parameter_id, trial_job_id, sequence, value)
        body = dumps({'type': 'metric', 'metric': envelope}).encode('utf-8')
        with self._lock:
            if time.monotonic() >= self._offline_until or self._follow_new_manager():
                try:
                    status, data = self._request('PUT', body)
                    if 200 <= status < 300:
                        return
                    if status == 400:
                        # The manager read the metric and refused it: the file would be refused too,
                        # so the trial must hear why (as it does for metrics it checks itself).
                        raise ValueError('the NNI manager refused the metric: '
                                         f'{data[:500].decode("utf-8", "replace")}')
                    raise _Unreachable(f'HTTP {status}: {data[:200].decode("utf-8", "replace")}')
                except _Unreachable as exc:
                    self._offline_until = time.monotonic() + OFFLINE_COOLDOWN
                    reason = str(exc)
            else:
                reason = None
            self._save(envelope, reason)

    def _save(self, envelope: str, reason: str | None) -> None:
        from nni.runtime.file_channel import append_metric_record

        try:
            path = append_metric_record(self.sys_dir, envelope)
        except OSError as exc:
            why = reason or 'it failed moments ago'
            raise OSError(f'metric lost: the NNI manager at {self.url} is unreachable ({why}) '
                          f'and the metrics file cannot be written ({exc})') from exc
        if reason is not None:
            self._log().warning('cannot deliver metric to the NNI manager at %s (%s); saved to %s',
                                self.url, reason, path)

    @staticmethod
    def _log() -> Any:
        import logging

        from nni.runtime import log

        log.setup_trial_logging()  # deferred until there is something to log (idempotent)
        return logging.getLogger('nni.runtime.http_channel')
