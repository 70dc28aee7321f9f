"""The production claim loop on a real SQLite store: deliveries, retries, dead letter, breaker,
lease renewal and graceful stop."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from gateway.errors import PermanentDeliveryError, TransientDeliveryError
from gateway.jobs import CircuitBreaker, RetryPolicy
from gateway.store.base import Job, JobState, LeaseLostError, Receipt, Store
from gateway.store.sqlite import SqliteStore
from gateway.store.testing import FakeClock
from tests.jobs.conftest import FolderDeliverer, make_worker, queue_documents

FAST = RetryPolicy(base_seconds=0.01, cap_seconds=0.02, max_attempts=4)


async def until_settled(store: Store, count: int, guard: float = 60.0) -> list[Job]:
    """Wait until ``count`` jobs are done or dead (the guard only stops a hung test)."""
    async with asyncio.timeout(guard):
        while True:
            settled = [
                j
                for state in (JobState.DONE, JobState.DEAD)
                for j in await store.list_jobs(state=state, limit=10_000)
            ]
            if len(settled) >= count:
                return settled
            await asyncio.sleep(0.02)


async def test_delivers_every_job_once_with_receipts(store: Store, tmp_path: Path) -> None:
    jobs = await queue_documents(store, 12)
    deliver = FolderDeliverer(store, tmp_path / "out")
    dispatcher = make_worker(store, deliver, concurrency=3, retry=FAST, record_events=True)
    while await dispatcher.run_once():
        pass
    assert deliver.deliveries == Counter({job.id: 1 for job in jobs})
    assert sorted(p.stem for p in (tmp_path / "out").iterdir()) == sorted(
        j.message_id for j in jobs
    )
    for job in jobs:
        [receipt] = await store.list_receipts(job_id=job.id)
        assert receipt.kind == "folder" and receipt.detail == {"path": f"{job.message_id}.xml"}
        assert [e.state for e in await store.list_events(job.submission_id)][-1] == "delivered"


async def test_flaky_receiver_is_retried_with_the_same_message_id(store: Store) -> None:
    [job] = await queue_documents(store, 1)
    seen: list[tuple[str, int]] = []

    async def flaky(claimed: Job) -> Receipt:
        seen.append((claimed.message_id, claimed.attempts))
        if claimed.attempts < 3:
            raise TransientDeliveryError("connection reset")
        return Receipt("as4-receipt", b"<Receipt/>")

    dispatcher = make_worker(
        store, flaky, retry=FAST, breaker=CircuitBreaker(store, failure_threshold=99)
    )
    runner = asyncio.create_task(dispatcher.run())
    [settled] = await until_settled(store, 1)
    dispatcher.stop()
    await runner
    assert settled.state is JobState.DONE and settled.attempts == 3
    assert seen == [(job.message_id, 1), (job.message_id, 2), (job.message_id, 3)]


async def test_a_receiver_that_asked_to_wait_is_not_tried_again_sooner(store: Store) -> None:
    [job] = await queue_documents(store, 1)

    async def busy(claimed: Job) -> Receipt:
        raise TransientDeliveryError("HTTP 429 (Retry-After 300 s)", retry_after=300)

    dispatcher = make_worker(
        store, busy, retry=FAST, breaker=CircuitBreaker(store, failure_threshold=99)
    )
    before = datetime.now(UTC)
    assert await dispatcher.run_once()
    [waiting] = await store.list_jobs(state=JobState.PENDING, limit=10)
    assert waiting.id == job.id and waiting.attempts == 1
    assert waiting.next_attempt_at >= before + timedelta(seconds=299)
    assert not await dispatcher.run_once(), "not due again for five minutes"


async def test_permanent_rejection_dead_letters_then_manual_retry(store: Store) -> None:
    [job] = await queue_documents(store, 1)

    async def rejecting(claimed: Job) -> Receipt:
        raise PermanentDeliveryError("receiver says: PEPPOL-EN16931-R001")

    await make_worker(store, rejecting, retry=FAST, record_events=True).run_once()
    dead = await store.get_job(job.id)
    assert dead is not None and dead.state is JobState.DEAD and dead.retryable is False
    assert dead.last_error == "PermanentDeliveryError: receiver says: PEPPOL-EN16931-R001"
    events = await store.list_events(job.submission_id)
    assert events[-1].state == "dead" and events[-1].reason == dead.last_error

    async def accepting(claimed: Job) -> Receipt:
        return Receipt("as4-receipt")

    await store.retry_job(job.id)
    await make_worker(store, accepting, retry=FAST).run_once()
    done = await store.get_job(job.id)
    assert done is not None and done.state is JobState.DONE
    assert done.message_id == job.message_id


async def test_retries_run_out(store: Store) -> None:
    [job] = await queue_documents(store, 1)

    async def down(claimed: Job) -> Receipt:
        raise TransientDeliveryError("503")

    breaker = CircuitBreaker(store, failure_threshold=99)
    dispatcher = make_worker(store, down, retry=FAST, breaker=breaker)
    runner = asyncio.create_task(dispatcher.run())
    [settled] = await until_settled(store, 1)
    dispatcher.stop()
    await runner
    assert settled.state is JobState.DEAD and settled.attempts == FAST.max_attempts
    assert settled.retryable is True and settled.id == job.id


async def test_open_breaker_holds_back_one_endpoint(store: Store) -> None:
    down = await queue_documents(store, 3, endpoint="https://down.example/as4")
    up = await queue_documents(store, 3, endpoint="https://up.example/as4")
    calls: Counter[str] = Counter()

    async def deliver(claimed: Job) -> Receipt:
        calls[claimed.endpoint] += 1
        if "down" in claimed.endpoint:
            raise TransientDeliveryError("timeout")
        return Receipt("ok")

    breaker = CircuitBreaker(store, failure_threshold=2, cooldown_seconds=3600)
    dispatcher = make_worker(store, deliver, concurrency=1, retry=FAST, breaker=breaker)
    for _ in range(12):
        await dispatcher.run_once()
        await asyncio.sleep(0.03)
    assert calls["https://down.example/as4"] == 2
    assert calls["https://up.example/as4"] == 3
    for job in down:
        current = await store.get_job(job.id)
        assert current is not None and current.state is JobState.PENDING
    states = [await store.get_job(j.id) for j in up]
    assert all(j is not None and j.state is JobState.DONE for j in states)


async def test_long_delivery_renews_its_lease(store: Store) -> None:
    [job] = await queue_documents(store, 1)

    async def slow(claimed: Job) -> Receipt:
        first = claimed.lease_expires_at
        assert first is not None
        while True:
            current = await store.get_job(claimed.id)
            assert current is not None and current.lease_expires_at is not None
            if current.lease_expires_at > first:
                return Receipt("slow")
            await asyncio.sleep(0.05)

    await asyncio.wait_for(make_worker(store, slow, lease_seconds=0.3).run_once(), 60)
    done = await store.get_job(job.id)
    assert done is not None and done.state is JobState.DONE and done.attempts == 1


async def test_stop_releases_unfinished_jobs(store: Store) -> None:
    [job] = await queue_documents(store, 1)
    started = asyncio.Event()

    async def hangs(claimed: Job) -> Receipt:
        started.set()
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    dispatcher = make_worker(store, hangs)
    runner = asyncio.create_task(dispatcher.run())
    await asyncio.wait_for(started.wait(), 60)
    dispatcher.grace = 0
    dispatcher.stop()
    await runner
    released = await store.get_job(job.id)
    assert released is not None and released.state is JobState.PENDING
    assert released.lease_owner is None and released.attempts == 0


async def test_a_finished_delivery_frees_its_slot_at_once(tmp_path: Path) -> None:
    store = await SqliteStore.open(f"sqlite:///{tmp_path}/slots.db", poll_interval=3600)
    await store.migrate()
    first, second, third = await queue_documents(store, 3)
    third_delivered = asyncio.Event()

    async def deliver(job: Job) -> Receipt:
        if job.id == first.id:
            await third_delivered.wait()
        if job.id == third.id:
            third_delivered.set()
        return Receipt("ok")

    dispatcher = make_worker(store, deliver, concurrency=2, idle_wait=3600)
    runner = asyncio.create_task(dispatcher.run())
    try:
        await asyncio.wait_for(third_delivered.wait(), 60)
        await until_settled(store, 3)
    finally:
        dispatcher.stop()
        await runner
        await store.close()
    assert second.id not in {first.id, third.id}


async def test_a_lease_lost_while_running_leaves_the_job_to_its_holder(store: Store) -> None:
    """A fenced write inside a run finds the lease gone (it expired on a loaded machine and
    was claimed again, possibly by this very worker). That is no failure of the job: it
    was dead-lettered as non-retryable (LeaseLostError) when the same worker held the
    lease again by the time the failure was recorded (seen in the PostgreSQL crash test)."""
    [job] = await queue_documents(store, 1)

    async def outrun(claimed: Job) -> Receipt:
        raise LeaseLostError(f"job {claimed.id} is not leased to {claimed.lease_owner}")

    await make_worker(store, outrun, retry=FAST, record_events=True).run_once()
    kept = await store.get_job(job.id)
    assert kept is not None and kept.state is JobState.LEASED and kept.last_error is None
    assert [e.state for e in await store.list_events(job.submission_id)][-1] != "dead"


async def test_a_run_whose_lease_was_taken_over_is_stopped_before_it_sends(
    tmp_path: Path,
) -> None:
    """The lease expired under a running job (a stalled worker, say) and another worker
    claimed it: the renewal finds the lease gone and stops the run, so a delivery that has
    not gone out yet does not go out twice."""
    clock = FakeClock()
    store = await SqliteStore.open(f"sqlite:///{tmp_path}/outbox.db", clock=clock)
    await store.migrate()
    [job] = await queue_documents(store, 1)
    started, go = asyncio.Event(), asyncio.Event()
    sent: Counter[str] = Counter()

    async def deliver(claimed: Job) -> Receipt:
        started.set()
        await go.wait()  # e.g. still connecting to the receiver
        sent[claimed.id] += 1
        return Receipt("ok")

    run = asyncio.create_task(make_worker(store, deliver, "w1", lease_seconds=0.3).run_once())
    try:
        await asyncio.wait_for(started.wait(), 60)
        clock.advance(1)  # past the lease, by the store's clock
        [taken] = await store.claim_jobs("w2")
        assert taken.id == job.id
        await asyncio.wait_for(asyncio.shield(run), 20)  # stopped, not waiting for `go`
    finally:
        go.set()
        await run
        await store.close()
    assert sent == Counter()
    # (the store is closed: the job as w2 took it is checked through `taken`)
    assert taken.lease_owner == "w2" and taken.attempts == 2


async def test_a_run_whose_lease_cannot_be_renewed_is_stopped(tmp_path: Path) -> None:
    """The store refuses every renewal (unreachable, say): after a whole lease length
    without one the run is stopped, since another worker may then claim the job; the job
    is not failed, and once its lease expires another worker takes it."""
    path = tmp_path / "outbox.db"
    store = await SqliteStore.open(f"sqlite:///{path}")
    await store.migrate()
    [job] = await queue_documents(store, 1)
    started, go = asyncio.Event(), asyncio.Event()
    sent: Counter[str] = Counter()
    lease = 0.6

    def refuse_renewals() -> None:
        with contextlib.closing(sqlite3.connect(path)) as db:
            db.execute(
                "CREATE TRIGGER refuse_renewals BEFORE UPDATE OF lease_expires_at ON outbox_jobs"
                " WHEN OLD.lease_owner = 'w1' AND NEW.lease_owner = 'w1'"
                " BEGIN SELECT RAISE(ABORT, 'the store is away'); END"
            )
            db.commit()

    async def deliver(claimed: Job) -> Receipt:
        await asyncio.to_thread(refuse_renewals)
        started.set()
        await go.wait()
        sent[claimed.id] += 1
        return Receipt("ok")

    loop = asyncio.get_running_loop()
    begun = loop.time()
    run = asyncio.create_task(make_worker(store, deliver, "w1", lease_seconds=lease).run_once())
    try:
        await asyncio.wait_for(started.wait(), 60)
        await asyncio.wait_for(asyncio.shield(run), 20)
        assert loop.time() - begun >= lease
        assert sent == Counter()
        kept = await store.get_job(job.id)
        assert kept is not None and kept.state is JobState.LEASED and kept.last_error is None
        async with asyncio.timeout(20):
            while not (taken := await store.claim_jobs("w2")):
                await asyncio.sleep(0.05)
        assert [(j.id, j.attempts) for j in taken] == [(job.id, 2)]
    finally:
        go.set()
        await run
        await store.close()


async def test_a_delivery_whose_outcome_the_store_refuses_at_first_is_recorded_once(
    tmp_path: Path,
) -> None:
    """The delivery went out, then recording it failed (the store away for a moment): the
    worker tries again instead of leaving the job leased, to be sent again once its lease
    expired."""
    path = tmp_path / "outbox.db"
    store = await SqliteStore.open(f"sqlite:///{path}")
    await store.migrate()
    [job] = await queue_documents(store, 1)
    sent: Counter[str] = Counter()

    def database(statement: str) -> None:
        with contextlib.closing(sqlite3.connect(path)) as db:
            db.execute(statement)
            db.commit()

    async def deliver(claimed: Job) -> Receipt:
        sent[claimed.id] += 1
        await asyncio.to_thread(
            database,
            "CREATE TRIGGER refuse_done BEFORE UPDATE OF state ON outbox_jobs"
            " WHEN NEW.state = 'done' BEGIN SELECT RAISE(ABORT, 'the store is away'); END",
        )
        return Receipt("ok")

    async def store_back() -> None:
        while not sent:
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.5)
        await asyncio.to_thread(database, "DROP TRIGGER refuse_done")

    worker = make_worker(store, deliver, "w1", lease_seconds=30, error_pause=0.1)
    try:
        await asyncio.wait_for(asyncio.gather(worker.run_once(), store_back()), 30)
        done = await store.get_job(job.id)
        assert done is not None and done.state is JobState.DONE and done.attempts == 1
        assert [r.kind for r in await store.list_receipts(job_id=job.id)] == ["ok"]
    finally:
        await store.close()
    assert sent == Counter({job.id: 1})
