"""The two outer layers every request passes: observation (access log, metrics) and errors.

Order (outermost first): :func:`observe_middleware`, :func:`problem_middleware`, then the
auth middleware. So the access log and the metrics see the final status of every request,
problems included, and authentication failures are rendered as problems too.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
import uuid

from aiohttp import HttpVersion11, web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.typedefs import Handler

from gateway.api.context import TENANT
from gateway.api.metrics import METRICS, route_label
from gateway.api.problems import (
    FieldIssue,
    Problem,
    from_http_exception,
    from_lingang_error,
    internal_error,
)
from gateway.api.server import RequestTimeout, parser_problem, scrubbed
from gateway.errors import LingangError

log = logging.getLogger("gateway.api")
access_log = logging.getLogger("gateway.api.access")

REQUEST_ID = "X-Request-Id"
"""Correlates a response, its access-log line and the client's own logs."""
_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")


@web.middleware
async def problem_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Render every error as an RFC 9457 problem; a bug becomes a 500 without internals."""
    if faulty_framing(request):
        response = framing_problem().response(request.path)
        response.force_close()
        return response
    try:
        check_codings(request)
        return await handler(request)
    except Problem as problem:
        return problem.response(request.path)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return from_http_exception(exc).response(request.path)
    except LingangError as exc:
        mapped = from_lingang_error(exc)
        if mapped.status >= 500:
            log.error("%s %s failed: %s", request.method, request.path, exc)
        return mapped.response(request.path)
    except (web.RequestPayloadError, HttpProcessingError, RequestTimeout) as exc:
        response = _body_problem(exc).response(request.path)
        response.force_close()
        return response
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        log.error(
            "unhandled error in %s %s: %s", request.method, route_label(request), scrubbed(exc)
        )
        return internal_error().response(request.path)


CONTENT_CODINGS = frozenset({"identity", "gzip", "x-gzip", "deflate", "br"})
"""The content codings the server decodes (Brotli where it is installed, else a 415)."""


def check_codings(request: web.Request) -> None:
    """Refuse a body in a coding the server would not decode, rather than store its bytes
    as they came: an unknown ``Content-Encoding`` or more than one (415, RFC 9110 8.4.1),
    a ``Transfer-Encoding`` other than ``chunked`` (501, RFC 9112 6.1)."""
    codings = _tokens(request, "Content-Encoding")
    applied = [coding for coding in codings if coding != "identity"]
    if any(coding not in CONTENT_CODINGS for coding in codings) or len(applied) > 1:
        detail = "send the body in one of gzip, deflate, br or none (one coding at most)"
        issue = FieldIssue(detail, "Content-Encoding", "content-encoding")
        raise Problem(
            415, "unsupported-media-type", detail, [issue], {"Accept-Encoding": "gzip, deflate, br"}
        )
    transfer = _tokens(request, "Transfer-Encoding")
    if transfer and transfer != ["chunked"]:
        detail = "the only transfer coding understood is chunked"
        issue = FieldIssue(detail, "Transfer-Encoding", "transfer-encoding")
        raise Problem(501, "not-implemented", detail, [issue])


def faulty_framing(request: web.Request) -> bool:
    """An HTTP/1.0 request with a ``Transfer-Encoding``: its framing is faulty, whatever
    else it says (RFC 9112 6.1: a server MUST treat it so and close the connection)."""
    return request.version < HttpVersion11 and "Transfer-Encoding" in request.headers


def framing_problem() -> Problem:
    """The 400 for :func:`faulty_framing` (the connection is closed after it)."""
    detail = "an HTTP/1.0 request cannot carry a Transfer-Encoding; send HTTP/1.1"
    return Problem(400, "bad-http", detail, [FieldIssue(detail, "Transfer-Encoding", "http")])


def _tokens(request: web.Request, header: str) -> list[str]:
    """The comma-separated tokens of every ``header`` line, lower case, blanks dropped."""
    return [
        token.strip().lower()
        for value in request.headers.getall(header, [])
        for token in value.split(",")
        if token.strip()
    ]


def _body_problem(exc: BaseException) -> Problem:
    """A body that broke while being read: bad framing or encoding (4xx), or too slow (408)."""
    if isinstance(exc, RequestTimeout):
        return Problem(408, "timeout", "the request body did not arrive in time")
    cause = exc.__cause__ if isinstance(exc, web.RequestPayloadError) else exc
    return parser_problem(cause)


@web.middleware
async def observe_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Count and time the request, and write one structured access-log line (no keys).

    The line and the response carry a request id: the client's ``X-Request-Id`` when it is a
    plain token, else a fresh one.
    """
    started = time.perf_counter()
    status = 500
    given = request.headers.get(REQUEST_ID, "")
    request_id = given if _REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
    try:
        response = await handler(request)
        status = response.status
        response.headers[REQUEST_ID] = request_id
        return response
    except web.HTTPException as exc:
        status = exc.status
        raise
    finally:
        elapsed = time.perf_counter() - started
        route = route_label(request)
        request.app[METRICS].observe(request.method, route, status, elapsed)
        tenant = request.get(TENANT)
        access_log.info(
            "%s %s %d %.1fms",
            request.method,
            route,
            status,
            elapsed * 1000,
            extra={
                "http_method": request.method,
                "http_route": route,
                "http_path": request.path,
                "http_status": status,
                "request_id": request_id,
                "duration_ms": round(elapsed * 1000, 3),
                "tenant_id": getattr(tenant, "id", None),
                "remote": request.remote,
            },
        )
