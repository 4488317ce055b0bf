"""
Client side of the manager's REST API (``/api/v1/nni/...``).

Only the standard library is used (``http.client``), one connection per request, 20 s timeout.
URLs are ``http://127.0.0.1:{port}/{prefix}/api/v1/nni/{api}`` with each part stripped of ``/`` and
empty parts left out. The manager binds 127.0.0.1 by default, and using the address rather than
``localhost`` avoids an IPv6 attempt first.

The argument order of :func:`post` and :func:`put` is NNI's (``port, api, data, prefix``); ``body=`` is
accepted as a keyword alias of ``data``. ``token=`` adds the experiment's secret as header ``X-NNI-Token``,
which a manager bound beyond loopback requires on mutating calls (``docs/internals.md``).
"""

from __future__ import annotations

import http.client
import json
import logging
from typing import Any

__all__ = ['TIMEOUT', 'TOKEN_HEADER', 'RestError', 'build_path', 'delete', 'get', 'post', 'put', 'request']

_logger = logging.getLogger('nni.experiment.rest')

#: Seconds allowed for one request (connect + answer), as NNI.
TIMEOUT = 20.0

#: Header carrying the experiment's secret.
TOKEN_HEADER = 'X-NNI-Token'

_HOST = '127.0.0.1'
_API_ROOT = 'api/v1/nni'


class RestError(OSError):
    """
    The manager answered with a non-2xx status.

    A subclass of :class:`OSError`, like ``requests.HTTPError`` (which NNI raised), so code that catches
    ``OSError``/``IOError`` keeps working.

    Attributes
    ----------
    status
        HTTP status code.
    message
        The ``error`` field of the JSON body when there is one, else the body text.
    method
        HTTP method.
    url
        Full URL of the request.
    """

    def __init__(self, status: int, message: str, method: str, url: str) -> None:
        super().__init__(f'{method} {url} failed with HTTP {status}: {message}')
        self.status = status
        self.message = message
        self.method = method
        self.url = url

    def __reduce__(self) -> tuple[Any, ...]:
        # OSError pickles from its args, which would not match our signature.
        return (type(self), (self.status, self.message, self.method, self.url))


def build_path(api: str, prefix: str | None = None) -> str:
    """
    The request path for ``api`` under the optional URL ``prefix``.

    Parameters
    ----------
    api
        Path relative to ``/api/v1/nni``, possibly with a query string (``'/experiment?update_type=...'``).
    prefix
        URL prefix of the manager, with or without slashes.

    Returns
    -------
    str
        e.g. ``'/prefix/api/v1/nni/check-status'``.
    """
    parts = [p.strip('/') for p in (prefix, _API_ROOT, api) if p]
    return '/' + '/'.join(p for p in parts if p)


def request(
    method: str,
    port: int | None,
    api: str,
    data: Any = None,
    prefix: str | None = None,
    *,
    timeout: float = TIMEOUT,
    log_errors: bool = True,
    token: str | None = None,
) -> Any:
    """
    Send one request to the manager.

    Parameters
    ----------
    method
        HTTP method, any case.
    port
        Manager port; ``None`` means the experiment is not running.
    api
        Path relative to ``/api/v1/nni``.
    data
        JSON-serialisable body, or ``None`` for no body.
    prefix
        URL prefix.
    timeout
        Seconds for connect and answer.
    log_errors
        Log non-2xx answers at error level (the launcher turns it off while polling).
    token
        The experiment's secret, sent as header ``X-NNI-Token``.

    Returns
    -------
    Any
        For GET and POST, the decoded JSON body, or ``None`` when the body is empty; ``None`` otherwise.

    Raises
    ------
    RuntimeError
        ``port`` is ``None``.
    RestError
        Non-2xx status.
    OSError
        Connection failures and timeouts.
    ValueError
        A GET/POST body that is not JSON.
    """
    if port is None:
        raise RuntimeError('Experiment is not running')
    method = method.upper()
    path = build_path(api, prefix)
    headers = {'Accept': 'application/json'}
    if token:
        headers[TOKEN_HEADER] = token
    payload = None
    if data is not None:
        payload = json.dumps(data).encode('utf-8')
        headers['Content-Type'] = 'application/json'
    conn = http.client.HTTPConnection(_HOST, int(port), timeout=timeout)
    try:
        conn.request(method, path, body=payload, headers=headers)
        resp = conn.getresponse()
        raw = resp.read()
        status = resp.status
    finally:
        conn.close()

    if not 200 <= status < 300:
        url = f'http://{_HOST}:{port}{path}'
        message = _error_message(raw)
        if log_errors:
            _logger.error('REST request %s %s failed: %s %s', method, url, status, message)
        raise RestError(status, message, method, url)

    if method in ('GET', 'POST') and raw:
        return json.loads(raw)
    return None


def _error_message(raw: bytes) -> str:
    text = raw.decode('utf-8', errors='replace')
    try:
        body = json.loads(text)
    except ValueError:
        return text.strip()[:2000]
    if isinstance(body, dict) and 'error' in body:
        return str(body['error'])
    return text.strip()[:2000]


def get(port: int | None, api: str, prefix: str | None = None, *, token: str | None = None) -> Any:
    """
    ``GET`` and decode the JSON answer (``None`` for an empty body).

    Parameters
    ----------
    port
        Manager port.
    api
        Path relative to ``/api/v1/nni``.
    prefix
        URL prefix.
    token
        The experiment's secret (header ``X-NNI-Token``).
    """
    return request('GET', port, api, prefix=prefix, token=token)


def post(
    port: int | None, api: str, data: Any = None, prefix: str | None = None, *, body: Any = None,
    token: str | None = None,
) -> Any:
    """
    ``POST`` a JSON body and decode the JSON answer (``None`` for an empty body).

    Parameters
    ----------
    port
        Manager port.
    api
        Path relative to ``/api/v1/nni``.
    data
        JSON-serialisable body.
    prefix
        URL prefix.
    body
        Keyword alias of ``data``.
    token
        The experiment's secret (header ``X-NNI-Token``).
    """
    return request('POST', port, api, _body(data, body), prefix=prefix, token=token)


def put(
    port: int | None, api: str, data: Any = None, prefix: str | None = None, *, body: Any = None,
    token: str | None = None,
) -> None:
    """
    ``PUT`` a JSON body; the answer body is ignored.

    Parameters
    ----------
    port
        Manager port.
    api
        Path relative to ``/api/v1/nni``.
    data
        JSON-serialisable body.
    prefix
        URL prefix.
    body
        Keyword alias of ``data``.
    token
        The experiment's secret (header ``X-NNI-Token``).
    """
    request('PUT', port, api, _body(data, body), prefix=prefix, token=token)


def delete(port: int | None, api: str, prefix: str | None = None, *, token: str | None = None) -> None:
    """
    ``DELETE``; the answer body is ignored.

    Parameters
    ----------
    port
        Manager port.
    api
        Path relative to ``/api/v1/nni``.
    prefix
        URL prefix.
    token
        The experiment's secret (header ``X-NNI-Token``).
    """
    request('DELETE', port, api, prefix=prefix, token=token)


def _body(data: Any, body: Any) -> Any:
    if data is not None and body is not None:
        raise TypeError('give the request body as data or body=, not both')
    return body if body is not None else data
