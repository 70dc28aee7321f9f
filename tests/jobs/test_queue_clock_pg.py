"""On PostgreSQL the job queue runs on the database's clock: replicas whose own clocks
disagree by far more than a lease still agree on which lease is live and which job is due.

Each "host" is a store with its own clock (the gateway's clock: what records are stamped
with and what the worker computes its own times by), an hour ahead or behind the truth; the
database's clock is the one truth they share."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import psycopg
import pytest

from gateway.jobs import Worker
from gateway.store.base import (
    Clock,
    Job,
    JobSpec,
    JobState,
    LeaseLostError,
    Receipt,
    StateChange,
    Store,
    utcnow,
)
from gateway.store.postgres import PostgresStore
from tests.jobs.conftest import make_worker

pytestmark = pytest.mark.postgres

SKEW = timedelta(hours=1)
"""How far the skewed hosts' clocks are off: far more than any lease."""
LEASE = 1.5
"""Seconds of every lease here (real time: the database's clock is not to be moved)."""
WORKER_LEASE = 2.5
"""The running worker's lease: renewed every third of it, so a busy machine's stalls of up
to two thirds of it do not cost it the job."""
SLACK = timedelta(seconds=30)
"""Generous bounds for "about now" on a loaded machine (still far below ``SKEW``)."""


def skewed(by: timedelta) -> Clock:
    """A host's clock, off by ``by``."""
    return lambda: utcnow() + by


@dataclass
class Hosts:
    """Three replicas on one database, and a way to read the database's clock."""

    on_time: Store
    ahead: Store
    behind: Store
    url: str

    async def database_now(self) -> datetime:
        async with await psycopg.AsyncConnection.connect(self.url, autocommit=True) as conn:
            row = await (await conn.execute("SELECT now()")).fetchone()
        assert row is not None
        now: datetime = row[0]
        return now


@pytest.fixture
async def hosts(pg_url: str) -> AsyncIterator[Hosts]:
    on_time = await PostgresStore.open(pg_url, max_size=4)
    ahead = await PostgresStore.open(pg_url, clock=skewed(SKEW), max_size=4)
    behind = await PostgresStore.open(pg_url, clock=skewed(-SKEW), max_size=4)
    try:
        await on_time.create_tenant("T", tenant_id="t")
        yield Hosts(on_time, ahead, behind, pg_url)
    finally:
        for store in (on_time, ahead, behind):
            await store.close()


async def queue(store: Store, spec: JobSpec | None = None) -> Job:
    """A submission with one delivery job, queued by ``store``'s host."""
    sub, _ = await store.create_submission("t", b"<EInvoice/>", content_type="application/xml")
    return await store.enqueue_job(sub.id, spec or JobSpec("deliver", "folder", "out"))


def about(value: datetime | None, expected: datetime) -> bool:
    """Whether ``value`` is ``expected`` give or take :data:`SLACK`."""
    return value is not None and abs(value - expected) < SLACK


