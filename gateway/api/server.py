"""The API's listener: aiohttp's HTTP/1.1 protocol with the edges a public port needs.

:func:`api_runner` is the one way to serve the API (``lingang serve``, the demo, the tests).
Compared with a plain :class:`aiohttp.web.AppRunner` it

* answers every request aiohttp's own parser rejects (a control character in a header, a
  header over the limit, broken chunk framing, an unknown ``Content-Encoding``) with an RFC
  9457 problem that echoes nothing the client sent, and logs one line naming only the kind of
  error and the peer — aiohttp logs the raw bytes (API keys, document content) and echoes them;
* closes connections that send their request head too slowly (``header_timeout``, answered
  with a 408 problem), fails a body that takes longer than ``body_timeout`` to arrive (408),
  closes idle keep-alive connections after ``idle_timeout``, and refuses connections beyond
  ``max_connections`` with a 503 problem;
* closes the connection after answering a request whose content-coded body it did not read
  to its end, instead of reading (and so decoding) the rest.

Timeouts are deadlines from the start of the head or body, not gaps between bytes: a client
sending one byte every few seconds cannot hold a connection open.
"""

from __future__ import annotations

import asyncio
import json
import logging
import traceback
from http import HTTPStatus
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import (
    BadHttpMethod,
    BadStatusLine,
    ContentEncodingError,
    ContentLengthError,
    DecompressSizeError,
    InvalidHeader,
    InvalidURLError,
    LineTooLong,
    TransferEncodingError,
)
from aiohttp.streams import StreamReader
from aiohttp.web_protocol import RequestHandler, _ErrInfo
from aiohttp.web_request import BaseRequest

from gateway.api.context import ApiOptions
from gateway.api.headers import baseline_headers
from gateway.api.problems import PROBLEM_JSON, FieldIssue, Problem

log = logging.getLogger("gateway.api.server")

MAX_LINE_BYTES = 8190
"""Longest request target accepted (414 beyond, RFC 9112 3)."""
MAX_FIELD_BYTES = 8192
"""Longest header field accepted (431 beyond, RFC 6585 5). It differs from
:data:`MAX_LINE_BYTES` so that the parser's error, which names only the limit it hit, tells
a request target too long from a header field too long."""

_PARSE_ERRORS: tuple[tuple[type[BaseException], int, str, str], ...] = (
    (LineTooLong, 431, "a header field is too long", "max-header-bytes"),
    (InvalidHeader, 400, "a request header is malformed", "header"),
    (BadHttpMethod, 400, "the request method is not valid HTTP", "method"),
    (BadStatusLine, 400, "the request line is malformed", "request-line"),
    (InvalidURLError, 400, "the request target is malformed", "target"),
    (TransferEncodingError, 400, "the chunked transfer encoding is malformed", "chunked"),
    (ContentLengthError, 400, "the body does not match its Content-Length", "content-length"),
    (DecompressSizeError, 413, "the decompressed body is too large", "content-encoding"),
    (
        ContentEncodingError,
        415,
        "the Content-Encoding is not supported or the body does not decode "
        "(use gzip, deflate or none)",
        "content-encoding",
    ),
)
"""aiohttp's parser errors in the words a client gets: ``(class, status, detail, rule)``.
The exception's own message is never used: it quotes the offending bytes."""


def parser_problem(exc: BaseException | None) -> Problem:
    """The problem for a request aiohttp could not parse (or whose body did not decode)."""
    if isinstance(exc, LineTooLong) and _limit_of(exc) == MAX_LINE_BYTES:
        detail = f"the request target is longer than {MAX_LINE_BYTES} bytes"
        return Problem(414, "bad-http", detail, [FieldIssue(detail, "request", "max-uri-bytes")])
    for kind, status, detail, rule in _PARSE_ERRORS:
        if isinstance(exc, kind):
            return Problem(status, "bad-http", detail, [FieldIssue(detail, "request", rule)])
    detail = "the request is not valid HTTP/1.1"
    return Problem(400, "bad-http", detail, [FieldIssue(detail, "request", "http")])


def _limit_of(exc: LineTooLong) -> int | None:
    """The limit a :class:`LineTooLong` names (its second argument, an int or a digit string)."""
    limit = exc.args[1] if len(exc.args) > 1 else None
    return int(limit) if isinstance(limit, int | str) and str(limit).isdigit() else None


