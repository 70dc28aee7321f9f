"""PostgreSQL-only behaviour: wake-ups between store instances (NOTIFY after the commit, a
store's own NOTIFY not waking it twice), and the LISTEN connection coming back after the
server drops it."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator

import psycopg
import pytest

from gateway.store.base import JobSpec, StoreError
from gateway.store.postgres import PostgresStore
from tests.pg import free_port

pytestmark = pytest.mark.postgres


async def test_listener_reconnects_after_being_terminated(pg_url: str) -> None:
    store = await PostgresStore.open(pg_url)
    try:
        await store.create_tenant("T", tenant_id="t")
        await store.wait_for_jobs(0)
        with psycopg.connect(pg_url, autocommit=True) as admin:
            killed = admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE query LIKE 'LISTEN%' AND pid <> pg_backend_pid()"
            ).fetchall()
        assert killed == [(True,)]
        woken = False
        for _ in range(20):
            await store.wait_for_jobs(0)
            sub, _ = await store.create_submission("t", b"x", content_type="text/plain")
            await store.enqueue_job(sub.id, JobSpec("deliver", "folder", "out"))
            if await store.wait_for_jobs(5):
                woken = True
                break
        assert woken
    finally:
        await store.close()


async def test_another_store_is_woken_once_the_job_is_committed(pg_url: str) -> None:
    first = await PostgresStore.open(pg_url)
    second = await PostgresStore.open(pg_url)
    try:
        await first.create_tenant("T", tenant_id="t")
        sub, _ = await first.create_submission("t", b"x", content_type="text/plain")
        assert await second.wait_for_jobs(0) is False  # listening from now on
        jobs = [JobSpec("deliver", f"a{n}", "out") for n in range(20)]
        await asyncio.gather(*(first.enqueue_job(sub.id, spec) for spec in jobs))
        assert await second.wait_for_jobs(10) is True
        claimed = await second.claim_jobs("w", limit=50)
        assert len(claimed) == 20
    finally:
        await first.close()
        await second.close()


async def test_a_store_is_not_woken_again_by_its_own_notify(pg_url: str) -> None:
    """Its waiters are woken at once, locally; the NOTIFY it sends for other instances
    comes back to its own listener and wakes nobody (each idle worker would claim again)."""
    store = await PostgresStore.open(pg_url)
    other = await PostgresStore.open(pg_url)
    try:
        await store.create_tenant("T", tenant_id="t")
        sub, _ = await store.create_submission("t", b"x", content_type="text/plain")
        assert await store.wait_for_jobs(0) is False
        assert await other.wait_for_jobs(0) is False
        await store.enqueue_job(sub.id, JobSpec("deliver", "folder", "out"))
        assert await store.wait_for_jobs(0) is True  # the local wake-up
        assert await other.wait_for_jobs(10) is True  # the NOTIFY has gone round
        assert await store.wait_for_jobs(0.5) is False
    finally:
        await store.close()
        await other.close()


async def test_a_value_postgresql_cannot_keep_is_the_inputs_fault(pg_url: str) -> None:
    """A NUL in text, or a key longer than an index entry, was a StoreError that said "try
    again": the API answered 503 and an AS4 sender was told to send again later, for ever.
    It is an UnstorableError: not retryable, a 422."""
    from gateway.api.problems import status_for
    from gateway.store.records import UnstorableError

    store = await PostgresStore.open(pg_url)
    try:
        await store.create_tenant("T", tenant_id="t")
        for bad in ("a\x00b", "x" * 300_000):
            with pytest.raises(UnstorableError) as caught:
                await store.create_submission(
                    "t", b"x", content_type="text/plain", idempotency_key=bad
                )
            assert not caught.value.retryable and status_for(caught.value) == 422
        sub, _ = await store.create_submission("t", b"x", content_type="text/plain")
        assert sub.id  # the store still works
    finally:
        await store.close()


def terminate_backends(pg_url: str) -> int:
    """End every other session on the database (as a restarted or failed-over server, or a
    firewall dropping idle connections, leaves a pool's connections) and wait until they are
    gone; how many there were."""
    with psycopg.connect(pg_url, autocommit=True) as admin:
        ended = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchall()
        for _ in range(100):
            left = admin.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            ).fetchone()
            if left == (0,):
                break
            time.sleep(0.05)
    return len(ended)


async def test_pooled_connections_the_server_ended_are_replaced_not_failed(pg_url: str) -> None:
    """After the server ended the pool's idle connections, each one failed the next read or
    write it was handed to (a 503 from the API, a false "fail" from /healthz, a failed
    claim), one after another until every stale connection had been used once. A connection
    the server has spoken on while it sat idle in the pool (its goodbye, then end of file) is
    now dropped and another taken: nothing fails."""
    store = await PostgresStore.open(pg_url, min_size=4)
    try:
        await store.create_tenant("T", tenant_id="t")
        assert terminate_backends(pg_url) >= 4
        for _ in range(6):
            await store.ping()
        sub, _ = await store.create_submission("t", b"x", content_type="text/plain")
        assert await store.enqueue_job(sub.id, JobSpec("deliver", "folder", "out"))
        assert len(await store.claim_jobs("w", limit=5)) == 1
    finally:
        await store.close()


async def test_wake_ups_survive_the_server_ending_every_connection(pg_url: str) -> None:
    """A worker waiting for jobs slept through its whole poll interval after the server ended
    its LISTEN connection (what was notified meanwhile was lost), and the next store's
    NOTIFY went out on its stale connection, failed, and was dropped. Now a lost LISTEN
    wakes its waiters (they claim once and listen again) and a NOTIFY takes a fresh
    connection when its own was ended."""
    sender = await PostgresStore.open(pg_url)
    waiter = await PostgresStore.open(pg_url)
    try:
        await sender.create_tenant("T", tenant_id="t")
        sub, _ = await sender.create_submission("t", b"x", content_type="text/plain")
        assert await waiter.wait_for_jobs(0) is False  # listening
        await sender.enqueue_job(sub.id, JobSpec("deliver", "a0", "out"))  # notifier opened
        assert await waiter.wait_for_jobs(10) is True
        waiting = asyncio.create_task(waiter.wait_for_jobs(30))
        await asyncio.sleep(0.2)
        terminate_backends(pg_url)
        async with asyncio.timeout(10):
            assert await waiting is True  # woken by the lost LISTEN, not after 30 s
        assert await waiter.wait_for_jobs(0.5) is False  # listening again
        await sender.enqueue_job(sub.id, JobSpec("deliver", "a1", "out"))
        async with asyncio.timeout(10):
            assert await waiter.wait_for_jobs(30) is True  # the NOTIFY got through
    finally:
        await sender.close()
        await waiter.close()


RECOVERED_WITHIN = 6.0
"""Seconds after the server is back by which the store must answer again."""


@pytest.mark.slow
async def test_the_store_answers_soon_after_the_server_comes_back(pg_server: object) -> None:
    """The pool retried a lost connection after 1, 2, 4, 8, 16, 32 ... seconds for five
    minutes, so a server back after an outage of 16 s was reached only 15 s later, after 70 s
    about 55 s later: meanwhile every request waited 30 s for a 503, /readyz failed and
    claims failed. Each attempt now ends after ``RECONNECT_SECONDS`` and the next request
    starts a new one, so the wait after the server is back stays a few seconds."""
    from tests.pg import LocalServer, find_pg_bin

    bindir = find_pg_bin()
    if bindir is None:
        pytest.skip("PostgreSQL binaries (initdb, pg_ctl) not found")
    local = LocalServer(bindir)
    server = local.start()
    try:
        store = await PostgresStore.open(server.url(server.create_database()))
        try:
            await store.ping()
            local.shut_down()
            loop = asyncio.get_running_loop()
            down_until = loop.time() + 16.0
            while loop.time() < down_until:  # requests keep coming, as to a serving gateway
                with contextlib.suppress(Exception):
                    async with asyncio.timeout(1.0):
                        await store.ping()
                await asyncio.sleep(0.5)
            local.start_again()
            back = loop.time()
            while True:
                with contextlib.suppress(Exception):
                    async with asyncio.timeout(1.0):
                        await store.ping()
                    break
                assert loop.time() - back < RECOVERED_WITHIN, "store still unreachable"
                await asyncio.sleep(0.2)
        finally:
            await store.close()
    finally:
        local.stop()


async def test_while_the_server_is_unreachable_requests_fail_fast(pg_server: object) -> None:
    """With the server down, every request waited the pool's full 30 s for a connection
    before its 503 (the reliability harness's client gives up after 10 s: a timeout, no
    answer). Once the pool has failed to reach the server for a whole reconnect attempt, a
    request waits only ``UNREACHABLE_WAIT_SECONDS``; the first connection made clears it."""
    from gateway.store.postgres import UNREACHABLE_WAIT_SECONDS
    from gateway.store.records import StoreError
    from tests.pg import LocalServer, find_pg_bin

    bindir = find_pg_bin()
    if bindir is None:
        pytest.skip("PostgreSQL binaries (initdb, pg_ctl) not found")
    local = LocalServer(bindir)
    server = local.start()
    try:
        store = await PostgresStore.open(
            server.url(server.create_database()), reconnect_seconds=0.5
        )
        try:
            local.shut_down()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(1.0):
                    await store.ping()  # drops the connection the shutdown ended, reconnects
            loop = asyncio.get_running_loop()
            await asyncio.sleep(2.0)  # a whole reconnect attempt has failed by now
            started = loop.time()
            with pytest.raises(StoreError):
                await store.ping()
            assert loop.time() - started < UNREACHABLE_WAIT_SECONDS + 1.0
            local.start_again()
            async with asyncio.timeout(15):
                while True:
                    with contextlib.suppress(StoreError):
                        await store.ping()
                        break
                    await asyncio.sleep(0.2)
            started = loop.time()
            await store.ping()
            assert loop.time() - started < 1.0
        finally:
            await store.close()
    finally:
        local.stop()


async def test_a_pool_that_cannot_grow_still_waits_for_its_busy_connections(pg_url: str) -> None:
    """An attempt to grow the pool can fail while its connections work (the server at
    max_connections): requests must then wait for a busy connection as before, not give up
    after the outage's short wait."""
    from gateway.store.postgres import UNREACHABLE_WAIT_SECONDS, PostgresConnector

    store = await PostgresStore.open(pg_url, max_size=1)
    try:
        connector = store.connector
        assert isinstance(connector, PostgresConnector)
        held = UNREACHABLE_WAIT_SECONDS + 1.0
        async with connector._pooled() as busy:
            await connector._reachability.gave_up(connector._pool)  # a growth that failed
            waiting = asyncio.create_task(store.ping())
            await busy.execute("SELECT pg_sleep(%s)", (held,))
        async with asyncio.timeout(10):
            await waiting  # got the connection once it was back, no StoreError
    finally:
        await store.close()


async def test_a_server_that_cannot_be_reached_at_start_is_named_with_its_reason() -> None:
    """Started with the database down, ``serve`` and ``worker`` ended with 'pool
    initialization incomplete after 30.0 sec': the reason (refused, a wrong password) was
    only in the pool's warnings above it. The error now says it in the server's words."""
    url = f"postgresql://lingang@127.0.0.1:{free_port()}/lingang"
    with pytest.raises(StoreError) as failed:
        await PostgresStore.open(url, timeout=0.5)
    message = str(failed.value)
    assert message.startswith("cannot connect to PostgreSQL: ")
    assert "refused" in message.lower() and "initialization incomplete" not in message


async def test_a_replica_frozen_mid_transaction_does_not_keep_its_job_from_the_others(
    pg_url: str,
) -> None:
    """A replica that stops between two round trips of a write (a paused VM, SIGSTOP, a
    network dropping its packets) left its session idle in the transaction, its rows locked,
    for as long as the server kept the TCP connection (hours): once the job's lease expired
    the other replicas' claims (``SKIP LOCKED``) passed over the locked row, and nobody took
    the job over. The server now ends a gateway session idle in a transaction after
    ``idle_transaction_seconds``; its transaction is rolled back and the job is claimed."""
    from gateway.store.connector import Query
    from gateway.store.scripts import lease_params

    frozen_replica = await PostgresStore.open(pg_url, idle_transaction_seconds=1.0)
    other_replica = await PostgresStore.open(pg_url)
    try:
        await other_replica.create_tenant("T", tenant_id="t")
        sub, _ = await other_replica.create_submission("t", b"x", content_type="text/plain")
        await other_replica.enqueue_job(sub.id, JobSpec("deliver", "folder", "out"))
        [job] = await frozen_replica.claim_jobs("frozen", lease_seconds=1.0)

        def touch_then_write_on() -> Iterator[Query]:
            params = {"id": job.id, "worker_id": "frozen", "now": frozen_replica.clock()}
            params |= lease_params(None, 60.0)
            yield Query("renew_lease", params, "one")  # the job's row is locked from here
            yield Query("renew_lease", params)

        stopped = asyncio.Event()
        connector = frozen_replica.connector
        answer = connector.answer  # type: ignore[attr-defined]
        queries: list[object] = []

        async def stopping_after_the_first_query(
            conn: object, request: object, *rest: object
        ) -> object:
            if isinstance(request, Query):
                if queries:
                    await stopped.wait()  # the replica is frozen here, its transaction open
                queries.append(request)
            return await answer(conn, request, *rest)

        connector.answer = stopping_after_the_first_query  # type: ignore[attr-defined]
        writing = asyncio.create_task(connector.write(touch_then_write_on()))
        loop = asyncio.get_running_loop()
        started = loop.time()
        claimed: list[object] = []
        while not claimed and loop.time() - started < 15.0:
            await asyncio.sleep(0.2)
            claimed = await other_replica.claim_jobs("other", lease_seconds=30.0)
        assert claimed, "the frozen replica's job was never taken over: its row stays locked"
        stopped.set()
        with pytest.raises(StoreError):
            await writing  # its session was ended: nothing it wrote was committed
        after = await other_replica.get_job(job.id)
        assert after is not None and after.lease_owner == "other"
    finally:
        await frozen_replica.close()
        await other_replica.close()
