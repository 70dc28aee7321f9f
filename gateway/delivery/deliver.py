"""The ``deliver`` kind: hand a stored envelope to its adapter, keep the receipt.

The job names its adapter and endpoint (the breaker's key) and points at the stored
envelope (``payload_ref = "envelope"``). The envelope and the parts it most often needs are
read in one round trip; the adapter gets exactly what was stored, under the transport message
id fixed when the submission was processed (the same on every retry). After a hand-off
(:mod:`gateway.jobs.handoff`) the rows just committed come from memory instead.
"""

from __future__ import annotations

import logging
from typing import Any

from adapters.base import Receipt as AdapterReceipt
from gateway.delivery.envelope import ENVELOPE, StoredEnvelope
from gateway.delivery.peppol_recording import PeppolRecorder, peppol_facts
from gateway.delivery.planner import DELIVER
from gateway.delivery.registry import AdapterRegistry
from gateway.errors import DeliveryError, InputError, PermanentDeliveryError
from gateway.jobs import Completed, HandedOutputs, JobResult, SubmissionState
from gateway.store import Job, Receipt, StateChange, Store, StoreError

log = logging.getLogger("lingang.delivery")

USUAL_PARTS = ("signed", "signature")
"""Output kinds read together with the envelope (one round trip for the usual case)."""


class DeliverKind:
    """Delivers stored envelopes (job kind ``deliver``)."""

    name = DELIVER

    def __init__(
        self,
        store: Store,
        adapters: AdapterRegistry,
        handed: HandedOutputs | None = None,
        *,
        recorder: PeppolRecorder | None = None,
    ) -> None:
        self.store = store
        self.adapters = adapters
        self.handed = handed
        """Outputs a hand-off left in memory (read from the store when absent)."""
        self.recorder = recorder
        """Writes the Peppol reporting record of deliveries whose receipt carries Peppol
        facts (see :mod:`gateway.delivery.peppol_recording`)."""

    async def run(self, job: Job, worker_id: str) -> JobResult:
        outputs = self.handed.take(job.submission_id) if self.handed is not None else None
        if outputs is None or ENVELOPE not in outputs:
            outputs = await self.store.get_outputs(job.submission_id, [ENVELOPE, *USUAL_PARTS])
        stored = outputs.get(ENVELOPE)
        if stored is None:
            raise PermanentDeliveryError(
                f"nothing to deliver for submission {job.submission_id}: no stored envelope",
                field="outputs.envelope",
            )
        envelope = StoredEnvelope.from_bytes(stored.data)
        if envelope.adapter != job.adapter or envelope.message_id != job.message_id:
            raise PermanentDeliveryError(
                "the stored envelope does not match its delivery job", field="outputs.envelope"
            )
        missing = [kind for kind in envelope.parts() if kind not in outputs]
        if missing:
            outputs.update(await self.store.get_outputs(job.submission_id, missing))
        adapter = self.adapters.get(job.adapter)
        try:
            receipt = await adapter.deliver(envelope.for_adapter(outputs, job.attempts))
        except DeliveryError as exc:
            log.info(
                "delivery attempt failed",
                extra={"submission_id": job.submission_id, "job_id": job.id, "error": str(exc)},
            )
            await self._attempt_failed(job, exc)
            raise
        await self._record(job, envelope, receipt)
        delivered: dict[str, Any] = {"job_id": job.id, "message_id": job.message_id}
        if "report" in receipt.details:
            delivered["report"] = receipt.details["report"]
        return Completed(
            Receipt(
                kind=f"{job.adapter}-receipt",
                data=receipt.body,
                media_type=receipt.content_type or "application/octet-stream",
                detail=receipt.as_dict(),
            ),
            StateChange(SubmissionState.DELIVERED, f"delivered by {job.adapter}", delivered),
        )

    async def _attempt_failed(self, job: Job, error: DeliveryError) -> None:
        """Add what the adapter reported about a failed attempt (e.g. the Peppol send report)
        to the document's history, its state unchanged; the loop then retries or
        dead-letters the job. A history that cannot be written is logged, never fatal."""
        if not error.details:
            return
        try:
            submission = await self.store.get_submission_any_tenant(job.submission_id)
            if submission is None:
                return
            await self.store.record_event(
                submission.id,
                submission.state,
                reason=f"delivery attempt {job.attempts} by {job.adapter} failed: {error.code}"
                + (f" ({error.rule})" if error.rule else ""),
                detail={
                    "job_id": job.id,
                    "message_id": job.message_id,
                    "attempt": job.attempts,
                    "retryable": error.retryable,
                    "error": error.to_wire(),
                    **error.details,
                },
            )
        except StoreError as exc:
            log.warning(
                "delivery attempt not recorded in the history",
                extra={"submission_id": job.submission_id, "error": str(exc)},
            )

    async def _record(self, job: Job, envelope: StoredEnvelope, receipt: AdapterReceipt) -> None:
        """The reporting record of a Peppol transmission (before the job completes: a retry
        after a crash records nothing twice). Facts that cannot be recorded are logged; the
        document is delivered all the same."""
        facts = peppol_facts(receipt.details)
        if facts is None or self.recorder is None:
            return
        try:
            await self.recorder.sent(
                facts,
                message_id=job.message_id,
                at=receipt.received_at,
                tenant_id=envelope.tenant_id or None,
                submission_id=job.submission_id,
            )
        except InputError as exc:
            log.warning(
                "Peppol transmission not recorded for reporting",
                extra={"submission_id": job.submission_id, "error": str(exc)},
            )

    def dead_event(self, job: Job, reason: str, *, retryable: bool) -> StateChange | None:
        detail = {"job_id": job.id, "retryable": retryable, "attempts": job.attempts}
        return StateChange(SubmissionState.DEAD, reason, detail)
