"""One HTTP(S) answer fetched within a deadline: what the revocation checker asks responders.

``urllib``'s ``timeout`` bounds each wait for the socket, not the exchange: a responder (or
anything on the plain-HTTP path to it) that sends a byte every few seconds keeps a request
going for as long as it likes, and holds the thread that verifies a signature with it.
:func:`fetch_within` bounds the whole exchange (connecting, the TLS handshake, the status
line and headers, every redirect, the body): when the deadline passes, the sockets it opened
are shut down, which ends any read blocked on them.

Only ``http`` and ``https`` are spoken: a redirect to ``ftp:`` (which ``urllib`` follows,
outside any deadline) or ``file:`` is no answer.

Every way the exchange can fail is an :class:`OSError` (a ``TimeoutError`` for the deadline):
a server that answers with something other than HTTP (``http.client``'s ``BadStatusLine``,
``LineTooLong``, a broken chunked body) included, so a caller handles one kind of failure.
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import threading
import urllib.request
from typing import Any


class _Deadline:
    """Shuts down every socket it was given once ``seconds`` have passed (a timer thread)."""

    def __init__(self, seconds: float) -> None:
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self.passed = False
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True
        self._timer.start()

    def adopt(self, sock: socket.socket) -> socket.socket:
        """``sock``, shut down now if the deadline has passed, else when it does."""
        with self._lock:
            self._sockets.append(sock)
            if self.passed:
                _shut(sock)
        return sock

    def _expire(self) -> None:
        with self._lock:
            self.passed = True
            for sock in self._sockets:
                _shut(sock)

    def cancel(self) -> None:
        self._timer.cancel()


def _shut(sock: socket.socket) -> None:
    """End ``sock``'s traffic both ways (nothing to do when it is closed already)."""
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


def _connection_class(base: type[http.client.HTTPConnection], deadline: _Deadline) -> Any:
    """``base`` whose plain socket (under TLS, too) is handed to ``deadline`` once made."""

    class Connection(base):  # type: ignore[valid-type,misc]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._create_connection = self._adopted

        @staticmethod
        def _adopted(*args: Any, **kwargs: Any) -> socket.socket:
            return deadline.adopt(socket.create_connection(*args, **kwargs))

    return Connection


class _HttpHandler(urllib.request.HTTPHandler):
    def __init__(self, deadline: _Deadline) -> None:
        super().__init__()
        self._connection = _connection_class(http.client.HTTPConnection, deadline)

    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(self._connection, req)


class _HttpsHandler(urllib.request.HTTPSHandler):
    def __init__(self, deadline: _Deadline) -> None:
        super().__init__()
        self._connection = _connection_class(http.client.HTTPSConnection, deadline)

    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(self._connection, req)


_CHUNK = 64 * 1024


def fetch_within(request: str | urllib.request.Request, timeout: float, limit: int) -> bytes:
    """The body ``request`` is answered with, the whole exchange within ``timeout`` seconds
    and the body at most ``limit`` bytes; an :class:`OSError` saying why not otherwise (an
    HTTP error status included, as ``urllib`` raises it)."""
    deadline = _Deadline(timeout)
    opener = urllib.request.OpenerDirector()
    for handler in (
        urllib.request.ProxyHandler(),
        urllib.request.UnknownHandler(),
        urllib.request.HTTPDefaultErrorHandler(),
        urllib.request.HTTPRedirectHandler(),
        urllib.request.HTTPErrorProcessor(),
        _HttpHandler(deadline),
        _HttpsHandler(deadline),
    ):
        opener.add_handler(handler)
    try:
        with opener.open(request, timeout=timeout) as reply:
            chunks: list[bytes] = []
            size = 0
            while chunk := reply.read1(_CHUNK):
                size += len(chunk)
                if size > limit:
                    raise OSError(f"the answer is longer than {limit} bytes")
                chunks.append(chunk)
    except (OSError, http.client.HTTPException) as exc:
        if deadline.passed:
            raise TimeoutError(f"no whole answer within {timeout} s") from exc
        if isinstance(exc, OSError):
            raise
        raise OSError(f"the answer is not HTTP: {type(exc).__name__} {exc}") from exc
    finally:
        deadline.cancel()
    if deadline.passed:
        raise TimeoutError(f"no whole answer within {timeout} s")
    return b"".join(chunks)
