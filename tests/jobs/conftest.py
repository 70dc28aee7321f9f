"""Fixtures for the job-layer tests: real stores, a folder-writing deliverer, and the
production claim loop (:class:`~gateway.jobs.Worker`) running a stand-in delivery kind."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from gateway.jobs import Completed, JobKinds, JobResult, Worker
from gateway.store.base import Job, JobSpec, Receipt, StateChange, Store
from gateway.store.sqlite import SqliteStore


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = await SqliteStore.open(f"sqlite:///{tmp_path}/outbox.db", poll_interval=0.05)
    await opened.migrate()
    yield opened
    await opened.close()


async def queue_documents(
    store: Store, count: int, *, adapters: tuple[str, ...] = ("folder",), endpoint: str = "out"
) -> list[Job]:
    """``count`` submissions with a rendered output each, one job per adapter."""
    if await store.get_tenant("t") is None:
        await store.create_tenant("T", tenant_id="t")
    jobs = []
    for n in range(count):
        sub, _ = await store.create_submission("t", b"<EInvoice/>", content_type="application/xml")
        await store.put_output(sub.id, "signed", "application/xml", f"<Invoice n='{n}'/>".encode())
        for adapter in adapters:
            jobs.append(
                await store.enqueue_job(
                    sub.id, JobSpec("deliver", adapter, endpoint, payload_ref="signed")
                )
            )
    return jobs


class FolderDeliverer:
    """Writes each job's payload to ``<folder>/<message id>.xml``; refuses to write one twice."""

    def __init__(self, store: Store, folder: Path) -> None:
        self.store = store
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self.deliveries: Counter[str] = Counter()

    async def __call__(self, job: Job) -> Receipt:
        self.deliveries[job.id] += 1
        output = await self.store.get_output(job.submission_id, job.payload_ref or "signed")
        assert output is not None
        target = self.folder / f"{job.message_id}.xml"
        with target.open("xb") as handle:
            handle.write(output.data)
        return Receipt("folder", detail={"path": target.name})


Deliver = Callable[[Job], Awaitable[Receipt | None]]


class FnKind:
    """A ``deliver`` kind that calls ``deliver(job)`` (the far edge: a stand-in receiver)."""

    name = "deliver"

    def __init__(self, deliver: Deliver, *, record_events: bool = False) -> None:
        self.deliver = deliver
        self.record_events = record_events

    async def run(self, job: Job, worker_id: str) -> JobResult:
        receipt = await self.deliver(job)
        event = None
        if self.record_events:
            detail = {"job": job.id, "adapter": job.adapter, "message_id": job.message_id}
            event = StateChange("delivered", f"delivered by {job.adapter}", detail)
        return Completed(receipt, event)

    def dead_event(self, job: Job, reason: str, *, retryable: bool) -> StateChange | None:
        if not self.record_events:
            return None
        return StateChange("dead", reason, {"job": job.id, "attempts": job.attempts})


def make_worker(
    store: Store,
    deliver: Deliver,
    worker_id: str | None = None,
    *,
    record_events: bool = False,
    retry: Any = None,
    idle_wait: float = 5.0,
    **options: Any,
) -> Worker:
    """The production :class:`Worker` over a stand-in ``deliver`` kind."""
    kinds = JobKinds([FnKind(deliver, record_events=record_events)])
    return Worker(
        store, kinds, worker_id=worker_id, policy=retry, poll_seconds=idle_wait, **options
    )
