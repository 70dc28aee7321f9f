"""Health: the store, each adapter, circuit breakers per endpoint, queue depths and the
tenant's deliveries over the last hour (a small inline SVG chart, no script). The checks and
the three counting reads run at once (on PostgreSQL, on separate pooled connections).

Endpoint keys name hosts and paths that tenants are not shown (see
:mod:`gateway.api.disclosure`): each endpoint the tenant's deliveries use is shown by its
adapter and a short digest of its key. Of the adapters given to particular tenants (their
own local systems, :func:`~gateway.api.disclosure.tenants_adapters`), a tenant sees only its
own.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web

from gateway.api.console.context import Screen, console, console_store, signed_in
from gateway.api.console.page import render
from gateway.api.context import services
from gateway.api.disclosure import tenants_adapters
from gateway.api.routes.ops import ping_service

routes = web.RouteTableDef()
BUCKETS = 12
BUCKET_MINUTES = 5
CHART_WIDTH = 360
CHART_HEIGHT = 80


@dataclass(frozen=True, slots=True)
class Bar:
    x: int
    y: int
    width: int
    height: int
    count: int
    label: str


@routes.get("/health")
async def health(request: web.Request) -> web.Response:
    tenant, _ = signed_in(request)
    state = console(request)
    svc = services(request)
    targets: list[tuple[str, Any]] = [("store", svc.store)]
    own = tenants_adapters(svc)
    targets += [
        (name, svc.adapters.get(name))
        for name in svc.adapters.names()
        if name not in own or tenant.id in own[name]
    ]
    now = state.reads.clock()
    since = now - timedelta(minutes=BUCKETS * BUCKET_MINUTES)
    checks, delivered, endpoints, depths = await asyncio.gather(
        asyncio.gather(*(ping_service(t, state.health_timeout) for _, t in targets)),
        state.reads.delivered_per_bucket(tenant.id, since, BUCKET_MINUTES * 60),
        state.reads.delivery_endpoints(tenant.id),
        state.reads.queue_depths(),
    )
    breakers = [
        (adapter, _label(endpoint), await console_store(request).get_breaker(endpoint))
        for adapter, endpoint in endpoints
    ]
    return render(
        request,
        "health.html",
        checks=[(name, check) for (name, _), check in zip(targets, checks, strict=True)],
        breakers=breakers,
        depths=depths,
        bars=chart(delivered, since),
        total=sum(delivered.values()),
        width=CHART_WIDTH,
        height=CHART_HEIGHT,
    )


def chart(counts: dict[int, int], start: datetime) -> list[Bar]:
    """Bars of deliveries per :data:`BUCKET_MINUTES` from ``start``, oldest on the left."""
    values = [counts.get(i, 0) for i in range(BUCKETS)]
    peak = max(values) or 1
    width = CHART_WIDTH // BUCKETS
    bars = []
    for i, count in enumerate(values):
        height = round((CHART_HEIGHT - 14) * count / peak)
        begins = start + timedelta(minutes=i * BUCKET_MINUTES)
        bars.append(
            Bar(
                i * width + 2,
                CHART_HEIGHT - 12 - height,
                width - 4,
                height,
                count,
                begins.strftime("%H:%M"),
            )
        )
    return bars


def _label(endpoint: str) -> str:
    return "#" + hashlib.sha256(endpoint.encode()).hexdigest()[:10]


SCREEN = Screen(name="health", routes=routes, menu_path="/health", order=50)
