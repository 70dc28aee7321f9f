"""Submissions: made durable with their processing job, retried by hand, recovered.

``submit`` stores the submission and its ``process`` job in one transaction before the API
answers, so a document acknowledged to a client is processed even if every process dies right
afterwards. The job's ``payload_ref`` names the flow that processes it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from datetime import timedelta
from enum import StrEnum
from typing import Any

from gateway.flows import Tools
from gateway.flows.invoice_out import check_recipient
from gateway.jobs.handoff import IngestHandOffs, ReceivedSubmissions
from gateway.store import (
    ConflictError,
    Job,
    JobSpec,
    JobState,
    NotFoundError,
    StateChange,
    Store,
    Submission,
)
from gateway.store.ledger import RELEASE

log = logging.getLogger("lingang.jobs")

PROCESS = "process"
"""Kind of the job that runs a submission's flow."""
DEFAULT_FLOW = "invoice-out"


RELEASE_DECIDED_AGAIN = (
    "the release of this held document failed: a compliance officer decides again "
    "(POST /v1/holds/{id}/release with an officer's key); a retry does not send it"
)
"""Why a tenant's retry leaves a dead ``release`` job alone."""


class SubmissionState(StrEnum):
    """The states a submission goes through (the store keeps them as text)."""

    RECEIVED = "received"
    REJECTED = "rejected"
    FAILED = "failed"
    QUEUED = "queued"
    CONVERTED = "converted"
    """Processed by a flow that delivers nothing (an eBL converted): the outputs are the
    result."""
    DELIVERED = "delivered"
    DEAD = "dead"
    HELD = "held"
    """The export gate holds the document until a compliance officer decides."""
    REFUSED = "refused"
    """A compliance officer refused the export for good."""


def process_job(flow: str = DEFAULT_FLOW) -> JobSpec:
    """The processing job a submission is stored with (same transaction)."""
    return JobSpec(PROCESS, payload_ref=flow)


class Submissions:
    """The API side of the job layer: submit, retry, recover.

    With ``tools``, a submission that names its recipient has it checked against the
    document's receiver before it is stored: a mismatch is refused at the door
    (:class:`~gateway.flows.RecipientMismatch`, a 422), never rerouted. Without, the flow
    rejects it.

    With ``received``, each new submission is also left there, as committed, for the first
    run of its processing job in this process (which then reads nothing back). With
    ``hand_offs``, that job is handed to a worker of this process as it is stored (queued
    leased to it) when one has a spare slot, and runs at once, without a claim."""

    def __init__(
        self,
        store: Store,
        tools: Tools | None = None,
        received: ReceivedSubmissions | None = None,
        hand_offs: IngestHandOffs | None = None,
    ) -> None:
        self.store = store
        self.tools = tools
        self.received = received
        self.hand_offs = hand_offs

    async def submit(
        self,
        tenant_id: str,
        body: bytes,
        *,
        content_type: str,
        filename: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
        flow: str = DEFAULT_FLOW,
    ) -> tuple[Submission, bool]:
        """Store the submission durably and queue its processing; ``(submission, created)``.
        A repeated ``idempotency_key`` returns the first submission with ``created=False``."""
        named = str((metadata or {}).get("receiver") or "")
        if named and self.tools is not None and flow == DEFAULT_FLOW:
            directory = await tenant_directory(self.store, tenant_id)
            await asyncio.to_thread(check_recipient, body, named, directory, self.tools)
        fields: dict[str, Any] = {
            "content_type": content_type,
            "filename": filename,
            "idempotency_key": idempotency_key,
            "metadata": dict(metadata or {}),
            "state": SubmissionState.RECEIVED,
            "reason": "accepted for processing",
            "enqueue": process_job(flow),
        }
        worker = self.hand_offs.reserve() if self.hand_offs is not None else None
        job: Job | None = None
        try:
            if worker is None:
                submission, created = await self.store.create_submission(tenant_id, body, **fields)
            else:
                lease = (worker.worker_id, worker.lease_seconds)
                submission, created, job = await self.store.create_submission_handed(
                    tenant_id, body, lease=lease, **fields
                )
            if created and self.received is not None:
                self.received.keep(submission)
        finally:
            if worker is not None:
                worker.take(job)  # the job runs now, or the reserved slot is freed
        return submission, created

    async def retry(self, tenant_id: str, submission_id: str) -> list[Job]:
        """Manual retry of a submission's dead jobs (same transport message ids), recorded
        as a ``queued`` event, for the tenant (the API, the console). :class:`NotFoundError`
        when the tenant has no such submission; an empty list when nothing is dead.

        A dead ``release`` job is not retried here: a held document whose release failed
        waits for a compliance officer's new decision (``POST /v1/holds/{id}/release``), and
        retrying would send it on the earlier one with any key of the tenant. When that is
        all that is dead, :class:`ConflictError` says so."""
        submission = await self.store.get_submission(tenant_id, submission_id)
        if submission is None:
            raise NotFoundError(f"no submission {submission_id}", field="submission_id")
        dead = await self.store.list_jobs(submission_id=submission_id, state=JobState.DEAD)
        if dead and all(job.kind == RELEASE for job in dead):
            raise ConflictError(RELEASE_DECIDED_AGAIN, field="id", rule="retry.release")
        return await self._retry(submission_id, dead, skip_kind=RELEASE)

    async def retry_any_tenant(self, submission_id: str) -> list[Job]:
        """:meth:`retry` for an operator (``lingang retry``), whatever the tenant: every
        dead job, a release's too (the operator holds the store and may decide holds)."""
        dead = await self.store.list_jobs(submission_id=submission_id, state=JobState.DEAD)
        return await self._retry(submission_id, dead)

    async def _retry(
        self, submission_id: str, dead: list[Job], *, skip_kind: str = ""
    ) -> list[Job]:
        if not dead:
            return []
        return await self.store.retry_submission(
            submission_id,
            event=StateChange(SubmissionState.QUEUED, "manual retry"),
            skip_kind=skip_kind,
        )

    async def recover_orphans(self, *, older_than: float = 60.0, limit: int = 500) -> int:
        """Queue processing for submissions stored without any job (written by other means,
        or by gateways before submission and job shared a transaction). Returns how many."""
        cutoff = self.store.clock() - timedelta(seconds=older_than)
        queued = 0
        for tenant in await self.store.list_tenants():
            waiting = await self.store.list_submissions(
                tenant.id, state=SubmissionState.RECEIVED, limit=limit, before=cutoff
            )
            for submission in waiting:
                if not await self.store.list_jobs(submission_id=submission.id, limit=1):
                    await self.store.enqueue_job(submission.id, process_job())
                    queued += 1
        if queued:
            log.warning("orphaned submissions queued", extra={"count": queued})
        return queued


async def tenant_directory(store: Store, tenant_id: str) -> Any:
    """The tenant's stored partner directory (``PartnerDirectory``), or ``None``."""
    from gateway.partners import PartnerDirectory
    from gateway.store.partner_directory import directory_document

    document = await directory_document(store, tenant_id)
    return PartnerDirectory.from_dict(document) if any(document.values()) else None