async def claim_within(store: Store, worker_id: str, seconds: float) -> list[Job]:
    """Claim until something is claimed or ``seconds`` pass."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while True:
        claimed = await store.claim_jobs(worker_id, lease_seconds=LEASE)
        if claimed or loop.time() > deadline:
            return claimed
        await asyncio.sleep(0.05)


async def test_a_live_lease_is_not_taken_by_a_host_running_ahead(hosts: Hosts) -> None:
    job = await queue(hosts.ahead)  # due now by the database, whatever the host's clock
    [claimed] = await hosts.on_time.claim_jobs("on-time", lease_seconds=LEASE)
    assert claimed.id == job.id
    assert about(claimed.lease_expires_at, await hosts.database_now())
    assert await hosts.ahead.claim_jobs("ahead", lease_seconds=LEASE) == []
    assert await hosts.behind.claim_jobs("behind", lease_seconds=LEASE) == []
    renewed = await hosts.on_time.renew_lease(job.id, "on-time", LEASE)
    assert renewed.lease_expires_at is not None and claimed.lease_expires_at is not None
    assert renewed.lease_expires_at >= claimed.lease_expires_at
    assert await hosts.ahead.claim_jobs("ahead", lease_seconds=LEASE) == []

    # Real expiry (by the database's clock) still lets another worker take over.
    [taken] = await claim_within(hosts.ahead, "ahead", 10 * LEASE)
    assert taken.id == job.id and taken.lease_owner == "ahead" and taken.attempts == 2
    assert about(taken.lease_expires_at, await hosts.database_now())  # not an hour on
    with pytest.raises(LeaseLostError):
        await hosts.on_time.complete_job(job.id, "on-time", Receipt("late"))
    done = await hosts.ahead.complete_job(job.id, "ahead", Receipt("ok"))
    assert done.state is JobState.DONE


async def test_a_lease_granted_by_a_host_running_behind_is_live(hosts: Hosts) -> None:
    job = await queue(hosts.on_time)
    [claimed] = await hosts.behind.claim_jobs("behind", lease_seconds=LEASE)
    assert claimed.id == job.id
    assert about(claimed.lease_expires_at, await hosts.database_now())  # not an hour ago
    assert await hosts.on_time.claim_jobs("on-time", lease_seconds=LEASE) == []
    assert await hosts.ahead.claim_jobs("ahead", lease_seconds=LEASE) == []
    renewed = await hosts.behind.renew_lease(job.id, "behind", 600)
    assert about(renewed.lease_expires_at, await hosts.database_now() + timedelta(seconds=600))
    await asyncio.sleep(2 * LEASE)
    assert await hosts.on_time.claim_jobs("on-time", lease_seconds=LEASE) == []


async def test_retry_deferral_and_release_times_are_the_databases(hosts: Hosts) -> None:
    first = await queue(hosts.on_time)
    [claimed] = await hosts.ahead.claim_jobs("ahead", lease_seconds=LEASE)
    failed = await hosts.ahead.fail_job(
        claimed.id, "ahead", "timeout", retryable=True, retry_after=0.2
    )
    assert about(failed.next_attempt_at, await hosts.database_now())  # not an hour on
    [again] = await claim_within(hosts.on_time, "on-time", 10)
    assert again.id == first.id and again.attempts == 2

    deferred = await hosts.on_time.defer_job(first.id, "on-time", 0.2)
    assert deferred.state is JobState.PENDING
    [back] = await claim_within(hosts.behind, "behind", 10)
    assert back.id == first.id
    await hosts.behind.fail_job(first.id, "behind", "rejected", retryable=False, retry_after=None)
    retried = await hosts.ahead.retry_job(first.id)  # manual retry: due now, by the database
    assert about(retried.next_attempt_at, await hosts.database_now())
    [revived] = await hosts.on_time.claim_jobs("on-time", lease_seconds=LEASE)
    assert revived.id == first.id
    await hosts.on_time.defer_job(first.id, "on-time", 600)
    assert await hosts.ahead.claim_jobs("ahead", lease_seconds=LEASE) == []

    second = await queue(hosts.on_time)
    [leased] = await hosts.ahead.claim_jobs("ahead", lease_seconds=600)
    assert leased.id == second.id
    assert await hosts.ahead.release_jobs("ahead") == 1  # graceful stop: due now
    [taken] = await hosts.on_time.claim_jobs("on-time", lease_seconds=LEASE)
    assert taken.id == second.id


async def test_a_delivery_ordered_by_a_time_stamped_ahead_is_due_now(hosts: Hosts) -> None:
    """The planner orders a delivery by its submission's arrival, stamped by the host that
    took it in: an hour ahead, that must not delay the delivery by an hour."""
    sub, _ = await hosts.ahead.create_submission(
        "t", b"<EInvoice/>", content_type="application/xml", enqueue=JobSpec("process")
    )
    assert sub.created_at > await hosts.database_now() + SKEW - SLACK
    [processing] = await hosts.on_time.claim_jobs("on-time", lease_seconds=LEASE)
    delivery = JobSpec("deliver", "folder", "out", ordered_at=sub.created_at)
    queued = await hosts.on_time.finish_processing(
        processing.id,
        "on-time",
        enqueue=delivery,
        event=StateChange("queued"),
        hand_off_seconds=LEASE,
    )
    assert queued is not None and queued.lease_owner == "on-time"  # handed to the worker
    assert about(queued.next_attempt_at, await hosts.database_now())
    assert about(queued.lease_expires_at, await hosts.database_now())
    other = await queue(
        hosts.on_time, JobSpec("deliver", "peppol", "ep", ordered_at=sub.created_at)
    )
    assert about(other.next_attempt_at, await hosts.database_now())
    [claimed] = await hosts.behind.claim_jobs("behind", lease_seconds=LEASE)
    assert claimed.id == other.id


async def test_workers_whose_clocks_disagree_deliver_a_job_once(hosts: Hosts) -> None:
    """The production claim loop: a worker an hour ahead polls while another runs a job
    for several lease lengths, renewing its lease; it gets the job only once the worker
    running it has died and the lease has expired by the database's clock."""
    delivered: Counter[tuple[str, str]] = Counter()
    started = asyncio.Event()
    finish = asyncio.Event()

    def deliverer(name: str, wait: bool) -> Callable[[Job], Awaitable[Receipt]]:
        async def deliver(job: Job) -> Receipt:
            delivered[(name, job.id)] += 1
            if wait:
                started.set()
                await finish.wait()
            return Receipt("ok")

        return deliver

    def worker(store: Store, name: str, *, wait: bool = False) -> Worker:
        return make_worker(
            store, deliverer(name, wait), name, lease_seconds=WORKER_LEASE, idle_wait=0.05
        )

    slow = worker(hosts.on_time, "on-time", wait=True)
    eager = worker(hosts.ahead, "ahead")
    job = await queue(hosts.on_time)
    running = [asyncio.create_task(slow.run())]
    try:
        await asyncio.wait_for(started.wait(), 30)
        running.append(asyncio.create_task(eager.run()))
        await asyncio.sleep(3 * WORKER_LEASE)  # several leases, renewed by the running worker
        assert delivered == Counter({("on-time", job.id): 1})
        finish.set()
        await done(hosts.on_time, job.id)
        slow.stop()
        eager.stop()
        await asyncio.gather(*running)
        running.clear()

        # A worker that dies (claims, never renews, never finishes): its job is taken over
        # by a worker an hour ahead once the lease expires by the database's clock.
        orphan = await queue(hosts.on_time, JobSpec("deliver", "peppol", "ep"))
        [dying] = await hosts.behind.claim_jobs("dead-worker", lease_seconds=LEASE)
        assert dying.id == orphan.id
        eager = worker(hosts.ahead, "ahead")
        running.append(asyncio.create_task(eager.run()))
        await asyncio.sleep(LEASE / 3)
        assert ("ahead", orphan.id) not in delivered
        taken_over = await done(hosts.on_time, orphan.id)
        assert taken_over.attempts == 2 and taken_over.lease_owner is None
        with pytest.raises(LeaseLostError):
            await hosts.behind.complete_job(orphan.id, "dead-worker", Receipt("late"))
    finally:
        slow.stop()
        eager.stop()
        finish.set()
        await asyncio.gather(*running)
    assert delivered == Counter({("on-time", job.id): 1, ("ahead", orphan.id): 1})


