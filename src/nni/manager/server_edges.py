"""What the manager's HTTP server refuses from bad clients: limits, served names, the read token.

* :class:`ServerLimits`: connection cap, header/body/idle/write timeouts, header and body sizes,
  JSON depth; defaults documented in docs/internals.md ("Server edges"), each overridable by an
  ``NNI_MANAGER_*`` environment variable of the manager's process.
* :class:`ServedNames`: the names a request's ``Host`` may carry (loopback names, the bind
  address, ``nniManagerIp``, the machine's own name, the address the connection arrived on);
  anything else is a DNS-rebinding page or a misdirected request and gets 421.
* token helpers: on a non-loopback bind, reads need the experiment token (header
  ``X-NNI-Token``, the ``nni-token-<port>`` cookie the server sets once a header token was
  accepted, or ``?token=`` on the portal page).
* :func:`parse_json_body`: JSON with a depth limit, every failure a :class:`BodyError` (400).

Standard library only: the manager imports this at start.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import os
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

__all__ = ['BodyError', 'ServedNames', 'ServerLimits', 'cookie_name', 'host_name', 'is_loopback',
           'parse_json_body', 'raise_open_file_limit']

_MB = 1024 * 1024
#: file descriptors kept free for the store, logs, trial pipes and the tuner when the
#: connection cap is derived from the open-file limit
FD_RESERVE = 256


@dataclass(frozen=True)
class ServerLimits:
    """Limits of the manager's HTTP server.

    Attributes
    ----------
    max_connections
        Open connections at most. A new one beyond it evicts the longest-waiting connection
        that has no request being answered (idle or still sending); when every connection is
        being answered, the new one gets a 503 and is closed.
    header_timeout_s
        A request's head (request line and headers) must arrive within this many seconds of
        its first byte.
    body_timeout_s
        A request's body must arrive within this many seconds of its head.
    idle_timeout_s
        A connection with no request under way is closed after this many seconds.
    write_timeout_s
        A client that does not read its answer for this long is disconnected.
    max_header_bytes
        Largest request head; a bigger one is answered 431.
    max_body_bytes
        Largest request body; a bigger one is answered 413.
    max_buffered_body_bytes
        Request bodies being received, all connections together; beyond, 503 (memory bound).
    max_json_depth
        Deepest nesting of a JSON body; deeper is answered 400.
    allowed_hosts
        Extra names accepted in ``Host``; ``('*',)`` turns the check off.
    """

    max_connections: int = 2000
    header_timeout_s: float = 10.0
    body_timeout_s: float = 60.0
    idle_timeout_s: float = 75.0
    write_timeout_s: float = 60.0
    max_header_bytes: int = 64 * 1024
    max_body_bytes: int = 64 * _MB
    max_buffered_body_bytes: int = 256 * _MB
    max_json_depth: int = 100
    allowed_hosts: tuple[str, ...] = ()

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> ServerLimits:
        """The defaults, overridden by ``NNI_MANAGER_*`` variables (see docs/internals.md).

        A malformed value raises ``ValueError`` naming the variable: the manager refuses to
        start rather than run without the limit the user asked for.
        """
        env = os.environ if environ is None else environ
        defaults = cls()

        def number(name: str, default: float, kind: type = float, scale: float = 1) -> Any:
            raw = env.get(name)
            if raw is None or raw.strip() == '':
                return default
            try:
                value = float(raw)
            except ValueError:
                raise ValueError(f'{name}={raw!r}: give a positive number') from None
            if not value > 0 or value == float('inf'):
                raise ValueError(f'{name}={raw!r}: give a positive number')
            return kind(value * scale)

        hosts = tuple(item.strip().lower() for item in env.get('NNI_MANAGER_ALLOWED_HOSTS', '').split(',')
                      if item.strip())
        max_body = number('NNI_MANAGER_MAX_BODY_MB', defaults.max_body_bytes, int, _MB)
        return cls(
            max_connections=number('NNI_MANAGER_MAX_CONNECTIONS', defaults.max_connections, int),
            header_timeout_s=number('NNI_MANAGER_HEADER_TIMEOUT', defaults.header_timeout_s),
            body_timeout_s=number('NNI_MANAGER_BODY_TIMEOUT', defaults.body_timeout_s),
            idle_timeout_s=number('NNI_MANAGER_IDLE_TIMEOUT', defaults.idle_timeout_s),
            write_timeout_s=number('NNI_MANAGER_WRITE_TIMEOUT', defaults.write_timeout_s),
            max_header_bytes=number('NNI_MANAGER_MAX_HEADER_KB', defaults.max_header_bytes, int, 1024),
            max_body_bytes=max_body,
            max_buffered_body_bytes=max(4 * max_body, defaults.max_buffered_body_bytes),
            max_json_depth=number('NNI_MANAGER_MAX_JSON_DEPTH', defaults.max_json_depth, int),
            allowed_hosts=hosts,
        )


def raise_open_file_limit() -> int:
    """Raise this process's soft open-file limit to the hard one; returns the soft limit now.

    Each connection is a file descriptor; the usual soft limit (1024) would make a few
    hundred idle browsers' sockets starve the store and the trials of descriptors.
    """
    try:
        import resource
    except ImportError:  # not on POSIX
        return 1 << 16
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 20)
    if soft == resource.RLIM_INFINITY:
        return 1 << 20
    if wanted > soft:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
            soft = wanted
        except (ValueError, OSError):
            pass
    return soft


# ---------------------------------------------------------------------------- served names


def host_name(host_header: str) -> str:
    """The name part of a ``Host`` header value, lower-cased, without port or IPv6 brackets."""
    value = host_header.strip().lower()
    if value.startswith('['):
        end = value.find(']')
        return value[1:end] if end > 0 else value[1:]
    if value.count(':') == 1:
        value = value.split(':', 1)[0]
    return value.rstrip('.')


def is_loopback(name: str | None) -> bool:
    """Whether ``name`` (an address or ``localhost``) is a loopback one."""
    if not name:
        return False
    name = name.strip('[]').lower()
    if name == 'localhost' or name.endswith('.localhost'):
        return True
    try:
        return ipaddress.ip_address(name.split('%', 1)[0]).is_loopback
    except ValueError:
        return False


def _is_wildcard(address: str) -> bool:
    return address in ('', '0.0.0.0', '::', '[::]', '*')


class ServedNames:
    """The names this manager answers to, for the ``Host`` check.

    Parameters
    ----------
    bind_address
        The address the server listens on.
    extra
        Names from ``NNI_MANAGER_ALLOWED_HOSTS``; ``*`` accepts any.
    """

    def __init__(self, bind_address: str, extra: Iterable[str] = ()) -> None:
        self.bind_address = bind_address
        extra = [host_name(item) if item != '*' else '*' for item in extra]
        self.any = '*' in extra
        self._names = {'localhost'} | set(extra)
        if not _is_wildcard(bind_address):
            self._names.add(host_name(bind_address))
        if not is_loopback(bind_address):
            # the machine's own name, as users type it in a browser on the LAN; no DNS lookup
            # here (it could hang the start), the connection's own address is checked per request
            hostname = socket.gethostname().lower()
            self._names.update({hostname, hostname.split('.', 1)[0]})
        #: ``nniManagerIp`` values of the running config (experiment and training services)
        self.manager_ips: tuple[str, ...] = ()

    @property
    def beyond_loopback(self) -> bool:
        """Whether other machines can reach the server (its reads then need the token)."""
        return not is_loopback(self.bind_address)

    def allows(self, host_header: str | None, local_address: str | None) -> bool:
        """Whether a request with this ``Host`` is for us.

        A missing ``Host`` (HTTP/1.0 tools) is accepted: browsers always send one, and only a
        browser can be steered by DNS rebinding.
        """
        if self.any or host_header is None:
            return True
        name = host_name(host_header)
        if not name:
            return True
        if is_loopback(name) or name in self._names:
            return True
        if any(name == host_name(address) for address in self.manager_ips):
            return True
        # the address the connection arrived on: an address literal cannot be rebound
        return bool(local_address) and name == host_name(local_address.split('%', 1)[0])

    def describe(self) -> str:
        names = self._names | {'127.0.0.1', '::1'} | {host_name(address) for address in self.manager_ips}
        return ', '.join(sorted(f'[{name}]' if ':' in name else name for name in names - {'*'}))


def cookie_name(port: int) -> str:
    """The token cookie's name; cookies ignore ports, so two managers on one host need two names."""
    return f'nni-token-{port}'