def scrubbed(exc: BaseException) -> str:
    """An exception for the log without its message (which may quote client bytes): the
    class and where it was raised."""
    frames = traceback.format_tb(exc.__traceback__)
    return f"{type(exc).__module__}.{type(exc).__qualname__}\n" + "".join(frames)


def _raw_problem(problem: Problem) -> bytes:
    """A complete ``Connection: close`` response, for answers outside the request cycle."""
    body = json.dumps(problem.body(None)).encode()
    lines = [
        f"HTTP/1.1 {problem.status} {HTTPStatus(problem.status).phrase}",
        f"Content-Type: {PROBLEM_JSON}",
        f"Content-Length: {len(body)}",
        *(f"{name}: {value}" for name, value in problem.headers.items()),
        *(f"{name}: {value}" for name, value in _plain_baseline().items()),
        "Connection: close",
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii") + body


def _plain_baseline() -> dict[str, str]:
    """The security headers of an answer written outside the request cycle (no HSTS: the
    connection's transport is not consulted there)."""
    headers: dict[str, str] = {}
    baseline_headers(headers, secure=False)
    return headers


def _coded_body_left(request: BaseRequest) -> bool:
    """Whether ``request`` has a body in a content coding that was not read to its end."""
    coding = request.headers.get("Content-Encoding", "").strip().lower()
    return coding not in {"", "identity"} and request.body_exists and not request.content.is_eof()


class RequestTimeout(Exception):
    """The request body did not arrive within ``body_timeout``."""


class GuardedRequestHandler(RequestHandler):
    """aiohttp's per-connection protocol with deadlines, a connection cap and quiet errors."""

    def __init__(self, manager: web.Server, *, options: ApiOptions, **kwargs: Any) -> None:
        kwargs["keepalive_timeout"] = options.idle_timeout
        super().__init__(manager, **kwargs)
        self._options = options
        self._head_deadline: float | None = None
        self._body: StreamReader | None = None
        self._body_deadline = 0.0
        self._watchdog: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        manager = self._manager
        if manager is not None and len(manager.connections) > self._options.max_connections:
            detail = "the server has too many open connections; try again shortly"
            problem = Problem(503, "busy", detail, headers={"Retry-After": "1"})
            log.warning("refused a connection: %d open", len(manager.connections) - 1)
            self._answer_and_close(problem)
            return
        self._head_deadline = self._loop.time() + self._options.header_timeout
        self._arm()

    def connection_lost(self, exc: BaseException | None) -> None:
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        before = self._request_count
        super().data_received(data)
        now = self._loop.time()
        if self._request_count != before and self._fail_body_on_parse_error():
            return
        if self._request_count != before:
            self._head_deadline = None
            payload = self._messages[-1][1] if self._messages else None
            if isinstance(payload, StreamReader) and not payload.is_eof():
                self._body = payload
                self._body_deadline = now + self._options.body_timeout
        elif self._body is not None and not self._body.is_eof():
            return
        elif data and self._head_deadline is None:
            self._body = None
            self._head_deadline = now + self._options.header_timeout
        if data and self._head_deadline is not None and self._keepalive_handle is not None:
            self._keepalive_handle.cancel()  # a head is arriving: header_timeout governs
            self._keepalive_handle = None

    async def finish_response(
        self, request: BaseRequest, resp: web.StreamResponse, start_time: float | None
    ) -> tuple[web.StreamResponse, bool]:
        """Write the response; then, when the request's body is content-coded and was not
        read to its end, close the connection at once instead of aiohttp's lingering
        (reading and discarding what is left for up to 10 s, to let the client read the
        answer): discarding still decodes. A gzip body of 2 MB (the partner directory's
        limit), left unread after its first 2 MB of output or refused before it was read,
        inflated up to 2 GB on the event loop: every request on the server waited 2 s."""
        answered = await super().finish_response(request, resp, start_time)
        if _coded_body_left(request):
            self.force_close()
        return answered

    def _fail_body_on_parse_error(self) -> bool:
        """A framing error in a body being read fails that body (the handler answers 400);
        aiohttp would queue the error as a next request and leave the body hanging."""
        body = self._body
        last = self._messages[-1][0] if self._messages else None
        if body is None or body.is_eof() or not isinstance(last, _ErrInfo):
            return False
        self._messages.pop()
        self._body = None
        self.close()
        error = web.RequestPayloadError("the request body is malformed")
        error.__cause__ = last.exc
        body.set_exception(error)
        return True

    def _arm(self) -> None:
        self._watchdog = self._loop.call_later(self._options.tick, self._check)

    def _check(self) -> None:
        self._watchdog = None
        if self.transport is None:
            return
        now = self._loop.time()
        if self._head_deadline is not None and now > self._head_deadline:
            detail = f"the request head did not arrive within {self._options.header_timeout:g} s"
            log.info("closed a connection: request head too slow", extra={"remote": self._peer()})
            self._answer_and_close(Problem(408, "timeout", detail))
            return
        body = self._body
        if body is not None and not body.is_eof() and now > self._body_deadline:
            log.info("failed a request: body too slow", extra={"remote": self._peer()})
            self._body = None
            self.close()
            body.set_exception(RequestTimeout())
        self._arm()

    def _answer_and_close(self, problem: Problem) -> None:
        if self.transport is not None:
            self.transport.write(_raw_problem(problem))
        self.force_close()

    def _peer(self) -> str | None:
        if self.transport is None:
            return None
        peer = self.transport.get_extra_info("peername")
        return str(peer[0]) if isinstance(peer, tuple) else None

    def handle_error(
        self,
        request: BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        """A parser error (or a bug that escaped the middleware) as a problem, never echoed."""
        if status >= 500:
            problem = Problem(status, "internal", "the server failed to handle this request")
            if exc is not None:
                log.error("request failed outside the app: %s", scrubbed(exc))
        else:
            problem = parser_problem(exc)
            log.info(
                "rejected a malformed request: %s",
                problem.detail,
                extra={"remote": request.remote, "http_status": problem.status},
            )
        if request.writer.output_size > 0:
            raise ConnectionError("the response was already started")
        response = problem.response(None)
        baseline_headers(response.headers, secure=request.secure)
        response.force_close()
        return response

    def log_exception(self, *args: Any, **kw: Any) -> None:
        """aiohttp's own error log, without the exception's message (it may quote bytes)."""
        exc = kw.get("exc_info")
        what = scrubbed(exc) if isinstance(exc, BaseException) else "(no exception)"
        if isinstance(exc, web.RequestPayloadError):
            # The client's body could not be decoded (e.g. bytes that are not the brotli its
            # Content-Encoding names, where Brotli is installed) after the app had answered:
            # the client's mistake, already answered with a 4xx, not the server's error.
            log.info("aiohttp: an unread request body was malformed: %s", what)
            return
        if isinstance(exc, RequestTimeout):
            # The rest of a body that stopped arriving, read by aiohttp after the app had
            # answered 408 (see _check): the client's slowness, already logged at info.
            log.info("aiohttp: the rest of a too slow request body was dropped")
            return
        log.error("aiohttp: %s: %s", args[0] if args else "error", what)


class GuardedServer(web.Server):
    """aiohttp's low-level server making :class:`GuardedRequestHandler` protocols."""

    def __init__(self, *args: Any, options: ApiOptions, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._options = options

    def __call__(self) -> RequestHandler:
        return GuardedRequestHandler(self, options=self._options, loop=self._loop, **self._kwargs)


class ApiRunner(web.AppRunner):
    """An :class:`~aiohttp.web.AppRunner` serving through :class:`GuardedServer`."""

    def __init__(self, app: web.Application, options: ApiOptions, **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self._options = options

    async def _make_server(self) -> web.Server:
        server = await super()._make_server()
        return GuardedServer(
            server.request_handler,
            request_factory=server.request_factory,
            handler_cancellation=server.handler_cancellation,
            options=self._options,
            loop=asyncio.get_running_loop(),
            **server._kwargs,
        )


def api_runner(app: web.Application, options: ApiOptions | None = None, **kwargs: Any) -> ApiRunner:
    """The runner to serve ``app`` with (no aiohttp access log: the app writes its own)."""
    from gateway.api.context import OPTIONS

    chosen = options or app.get(OPTIONS) or ApiOptions()
    kwargs.setdefault("access_log", None)
    kwargs.setdefault("max_line_size", MAX_LINE_BYTES)
    kwargs.setdefault("max_field_size", MAX_FIELD_BYTES)
    return ApiRunner(app, chosen, **kwargs)