async def done(store: Store, job_id: str) -> Job:
    """The job once it is done (within 30 s)."""
    async with asyncio.timeout(30):
        while True:
            found = await store.get_job(job_id)
            if found is not None and found.state is JobState.DONE:
                return found
            await asyncio.sleep(0.05)


async def test_a_breaker_opened_by_a_host_running_behind_keeps_its_cool_down(
    hosts: Hosts,
) -> None:
    """The per-endpoint breaker is shared through the store, but it was stamped and read with
    each host's own clock: a breaker opened by a host an hour behind looked an hour old to
    the others, which probed the failing endpoint at once, every one of them (the cool-down
    was skipped); opened by a host an hour ahead, it held the endpoint back on the others for
    an hour more than the cool-down. Now the breaker, like the queue, runs on the database's
    clock."""
    from gateway.jobs.breaker import CircuitBreaker

    def breaker(store: Store, cooldown: float) -> CircuitBreaker:
        return CircuitBreaker(store, failure_threshold=1, cooldown_seconds=cooldown)

    await breaker(hosts.behind, 60.0).record_failure("https://down.example/a")
    assert not await breaker(hosts.on_time, 60.0).allow("https://down.example/a")
    assert not await breaker(hosts.ahead, 60.0).allow("https://down.example/a")
    assert "https://down.example/a" in await breaker(hosts.ahead, 60.0).blocked_endpoints()

    await breaker(hosts.ahead, 1.0).record_failure("https://down.example/b")
    behind = breaker(hosts.behind, 1.0)
    assert "https://down.example/b" in await behind.blocked_endpoints()
    await asyncio.sleep(1.5)  # the cool-down is over, by every host's reckoning
    assert "https://down.example/b" not in await behind.blocked_endpoints()
    state = await hosts.behind.get_breaker("https://down.example/b")
    assert behind.defer_seconds(state) == 0.0
    assert await behind.allow("https://down.example/b")  # the one probe
    assert not await breaker(hosts.on_time, 1.0).allow("https://down.example/b")
