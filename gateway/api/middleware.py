"""The two outer layers every request passes: observation (access log, metrics) and errors.

Order (outermost first): :func:`observe_middleware`, :func:`problem_middleware`, then the
auth middleware. So the access log and the metrics see the final status of every request,
problems included, and authentication failures are rendered as problems too.
"""

from __future__ import annotations

import asyncio
import logging
import time

from aiohttp import web
from aiohttp.typedefs import Handler

from gateway.api.context import TENANT
from gateway.api.metrics import METRICS, route_label
from gateway.api.problems import (
    Problem,
    from_http_exception,
    from_lingang_error,
    internal_error,
)
from gateway.errors import LingangError

log = logging.getLogger("gateway.api")
access_log = logging.getLogger("gateway.api.access")


@web.middleware
async def problem_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Render every error as an RFC 9457 problem; a bug becomes a 500 without internals."""
    try:
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
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("unhandled error in %s %s", request.method, request.path)
        return internal_error().response(request.path)


@web.middleware
async def observe_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Count and time the request, and write one structured access-log line (no keys)."""
    started = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
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
                "duration_ms": round(elapsed * 1000, 3),
                "tenant_id": getattr(tenant, "id", None),
                "remote": request.remote,
            },
        )
