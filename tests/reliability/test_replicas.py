"""Several ``lingang serve`` replicas on one PostgreSQL, each taking submissions through its
own API and running its own workers, while replicas are SIGKILLed and restarted and the
database ends every session now and then (as a failover or a restarted server would).

Afterwards: every acknowledged submission is ``delivered``, at the receiver exactly once
under one message id with the bytes the store kept; every job is done; one receipt and one
export-ledger entry per submission, the ledger verifies; no API answer was a 500.

And a replica frozen in the middle of a transaction (SIGSTOP) does not keep its document
from the other replica (``[store] idle_transaction_seconds``).

The seed is printed; ``LINGANG_CRASH_SEED`` replays a run, ``LINGANG_REPLICA_DOCS`` changes
the number of documents.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import psycopg
import pytest

from gateway.testing.cluster import GatewayProcess, free_port, process_environment, write_config
from gateway.testing.receiver import Receiver
from reliability.conftest import MakeConfig
from reliability.harness import (
    Submitter,
    check_exactly_once,
    new_tenant,
    one_id_per_key,
    sample_bodies,
    stop_tasks,
    supervised,
    wait_all_delivered,
    watch_jobs,
)
from reliability.test_crash_points import all_jobs_done, check_store_after

REPLICAS = 2
DOCS = int(os.environ.get("LINGANG_REPLICA_DOCS", "40"))
MIN_KILLS = 3
"""Replica kills before the chaos may end."""


@pytest.fixture(autouse=True)
def _saxonc_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    """Schematron on SaxonC in process (see ``test_crash.py``)."""
    monkeypatch.setenv("LINGANG_SCHEMATRON_ENGINE", "saxonche")


WATCHER = "reliability-watcher"
"""The ``application_name`` of the test's own store (:func:`end_sessions` spares it)."""


