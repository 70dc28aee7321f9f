"""Prometheus metrics of the API: request counts and latency, submissions, outbox depth and
circuit breakers not closed; beside them, the process's own (its workers' job runs,
:mod:`gateway.jobs.metrics`).

Each app has its own :class:`prometheus_client.CollectorRegistry`, so several apps (tests,
replicas in one process) never collide. Labels carry the route template
(``/v1/documents/{id}``), never a path with an id in it and never tenant data.

The store-wide gauges (submissions and outbox jobs by state, breakers not closed) are the
same whichever process is scraped. Reading them costs queries on the shared store, so one
reading serves every scrape for ``counts_seconds`` and scrapes that come together wait for
the same reading. What a reading costs is the store's business
(:meth:`~gateway.store.Store.count_jobs_by_state`): bounded by the work in progress on
PostgreSQL, not by the history.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter as Tally
from collections.abc import Mapping

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from gateway.store import BreakerPhase, Store


class ApiMetrics:
    """The metric families of one app; ``process`` adds a registry of the process's own
    (its workers') to the exposition."""

    def __init__(
        self, process: CollectorRegistry | None = None, *, counts_seconds: float = 0.0
    ) -> None:
        self.process = process
        self.counts_seconds = counts_seconds
        self._counted_at: float | None = None
        self._counting: asyncio.Future[None] | None = None
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
            "Submissions in the store, by pipeline state (on PostgreSQL, delivered and "
            "converted are the table statistics' estimate).",
            ["state"],
            registry=self.registry,
        )
        self.outbox = Gauge(
            "lingang_outbox_jobs",
            "Jobs in the outbox (processing, delivery, receiving, ...), by state (pending + "
            "leased = depth; on PostgreSQL, done is the table statistics' estimate).",
            ["state"],
            registry=self.registry,
        )
        self.certificates = Gauge(
            "lingang_certificate_expiry_seconds",
            "Seconds until each certificate the gateway presents or signs with expires "
            "(negative once expired), by role: server-tls, signing, adapter:<name>:<what> "
            "(a Peppol AP's: ap).",
            ["role"],
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
        """Bring the store's gauges up to date (called on each scrape): a reading younger
        than ``counts_seconds`` is kept; a reading under way is waited for, not repeated."""
        if self._counted_at is not None and (
            time.monotonic() - self._counted_at < self.counts_seconds
        ):
            return
        if self._counting is None:
            self._counting = asyncio.ensure_future(self._read(store))
            self._counting.add_done_callback(self._read_done)
        await asyncio.shield(self._counting)

    def _read_done(self, reading: asyncio.Future[None]) -> None:
        self._counting = None
        if not reading.cancelled() and reading.exception() is None:
            self._counted_at = time.monotonic()

    async def _read(self, store: Store) -> None:
        """Read the store's current counts into the gauges."""
        self.submissions.clear()
        for state, count in (await store.count_submissions_by_state()).items():
            self.submissions.labels(state).set(count)
        for job_state, count in (await store.count_jobs_by_state()).items():
            self.outbox.labels(job_state.value).set(count)
        not_closed = Tally(state.phase for state in await store.open_breakers())
        for phase in BreakerPhase:
            if phase is not BreakerPhase.CLOSED:
                self.breakers.labels(phase.value).set(not_closed[phase])

    def observe_certificates(self, seconds_left: Mapping[str, float]) -> None:
        """Set the seconds left of each certificate, by role label."""
        self.certificates.clear()
        for role, seconds in seconds_left.items():
            self.certificates.labels(role).set(seconds)

    def render(self) -> bytes:
        """The exposition text: the app's families, then the process's."""
        data: bytes = generate_latest(self.registry)
        if self.process is not None:
            data += generate_latest(self.process)
        return data


METRICS = web.AppKey("metrics", ApiMetrics)


def route_label(request: web.Request) -> str:
    """The route template that matched (``unmatched`` for 404s), bounded in cardinality."""
    resource = request.match_info.route.resource
    if resource is None:
        return "unmatched"
    return resource.canonical
