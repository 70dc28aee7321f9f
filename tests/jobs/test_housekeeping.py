"""The hourly ``housekeeping`` job on the one claim loop, on both stores: a worker pool
queues the current hour's job when it starts (replicas starting together queue one), a
worker runs it, it forgets the idempotency keys past ``[limits] idempotency_hours`` and
queues the next hour's job first."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from gateway.jobs.housekeeping import HOUSEKEEPING, PERIOD, hour_of, housekeeping_job_key
from gateway.service import Services, open_services
from gateway.settings import (
    LimitsSettings,
    PipelineSettings,
    RetentionSettings,
    Settings,
    StoreSettings,
)
from gateway.store import JobSpec, JobState, Receipt


def _settings(
    store_url: str, home: Path, hours: float, retention: RetentionSettings | None = None
) -> Settings:
    return Settings(
        data_dir=home,
        store=StoreSettings(store_url),
        pipeline=PipelineSettings(validate=False, sign=False),
        limits=LimitsSettings(idempotency_hours=hours),
        retention=retention or RetentionSettings(),
    )


@pytest.fixture
async def replicas(store_url: str, tmp_path: Path) -> AsyncIterator[list[Services]]:
    """Two gateway processes' services over one store; keys older than 3.6 ms expire."""
    opened = [
        await open_services(_settings(store_url, tmp_path / f"home{n}", 1e-6)) for n in (1, 2)
    ]
    await opened[0].store.create_tenant("T", tenant_id="t")
    yield opened
    for services in opened:
        await services.close()


async def test_a_started_pool_queues_one_job_that_forgets_old_keys_and_queues_the_next(
    replicas: list[Services],
) -> None:
    first, second = replicas
    sub, _ = await first.store.create_submission(
        "t", b"<x/>", content_type="application/xml", idempotency_key="inv-1"
    )
    await asyncio.sleep(0.05)
    pools = [services.worker_pool(1, prefix=f"r{n}:") for n, services in enumerate(replicas)]
    for pool in pools:
        pool.start()
    now = first.store.clock()
    this_hour = housekeeping_job_key(now)
    try:
        async with asyncio.timeout(30):
            while True:
                jobs = await first.store.list_jobs(submission_id=this_hour)
                if jobs and all(j.state is JobState.DONE for j in jobs):
                    break
                await asyncio.sleep(0.05)
    finally:
        for pool in pools:
            await pool.stop()
    assert [(j.kind, j.state) for j in jobs] == [(HOUSEKEEPING, JobState.DONE)]
    (following,) = await second.store.list_jobs(
        submission_id=housekeeping_job_key(hour_of(now) + PERIOD)
    )
    assert (following.kind, following.state) == (HOUSEKEEPING, JobState.PENDING)
    assert following.next_attempt_at == hour_of(now) + PERIOD
    kept = await first.store.get_submission("t", sub.id)
    assert kept is not None and kept.idempotency_key is None and kept.data == b"<x/>"
    _, created = await second.store.create_submission(
        "t", b"<x/>", content_type="application/xml", idempotency_key="inv-1"
    )
    assert created, "after expiry the key starts a new request"


async def test_the_hourly_job_deletes_finished_housekeeping_jobs_past_jobs_days(
    store_url: str, tmp_path: Path
) -> None:
    """``[retention] jobs_days``: the job of an earlier hour, finished with its summary, is
    deleted by the next hour's run (here after 86 ms); the running one and the next stay."""
    retention = RetentionSettings(jobs_days=1e-6)
    services = await open_services(_settings(store_url, tmp_path / "home", 0, retention))
    store = services.store
    now = store.clock()
    earlier = housekeeping_job_key(hour_of(now) - PERIOD)
    await store.enqueue_job(earlier, JobSpec(HOUSEKEEPING))
    (job,) = await store.claim_jobs("old", limit=1)
    await store.complete_job(job.id, "old", Receipt("housekeeping", b"", "application/json"))
    await asyncio.sleep(0.2)
    pool = services.worker_pool(1)
    pool.start()
    this_hour = housekeeping_job_key(now)
    try:
        async with asyncio.timeout(30):
            while not (await store.list_jobs(submission_id=this_hour)) or (
                await store.list_jobs(submission_id=earlier)
            ):
                await asyncio.sleep(0.05)
    finally:
        await pool.stop()
        await services.close()
