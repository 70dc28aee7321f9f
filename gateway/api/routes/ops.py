"""Operator endpoints without authentication: ``/healthz``, ``/readyz``, ``/livez``,
``/metrics``, ``/openapi.json``.

Three health views, for three questions: ``/healthz`` reports everything (the store and every
adapter's counterpart, for people and monitoring), ``/readyz`` whether this replica can take
documents now (the store: a load balancer's or Kubernetes' readiness probe), ``/livez``
whether the process answers at all (a liveness probe: restarting cures nothing else). A
partner's endpoint being down is the outbox's business (it retries), never a reason to stop
taking documents or to restart a replica.

None of them shows tenant data: health names services (an adapter that is one tenant's own
local system, named after the firm, by a digest of its name:
:func:`~gateway.api.disclosure.adapter_label`), metrics carry route templates and counts,
the OpenAPI document describes the API.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection, Iterable
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from gateway.api.context import OPTIONS, services
from gateway.api.disclosure import adapter_label, tenants_adapters
from gateway.api.metrics import METRICS
from gateway.api.openapi import openapi_document
from gateway.errors import LingangError
from gateway.signing.expiry import WatchedCertificate, needing_attention
from gateway.store import Store

routes = web.RouteTableDef()
log = logging.getLogger("gateway.api")


@routes.get("/healthz")
async def healthz(request: web.Request) -> web.Response:
    """Ping the store and every adapter: 200 if all answer, else 503, with per-service detail."""
    timeout = request.app[OPTIONS].health_timeout
    checks: dict[str, Any] = {}
    svc = services(request)
    targets: list[tuple[str, Any]] = [("store", svc.store)]
    own = tenants_adapters(svc)
    targets += [
        (f"adapter:{adapter_label(name) if name in own else name}", svc.adapters.get(name))
        for name in svc.adapters.names()
    ]
    results = await asyncio.gather(*(ping_service(target, timeout) for _, target in targets))
    for (name, _), result in zip(targets, results, strict=True):
        checks[name] = result
    watched = getattr(svc, "certificates", ())
    if watched:
        checks["certificates"] = certificates_check(
            watched, own, request.app[OPTIONS].certificate_warn_days
        )
    healthy = all(check["status"] == "ok" for check in checks.values())
    body = {"status": "ok" if healthy else "fail", "checks": checks}
    return web.json_response(body, status=200 if healthy else 503)


@routes.get("/readyz")
async def readyz(request: web.Request) -> web.Response:
    """Ping the store only: 200 if it answers (this replica can take documents), else 503;
    503 without asking once the process is shutting down (:attr:`Services.draining`)."""
    svc = services(request)
    if getattr(svc, "draining", False):
        body = {"status": "fail", "checks": {"process": {"status": "fail", "detail": DRAINING}}}
        return web.json_response(body, status=503)
    check = await ping_service(svc.store, request.app[OPTIONS].health_timeout)
    ready = check["status"] == "ok"
    body = {"status": "ok" if ready else "fail", "checks": {"store": check}}
    return web.json_response(body, status=200 if ready else 503)


@routes.get("/livez")
async def livez(request: web.Request) -> web.Response:
    """200 while the process serves requests; it asks no other service."""
    return web.json_response({"status": "ok", "checks": {}})


DRAINING = "draining (the process is shutting down)"
"""What ``/readyz`` says of a process that has begun to stop: its workers finish or release
their jobs (up to ten seconds or so) while it still serves; it takes no new work."""

UNAVAILABLE = "unavailable (the reason is in the gateway's log)"
"""What a failed check says of itself: these answers need no key, and a store's or adapter's
own message may name a database host and port, a partner's address or a file (the log has
it, as it has a 5xx problem's)."""


READY_SHARE = 0.5
"""The share of ``health_timeout`` the store's own check may wait for a lock or run
(:meth:`~gateway.store.base.Store.ready`): the database ends a blocked check before the
gateway stops waiting for it, so its connection goes back to the pool clean."""


async def ping_service(target: Any, timeout: float) -> dict[str, Any]:
    """Ask one service; the store raises when down or when what serving reads is locked
    (:meth:`~gateway.store.base.Store.ready`), an adapter answers ``False`` (also the
    console's health screen)."""
    try:
        async with asyncio.timeout(timeout):
            if isinstance(target, Store):
                await target.ready(within=timeout * READY_SHARE)
                result = None
            else:
                result = await target.ping()
    except TimeoutError:
        return {"status": "fail", "detail": f"no answer within {timeout:g}s"}
    except LingangError as exc:
        log.warning("health check of %s failed: %s", type(target).__name__, exc.message)
        return {"status": "fail", "detail": UNAVAILABLE}
    except Exception as exc:
        log.warning("health check failed: %s", type(exc).__name__)
        return {"status": "fail", "detail": type(exc).__name__}
    if result is False:
        return {"status": "fail", "detail": "reported unhealthy"}
    return {"status": "ok"}


def certificate_role(watched: WatchedCertificate, own: Collection[str]) -> str:
    """The role shown without a key: an adapter that is one tenant's own local system by the
    digest of its name, as in the health checks."""
    kind, _, rest = watched.role.partition(":")
    name, _, what = rest.partition(":")
    if kind == "adapter" and name in own:
        return f"adapter:{adapter_label(name)}:{what}"
    return watched.role


def certificates_check(
    watched: Iterable[WatchedCertificate], own: Collection[str], warn_days: float
) -> dict[str, Any]:
    """``fail`` once a certificate of the gateway's own has expired (its traffic has
    stopped), else ``ok``, with a ``warning`` for each one expired or expiring within
    ``warn_days`` (a partner's trusted one too): role, ``not_after`` and ``days_left``."""
    now = datetime.now(UTC)
    due = needing_attention(watched, now, warn_days)
    expired = any(w.status(now, warn_days) == "expired" and not w.trusted for w in due)
    check: dict[str, Any] = {"status": "fail" if expired else "ok"}
    if due:
        check["warnings"] = [
            {
                "role": certificate_role(w, own),
                "not_after": w.not_after.isoformat(),
                "days_left": round(w.seconds_left(now) / 86400, 1),
            }
            for w in due
        ]
    return check


@routes.get("/metrics")
async def metrics(request: web.Request) -> web.Response:
    """Prometheus text exposition (request counts and latency, jobs, submissions, outbox).

    The store's reading is waited for ``health_timeout`` seconds at most: a store that
    stalls (a migration holding a table's lock, a network partition) must not take the
    process's own counters down with it; the store's gauges then keep their last reading,
    and the reading goes on for the next scrape."""
    registry = request.app[METRICS]
    timeout = request.app[OPTIONS].health_timeout
    svc = services(request)
    watched: tuple[WatchedCertificate, ...] = getattr(svc, "certificates", ())
    if watched:
        own = tenants_adapters(svc)
        now = datetime.now(UTC)
        registry.observe_certificates(
            {certificate_role(w, own): w.seconds_left(now) for w in watched}
        )
    try:
        async with asyncio.timeout(timeout):
            await registry.refresh(svc.store)
    except TimeoutError:
        log.warning("metrics: store counts not read within %gs; last reading served", timeout)
    except Exception as exc:
        log.warning("metrics: store counts unavailable: %s", type(exc).__name__)
    return web.Response(
        body=registry.render(),
        headers={"Content-Type": "text/plain; version=0.0.4; charset=utf-8"},
    )


@routes.get("/openapi.json")
async def openapi(request: web.Request) -> web.Response:
    """The OpenAPI 3.1 document of this API."""
    return web.json_response(openapi_document())
