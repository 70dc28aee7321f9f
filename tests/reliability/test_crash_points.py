"""Crash injection at chosen points: "nothing lost, nothing twice", and the ledger intact.

Real ``lingang serve`` and ``lingang worker`` processes on one store (a SQLite file, or a
PostgreSQL database), delivering over mutual TLS to the local receiver, which records every
delivery under its message id (``X-Lingang-Message-Id``, the same on every retry). Each round
arms one crash point, submits a batch of documents concurrently, and SIGKILLs at that point;
the killed processes are started again a moment later and the next round begins. The points:

``submit``      ``lingang serve`` while a post is on its way (a moment after it was sent)
``acked``       ``lingang serve`` the moment the client has the 202 (the processing handed
                to serve's own worker has barely begun)
``ledger``      serve and worker the moment a new export-ledger entry is committed (processing
                done, delivery queued and handed off, not sent yet)
``ledger-lock`` PostgreSQL: serve and worker while a processing transaction waits for the
                ledger head's row lock, which the test holds: killed inside the transaction
                that writes the outputs, the counts, the ledger entry and the delivery job.
                SQLite: serve and worker while the test holds the database's write lock,
                taken after the round's first 202 and held a seeded 0.3-1.5 s: the flow
                has run and its one transaction waits to begin
``in-flight``   serve and worker once the receiver has recorded a message, before it answers
``answered``    serve and worker once the receiver's answer is written out, before the
                gateway can have stored the receipt

Afterwards (and after a graceful stop): every acknowledged submission is ``delivered``, at the
receiver exactly once per submission under one message id (repeated posts of the same message
id, which the receiver drops, are counted and printed), with the bytes the store kept; no job is
left leased, pending or dead; each submission has one stored receipt and exactly one ledger
entry; ``lingang ledger verify`` passes; no API answer was a 500.

The seed is printed; ``LINGANG_CRASH_SEED`` replays a run, ``LINGANG_CRASH_POINT_ROUNDS``
changes the number of rounds (default: each point twice).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest

from gateway.jobs.housekeeping import HOUSEKEEPING
from gateway.store import Job, JobState, open_store
from gateway.store.ledger import LedgerStore
from gateway.store.ledger_anchor import read_anchor
from gateway.testing.cluster import GatewayProcess, process_environment, write_config
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

POINTS = ("submit", "acked", "ledger", "ledger-lock", "in-flight", "answered")
BATCH = 6
"""Documents submitted (concurrently) per round."""
CHECKPOINT_EVERY = 7
"""Ledger entries between signed checkpoints (each also appended to the anchor file)."""
ROUND_STALL = 60.0
"""Seconds a round may go without its crash point being reached before the run fails."""


@pytest.fixture(autouse=True)
def _saxonc_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    """Schematron on SaxonC in process: the JVM would spend each short life starting (see
    ``test_crash.py``)."""
    monkeypatch.setenv("LINGANG_SCHEMATRON_ENGINE", "saxonche")


class CrashPoints:
    """Arms one crash point at a time and kills when it is reached (see the module
    docstring); the killed processes are started again after a short, seeded pause."""

    def __init__(self, server: GatewayProcess, worker: GatewayProcess, rng: random.Random) -> None:
        self.server = server
        self.worker = worker
        self.rng = rng
        self.armed: str | None = None
        self.reached = asyncio.Event()
        self.fired: Counter[str] = Counter()
        self.acks = 0
        self._restarts: set[asyncio.Task[None]] = set()

    def arm(self, point: str) -> None:
        self.armed = point
        self.reached.clear()

    def fire(self, point: str) -> None:
        """Kill at ``point`` when it is the armed one (once per arming)."""
        if self.armed != point:
            return
        self.armed = None
        victims = [self.server] if point in ("submit", "acked") else [self.server, self.worker]
        for victim in victims:
            victim.kill()
        self.fired[point] += 1
        self.reached.set()
        task = asyncio.ensure_future(self._restart(victims))
        self._restarts.add(task)
        task.add_done_callback(self._restarts.discard)

    async def _restart(self, victims: list[GatewayProcess]) -> None:
        await asyncio.sleep(self.rng.uniform(0.0, 0.4))
        for victim in victims:
            victim.start()

    def on_post(self, key: str) -> None:
        if self.armed == "submit":
            loop = asyncio.get_running_loop()
            loop.call_later(self.rng.uniform(0.0, 0.05), self.fire, "submit")

    def on_ack(self, key: str, submission_id: str) -> None:
        self.acks += 1
        self.fire("acked")

    async def on_accepted(self, message_id: str) -> None:
        self.fire("in-flight")

    async def on_answered(self, message_id: str) -> None:
        self.fire("answered")

    async def watch_ledger(self, store_url: str) -> None:
        """Fire ``ledger`` as soon as the ledger holds an entry it did not hold when armed."""
        store = await open_store(store_url)
        ledger = LedgerStore(store.connector)
        try:
            baseline: int | None = None
            while True:
                await asyncio.sleep(0.005)
                if self.armed != "ledger":
                    baseline = None
                    continue
                count = len(await ledger.entries())
                if baseline is None:
                    baseline = count
                elif count > baseline:
                    self.fire("ledger")
        finally:
            await store.close()

    async def hold_ledger_lock(self, store_url: str) -> None:
        """Fire ``ledger-lock`` while a processing transaction waits for a lock the test
        holds (see the module docstring), then let go."""
        if store_url.startswith("sqlite:"):
            await self._hold_sqlite_write_lock(Path(store_url.removeprefix("sqlite:///")))
            return
        pg_url = store_url
        async with await psycopg.AsyncConnection.connect(pg_url) as conn:
            await conn.execute("SELECT seq FROM export_ledger_head WHERE id = 1 FOR UPDATE")
            while self.armed == "ledger-lock":
                # the activity view is a snapshot kept for the whole transaction: refresh it
                await conn.execute("SELECT pg_stat_clear_snapshot()")
                cursor = await conn.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                    "AND datname = current_database() AND pid <> pg_backend_pid()"
                )
                row = await cursor.fetchone()
                if row is not None and row[0]:
                    self.fire("ledger-lock")
                    break
                await asyncio.sleep(0.01)
            await conn.rollback()

    async def _hold_sqlite_write_lock(self, path: Path) -> None:
        mark = self.acks
        while self.acks == mark and self.armed == "ledger-lock":
            await asyncio.sleep(0.005)
        conn = sqlite3.connect(path, timeout=30.0, isolation_level=None, check_same_thread=False)
        try:
            await asyncio.to_thread(conn.execute, "BEGIN IMMEDIATE")
            await asyncio.sleep(self.rng.uniform(0.3, 1.5))
            self.fire("ledger-lock")
            conn.execute("ROLLBACK")
        finally:
            conn.close()

    async def settle(self) -> None:
        """Wait for the pending restarts."""
        while self._restarts:
            await asyncio.gather(*self._restarts, return_exceptions=True)


@contextlib.asynccontextmanager
async def hooked(receiver: Receiver, points: CrashPoints) -> AsyncIterator[None]:
    receiver.on_accepted, receiver.on_answered = points.on_accepted, points.on_answered
    try:
        yield
    finally:
        receiver.on_accepted = receiver.on_answered = None


async def crash_points_run(
    store_url: str,
    points_cycle: tuple[str, ...],
    make_config: MakeConfig,
    receiver: Receiver,
    reference: Path,
    tmp_path: Path,
) -> None:
    seed = int(os.environ.get("LINGANG_CRASH_SEED", str(random.randrange(2**32))))
    rounds = int(os.environ.get("LINGANG_CRASH_POINT_ROUNDS", str(2 * len(points_cycle))))
    print(f"\ncrash points seed: {seed} (LINGANG_CRASH_SEED={seed} replays it)")
    rng = random.Random(seed)
    order = [points_cycle[i % len(points_cycle)] for i in range(rounds)]
    rng.shuffle(order)
    config = make_config(
        store_url, lease_seconds=2.0, workers=1, concurrency=4, checkpoint_every=CHECKPOINT_EVERY
    )
    path = write_config(config)
    _, key = await new_tenant(store_url)
    server = GatewayProcess(["serve"], path, tmp_path / "serve.log")
    worker = GatewayProcess(["worker"], path, tmp_path / "worker.log")
    server.start()
    worker.start()
    points = CrashPoints(server, worker, rng)
    submitter = Submitter(config.base_url, key, on_post=points.on_post, on_ack=points.on_ack)
    bodies = sample_bodies(reference)
    missed: list[str] = []

    async def run() -> set[str]:
        for number, point in enumerate(order):
            points.arm(point)
            locker = None
            if point == "ledger-lock":
                locker = asyncio.create_task(points.hold_ledger_lock(store_url))
            submitter.key_prefix = f"round{number}"
            await submitter.submit_all(bodies, BATCH, concurrency=BATCH, stall=ROUND_STALL)
            try:
                await asyncio.wait_for(points.reached.wait(), ROUND_STALL)
            except TimeoutError:
                missed.append(point)
                points.armed = None
            if locker is not None:
                await locker
            await points.settle()
        acked = one_id_per_key(submitter.acked_ids)
        missing = await wait_all_delivered(receiver, acked, stall=60)
        assert not missing, f"{len(missing)} acknowledged submissions never delivered"
        await check_exactly_once(store_url, receiver, acked, documents=len(acked))
        await all_jobs_done(store_url, stall=ROUND_STALL)  # before the stop releases leases
        for _ in range(600):  # let the last restarts come up before the graceful stop
            if server.ready() and worker.ready():
                break
            await asyncio.sleep(0.05)
        return acked

    started = time.perf_counter()
    ledger_watch = asyncio.create_task(points.watch_ledger(store_url))
    jobs = asyncio.create_task(watch_jobs(store_url))
    try:
        async with hooked(receiver, points):
            acked = await supervised(run(), [server, worker], companions=[ledger_watch, jobs])
    finally:
        await stop_tasks(ledger_watch, jobs)
        codes = (server.terminate(), worker.terminate())
    stats = receiver.stats()
    print(
        f"{rounds} rounds, {len(acked)} acknowledged in {time.perf_counter() - started:.1f}s; "
        f"kills by point {dict(points.fired)}, rounds that missed their point {missed}; server kills "
        f"{server.kills}, worker kills {worker.kills}; API answers {dict(submitter.statuses)}, "
        f"{submitter.errors} failed attempts; receiver: {stats['accepted']} accepted, "
        f"{stats['posts']} posts, {stats['duplicates']} repeated posts dropped by message id"
    )
    assert codes == (0, 0), "graceful SIGTERM shutdown should exit 0"
    assert not missed, f"crash points not reached in their round: {missed}"
    assert not [s for s in submitter.statuses if s >= 500 and s != 503], (
        f"server errors answered: {dict(submitter.statuses)}"
    )
    await check_store_after(store_url, acked)
    verify = subprocess.run(
        [sys.executable, "-m", "gateway", "ledger", "verify", "--config", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        env=process_environment(),
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert f"ledger ok: {len(acked)} entries" in verify.stdout, verify.stdout
    anchored = len(read_anchor(config.home / "ledger" / "anchor.jsonl"))
    assert anchored >= len(acked) // CHECKPOINT_EVERY - len(order), verify.stdout
    print(verify.stdout.strip())


def scheduled(job: Job) -> bool:
    """The next hour's ``housekeeping`` job, which every worker pool queues ahead: pending
    until its hour, it belongs to no submission."""
    return (
        job.kind == HOUSEKEEPING
        and job.state == JobState.PENDING
        and job.next_attempt_at > datetime.now(UTC)
    )


async def all_jobs_done(store_url: str, *, stall: float) -> None:
    """Wait until every job is ``done``, while the processes still run: a job left leased by
    a killed process is claimed again once its lease expires, and nothing stays pending.
    Fails naming the jobs when one is not done after ``stall`` seconds."""
    store = await open_store(store_url)
    try:
        loop = asyncio.get_running_loop()
        end = loop.time() + stall
        while True:
            jobs = await store.list_jobs(limit=100_000)
            unfinished = [j for j in jobs if j.state != JobState.DONE and not scheduled(j)]
            if not unfinished:
                return
            assert loop.time() < end, "jobs not done while the gateway ran: " + "; ".join(
                f"{j.kind} {j.id} {j.state} owner={j.lease_owner} until {j.lease_expires_at}"
                for j in unfinished[:5]
            )
            await asyncio.sleep(0.5)
    finally:
        await store.close()


async def check_store_after(store_url: str, acked: set[str]) -> None:
    """After the stop: every job done, one receipt and one ledger entry per submission."""
    store = await open_store(store_url)
    try:
        jobs = await store.list_jobs(limit=100_000)
        unfinished = [
            (j.kind, j.id, j.state, j.lease_owner)
            for j in jobs
            if j.state != JobState.DONE and not scheduled(j)
        ]
        assert not unfinished, f"jobs not done after the stop: {unfinished[:5]}"
        for submission_id in sorted(acked):
            receipts = await store.list_receipts(submission_id=submission_id)
            assert len(receipts) == 1, f"{submission_id}: {len(receipts)} receipts stored"
        entries = await LedgerStore(store.connector).entries()
        per_submission = Counter(str(entry["submission_id"]) for entry in entries)
        twice = {s: n for s, n in per_submission.items() if n > 1}
        assert not twice, f"submissions recorded in the ledger more than once: {twice}"
        assert set(per_submission) == acked, (
            f"ledger entries without an acknowledged submission: "
            f"{sorted(set(per_submission) - acked)[:5]}; acknowledged without an entry: "
            f"{sorted(acked - set(per_submission))[:5]}"
        )
    finally:
        await store.close()


@pytest.mark.slow
@pytest.mark.xdist_group("crash")
async def test_crash_points_sqlite(
    make_config: MakeConfig, receiver: Receiver, reference: Path, tmp_path: Path
) -> None:
    await crash_points_run(
        f"sqlite:///{tmp_path / 'gateway.db'}", POINTS, make_config, receiver, reference, tmp_path
    )


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.xdist_group("crash")
async def test_crash_points_postgres(
    pg_url: str, make_config: MakeConfig, receiver: Receiver, reference: Path, tmp_path: Path
) -> None:
    await crash_points_run(pg_url, POINTS, make_config, receiver, reference, tmp_path)
