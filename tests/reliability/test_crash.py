"""Crash test: 1,000 submissions while the server and the worker are SIGKILLed at random
moments and restarted; afterwards every acknowledged submission was delivered exactly once.

Real subprocesses (``python -m gateway serve`` / ``worker``), a real store (SQLite file with
the stages in a child process each, or PostgreSQL with the stages on a thread), the real stage table with full validation and signing, delivery over mutual TLS
to the local receiver. The seed is printed; set ``LINGANG_CRASH_SEED`` to replay a run, and
``LINGANG_CRASH_DOCS`` to change the number of documents.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from pathlib import Path

import pytest

from gateway.testing.cluster import GatewayProcess, write_config
from gateway.testing.receiver import Receiver
from reliability.conftest import MakeConfig
from reliability.harness import (
    Submitter,
    check_exactly_once,
    delivered_submissions,
    new_tenant,
    one_id_per_key,
    sample_bodies,
    stop_tasks,
    supervised,
    wait_all_delivered,
    watch_jobs,
)

DOCS = int(os.environ.get("LINGANG_CRASH_DOCS", "1000"))
MIN_KILLS = 8
"""The chaos continues (also after the last submission) until at least this many kills."""


@pytest.fixture(autouse=True)
def _saxonc_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    """The gateway processes here run Schematron on SaxonC, in process.

    What is under test is the store and the outbox. With kills every one to three seconds, the
    JVM engine would spend most of each life starting and compiling the rules again (its cost
    is paid once per process start, which a real deployment does rarely);
    ``tests/validation/test_jvm.py`` kills the JVM and its parent on their own.
    """
    monkeypatch.setenv("LINGANG_SCHEMATRON_ENGINE", "saxonche")


async def crash_run(
    store_url: str,
    stage_processes: int,
    make_config: MakeConfig,
    receiver: Receiver,
    reference: Path,
    tmp_path: Path,
) -> None:
    seed = int(os.environ.get("LINGANG_CRASH_SEED", str(random.randrange(2**32))))
    print(f"\ncrash test seed: {seed} (LINGANG_CRASH_SEED={seed} replays it)")
    rng = random.Random(seed)
    config = make_config(
        store_url, lease_seconds=3.0, workers=1, concurrency=8, stage_processes=stage_processes
    )
    path = write_config(config)
    _, key = await new_tenant(store_url)
    server = GatewayProcess(["serve"], path, tmp_path / "serve.log")
    worker = GatewayProcess(["worker"], path, tmp_path / "worker.log")
    server.start()
    worker.start()
    submitter = Submitter(config.base_url, key)
    loop = asyncio.get_running_loop()
    done = asyncio.Event()

    def progress() -> int:
        return len(submitter.acked) + len(receiver.accepted)

    async def chaos() -> None:
        """Kill a random process at a random moment once the cluster made progress (a
        document acknowledged or delivered) since the previous kill: on a loaded machine a
        start takes longer than the time between kills, and kills on a wall-clock rhythm
        alone would leave hardly any life that gets work done. A kill can still land while
        the victim starts (the other process made the progress). Once every document was
        delivered there is no progress to wait for: kills go on until :data:`MIN_KILLS`."""
        while not done.is_set():
            mark = progress()
            while progress() == mark and len(receiver.accepted) < DOCS and not done.is_set():
                await asyncio.sleep(0.1)
            await asyncio.sleep(rng.uniform(0.8, 3.0))
            if done.is_set():
                break
            victim = rng.choice([server, worker])
            victim.kill()
            await asyncio.sleep(rng.uniform(0.0, 1.0))
            victim.start()

    async def run() -> set[str]:
        await submitter.submit_all(sample_bodies(reference), DOCS, concurrency=8)
        acked = one_id_per_key(submitter.acked_ids)
        end = loop.time() + 180
        while loop.time() < end and (
            server.kills + worker.kills < MIN_KILLS
            or await wait_all_delivered(receiver, acked, stall=0)
        ):
            await asyncio.sleep(0.25)  # the chaos goes on while documents are in flight
        done.set()
        await killer
        server.start()
        worker.start()
        missing = await wait_all_delivered(receiver, acked, stall=120)
        assert not missing, f"{len(missing)} never delivered"
        await check_exactly_once(store_url, receiver, acked, documents=DOCS)
        for _ in range(600):  # let the last restarts come up before the graceful stop
            if server.ready() and worker.ready():
                break
            await asyncio.sleep(0.05)
        return acked

    started = time.perf_counter()
    killer = asyncio.create_task(chaos())
    jobs = asyncio.create_task(watch_jobs(store_url))
    try:
        acked = await supervised(run(), [server, worker], companions=[killer, jobs])
    finally:
        done.set()
        await stop_tasks(killer, jobs)
        codes = (server.terminate(), worker.terminate())
    elapsed = time.perf_counter() - started
    stats = receiver.stats()
    print(
        f"{len(acked)} acknowledged of {DOCS} in {elapsed:.1f}s; kills: server {server.kills}, "
        f"worker {worker.kills}; submit attempts {submitter.attempts} ({submitter.errors} failed); "
        f"receiver: {stats['accepted']} accepted, {stats['posts']} posts, "
        f"{stats['duplicates']} duplicate posts dropped by message id; exit codes {codes}"
    )
    assert len(acked) == DOCS
    assert codes == (0, 0), "graceful SIGTERM shutdown should exit 0"
    late = {s: m for s, m in delivered_submissions(receiver).items() if len(m) > 1}
    assert not late, f"delivered again under another message id before the stop: {late}"


@pytest.mark.slow
@pytest.mark.xdist_group("crash")
async def test_crash_sqlite(
    make_config: MakeConfig, receiver: Receiver, reference: Path, tmp_path: Path
) -> None:
    await crash_run(
        f"sqlite:///{tmp_path / 'gateway.db'}", 1, make_config, receiver, reference, tmp_path
    )


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.xdist_group("crash")
async def test_crash_postgres(
    pg_url: str, make_config: MakeConfig, receiver: Receiver, reference: Path, tmp_path: Path
) -> None:
    await crash_run(pg_url, 0, make_config, receiver, reference, tmp_path)
