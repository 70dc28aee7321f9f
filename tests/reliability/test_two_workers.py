"""Two ``lingang worker`` processes on one PostgreSQL never deliver the same job twice."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from gateway.service import open_services
from gateway.settings import Settings
from gateway.testing.cluster import GatewayProcess, write_config
from gateway.testing.receiver import Receiver
from reliability.conftest import MakeConfig
from reliability.harness import (
    RESEND,
    check_exactly_once,
    sample_bodies,
    stop_tasks,
    supervised,
    wait_all_delivered,
    watch_jobs,
)

DOCS = 300


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.xdist_group("crash")
async def test_two_worker_processes_deliver_each_job_once(
    pg_url: str, make_config: MakeConfig, receiver: Receiver, reference: Path, tmp_path: Path
) -> None:
    config = make_config(pg_url, workers=2, concurrency=8, lease_seconds=10.0)
    path = write_config(config)
    services = await open_services(Settings.load(path))
    try:
        tenant = await services.store.create_tenant("two-workers")
        bodies = sample_bodies(reference)
        ids = set()
        for index in range(DOCS):
            submission, _ = await services.submissions.submit(
                tenant.id,
                bodies[index % len(bodies)],
                content_type="application/xml",
                metadata=RESEND,
            )
            ids.add(submission.id)
    finally:
        await services.close()
    workers = [GatewayProcess(["worker"], path, tmp_path / f"worker-{n}.log") for n in range(2)]
    for worker in workers:
        worker.start()

    async def delivered_once() -> None:
        missing = await wait_all_delivered(receiver, ids, stall=120)
        assert not missing, f"{len(missing)} of {DOCS} not delivered (none for 120s)"
        await check_exactly_once(pg_url, receiver, ids, documents=DOCS)

    jobs = asyncio.create_task(watch_jobs(pg_url))
    try:
        await supervised(delivered_once(), workers, companions=[jobs])
    finally:
        await stop_tasks(jobs)
        codes = [worker.terminate() for worker in workers]
    posts = receiver.stats()["posts"]
    assert posts == DOCS, f"{posts - DOCS} deliveries were posted more than once"
    assert max(receiver.counts.values()) == 1
    assert codes == [0, 0]
    print(f"\ntwo worker processes: {DOCS} delivered with {posts} posts")
