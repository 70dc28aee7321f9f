"""The inbound direction: what receiving adapters hand over, and the ``receive`` kind.

::

    adapter's endpoint ──► StoreInbound.accept: stored + ``receive`` job, one transaction
                          (a duplicate message id: the first message's id, nothing new;
                          a receiver we do not serve: refused, nothing stored);
                          then the Peppol reporting record (Peppol traffic only)
    worker claims ``receive`` ──► Peppol reporting record, unless made already
                               ──► flow ``document-in`` ──► hand on (``[routing].inbound``,
                                   or the receiving tenant's ``[routing.inbound_tenants]``)
                               ──► Message Level Status, if the sender's SBDH asks for one
                               └─► the job's receipt records the verdict, facts and report
                               (the job gives up, retries spent or an error no retry helps,
                               before the local system took the document: an ``RE``/``FD``
                               MLS all the same, once; see ReceiveKind._gave_up)
    a received MLS ──► correlated to the submission we sent (history + output ``mls``),
                       if it came from the access point that document went to (else
                       ignored: the job's receipt says why, verdict ``mls-ignored``)

The adapter acknowledges its sender only after :meth:`StoreInbound.accept` returned, so a
crash after the acknowledgement loses nothing; duplicate detection is the store's, so it
holds across restarts and replicas. The MLS is itself a submission (flow ``peppol-out``)
under an idempotency key per received message, so a retried job answers once.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from adapters.base import REUSED_MESSAGE_ID, Envelope, InboundAck, InboundDocument
from adapters.base import Receipt as AdapterReceipt
from gateway.delivery.peppol_duties import PeppolDuties
from gateway.delivery.peppol_recording import LocalParticipants
from gateway.delivery.registry import AdapterRegistry
from gateway.errors import InputError, LingangError
from gateway.flows import FlowOutcome, Source
from gateway.jobs import Completed, FlowRunner, JobResult
from gateway.jobs.process import DOCUMENT_ERRORS
from gateway.store import (
    ConflictError,
    InboundMessage,
    Job,
    JobSpec,
    LeaseLostError,
    NotFoundError,
    Receipt,
    StateChange,
    Store,
)

log = logging.getLogger("lingang.inbound")

RECEIVER_OF_ANOTHER_TENANT = "inbound.receiver-tenant"
"""Rule of a receiver that is not a participant of the tenant its inbox receives for."""
RECEIVE = "receive"
"""Kind of the job that runs the inbound flow on a received message."""
INBOUND_FLOW = "document-in"
HAND_ON_ATTACHMENTS = ("canonical", "readable")
"""Outputs of the inbound flow that travel to the local system with the document."""


class StoreInbound:
    """The :class:`~adapters.base.InboundSink` of this gateway: the store.

    With ``participants`` (``[peppol] local_participants``), a document naming a receiver we
    do not receive for is refused before anything is stored (:class:`InputError`, rule
    ``peppol.not-serviced``), and one without a tenant gets its receiver's tenant. One whose
    adapter fixed its tenant (an https inbox's ``inbound_tenant``) may name only a receiver
    of that tenant (rule :data:`RECEIVER_OF_ANOTHER_TENANT`): the tenant's list would else
    show a document addressed to another tenant's participant, or hold a document its sender
    meant for another tenant.

    With ``duties``, a Peppol transmission is recorded for the monthly reports as soon as it
    is stored, before its sender is answered: it was received then, and the month's reports,
    sent just after the month ends, count it even when its ``receive`` job has not run yet (a
    backlog, a worker down over the month's end). A record that cannot be written is left to
    the ``receive`` job, which records it too (once: records are kept per transmission)."""

    def __init__(
        self,
        store: Store,
        *,
        flow: str = INBOUND_FLOW,
        participants: LocalParticipants | None = None,
        duties: PeppolDuties | None = None,
    ) -> None:
        self.store = store
        self.flow = flow
        self.participants = participants
        self.duties = duties

    async def accept(self, document: InboundDocument) -> InboundAck:
        if self.participants is not None and self.participants.tenants and document.receiver:
            tenant = self.participants.tenant_for(document.receiver)
            if document.tenant_id is not None and document.tenant_id != tenant:
                raise InputError(
                    f"the receiver {document.receiver} is not a participant of the tenant this "
                    "inbox receives for: name one of its participants, or none",
                    field="receiver",
                    rule=RECEIVER_OF_ANOTHER_TENANT,
                )
            document = replace(document, tenant_id=document.tenant_id or tenant)
        message, first_seen = await self.store.receive_inbound(
            channel=document.channel,
            message_id=document.message_id,
            data=document.body,
            media_type=document.media_type,
            sender=document.sender or None,
            receiver=document.receiver or None,
            tenant_id=document.tenant_id,
            metadata=dict(document.metadata),
            enqueue=JobSpec(RECEIVE, payload_ref=self.flow),
            answer=document.answer,
        )
        if not first_seen and bytes(message.data) != bytes(document.body):
            raise ConflictError(
                f"message id {document.message_id!r} on {document.channel} was used for another "
                "document: a repeat must carry the same bytes (send a new document under a new "
                "message id)",
                field="message_id",
                rule=REUSED_MESSAGE_ID,
            )
        if first_seen and self.duties is not None:
            await self._record(message)
        return InboundAck(inbound_id=message.id, duplicate=not first_seen, answer=message.answer)

    async def _record(self, message: InboundMessage) -> None:
        assert self.duties is not None
        try:
            await self.duties.record(message)
        except LingangError as exc:  # the receive job records it, or says why it cannot
            log.warning(
                "Peppol transmission not recorded on receipt",
                extra={"inbound_id": message.id, "error": str(exc)},
            )


class ReceiveKind:
    """Runs the inbound flow on received messages (job kind ``receive``) and hands accepted
    documents on to the local system: the receiving tenant's own adapter in
    ``hand_on_tenants`` (tenant id → adapter), else the ``hand_on`` adapter, if one is
    configured. A tenant with its own gets its documents there only: one firm's local
    system never receives another firm's documents."""

    name = RECEIVE

    def __init__(
        self,
        store: Store,
        runner: FlowRunner,
        adapters: AdapterRegistry,
        *,
        hand_on: str | None = None,
        hand_on_tenants: Mapping[str, str] | None = None,
        peppol: PeppolDuties | None = None,
        max_attempts: int = 12,
    ) -> None:
        self.store = store
        self.runner = runner
        self.adapters = adapters
        self.hand_on = hand_on
        self.hand_on_tenants = dict(hand_on_tenants or {})
        self.peppol = peppol
        """Reporting records, MLS answers and MLS correlation for Peppol traffic."""
        self.max_attempts = max_attempts
        """The worker's attempts before the dead letter: a job failing on the last one (or
        on an error no retry can help) before the hand-over succeeded is answered with an
        ``RE``/``FD`` Message Level Status."""

    async def run(self, job: Job, worker_id: str) -> JobResult:
        message = await self.store.get_inbound(job.submission_id)
        if message is None:
            raise NotFoundError(f"inbound message {job.submission_id} vanished", field="inbound")
        progress = _Progress()
        try:
            return await self._receive(job, message, progress)
        except Exception as exc:
            if self._gives_up(job, exc) and not progress.handed_on:
                await self._gave_up(job, message, progress.outcome)
            raise

    def _gives_up(self, job: Job, error: Exception) -> bool:
        """Whether this failed run is the job's last (the worker dead-letters it): an error no
        retry can help, or the last of :attr:`max_attempts`. A lost lease is no failure: the
        worker that holds the job now finishes it."""
        if isinstance(error, LeaseLostError):
            return False
        retryable = error.retryable if isinstance(error, LingangError) else True
        return not retryable or job.attempts >= self.max_attempts

    async def _receive(self, job: Job, message: InboundMessage, progress: _Progress) -> JobResult:
        if self.peppol is not None:
            await self.peppol.record(message)
        source = Source(
            data=message.data,
            content_type=message.media_type,
            metadata=dict(message.metadata),
            document_id=message.id,
            tenant_id=message.tenant_id or "",
        )
        outcome = await self.runner.run(job.payload_ref or INBOUND_FLOW, source)
        if outcome.error is not None and not isinstance(outcome.error, DOCUMENT_ERRORS):
            raise outcome.error
        progress.outcome = outcome
        if self.peppol is not None and outcome.error is None and self.peppol.is_mls(outcome):
            correlation = await self.peppol.correlate(message)
            verdict = "mls-ignored" if correlation.get("ignored") else "mls"
            return Completed(
                Receipt(
                    kind="inbound-mls",
                    data=json.dumps(correlation, sort_keys=True).encode(),
                    media_type="application/json",
                    detail={"verdict": verdict, **correlation},
                )
            )
        verdict = "accepted" if outcome.error is None else "rejected"
        handed_on: dict[str, Any] = {}
        adapter = self.hand_on_adapter(message.tenant_id)
        if outcome.error is None and adapter is not None:
            receipt = await self._hand_on(adapter, message, outcome, job.attempts)
            handed_on = {"adapter": adapter, "receipt": receipt.as_dict()}
        progress.handed_on = bool(handed_on)
        mls = await self._answer(job, message, outcome, handed_on=bool(handed_on), adapter=adapter)
        return Completed(
            Receipt(
                kind=f"inbound-{verdict}",
                data=_verdict(outcome, verdict, handed_on, mls),
                media_type="application/json",
                detail={
                    "verdict": verdict,
                    **outcome.facts,
                    "mls": None if mls is None else mls.get("code"),
                },
            )
        )

    def hand_on_adapter(self, tenant_id: str | None) -> str | None:
        """The adapter that hands ``tenant_id``'s received documents on (``None``: none)."""
        if tenant_id and tenant_id in self.hand_on_tenants:
            return self.hand_on_tenants[tenant_id]
        return self.hand_on

    async def _hand_on(
        self, adapter: str, message: InboundMessage, outcome: FlowOutcome, attempt: int
    ) -> AdapterReceipt:
        """Deliver the accepted document to the local system with its canonical and readable
        forms as attachments; its ``submission_id`` is the received document's id (its page
        is ``/v1/received/{id}``)."""
        attachments = {
            kind: output.data
            for kind in HAND_ON_ATTACHMENTS
            if (output := outcome.output(kind)) is not None
        }
        return await self.adapters.get(adapter).deliver(
            Envelope(
                message_id=f"{message.id}.{adapter}@lingang",
                body=message.data,
                submission_id=message.id,
                content_type=message.media_type,
                tenant_id=message.tenant_id or "",
                profile=str(outcome.facts.get("profile", "")),
                sender=message.sender or "",
                receiver=message.receiver or "",
                filename=f"{message.id}.xml",
                attempt=attempt,
                document_kind=str(outcome.facts.get("document_kind", "")),
                attachments=attachments,
            )
        )

    async def _gave_up(
        self, job: Job, message: InboundMessage, outcome: FlowOutcome | None
    ) -> None:
        """The job is going to the dead letter and the document was not handed on: answer
        the sender, for Peppol traffic, with an ``RE`` whose issue is ``FD`` (MLS status
        reason "failure of delivery", the MLS code list's one reason that is no fault of the
        document), and, when it was answered, keep that as the job's verdict ``rejected``, so
        the received document reads as rejected, with the MLS and its reason, not as merely
        failed (a dead-lettered job records no receipt of its own).

        ``outcome`` is the inbound flow's when it accepted the document and the hand-over to
        the local system failed (its warnings travel too); ``None`` when the job failed
        before that, on an error of this gateway's own (its store, its validation engine or
        artefacts, a bug): the MLS then says ``FD`` in fixed words, and the error, which is
        this gateway's business, stays in the job (its ``last_error``, the operator's) and
        out of the verdict, which the receiving tenant reads. One MLS per message:
        when an operator's retry later hands the document on, the verdict it records keeps
        this answer (:meth:`_answer`), and no second, contradictory MLS is sent. An MLS
        that cannot be submitted now is logged; the job's own error is the one raised."""
        if self.peppol is None or (outcome is not None and self.peppol.is_mls(outcome)):
            return  # a received MLS is never answered: its job's failure stays a failure
        failed = outcome or FlowOutcome(flow=job.payload_ref or INBOUND_FLOW, timings=[])
        try:
            mls = await self._sent_before(job) or await self.peppol.respond(
                message, failed, handed_on=False, confirmed=False
            )
            if mls is None:
                return
            await self.store.add_receipt(
                job.id,
                Receipt(
                    kind="inbound-rejected",
                    data=_verdict(failed, "rejected", {}, mls),
                    media_type="application/json",
                    detail={"verdict": "rejected", **failed.facts, "mls": mls.get("code")},
                ),
            )
        except LingangError as exc:
            log.error(
                "no Message Level Status for a received message whose job gave up",
                extra={"inbound_id": message.id, "job_id": job.id, "error": str(exc)},
            )

    async def _answer(
        self,
        job: Job,
        message: InboundMessage,
        outcome: FlowOutcome,
        *,
        handed_on: bool,
        adapter: str | None,
    ) -> dict[str, Any] | None:
        """The Message Level Status for a Peppol message (``None``: not Peppol traffic). The
        local system's 2xx is its confirmation (``AP``); kept for collection is ``AB``.

        A message is answered once: when an earlier run of this job sent its sender an MLS
        (an ``RE`` when the hand-over gave up, before an operator's retry), that MLS is the
        answer the record keeps, not the status this run would have given."""
        if self.peppol is None:
            return None
        sent = await self._sent_before(job)
        if sent is not None:
            return sent
        return await self.peppol.respond(
            message,
            outcome,
            handed_on=handed_on or adapter is None,
            confirmed=handed_on,
        )

    async def _sent_before(self, job: Job) -> dict[str, Any] | None:
        """The MLS an earlier run of ``job`` sent, as its verdict receipt keeps it."""
        for receipt in reversed(await self.store.list_receipts(job_id=job.id)):
            if not receipt.kind.startswith("inbound-"):
                continue
            try:
                mls = json.loads(receipt.data).get("mls")
            except (ValueError, AttributeError):
                continue
            if isinstance(mls, dict) and mls.get("sent"):
                return mls
        return None

    def dead_event(self, job: Job, reason: str, *, retryable: bool) -> StateChange | None:
        return None  # an inbound message has no submission history to write to


@dataclass(slots=True)
class _Progress:
    """How far a ``receive`` run got: the inbound flow's outcome (once it accepted or
    rejected the document) and whether the local system took the document."""

    outcome: FlowOutcome | None = None
    handed_on: bool = False


def _verdict(
    outcome: FlowOutcome,
    verdict: str,
    handed_on: dict[str, Any],
    mls: dict[str, Any] | None = None,
) -> bytes:
    report = outcome.output("report")
    data = {
        "verdict": verdict,
        "stages": outcome.timings,
        "facts": outcome.facts,
        "error": outcome.error.as_dict() if outcome.error is not None else None,
        "report": json.loads(report.data) if report is not None else None,
        "handed_on": handed_on or None,
        "mls": mls,
    }
    return json.dumps(data, ensure_ascii=False, sort_keys=True, default=str).encode()
