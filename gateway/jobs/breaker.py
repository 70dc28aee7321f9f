"""A circuit breaker per delivery endpoint, shared by every replica through the store.

::

    closed ──(failure_threshold transport failures in a row)──► open
    open ──(cooldown elapsed: one caller wins the probe)──► half_open
    half_open ──probe succeeds──► closed        half_open ──probe fails──► open

While an endpoint is open its jobs are not claimed (``blocked_endpoints`` feeds
``Store.claim_jobs(exclude_endpoints=...)``) and a job claimed anyway is deferred
(``defer_until``: the end of the cool-down, or a short wait behind a running probe), its
attempt not counted. Only failures a retry could fix (transport
errors, timeouts, 5xx) count: a permanent rejection proves the endpoint is up.

State lives in the store's ``breakers`` table and every change is a compare-and-set on its
version, so replicas agree on the phase and exactly one of them gets the half-open probe.
A probe whose worker died is given up after another cool-down and a new one is allowed.
Times (``opened_at``, the cool-down) are the queue's: each state read carries the time it was
read at (``seen_at``: the database's clock on PostgreSQL), so replicas whose clocks disagree
agree on when a cool-down ends, as they agree on leases.

With ``memory_seconds > 0`` a breaker remembers, for that long, what it last saw: an endpoint
seen closed and clean is let through (and a success there recorded) without asking the store,
and the set of blocked endpoints is reused. Another replica's opening of a breaker is then
seen up to ``memory_seconds`` late — a handful of extra attempts against a dead endpoint —
in exchange for two store reads fewer per delivery. A failure always goes to the store.
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from datetime import datetime, timedelta

from gateway.store.base import BreakerPhase, BreakerState, Clock, Store

log = logging.getLogger("lingang.jobs.breaker")

_CAS_TRIES = 8


class CircuitBreaker:
    """Per-endpoint breaker over the store's shared breaker records."""

    def __init__(
        self,
        store: Store,
        *,
        failure_threshold: int = 5,
        cooldown_seconds: float = 30.0,
        probe_wait_seconds: float = 5.0,
        clock: Clock | None = None,
        memory_seconds: float = 0.0,
    ) -> None:
        if failure_threshold < 1 or cooldown_seconds < 0:
            raise ValueError("failure_threshold >= 1 and cooldown_seconds >= 0 required")
        self.store = store
        self.failure_threshold = failure_threshold
        self.cooldown = timedelta(seconds=cooldown_seconds)
        self.probe_wait = timedelta(seconds=probe_wait_seconds)
        self._clock = clock
        self.memory_seconds = memory_seconds
        self._clean_until: dict[str, float] = {}
        """Endpoint → monotonic time until which it is taken as closed with no failures."""
        self._blocked: tuple[float, set[str]] = (0.0, set())

    def _remembered_clean(self, endpoint: str) -> bool:
        return self._clean_until.get(endpoint, 0.0) > time.monotonic()

    def _remember(self, state: BreakerState) -> None:
        if self.memory_seconds <= 0:
            return
        if state.phase is BreakerPhase.CLOSED and state.failures == 0:
            self._clean_until[state.endpoint] = time.monotonic() + self.memory_seconds
        else:
            self._clean_until.pop(state.endpoint, None)

    def now(self, state: BreakerState | None = None) -> datetime:
        """The time to judge ``state`` by: the clock given to this breaker (tests), else
        the time the store read ``state`` at (``seen_at``, the queue's clock), else the
        store's clock."""
        if self._clock is not None:
            return self._clock()
        if state is not None and state.seen_at is not None:
            return state.seen_at
        return self.store.clock()

    def reopens_at(self, state: BreakerState) -> datetime:
        """When an open breaker lets a probe through (or a stale probe is replaced)."""
        return (state.opened_at or self.now(state)) + self.cooldown

    def defer_until(self, state: BreakerState) -> datetime:
        """When a job refused by the breaker should be due again: the end of the
        cool-down while open; shortly (``probe_wait``) while a probe is in flight, so the
        queue drains soon after the probe succeeds (until then claims skip the endpoint)."""
        if state.phase is BreakerPhase.HALF_OPEN:
            return min(self.reopens_at(state), self.now(state) + self.probe_wait)
        return self.reopens_at(state)

    def defer_seconds(self, state: BreakerState) -> float:
        """:meth:`defer_until` as seconds from now (what the store takes: a job's due time
        is the queue's clock, which on PostgreSQL is the database's, not this one)."""
        return max(0.0, (self.defer_until(state) - self.now(state)).total_seconds())

    async def allow(self, endpoint: str) -> bool:
        """Whether a delivery to ``endpoint`` may go ahead now.

        Closed: yes. Open past its cool-down (or half-open with a stale probe): yes for
        exactly one caller, which moves the breaker to half-open. Otherwise no.
        """
        if self._remembered_clean(endpoint):
            return True
        for _ in range(_CAS_TRIES):
            state = await self.store.get_breaker(endpoint)
            self._remember(state)
            if state.phase is BreakerPhase.CLOSED:
                return True
            if self.now(state) < self.reopens_at(state):
                return False
            probe = replace(state, phase=BreakerPhase.HALF_OPEN, opened_at=self.now(state))
            if await self.store.update_breaker(probe, state.version):
                log.info("breaker half-open: probing", extra={"endpoint": endpoint})
                return True
        return False

    async def record_success(self, endpoint: str) -> None:
        """A delivery went through: close the breaker and forget past failures."""
        if self._remembered_clean(endpoint):
            return
        closed = BreakerState(endpoint)
        for _ in range(_CAS_TRIES):
            state = await self.store.get_breaker(endpoint)
            if state.phase is BreakerPhase.CLOSED and state.failures == 0:
                self._remember(state)
                return
            if await self.store.update_breaker(closed, state.version):
                self._remember(closed)
                if state.phase is not BreakerPhase.CLOSED:
                    log.info("breaker closed", extra={"endpoint": endpoint})
                return

    async def record_failure(self, endpoint: str) -> BreakerState:
        """A transport failure: count it; open the breaker at the threshold, or again
        when the half-open probe failed. Returns the state written."""
        self._clean_until.pop(endpoint, None)
        state = await self.store.get_breaker(endpoint)
        for _ in range(_CAS_TRIES):
            updated = self._after_failure(state)
            if updated == state or await self.store.update_breaker(updated, state.version):
                if updated.phase is BreakerPhase.OPEN and state.phase is not BreakerPhase.OPEN:
                    log.warning(
                        "breaker open", extra={"endpoint": endpoint, "failures": updated.failures}
                    )
                return replace(updated, version=state.version + (updated != state))
            state = await self.store.get_breaker(endpoint)
        return state

    def _after_failure(self, state: BreakerState) -> BreakerState:
        failures = state.failures + 1
        if state.phase is BreakerPhase.OPEN:
            return state
        if state.phase is BreakerPhase.HALF_OPEN or failures >= self.failure_threshold:
            opened = self.now(state)
            return replace(state, phase=BreakerPhase.OPEN, failures=failures, opened_at=opened)
        return replace(state, failures=failures)

    async def blocked_endpoints(self) -> set[str]:
        """Endpoints whose jobs should not be claimed now (open, cool-down running, or
        half-open with a probe in flight)."""
        fresh_until, blocked = self._blocked
        if fresh_until > time.monotonic():
            return set(blocked)
        states = await self.store.open_breakers()
        blocked = {s.endpoint for s in states if self.now(s) < self.reopens_at(s)}
        if self.memory_seconds > 0:
            self._blocked = (time.monotonic() + self.memory_seconds, blocked)
        return set(blocked)
