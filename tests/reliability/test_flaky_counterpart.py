"""A counterpart that answers 500, resets connections and hangs, then recovers; and one that
fails for good until it is repaired and the document is retried by hand. On both stores."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from gateway.jobs import WorkerPool
from gateway.service import Services, open_services
from gateway.settings import (
    AdapterConfig,
    PipelineSettings,
    Routing,
    Settings,
    SigningSettings,
    StoreSettings,
    WorkerSettings,
)
from gateway.store import JobState
from gateway.testing.receiver import Receiver
from reliability.conftest import MakeConfig
from reliability.harness import RESEND, check_exactly_once, sample_bodies


def settings_for(make_config: MakeConfig, store_url: str, max_attempts: int) -> Settings:
    config = make_config(store_url)
    return Settings.for_data_dir(
        config.home,
        store=StoreSettings(store_url),
        signing=SigningSettings(key=config.signing_key, cert=config.signing_cert),
        pipeline=PipelineSettings(
            artefacts=config.artefacts_dir,
            partners=config.partners_file,
            stage_processes=0,  # retries are under test here, not the stage runner
        ),
        worker=WorkerSettings(
            poll_seconds=0.05,
            lease_seconds=5.0,
            max_attempts=max_attempts,
            retry_base_seconds=0.05,
            retry_cap_seconds=0.4,
            breaker_failures=3,
            breaker_cooldown_seconds=0.3,
        ),
        adapters={
            "hk": AdapterConfig(
                "hk",
                "https",
                {
                    "url": config.receiver_url,
                    "ca": str(config.tls.ca),
                    "client_cert": str(config.tls.client_cert),
                    "client_key": str(config.tls.client_key),
                    "timeout": 0.5,
                },
            )
        },
        routing=Routing(default="hk"),
    )


@pytest.fixture
async def running(
    make_config: MakeConfig, store_url: str, request: pytest.FixtureRequest
) -> AsyncIterator[tuple[Services, str]]:
    """Services with two workers on each store (``store_url``: SQLite, PostgreSQL)."""
    max_attempts = getattr(request, "param", 200)
    url = store_url
    services = await open_services(settings_for(make_config, url, max_attempts))
    pool: WorkerPool = services.worker_pool(2)
    pool.start()
    try:
        yield services, url
    finally:
        await pool.stop()
        await services.close()


async def until(condition: object, timeout: float = 60.0) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not condition():  # type: ignore[operator]
        assert loop.time() < end, "condition not reached in time"
        await asyncio.sleep(0.05)


@pytest.mark.slow
async def test_recovers_from_500_reset_and_timeout(
    running: tuple[Services, str], receiver: Receiver, reference: Path
) -> None:
    services, url = running
    tenant = await services.store.create_tenant("flaky")
    receiver.set_mode("500")
    ids = []
    for index, body in enumerate(sample_bodies(reference) * 2):
        submission, _ = await services.submissions.submit(
            tenant.id,
            body,
            content_type="application/xml",
            idempotency_key=f"f-{index}",
            metadata=RESEND,
        )
        ids.append(submission.id)
    await until(lambda: receiver.failures["500"] >= 3)
    receiver.set_mode("reset")
    await until(lambda: receiver.failures["reset"] >= 3)
    receiver.set_mode("timeout")
    await until(lambda: receiver.failures["timeout"] >= 2)
    assert not receiver.accepted
    receiver.set_mode("ok")
    await until(lambda: len(receiver.accepted) == len(ids))
    await check_exactly_once(url, receiver, set(ids), documents=len(ids))
    print(f"\nflaky counterpart: {dict(receiver.failures)}, then {receiver.stats()}")


@pytest.mark.slow
@pytest.mark.parametrize("running", [3], indirect=True)
async def test_permanent_failure_dead_letters_then_manual_retry_delivers(
    running: tuple[Services, str], receiver: Receiver, reference: Path
) -> None:
    services, url = running
    tenant = await services.store.create_tenant("down")
    receiver.set_mode("500")
    rejected_body, broken_body = sample_bodies(reference)[:2]
    broken, _ = await services.submissions.submit(
        tenant.id, broken_body, content_type="application/xml"
    )

    async def dead_jobs(submission_id: str) -> list[object]:
        jobs = await services.store.list_jobs(submission_id=submission_id, state=JobState.DEAD)
        return list(jobs)

    for _ in range(1200):
        if await dead_jobs(broken.id):
            break
        await asyncio.sleep(0.05)
    (job,) = await services.store.list_jobs(submission_id=broken.id, state=JobState.DEAD)
    assert job.last_error is not None and "HTTP 500" in job.last_error
    assert job.retryable is True
    state = await services.store.get_submission(tenant.id, broken.id)
    assert state is not None and state.state == "dead"

    receiver.set_mode("400")
    rejected, _ = await services.submissions.submit(
        tenant.id, rejected_body, content_type="application/xml"
    )
    for _ in range(1200):
        if await dead_jobs(rejected.id):
            break
        await asyncio.sleep(0.05)
    (refused,) = await services.store.list_jobs(submission_id=rejected.id, state=JobState.DEAD)
    assert refused.retryable is False and refused.last_error is not None
    assert "HTTP 400" in refused.last_error

    receiver.set_mode("ok")
    for submission in (broken, rejected):
        retried = await services.submissions.retry(tenant.id, submission.id)
        assert len(retried) == 1
    await until(lambda: len(receiver.accepted) == 2)
    await check_exactly_once(url, receiver, {broken.id, rejected.id})
    same = {j.message_id for j in await services.store.list_jobs(submission_id=broken.id)}
    assert job.message_id in same and job.message_id in receiver.accepted
