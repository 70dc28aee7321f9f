"""Prometheus metrics of the API: request counts and latency, submissions, outbox depth and
circuit breakers not closed.

Each app has its own :class:`prometheus_client.CollectorRegistry`, so several apps (tests,
replicas in one process) never collide. Labels carry the route template
(``/v1/documents/{id}``), never a path with an id in it and never tenant data.
"""

from __future__ import annotations

from collections import Counter as Tally

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from gateway.store import BreakerPhase, Store


class ApiMetrics:
    """The metric families of one app."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "lingang_http_requests",
            "HTTP requests handled, by method, route template and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "lingang_http_request_duration_seconds",
            "Time to handle an HTTP request, by method and route template.",
            ["method", "route"],
            registry=self.registry,
        )
        self.submissions = Gauge(
            "lingang_submissions",
            "Submissions in the store, by pipeline state.",
            ["state"],
            registry=self.registry,
        )
        self.outbox = Gauge(
            "lingang_outbox_jobs",
            "Jobs in the outbox (processing, delivery, receiving, ...), by state (pending + leased = depth).",
            ["state"],
            registry=self.registry,
        )

        self.breakers = Gauge(
            "lingang_circuit_breakers",
            "Delivery endpoints whose circuit breaker is not closed, by phase (no endpoint "
            "names: they name the tenants' partners).",
            ["phase"],
            registry=self.registry,
        )

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        """Record one handled request."""
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route).observe(seconds)

    async def refresh(self, store: Store) -> None:
        """Read the store's current counts into the gauges (called on each scrape)."""
        self.submissions.clear()
        for state, count in (await store.count_submissions_by_state()).items():
            self.submissions.labels(state).set(count)
        for job_state, count in (await store.count_jobs_by_state()).items():
            self.outbox.labels(job_state.value).set(count)
        not_closed = Tally(state.phase for state in await store.open_breakers())
        for phase in BreakerPhase:
            if phase is not BreakerPhase.CLOSED:
                self.breakers.labels(phase.value).set(not_closed[phase])

    def render(self) -> bytes:
        """The exposition text."""
        data: bytes = generate_latest(self.registry)
        return data


METRICS = web.AppKey("metrics", ApiMetrics)


def route_label(request: web.Request) -> str:
    """The route template that matched (``unmatched`` for 404s), bounded in cardinality."""
    resource = request.match_info.route.resource
    if resource is None:
        return "unmatched"
    return resource.canonical
