"""NNI's ``nni.tools.nnictl.rest_utils``: REST calls that return ``requests``-style responses.

Code written against NNI calls ``rest_get(url, timeout)`` and reads ``.status_code``, ``.text``
and ``.json()`` of the answer; NNI used the ``requests`` package, and so do these functions when
it is installed (which also lets ``responses``-based tests mock them). Without it they fall back
to the standard library. Our own nnictl commands use :mod:`nni.experiment.rest`.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

__all__ = ['rest_get', 'rest_put', 'rest_post', 'rest_delete', 'check_rest_server_quick', 'check_response']

_QUICK_TIMEOUT = 5


@dataclass
class _Response:
    """The part of ``requests.Response`` that NNI's callers read."""

    status_code: int
    text: str

    def json(self) -> Any:
        return json.loads(self.text)


def _request(method: str, url: str, data: Any, timeout: float) -> Any:
    try:
        import requests
    except ImportError:
        requests = None
    if requests is not None:
        try:
            return requests.request(method, url, data=data, timeout=timeout,
                                    headers={'Content-Type': 'application/json'} if data is not None else None)
        except requests.RequestException:
            return None
    body = data.encode() if isinstance(data, str) else data
    request = urllib.request.Request(url, data=body, method=method, headers={'Content-Type': 'application/json'})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return _Response(answer.status, answer.read().decode('utf-8', errors='replace'))
    except urllib.error.HTTPError as error:
        return _Response(error.code, error.read().decode('utf-8', errors='replace'))
    except OSError:
        return None


def rest_get(url: str, timeout: float, show_error: bool = False) -> Any:
    """``GET url``; the response, or ``None`` when the server cannot be reached."""
    return _request('GET', url, None, timeout)


def rest_put(url: str, data: Any, timeout: float, show_error: bool = False) -> Any:
    """``PUT url`` with ``data`` (JSON text); the response, or ``None``."""
    return _request('PUT', url, data, timeout)


def rest_post(url: str, data: Any, timeout: float, show_error: bool = False) -> Any:
    """``POST url`` with ``data`` (JSON text); the response, or ``None``."""
    return _request('POST', url, data, timeout)


def rest_delete(url: str, timeout: float, show_error: bool = False) -> Any:
    """``DELETE url``; the response, or ``None``."""
    return _request('DELETE', url, None, timeout)


def check_rest_server_quick(rest_port: int) -> tuple[bool, Any]:
    """Whether the manager on ``rest_port`` answers ``GET /check-status`` with 200, and the response."""
    response = rest_get(f'http://localhost:{rest_port}/api/v1/nni/check-status', _QUICK_TIMEOUT)
    if response is not None and response.status_code == 200:
        return True, response
    return False, None


def check_response(response: Any) -> bool:
    """Whether a response is a success (status 200-299)."""
    return response is not None and 200 <= response.status_code < 300
