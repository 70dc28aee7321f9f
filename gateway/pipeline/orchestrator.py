"""The orchestrator: durable submission, the stage table, and delivery of the result.

Processing model::

    submit ──► store.create_submission + processing job (kind ``process``) ──► 202 + id
    worker claims the processing job ──► stages (ingest … envelope) ──► outputs + events
                                     └─► delivery job for the routed adapter (stable message id)
    worker claims the delivery job ──► adapter.deliver(envelope) ──► receipt, ``delivered``

Every write is idempotent (outputs are replaced per kind, a job is unique per submission,
kind and adapter), so a job whose worker died is simply run again once its lease expires. The
orchestrator knows no document format: it runs the stages of
:mod:`gateway.pipeline.stages` in order and records what they report.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from datetime import timedelta
from enum import StrEnum
from typing import Any

from adapters.base import Envelope
from adapters.registry import AdapterRegistry
from gateway.errors import (
    DeliveryError,
    InputError,
    LingangError,
    MissingFactError,
    PermanentDeliveryError,
    ValidationFailed,
)
from gateway.pipeline.routing import Router
from gateway.pipeline.runner import StageRunner, ThreadStageRunner
from gateway.pipeline.stages import Stage, StageContext, StageOutcome, Toolbox
from gateway.store import (
    Job,
    JobSpec,
    JobState,
    NotFoundError,
    OutputSpec,
    Receipt,
    StateChange,
    Store,
    Submission,
)

log = logging.getLogger("lingang.pipeline")

PROCESS_KIND = "process"
"""Kind of processing jobs in the outbox (claimed by workers like deliveries)."""

DELIVER_KIND = "deliver"
"""Kind of delivery jobs in the outbox."""

DIRECTORY_TTL_SECONDS = 2.0
"""How long a tenant's partner directory is reused before it is read again."""

SIGNED_OUTPUT = "signed"
"""Output kind the delivery step sends."""

PROCESSING_JOB = JobSpec(PROCESS_KIND)
"""The processing job every submission is stored with (same transaction)."""


def transport_message_id(submission_id: str, adapter: str) -> str:
    """The delivery's transport message id: derived from the submission, so every retry and
    every re-processing after a crash sends under the same id."""
    return f"{submission_id}.{adapter}@lingang"


class SubmissionState(StrEnum):
    """The states a submission goes through (the store keeps them as text)."""

    RECEIVED = "received"
    REJECTED = "rejected"
    FAILED = "failed"
    QUEUED = "queued"
    DELIVERED = "delivered"
    DEAD = "dead"


REJECTING_ERRORS: tuple[type[LingangError], ...] = (InputError, MissingFactError, ValidationFailed)
"""Errors that mean the document itself is wrong: state ``rejected``, never retried."""


