"""The orchestrator and workers on a real SQLite store with the folder adapter."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from gateway.errors import ArtefactError, ValidationFailed
from gateway.outbox import RetryPolicy
from gateway.pipeline import Pipeline
from gateway.pipeline.worker import Worker
from gateway.store import JobState, LeaseLostError, Store
from pipeline.conftest import MakePipeline
from pipeline.stand_ins import Raise, Seal, Upper


async def run_until(
    store: Store,
    pipeline: Pipeline,
    submission_id: str,
    states: set[str],
    policy: RetryPolicy | None = None,
    *,
    dead_jobs: int = 0,
) -> str:
    """Run a worker until the submission reaches one of ``states`` (and, if asked, until
    ``dead_jobs`` of its jobs are dead)."""
    worker = Worker(store, pipeline, worker_id="w1", poll_seconds=0.05, policy=policy, grace=1)
    task = asyncio.create_task(worker.run())
    try:
        for _ in range(400):
            submission = await store.get_submission_any_tenant(submission_id)
            assert submission is not None
            jobs = await store.list_jobs(submission_id=submission_id, state=JobState.DEAD)
            if submission.state in states and len(jobs) >= dead_jobs:
                return submission.state
            await asyncio.sleep(0.025)
        raise AssertionError(f"stuck in {submission.state}")
    finally:
        worker.stop()
        await task


async def test_submit_process_deliver(
    store: Store, make_pipeline: MakePipeline, tmp_path: Path
) -> None:
    tenant = await store.create_tenant("acme")
    pipeline = make_pipeline()
    submission, created = await pipeline.submit(
        tenant.id, b"<a/>", content_type="application/xml", idempotency_key="k1"
    )
    assert created
    again, created_again = await pipeline.submit(
        tenant.id, b"<a/>", content_type="application/xml", idempotency_key="k1"
    )
    assert again.id == submission.id and not created_again
    assert await run_until(store, pipeline, submission.id, {"delivered"}) == "delivered"
    states = [e.state for e in await store.list_events(submission.id)]
    assert states == ["received", "queued", "delivered"]
    processed = (await store.list_events(submission.id))[1]
    assert processed.detail is not None
    assert [s["stage"] for s in processed.detail["stages"]] == ["render", "sign"]
    jobs = await store.list_jobs(submission_id=submission.id)
    assert {(j.kind, j.adapter) for j in jobs} == {("process", ""), ("deliver", "drop")}
    delivery = next(j for j in jobs if j.adapter == "drop")
    files = list((tmp_path / "out").iterdir())
    assert [f.read_bytes() for f in files] == [b"<A/><!--sealed-->"]
    assert files[0].name.startswith(delivery.message_id.replace("/", "_")[:10])
    receipts = await store.list_receipts(submission_id=submission.id)
    assert len(receipts) == 1 and receipts[0].detail["adapter"] == "drop"


async def test_fatal_finding_rejects_and_keeps_report(
    store: Store, make_pipeline: MakePipeline
) -> None:
    tenant = await store.create_tenant("acme")
    pipeline = make_pipeline([Upper(), Raise(ValidationFailed("BR-01 broken")), Seal()])
    submission, _ = await pipeline.submit(tenant.id, b"<a/>", content_type="application/xml")
    assert await run_until(store, pipeline, submission.id, {"rejected"}) == "rejected"
    events = await store.list_events(submission.id)
    assert events[-1].reason is not None and "BR-01" in events[-1].reason
    jobs = await store.list_jobs(submission_id=submission.id)
    assert [(j.kind, j.state) for j in jobs] == [("process", JobState.DONE)]
    assert await store.get_output(submission.id, "rendered") is not None


async def test_operational_failure_dead_letters_then_manual_retry(
    store: Store, make_pipeline: MakePipeline
) -> None:
    tenant = await store.create_tenant("acme")
    broken = Raise(ArtefactError("PINT SG artefacts missing"))
    pipeline = make_pipeline([Upper(), broken, Seal()])
    submission, _ = await pipeline.submit(tenant.id, b"<a/>", content_type="application/xml")
    policy = RetryPolicy(max_attempts=2, base_seconds=0.01)
    state = await run_until(store, pipeline, submission.id, {"failed"}, policy, dead_jobs=1)
    assert state == "failed"
    jobs = await store.list_jobs(submission_id=submission.id)
    assert jobs[0].state == JobState.DEAD
    assert jobs[0].last_error is not None and "artefacts missing" in jobs[0].last_error
    broken.armed = False
    retried = await pipeline.retry(tenant.id, submission.id)
    assert [j.id for j in retried] == [jobs[0].id]
    assert await run_until(store, pipeline, submission.id, {"delivered"}, policy) == "delivered"


async def test_reprocessing_after_crash_queues_one_delivery(
    store: Store, make_pipeline: MakePipeline
) -> None:
    tenant = await store.create_tenant("acme")
    pipeline = make_pipeline()
    submission, _ = await pipeline.submit(tenant.id, b"<a/>", content_type="application/xml")
    (job,) = await store.claim_jobs("first", lease_seconds=60)
    await pipeline.process(job)  # result and completion: one transaction
    with pytest.raises(LeaseLostError):
        await pipeline.process(job)  # a stale worker running it again records nothing
    jobs = await store.list_jobs(submission_id=submission.id)
    assert sorted(j.kind for j in jobs) == ["deliver", "process"]
    assert [e.state for e in await store.list_events(submission.id)] == ["received", "queued"]


async def test_processing_interrupted_before_its_commit_runs_again(
    store: Store, make_pipeline: MakePipeline
) -> None:
    tenant = await store.create_tenant("acme")
    pipeline = make_pipeline()
    submission, _ = await pipeline.submit(tenant.id, b"<a/>", content_type="application/xml")
    (job,) = await store.claim_jobs("dies", lease_seconds=0)  # it dies before its commit
    (again,) = await store.claim_jobs("takes-over", lease_seconds=60)
    assert again.id == job.id and again.attempts == 2
    with pytest.raises(LeaseLostError):
        await pipeline.process(job)  # the first worker wakes up late: fenced
    await pipeline.process(again)
    jobs = await store.list_jobs(submission_id=submission.id)
    assert sorted((j.kind, j.adapter, j.state) for j in jobs) == [
        ("deliver", "drop", JobState.PENDING),
        ("process", "", JobState.DONE),
    ]
    assert [e.state for e in await store.list_events(submission.id)] == ["received", "queued"]


async def test_retry_of_unknown_submission_is_not_found(
    store: Store, make_pipeline: MakePipeline
) -> None:
    from gateway.store import NotFoundError

    tenant = await store.create_tenant("acme")
    with pytest.raises(NotFoundError):
        await make_pipeline().retry(tenant.id, "nope")


async def test_orphaned_submission_is_recovered(store: Store, make_pipeline: MakePipeline) -> None:
    tenant = await store.create_tenant("acme")
    orphan, _ = await store.create_submission(tenant.id, b"<a/>", content_type="application/xml")
    pipeline = make_pipeline()
    assert await pipeline.recover_orphans(older_than=0) == 1
    assert await pipeline.recover_orphans(older_than=0) == 0
    assert await run_until(store, pipeline, orphan.id, {"delivered"}) == "delivered"
