"""The per-endpoint circuit breaker, shared through the store."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from gateway.jobs.breaker import CircuitBreaker
from gateway.store.base import BreakerPhase, Store
from gateway.store.sqlite import SqliteStore
from gateway.store.testing import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def stores(tmp_path: Path, clock: FakeClock) -> AsyncIterator[tuple[Store, Store]]:
    url = f"sqlite:///{tmp_path}/breaker.db"
    one = await SqliteStore.open(url, clock=clock)
    await one.migrate()
    two = await SqliteStore.open(url, clock=clock)
    yield one, two
    await one.close()
    await two.close()


async def test_opens_after_threshold_and_probes_once(
    stores: tuple[Store, Store], clock: FakeClock
) -> None:
    one, two = stores
    mine = CircuitBreaker(one, failure_threshold=3, cooldown_seconds=30)
    theirs = CircuitBreaker(two, failure_threshold=3, cooldown_seconds=30)
    for _ in range(2):
        await mine.record_failure("ep")
    assert await theirs.allow("ep")
    state = await theirs.record_failure("ep")
    assert state.phase is BreakerPhase.OPEN and state.failures == 3
    assert not await mine.allow("ep")
    assert await mine.blocked_endpoints() == {"ep"}
    assert await mine.allow("other")
    clock.advance(30)
    assert await mine.blocked_endpoints() == set()
    assert await mine.allow("ep")
    assert not await theirs.allow("ep")
    assert (await two.get_breaker("ep")).phase is BreakerPhase.HALF_OPEN
    assert await theirs.blocked_endpoints() == {"ep"}
    await mine.record_success("ep")
    assert (await two.get_breaker("ep")).phase is BreakerPhase.CLOSED
    assert await theirs.allow("ep")


async def test_failed_probe_reopens(stores: tuple[Store, Store], clock: FakeClock) -> None:
    store, _ = stores
    breaker = CircuitBreaker(store, failure_threshold=1, cooldown_seconds=10)
    await breaker.record_failure("ep")
    clock.advance(10)
    assert await breaker.allow("ep")
    state = await breaker.record_failure("ep")
    assert state.phase is BreakerPhase.OPEN and state.opened_at == clock.now
    assert not await breaker.allow("ep")


async def test_stale_probe_is_replaced(stores: tuple[Store, Store], clock: FakeClock) -> None:
    store, _ = stores
    breaker = CircuitBreaker(store, failure_threshold=1, cooldown_seconds=10)
    await breaker.record_failure("ep")
    clock.advance(10)
    assert await breaker.allow("ep")
    assert not await breaker.allow("ep")
    clock.advance(10)
    assert await breaker.allow("ep")


async def test_success_resets_the_count(stores: tuple[Store, Store]) -> None:
    store, _ = stores
    breaker = CircuitBreaker(store, failure_threshold=2, cooldown_seconds=10)
    await breaker.record_failure("ep")
    await breaker.record_success("ep")
    state = await breaker.record_failure("ep")
    assert state.phase is BreakerPhase.CLOSED and state.failures == 1


async def test_refused_jobs_wait_less_behind_a_probe(
    stores: tuple[Store, Store], clock: FakeClock
) -> None:
    store, _ = stores
    breaker = CircuitBreaker(store, failure_threshold=1, cooldown_seconds=30, probe_wait_seconds=5)
    opened = await breaker.record_failure("ep")
    assert breaker.defer_until(opened) == clock.now + timedelta(seconds=30)
    assert breaker.defer_seconds(opened) == 30
    clock.advance(30)
    assert await breaker.allow("ep")
    probing = await store.get_breaker("ep")
    assert probing.phase is BreakerPhase.HALF_OPEN
    assert breaker.defer_until(probing) == clock.now + timedelta(seconds=5)
    assert breaker.defer_seconds(probing) == 5


async def test_memory_saves_reads_and_sees_another_replicas_opening_late(
    stores: tuple[Store, Store],
) -> None:
    one, two = stores
    opener = CircuitBreaker(one, failure_threshold=1, cooldown_seconds=30)
    remembering = CircuitBreaker(two, failure_threshold=1, cooldown_seconds=30, memory_seconds=60)
    exact = CircuitBreaker(two, failure_threshold=1, cooldown_seconds=30)
    assert await remembering.allow("ep") and await exact.allow("ep")
    await opener.record_failure("ep")  # another replica opens it
    assert not await exact.allow("ep")
    assert await remembering.allow("ep")  # seen late: it still remembers "closed"
    await remembering.record_failure("ep")  # its own failure always goes to the store
    assert not await remembering.allow("ep")