class Pipeline:
    """Submission, processing and delivery of documents; used by the API and the workers."""

    def __init__(
        self,
        store: Store,
        *,
        stages: Sequence[Stage],
        toolbox: Toolbox,
        adapters: AdapterRegistry,
        router: Router,
        runner: StageRunner | None = None,
    ) -> None:
        self.store = store
        self.stages = tuple(stages)
        self.toolbox = toolbox
        self.adapters = adapters
        self.router = router
        self._directories: dict[str, tuple[float, Any]] = {}
        self.runner: StageRunner = runner or ThreadStageRunner(self.stages, toolbox)
        """Runs the stage table (a dedicated thread, or child processes)."""

    def warm_in_background(self, profiles: Sequence[str]) -> None:
        """Compile the validation artefacts of ``profiles`` on the stages thread, ahead of
        the first document that needs them (jobs queue behind it; start-up does not wait)."""
        self.runner.warm(profiles)

    # -- API side ---------------------------------------------------------------------

    async def submit(
        self,
        tenant_id: str,
        body: bytes,
        *,
        content_type: str,
        filename: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> tuple[Submission, bool]:
        """Store the submission durably and queue its processing; return ``(submission,
        created)``. A repeated ``idempotency_key`` returns the first submission with
        ``created=False``. When this returns, the document will be processed even if every
        process dies right afterwards."""
        return await self.store.create_submission(
            tenant_id,
            body,
            content_type=content_type,
            filename=filename,
            idempotency_key=idempotency_key,
            metadata=dict(metadata or {}),
            state=SubmissionState.RECEIVED,
            reason="accepted for processing",
            enqueue=PROCESSING_JOB,
        )

    async def retry(self, tenant_id: str, submission_id: str) -> list[Job]:
        """Manual retry of a submission's dead jobs (same transport message ids).

        :class:`NotFoundError` when the tenant has no such submission; an empty list when
        nothing is dead.
        """
        submission = await self.store.get_submission(tenant_id, submission_id)
        if submission is None:
            raise NotFoundError(f"no submission {submission_id}", field="submission_id")
        dead = await self.store.list_jobs(submission_id=submission_id, state=JobState.DEAD)
        if not dead:
            return []
        return await self.store.retry_submission(
            submission_id, event=StateChange(SubmissionState.QUEUED, "manual retry")
        )

    async def recover_orphans(self, *, older_than: float = 60.0, limit: int = 500) -> int:
        """Queue processing for submissions stored without their processing job.

        :meth:`submit` stores the submission and its job in one transaction, so only
        submissions written by other means (or by gateways before that) can lack one.
        Workers call this at start. Returns how many were queued."""
        cutoff = self.store.clock() - timedelta(seconds=older_than)
        queued = 0
        for tenant in await self.store.list_tenants():
            waiting = await self.store.list_submissions(
                tenant.id, state=SubmissionState.RECEIVED, limit=limit, before=cutoff
            )
            for submission in waiting:
                if not await self.store.list_jobs(submission_id=submission.id, limit=1):
                    await self.store.enqueue_job(submission.id, PROCESSING_JOB)
                    queued += 1
        if queued:
            log.warning("orphaned submissions queued", extra={"count": queued})
        return queued

    # -- worker side ------------------------------------------------------------------

    async def handle(self, job: Job) -> Receipt | None:
        """Run one claimed job: processing (kind ``process``) or a delivery (``deliver``).

        A processing job is completed here, in the same transaction as its result (the
        caller must not complete it); a delivery returns its receipt for the caller to
        complete the job with :meth:`delivered_event`."""
        if job.kind == PROCESS_KIND:
            await self.process(job)
            return None
        return await self.deliver(job)

    async def process(self, job: Job) -> None:
        """Run the stage table for the job's submission, then record the outputs, the
        ``queued`` event and the delivery job and complete ``job``, all in one transaction
        (:meth:`Store.finish_processing`, fenced by the job's lease). The delivery job is
        ordered by the submission's arrival, so it is claimed before the processing of
        documents that arrived later (a backlog is delivered as it is processed, not after).

        A document error ends in ``rejected`` (the job completes: retrying cannot help); an
        operational error (artefacts missing, key unreadable) propagates so the outbox
        retries and finally dead-letters the job with the reason.
        """
        owner = job.lease_owner or ""
        submission = await self.store.get_submission_any_tenant(job.submission_id)
        if submission is None:
            raise PermanentDeliveryError(f"submission {job.submission_id} vanished")
        if await self._already_processed(submission, job):
            await self.store.complete_job(job.id, owner, None)
            return
        context = StageContext(
            submission=submission,
            toolbox=self.toolbox,
            directory=await self._directory(submission.tenant_id),
        )
        outcome = await self.runner.run(context)
        outputs = [OutputSpec(o.kind, o.media_type, o.data) for o in context.outputs]
        if outcome.error is None:
            try:
                route = self.router.route(context)
            except LingangError as exc:
                outcome = StageOutcome(outcome.timings, error=exc, failed_stage="route")
        if outcome.error is not None:
            await self._record_failure(submission, job, outputs, outcome)
            return
        message_id = transport_message_id(submission.id, route.adapter)
        await self.store.finish_processing(
            job.id,
            owner,
            outputs=outputs,
            event=StateChange(
                SubmissionState.QUEUED,
                f"processed; delivery queued on {route.adapter} ({route.rule})",
                {"stages": outcome.timings, **context.facts, "message_id": message_id},
            ),
            enqueue=JobSpec(
                DELIVER_KIND,
                route.adapter,
                route.endpoint,
                payload_ref=SIGNED_OUTPUT,
                message_id=message_id,
                not_before=submission.created_at,  # oldest documents first, end to end
            ),
        )

    async def _directory(self, tenant_id: str) -> Any:
        """The tenant's partner directory from the store (cached for a few seconds), else
        the configured file's."""
        now = time.monotonic()
        cached = self._directories.get(tenant_id)
        if cached is not None and cached[0] > now:
            return cached[1]
        from gateway.partners import PartnerDirectory
        from gateway.partners.stored import directory_document

        document = await directory_document(self.store, tenant_id)
        directory: Any = self.toolbox.partners
        if any(document.values()):
            directory = PartnerDirectory.from_dict(document)
        self._directories[tenant_id] = (now + DIRECTORY_TTL_SECONDS, directory)
        return directory

    async def _already_processed(self, submission: Submission, job: Job) -> bool:
        """Whether an earlier run (whose worker died) already finished this submission.

        On the job's first claim of a freshly received submission there was no earlier run,
        so the store is not asked."""
        if submission.state == SubmissionState.REJECTED:
            return True
        if job.attempts <= 1 and submission.state == SubmissionState.RECEIVED:
            return False
        jobs = await self.store.list_jobs(submission_id=submission.id)
        return any(job.kind != PROCESS_KIND for job in jobs)

    async def _record_failure(
        self, submission: Submission, job: Job, outputs: list[OutputSpec], outcome: StageOutcome
    ) -> None:
        """A document error completes the job as ``rejected`` (outputs such as the
        validation report kept, one transaction); an operational one records ``failed``
        and raises for the outbox to retry."""
        error = outcome.error
        assert error is not None
        detail: dict[str, Any] = {"stages": outcome.timings, "error": error.as_dict()}
        reason = f"{outcome.failed_stage}: {error}"
        if isinstance(error, REJECTING_ERRORS):
            event = StateChange(SubmissionState.REJECTED, reason, detail)
            await self.store.finish_processing(
                job.id, job.lease_owner or "", outputs=outputs, event=event
            )
            return
        for output in outputs:
            await self.store.put_output(submission.id, output.kind, output.media_type, output.data)
        await self.store.record_event(
            submission.id, SubmissionState.FAILED, reason=reason, detail=detail
        )
        raise error

    async def deliver(self, job: Job) -> Receipt:
        """Send the submission's signed output through the job's adapter; return the receipt."""
        submission = await self.store.get_submission_any_tenant(job.submission_id)
        output = await self.store.get_output(job.submission_id, job.payload_ref or SIGNED_OUTPUT)
        if submission is None or output is None:
            raise PermanentDeliveryError(
                f"nothing to deliver for submission {job.submission_id}", field="payload_ref"
            )
        adapter = self.adapters.get(job.adapter)
        envelope = Envelope(
            message_id=job.message_id,
            body=output.data,
            content_type=output.media_type,
            submission_id=submission.id,
            tenant_id=submission.tenant_id,
            profile=str(submission.metadata.get("profile", "")),
            receiver=str(submission.metadata.get("receiver", "")),
            filename=f"{submission.id}.xml",
            attempt=job.attempts,
        )
        try:
            receipt = await adapter.deliver(envelope)
        except DeliveryError as exc:
            log.info(
                "delivery attempt failed",
                extra={"submission_id": submission.id, "job_id": job.id, "error": str(exc)},
            )
            raise
        return Receipt(
            kind=f"{job.adapter}-receipt",
            data=receipt.body,
            media_type=receipt.content_type or "application/octet-stream",
            detail=receipt.as_dict(),
        )

    @staticmethod
    def delivered_event(job: Job) -> StateChange | None:
        """The ``delivered`` event a delivery job is completed with (same transaction as
        the job's ``done`` and its receipt); ``None`` for a processing job."""
        if job.kind == PROCESS_KIND:
            return None
        return StateChange(
            SubmissionState.DELIVERED,
            f"delivered by {job.adapter}",
            {"job_id": job.id, "message_id": job.message_id},
        )

    @staticmethod
    def dead_event(job: Job, reason: str, *, retryable: bool) -> StateChange:
        """The event a job going to the dead letter is failed with (same transaction)."""
        state = SubmissionState.FAILED if job.kind == PROCESS_KIND else SubmissionState.DEAD
        detail = {"job_id": job.id, "retryable": retryable, "attempts": job.attempts}
        return StateChange(state, reason, detail)

    async def aclose(self) -> None:
        """Stop the stages thread."""
        self.runner.close()
