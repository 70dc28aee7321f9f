"""Two dispatchers, each with its own connection pool, share one PostgreSQL store: every
job is delivered exactly once."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import pytest

from gateway.jobs import RetryPolicy, Worker
from gateway.store.base import Job, JobState, Receipt
from gateway.store.postgres import PostgresStore
from tests.jobs.conftest import FolderDeliverer, make_worker, queue_documents

pytestmark = pytest.mark.postgres


async def test_two_dispatchers_never_deliver_a_job_twice(pg_url: str, tmp_path: Path) -> None:
    one = await PostgresStore.open(pg_url)
    two = await PostgresStore.open(pg_url)
    try:
        jobs = await queue_documents(one, 75, adapters=("folder", "peppol"))
        folder = FolderDeliverer(one, tmp_path / "out")
        by_worker: Counter[str] = Counter()

        def deliverer(name: str) -> Worker:
            async def deliver(job: Job) -> Receipt:
                by_worker[name] += 1
                await asyncio.sleep(0)
                return await folder(job)

            retry = RetryPolicy(base_seconds=0.01, cap_seconds=0.05)
            return make_worker(one if name == "a" else two, deliver, f"worker-{name}",
                              concurrency=4, retry=retry, idle_wait=0.2)  # fmt: skip

        dispatchers = [deliverer("a"), deliverer("b")]
        runners = [asyncio.create_task(d.run()) for d in dispatchers]
        async with asyncio.timeout(120):
            while len(await one.list_jobs(state=JobState.DONE, limit=1000)) < len(jobs):
                await asyncio.sleep(0.05)
        for dispatcher in dispatchers:
            dispatcher.stop()
        await asyncio.gather(*runners)
    finally:
        await one.close()
        await two.close()
    assert folder.deliveries == Counter({job.id: 1 for job in jobs})
    assert sum(by_worker.values()) == len(jobs) == 150
    assert len(list((tmp_path / "out").iterdir())) == 150


async def test_notify_wakes_an_idle_dispatcher(pg_url: str) -> None:
    store = await PostgresStore.open(pg_url)
    delivered = asyncio.Event()

    async def deliver(job: Job) -> Receipt:
        delivered.set()
        return Receipt("ok")

    dispatcher = make_worker(store, deliver, idle_wait=3600)
    runner = asyncio.create_task(dispatcher.run())
    try:
        await store.wait_for_jobs(0)
        await asyncio.sleep(0)
        await queue_documents(store, 1)
        await asyncio.wait_for(delivered.wait(), 60)
    finally:
        dispatcher.stop()
        await runner
        await store.close()