def cookie_value(cookie_header: str | None, name: str) -> str | None:
    """One cookie's value from a ``Cookie`` header."""
    if not cookie_header:
        return None
    for part in cookie_header.split(';'):
        key, _, value = part.strip().partition('=')
        if key == name:
            return value.strip().strip('"')
    return None


def _same(given: str | None, token: str | None) -> bool:
    # constant time: the token must not leak through answer timings
    return bool(given) and bool(token) and hmac.compare_digest(given.encode(), token.encode())  # type: ignore[union-attr]


# ---------------------------------------------------------------------------- JSON bodies


class BodyError(ValueError):
    """A request body that is not acceptable JSON; the REST layer answers 400 with the message."""


def json_depth_exceeds(value: Any, limit: int) -> bool:
    """Whether ``value`` nests containers deeper than ``limit`` (iterative: no recursion)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Iterable[Any] = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        for child in children:
            if isinstance(child, (dict, list)):
                stack.append((child, depth + 1))
    return False


def parse_json_body(raw: bytes, max_depth: int) -> Any:
    """Decode a JSON request body; ``None`` when empty.

    Raises
    ------
    BodyError
        Not UTF-8, not JSON, or nested deeper than ``max_depth`` (a 100,000-deep array would
        otherwise exhaust the parser's recursion and answer 500).
    """
    if not raw.strip():
        return None
    if _bracket_depth_bound(raw) > max_depth:
        raise BodyError(f'request body nests JSON deeper than {max_depth} levels')
    try:
        value = json.loads(raw)
    except RecursionError:
        raise BodyError(f'request body nests JSON deeper than {max_depth} levels') from None
    except UnicodeDecodeError as error:
        raise BodyError(f'request body is not UTF-8 text: {error}') from None
    except ValueError as error:
        raise BodyError(f'request body is not valid JSON: {error}') from None
    if json_depth_exceeds(value, max_depth):
        raise BodyError(f'request body nests JSON deeper than {max_depth} levels')
    return value


def _bracket_depth_bound(raw: bytes) -> int:
    """A cheap upper bound of the nesting: leading ``[``/``{`` (whitespace aside) of the body.

    Catches the pathological case (a long run of openers) before the parser recurses into it;
    real nesting, with strings in between, is checked on the parsed value.
    """
    head = raw.lstrip()[:4096]
    depth = 0
    for byte in head:
        if byte in (0x5B, 0x7B):  # [ {
            depth += 1
        elif byte in (0x20, 0x0A, 0x0D, 0x09):
            continue
        else:
            break
    return depth


# ---------------------------------------------------------------------------- the ASGI wrapper


class EdgeGuard:
    """ASGI middleware in front of the manager's routes: the ``Host`` check and the token cookie.

    * a ``Host`` that is not a served name gets 421 (DNS rebinding closed for every route);
    * the request's token is looked up once (header ``X-NNI-Token`` or the ``nni-token-<port>``
      cookie) and left in ``scope['nni.auth']`` (``'header'``, ``'cookie'`` or ``None``) for the
      routes' guards;
    * beyond loopback, an answer to a request with a good header token sets the cookie
      (``HttpOnly``, ``SameSite=Strict``), so links the portal opens (logs, trial files) work;
      ``GET <portal page>?token=...`` sets it too and redirects to the page without the token.

    Parameters
    ----------
    app
        The routes.
    names
        The served names.
    token
        Returns the experiment's token.
    manager_ips
        Returns the ``nniManagerIp`` values of the running config.
    port
        The manager's port (names the cookie).
    url_prefix
        The portal's prefix (the cookie's path).
    """

    def __init__(self, app: Any, names: ServedNames, token: Any, manager_ips: Any, port: int,
                 url_prefix: str = '') -> None:
        self.app = app
        self.names = names
        self._token = token
        self._manager_ips = manager_ips
        self.cookie = cookie_name(port)
        prefix = url_prefix.strip('/')
        self._cookie_path = f'/{prefix}/' if prefix else '/'

    def _answer(self, status: int, message: str, extra: list[tuple[bytes, bytes]] | None = None) -> Any:
        body = json.dumps({'error': message}).encode()
        headers = [(b'content-type', b'application/json'), (b'content-length', str(len(body)).encode()),
                   *(extra or [])]

        async def respond(send: Any) -> None:
            await send({'type': 'http.response.start', 'status': status, 'headers': headers})
            await send({'type': 'http.response.body', 'body': body})

        return respond

    def set_cookie_header(self, token: str) -> tuple[bytes, bytes]:
        value = (f'{self.cookie}={token}; Path={self._cookie_path}; HttpOnly; SameSite=Strict; '
                 'Max-Age=2592000')
        return (b'set-cookie', value.encode('latin-1'))

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope.get('type') != 'http':
            await self.app(scope, receive, send)
            return
        headers: dict[bytes, bytes] = {}
        for name, value in scope.get('headers', []):
            headers[name] = value
        host = headers.get(b'host')
        self.names.manager_ips = self._manager_ips()
        server = scope.get('server')
        local = server[0] if isinstance(server, (tuple, list)) and server else None
        host_text = host.decode('latin-1') if host is not None else None
        if not self.names.allows(host_text, local):
            await self._answer(421, f'Host {host_text!r} is not a name this manager serves '
                                    f'({self.names.describe()}); add it to NNI_MANAGER_ALLOWED_HOSTS if it is '
                                    'yours')(send)
            return
        token = self._token()
        given = headers.get(b'x-nni-token', b'').decode('latin-1')
        cookie = cookie_value(headers.get(b'cookie', b'').decode('latin-1'), self.cookie)
        auth = 'header' if _same(given, token) else 'cookie' if _same(cookie, token) else None
        scope['nni.auth'] = auth
        if not self.names.beyond_loopback:
            await self.app(scope, receive, send)
            return
        query = scope.get('query_string', b'')
        if b'token=' in query and scope.get('method') == 'GET' and '/api/' not in scope.get('path', ''):
            from urllib.parse import parse_qsl, urlencode

            pairs = parse_qsl(query.decode('latin-1'), keep_blank_values=True)
            offered = [value for key, value in pairs if key == 'token']
            if offered and _same(offered[-1], token):
                rest = urlencode([(key, value) for key, value in pairs if key != 'token'])
                location = scope.get('raw_path', b'/').decode('latin-1') + (f'?{rest}' if rest else '')
                await self._answer(303, 'token accepted', [(b'location', location.encode('latin-1')),
                                                           self.set_cookie_header(token)])(send)
                return
        if auth != 'header' or _same(cookie, token):
            await self.app(scope, receive, send)
            return

        async def send_with_cookie(message: dict[str, Any]) -> None:
            if message['type'] == 'http.response.start':
                message = dict(message, headers=[*message.get('headers', []), self.set_cookie_header(token)])
            await send(message)

        await self.app(scope, receive, send_with_cookie)
