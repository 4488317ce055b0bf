"""A minimal HTTP/1.1 client over a plain socket, for the trial channel.

``http.client`` pulls in ``email``, ``ssl`` and more: about 40 ms of a trial's start-up, which for
short trials is a large share of the manager's overhead. The channel only ever sends small
requests to the manager on loopback and reads small answers, so a few dozen lines do.
"""

from __future__ import annotations

# _socket, not socket: socket.py imports enum and selectors (~5 ms of a trial's start-up) and
# create_connection's getaddrinfo loads the IDNA codec (unicodedata, stringprep) even for
# "127.0.0.1"; connecting to an address literal needs none of it.
import _socket


def _open_socket(host: str, port: int, timeout: float) -> _socket.socket:
    """A connected TCP socket with Nagle off; host names that need a resolver go through socket.py."""
    literal = host.strip('[]')
    family = _socket.AF_INET6 if ':' in literal else _socket.AF_INET
    try:
        _socket.inet_pton(family, literal)
    except OSError:
        import socket

        sock = socket.create_connection((host, port), timeout=timeout)
    else:
        sock = _socket.socket(family, _socket.SOCK_STREAM)
        try:
            sock.settimeout(timeout)
            sock.connect((literal, port))
        except BaseException:
            sock.close()
            raise
    sock.setsockopt(_socket.IPPROTO_TCP, _socket.TCP_NODELAY, 1)
    return sock


class HttpError(OSError):
    """The connection failed or the answer was not valid HTTP/1.1."""


class StaleConnection(HttpError):
    """A kept-alive connection was closed by the server before this request got through."""


class Connection:
    """One kept-alive HTTP/1.1 connection.

    Parameters
    ----------
    host, port
        The server.
    timeout
        Seconds for connecting and for each read.
    """

    def __init__(self, host: str, port: int, timeout: float) -> None:
        self.host = host
        self.port = port
        self.timeout = timeout
        self._sock: _socket.socket | None = None
        self._buffer = b''

    @property
    def connected(self) -> bool:
        return self._sock is not None

    def close(self) -> None:
        if self._sock is not None:
            try:
                self._sock.close()
            finally:
                self._sock = None
                self._buffer = b''

    def request(self, method: str, path: str, body: bytes | None, headers: dict[str, str]) -> tuple[int, bytes]:
        """Send one request and read the whole answer.

        Raises
        ------
        StaleConnection
            The reused connection was closed by the server (retry on a new one).
        HttpError
            Anything else went wrong; the connection is closed.
        """
        reused = self._sock is not None
        try:
            if self._sock is None:
                self._sock = _open_socket(self.host, self.port, self.timeout)
            payload = body or b''
            lines = [f'{method} {path} HTTP/1.1', f'Host: {self.host}:{self.port}',
                     f'Content-Length: {len(payload)}']
            lines.extend(f'{name}: {value}' for name, value in headers.items())
            self._sock.sendall(('\r\n'.join(lines) + '\r\n\r\n').encode('latin-1') + payload)
            status, response_headers = self._read_head()
            data = self._read_body(response_headers)
        except OSError as error:
            self.close()
            if reused and isinstance(error, (ConnectionResetError, BrokenPipeError, ConnectionAbortedError,
                                             StaleConnection)):
                raise StaleConnection(str(error)) from error
            if isinstance(error, HttpError):
                raise
            raise HttpError(f'{type(error).__name__}: {error}') from error
        if response_headers.get('connection', '').lower() == 'close':
            self.close()
        return status, data

    def _fill(self) -> None:
        assert self._sock is not None
        chunk = self._sock.recv(65536)
        if not chunk:
            raise StaleConnection('the server closed the connection')
        self._buffer += chunk

    def _read_line_block(self) -> bytes:
        while b'\r\n\r\n' not in self._buffer:
            self._fill()
        head, self._buffer = self._buffer.split(b'\r\n\r\n', 1)
        return head

    def _read_exact(self, count: int) -> bytes:
        while len(self._buffer) < count:
            self._fill()
        data, self._buffer = self._buffer[:count], self._buffer[count:]
        return data

    def _read_head(self) -> tuple[int, dict[str, str]]:
        head = self._read_line_block().decode('latin-1')
        status_line, _, rest = head.partition('\r\n')
        parts = status_line.split(' ', 2)
        if len(parts) < 2 or not parts[0].startswith('HTTP/') or not parts[1].isdigit():
            raise HttpError(f'bad HTTP status line {status_line[:100]!r}')
        headers: dict[str, str] = {}
        for line in rest.split('\r\n'):
            name, sep, value = line.partition(':')
            if sep:
                headers[name.strip().lower()] = value.strip()
        return int(parts[1]), headers

    def _read_body(self, headers: dict[str, str]) -> bytes:
        if headers.get('transfer-encoding', '').lower() == 'chunked':
            data = b''
            while True:
                while b'\r\n' not in self._buffer:
                    self._fill()
                size_line, self._buffer = self._buffer.split(b'\r\n', 1)
                size = int(size_line.split(b';')[0], 16)
                chunk = self._read_exact(size + 2)[:-2]
                if size == 0:
                    return data
                data += chunk
        length = headers.get('content-length')
        if length is None:
            # no length: the body runs to the end of the connection
            assert self._sock is not None
            while True:
                chunk = self._sock.recv(65536)
                if not chunk:
                    break
                self._buffer += chunk
            data, self._buffer = self._buffer, b''
            self.close()
            return data
        return self._read_exact(int(length))