def end_sessions(pg_url: str) -> int:
    """End every session of the gateways on the database (``pg_terminate_backend``):
    transactions in flight are rolled back, pooled and LISTEN connections are cut."""
    with psycopg.connect(pg_url, autocommit=True) as admin:
        rows = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid() "
            "AND application_name <> %s",
            (WATCHER,),
        ).fetchall()
    return len(rows)


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.xdist_group("crash")
async def test_replicas_on_one_postgres_lose_nothing_and_deliver_once(
    pg_url: str, make_config: MakeConfig, receiver: Receiver, reference: Path, tmp_path: Path
) -> None:
    seed = int(os.environ.get("LINGANG_CRASH_SEED", str(random.randrange(2**32))))
    print(f"\nreplicas seed: {seed} (LINGANG_CRASH_SEED={seed} replays it)")
    rng = random.Random(seed)
    base = make_config(pg_url, lease_seconds=2.0, workers=1, concurrency=4)
    configs = [
        replace(base, home=tmp_path / f"replica-{n}", port=free_port()) for n in range(REPLICAS)
    ]
    paths = [write_config(config) for config in configs]
    _, key = await new_tenant(pg_url)
    replicas = [
        GatewayProcess(["serve"], path, tmp_path / f"serve-{n}.log") for n, path in enumerate(paths)
    ]
    for replica in replicas:
        replica.start()
    submitters = [
        Submitter(config.base_url, key, key_prefix=f"r{n}") for n, config in enumerate(configs)
    ]
    done = asyncio.Event()
    cuts = 0

    total = DOCS // REPLICAS * REPLICAS

    def progress() -> int:
        return sum(len(s.acked) for s in submitters) + len(receiver.accepted)

    async def chaos() -> None:
        """Kill a replica, or end every session, once the cluster made progress since the
        last time (as in ``test_crash.py``: a loaded machine's starts outlast any rhythm);
        once everything was delivered, at once."""
        nonlocal cuts
        events = 0
        while not done.is_set():
            mark = progress()
            while progress() == mark and not done.is_set() and len(receiver.accepted) < total:
                await asyncio.sleep(0.1)
            await asyncio.sleep(rng.uniform(0.3, 1.5))
            if done.is_set():
                break
            events += 1
            if events % 2 == 0:
                # not while one starts: a store error during start-up ends it (exit 1)
                for _ in range(600):
                    if done.is_set() or all(r.ready() for r in replicas):
                        break
                    await asyncio.sleep(0.1)
                if done.is_set():
                    break
                cuts += 1
                await asyncio.to_thread(end_sessions, pg_url)
                continue
            victim = rng.choice(replicas)
            victim.kill()
            await asyncio.sleep(rng.uniform(0.0, 0.8))
            victim.start()

    async def run() -> set[str]:
        bodies = sample_bodies(reference)
        await asyncio.gather(
            *(s.submit_all(bodies, total // REPLICAS, concurrency=3, stall=90) for s in submitters)
        )
        acked_ids: dict[str, set[str]] = {}
        for submitter in submitters:
            acked_ids |= submitter.acked_ids
        acked = one_id_per_key(acked_ids)
        loop = asyncio.get_running_loop()
        end = loop.time() + 60
        while loop.time() < end and sum(r.kills for r in replicas) < MIN_KILLS:
            await asyncio.sleep(0.25)
        done.set()
        await killer
        for replica in replicas:
            replica.start()
        missing = await wait_all_delivered(receiver, acked, stall=60)
        assert not missing, f"{len(missing)} acknowledged submissions never delivered"
        await check_exactly_once(pg_url, receiver, acked, documents=len(acked))
        await all_jobs_done(pg_url, stall=60)
        for _ in range(600):
            if all(r.ready() for r in replicas):
                break
            await asyncio.sleep(0.05)
        return acked

    started = time.perf_counter()
    killer = asyncio.create_task(chaos())
    jobs = asyncio.create_task(watch_jobs(f"{pg_url}?application_name={WATCHER}"))
    try:
        acked = await supervised(run(), replicas, companions=[killer, jobs])
    finally:
        done.set()
        await stop_tasks(killer, jobs)
        codes = [replica.terminate() for replica in replicas]
    statuses: dict[int, int] = {}
    for submitter in submitters:
        for status, count in submitter.statuses.items():
            statuses[status] = statuses.get(status, 0) + count
    stats = receiver.stats()
    print(
        f"{len(acked)} acknowledged in {time.perf_counter() - started:.1f}s; kills "
        f"{[r.kills for r in replicas]}, session cuts {cuts}; API answers {statuses}; "
        f"receiver: {stats['accepted']} accepted, {stats['posts']} posts, "
        f"{stats['duplicates']} repeated posts dropped by message id"
    )
    assert codes == [0] * REPLICAS, "graceful SIGTERM shutdown should exit 0"
    assert not [s for s in statuses if s >= 500 and s != 503], f"server errors: {statuses}"
    await check_store_after(pg_url, acked)
    verify = subprocess.run(
        [sys.executable, "-m", "gateway", "ledger", "verify", "--config", str(paths[0])],
        capture_output=True,
        text=True,
        timeout=120,
        env=process_environment(),
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert f"ledger ok: {len(acked)} entries" in verify.stdout, verify.stdout


async def wait_for(pg_url: str, condition: str, seconds: float) -> bool:
    """Whether a session of the database other than this one meets ``condition`` (SQL on
    ``pg_stat_activity``) within ``seconds``."""
    loop = asyncio.get_running_loop()
    end = loop.time() + seconds
    async with await psycopg.AsyncConnection.connect(pg_url, autocommit=True) as conn:
        while loop.time() < end:
            cursor = await conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                f"AND pid <> pg_backend_pid() AND {condition}"
            )
            row = await cursor.fetchone()
            if row is not None and row[0]:
                return True
            await asyncio.sleep(0.01)
    return False


async def sessions_in_transaction(pg_url: str) -> str:
    """The database's sessions inside a transaction: state, wait, age, last query."""
    async with await psycopg.AsyncConnection.connect(pg_url, autocommit=True) as conn:
        cursor = await conn.execute(
            "SELECT state, wait_event, now() - state_change, left(query, 80) "
            "FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND xact_start IS NOT NULL"
        )
        return f"sessions in a transaction: {await cursor.fetchall()}"


FROZEN_MID_TRANSACTION = (
    "xact_start IS NOT NULL AND (state = 'idle in transaction' OR wait_event = 'ClientRead') "
    "AND state_change < now() - interval '0.5 seconds'"
)
"""A session inside a transaction, waiting for its client for longer than a moment."""


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.xdist_group("crash")
async def test_a_replica_frozen_mid_transaction_does_not_keep_its_document_from_the_others(
    pg_url: str, make_config: MakeConfig, receiver: Receiver, reference: Path, tmp_path: Path
) -> None:
    """Replica A is frozen (SIGSTOP: a paused VM, a host cut off without a reset) between two
    round trips of the transaction that finishes a document's processing: its session waits
    for it inside the transaction, the job's row locked. Replica B, started then, takes the
    document over once A's lease has expired and delivers it while A is still frozen; after
    A is killed and started again, the document was delivered once and recorded once.
    Before, B's claims passed over the locked row for as long as the server kept A's
    connection (with ``idle_transaction_seconds = 0`` this fails)."""
    base = make_config(pg_url, lease_seconds=2.0, idle_transaction_seconds=3.0)
    frozen_config, other_config = (
        replace(base, home=tmp_path / name, port=free_port()) for name in ("a", "b")
    )
    frozen = GatewayProcess(["serve"], write_config(frozen_config), tmp_path / "a.log")
    other = GatewayProcess(["serve"], write_config(other_config), tmp_path / "b.log")
    _, key = await new_tenant(pg_url)
    frozen.start()
    try:
        submitter = Submitter(frozen_config.base_url, key)
        async with await psycopg.AsyncConnection.connect(pg_url) as lock:
            await submitter.submit_all(sample_bodies(reference)[:1], 1, concurrency=1, stall=90)
            # the end of processing writes the outputs after its first round trip (which
            # locked the job's row): it waits here, inside its transaction
            await lock.execute("LOCK TABLE outputs IN EXCLUSIVE MODE")
            assert await wait_for(pg_url, "wait_event_type = 'Lock'", 30), "never processed"
            assert frozen.process is not None
            frozen.process.send_signal(signal.SIGSTOP)
            await lock.rollback()
        assert await wait_for(pg_url, FROZEN_MID_TRANSACTION, 5), "not frozen in a transaction"
        other.start()  # only now: the document is the frozen replica's to finish
        for _ in range(1200):
            if other.ready():
                break
            other.check()
            await asyncio.sleep(0.1)
        acked = one_id_per_key(submitter.acked_ids)
        missing = await wait_all_delivered(receiver, acked, stall=30)
        assert not missing, "the frozen replica's document was not taken over; " + (
            await sessions_in_transaction(pg_url)
        )
        frozen.kill()
        frozen.start()
        await check_exactly_once(pg_url, receiver, acked, documents=1)
        await all_jobs_done(pg_url, stall=30)
    finally:
        if frozen.process is not None and frozen.alive:
            frozen.process.send_signal(signal.SIGCONT)
        frozen.terminate()
        other.terminate()
    await check_store_after(pg_url, acked)
