"""The ``process`` kind: run a submission's flow and record the whole result at once.

::

    claim ──► flow (thread or stage process) ──► plan the delivery ──► finish_processing:
              outputs + envelope + ``queued`` event + the ``deliver`` job + this job done
          ──► (hand-off) the same worker runs the ``deliver`` job, leased to it in that
              transaction: no second claim, no wake-up on the way

One transaction, fenced by the job's lease: a crash at any point leaves none or all of it,
and a job whose worker died is simply run again. A document error (the input, a missing fact,
a fatal finding, a recipient that is not the receiver) ends in ``rejected`` with its outputs
(e.g. the validation report) kept: retrying cannot help. An operational error (artefacts
missing, key unreadable) records ``failed`` and propagates, so the loop retries or
dead-letters it by the error's ``retryable``. A fapiao the tenant sent already (same seller,
number and kind, :mod:`gateway.store.sent_documents`) ends in ``refused`` (``already-sent``)
unless it is a deliberate resend: checked and registered inside the finishing transaction.

What happens after the flow is the delivery layer's: a :class:`DeliveryPlanner` turns the
outcome into the envelope to persist and the job to queue. This module knows no adapter.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Protocol

from gateway.errors import InputError, LingangError, MissingFactError, ValidationFailed
from gateway.flows import INVOICE_OUT, FlowOutcome, Source
from gateway.flows.invoice_out import credited_invoice
from gateway.jobs.document_facts import sent_invoice_dates, source_of
from gateway.jobs.handoff import HandedOutputs, ReceivedSubmissions
from gateway.jobs.kinds import JobResult, Recorded
from gateway.jobs.loop import abandonable
from gateway.jobs.runner import FlowRunner
from gateway.jobs.submissions import DEFAULT_FLOW, PROCESS, SubmissionState, tenant_directory
from gateway.store import (
    Job,
    JobSpec,
    NotFoundError,
    Output,
    OutputSpec,
    StateChange,
    Store,
    Submission,
)
from gateway.store.sent_documents import AlreadySent, Claim, SentDocument

if TYPE_CHECKING:
    from gateway.jobs.gate import ExportGate

DIRECTORY_TTL_SECONDS = 2.0
"""How long a tenant's partner directory is reused before it is read again."""

DOCUMENT_ERRORS: tuple[type[LingangError], ...] = (InputError, MissingFactError, ValidationFailed)
"""Errors that mean the document itself is wrong: state ``rejected``, never retried."""
DUPLICATE_FACTS = ("number", "seller_id", "document_type", "issue_date", "profile", "receiver")
"""What the refusal of a fapiao sent already keeps of the flow's facts (not the export
decision: nothing was exported)."""
RESEND = "resend"
"""The submission metadata asking for a deliberate resend (``"true"``)."""


def sent_claim(submission: Submission, outcome: FlowOutcome) -> Claim | None:
    """The fapiao the invoice flow processed, to register as sent
    (:mod:`gateway.store.sent_documents`): its seller, number and kind from the flow's facts,
    a resend when the submission asked for one. ``None`` when the flow recorded no number
    or kind (then there is nothing to compare)."""
    facts = outcome.facts
    number, kind = facts.get("number"), facts.get("document_type")
    if not isinstance(number, str) or not number or not isinstance(kind, str):
        return None
    document = SentDocument(str(facts.get("seller_id") or ""), number, kind)
    resend = str(submission.metadata.get(RESEND, "")).lower() == "true"
    return Claim(submission.id, submission.tenant_id, document, resend=resend)


@dataclass(frozen=True, slots=True)
class DeliveryPlan:
    """What to persist and queue after a successful flow."""

    outputs: Sequence[OutputSpec] = ()
    """Extra outputs (the envelope as it will be delivered)."""
    job: JobSpec | None = None
    reason: str = "processed"
    detail: dict[str, Any] = field(default_factory=dict)


class DeliveryPlanner(Protocol):
    """Turns a flow's outcome into a delivery plan; raises ``LingangError`` when it cannot
    (no route: the document is rejected with that error)."""

    def plan(self, submission: Submission, outcome: FlowOutcome) -> DeliveryPlan: ...


class ProcessKind:
    """Runs flows on submissions (job kind ``process``)."""

    name = PROCESS

    def __init__(
        self,
        store: Store,
        runner: FlowRunner,
        planner: DeliveryPlanner,
        *,
        gate: ExportGate | None = None,
        hand_off_seconds: float | None = None,
        handed: HandedOutputs | None = None,
        received: ReceivedSubmissions | None = None,
    ) -> None:
        self.store = store
        self.runner = runner
        self.planner = planner
        self.gate = gate
        """The export gate: a gated outcome is finished through the export ledger."""
        self.hand_off_seconds = hand_off_seconds
        """With a lease length, the delivery job is queued leased to this worker, which
        runs it next (no claim, no wake-up); ``None`` queues it for any worker."""
        self.handed = handed
        """Where a hand-off leaves the stored outputs for the delivery (no re-read)."""
        self.received = received
        """Submissions the API just stored, for their first run (no re-read)."""
        self._directories: dict[str, tuple[float, Any]] = {}

    async def run(self, job: Job, worker_id: str) -> JobResult:
        submission = await self._submission(job)
        if submission is None:
            raise NotFoundError(f"submission {job.submission_id} vanished", field="submission_id")
        if await self._already_processed(submission, job):
            await self.store.complete_job(job.id, worker_id, None)
            return Recorded()
        source = source_of(submission)
        directory = await self._directory(submission.tenant_id)
        flow = job.payload_ref or DEFAULT_FLOW
        async with abandonable():  # nothing is recorded until the flow has run
            if flow == INVOICE_OUT.name:
                source = await self._with_sent_invoice_dates(source)
            outcome = await self.runner.run(flow, source, directory)
        outputs = [OutputSpec(o.kind, o.media_type, o.data) for o in outcome.outputs]
        if outcome.error is None and not outcome.delivers:
            await self.store.finish_processing(
                job.id,
                worker_id,
                outputs=outputs,
                event=StateChange(
                    SubmissionState.CONVERTED,
                    f"converted by {outcome.flow}; nothing to deliver",
                    {"stages": outcome.timings, **outcome.facts},
                ),
            )
            return Recorded()
        plan = DeliveryPlan()
        if outcome.error is None:
            try:
                plan = self.planner.plan(submission, outcome)
            except LingangError as exc:
                outcome.error, outcome.failed_stage = exc, "route"
        if outcome.error is not None:
            await self._record_failure(submission, job, worker_id, outputs, outcome)
            return Recorded()
        stored = [*outputs, *plan.outputs]
        claim = sent_claim(submission, outcome) if flow == INVOICE_OUT.name else None
        try:
            if self.gate is not None and plan.job is not None and self.gate.applies(outcome):
                result = await self.gate.finish(
                    job,
                    worker_id,
                    submission,
                    outcome,
                    stored,
                    plan.job,
                    plan.reason,
                    plan.detail,
                    hand_off_seconds=self.hand_off_seconds,
                    claim=claim,
                )
                return self._handed_on(submission, worker_id, result.job, stored)
            queued = await self.store.finish_processing(
                job.id,
                worker_id,
                outputs=stored,
                event=StateChange(
                    SubmissionState.QUEUED,
                    plan.reason,
                    {"stages": outcome.timings, **outcome.facts, **plan.detail},
                ),
                enqueue=plan.job,
                hand_off_seconds=self.hand_off_seconds,
                claim=claim,
            )
        except AlreadySent as exc:
            await self._refuse_duplicate(job, worker_id, outputs, outcome, exc)
            return Recorded()
        return self._handed_on(submission, worker_id, queued, stored)

    async def _refuse_duplicate(
        self,
        job: Job,
        worker_id: str,
        outputs: list[OutputSpec],
        outcome: FlowOutcome,
        error: AlreadySent,
    ) -> None:
        """Record the refusal of a fapiao the tenant sent already (state ``refused``, the
        error ``already-sent`` naming the earlier submission): the flow's outputs are kept
        as a rejected document's are; nothing is queued, no ledger entry is written."""
        detail: dict[str, Any] = {
            "stages": outcome.timings,
            **{k: outcome.facts[k] for k in DUPLICATE_FACTS if k in outcome.facts},
            "error": error.as_dict(),
        }
        if error.earlier is not None:
            detail["earlier"] = error.earlier.to_json()
        event = StateChange(SubmissionState.REFUSED, error.message, detail)
        await self.store.finish_processing(job.id, worker_id, outputs=outputs, event=event)

    async def _with_sent_invoice_dates(self, source: Source) -> Source:
        """``source`` with the issue dates this tenant's processed invoices recorded for the
        invoice its credit note credits (BT-25, which the red-letter fapiao prints), when
        there are any; else ``source`` as it is. With one date the mapping fills BT-26, with
        several it warns and names them.

        The flow reads no store, so the job reads the credited invoice's number from the
        fapiao first (:func:`~gateway.flows.invoice_out.credited_invoice`, off the event
        loop), looks its dates up, and the flow runs once with them: BT-26, which the
        red-letter fapiao does not print."""
        number = await asyncio.to_thread(credited_invoice, source)
        if number is None:
            return source
        dates = await sent_invoice_dates(self.store, source.tenant_id, number)
        if not dates:
            return source
        recorded = tuple(day.isoformat() for day in dates)
        return replace(source, sent_invoice_dates={number: recorded})

    def _handed_on(
        self,
        submission: Submission,
        worker_id: str,
        queued: Job | None,
        stored: Sequence[OutputSpec],
    ) -> Recorded:
        """The result, with the delivery job when it was handed to this worker (and the
        outputs just committed kept for it)."""
        if queued is not None and queued.lease_owner == worker_id and self.handed is not None:
            now = self.store.clock()
            self.handed.keep(
                submission.id,
                {
                    o.kind: Output(submission.id, o.kind, o.media_type, bytes(o.data), now)
                    for o in stored
                },
            )
        return Recorded(then=queued)

    async def _submission(self, job: Job) -> Submission | None:
        """The job's submission: as the API just stored it on a first attempt in the process
        that received it, else read from the store."""
        if self.received is not None:
            kept = self.received.take(job.submission_id)
            if kept is not None and job.attempts <= 1:
                return kept
        return await self.store.get_submission_any_tenant(job.submission_id)

    def dead_event(self, job: Job, reason: str, *, retryable: bool) -> StateChange | None:
        return StateChange(
            SubmissionState.FAILED,
            reason,
            {"job_id": job.id, "retryable": retryable, "attempts": job.attempts},
        )

    async def _directory(self, tenant_id: str) -> Any:
        """The tenant's stored partner directory (cached a few seconds), or ``None``."""
        now = time.monotonic()
        cached = self._directories.get(tenant_id)
        if cached is not None and cached[0] > now:
            return cached[1]
        directory = await tenant_directory(self.store, tenant_id)
        self._directories[tenant_id] = (now + DIRECTORY_TTL_SECONDS, directory)
        return directory

    async def _already_processed(self, submission: Submission, job: Job) -> bool:
        """Whether an earlier run (whose worker died) already finished this submission.
        On the first claim of a freshly received submission there was none."""
        if submission.state in (
            SubmissionState.REJECTED,
            SubmissionState.HELD,
            SubmissionState.REFUSED,
            SubmissionState.CONVERTED,
        ):
            return True
        if job.attempts <= 1 and submission.state == SubmissionState.RECEIVED:
            return False
        jobs = await self.store.list_jobs(submission_id=submission.id)
        return any(other.kind != PROCESS for other in jobs)

    async def _record_failure(
        self,
        submission: Submission,
        job: Job,
        worker_id: str,
        outputs: list[OutputSpec],
        outcome: FlowOutcome,
    ) -> None:
        error = outcome.error
        assert error is not None
        detail: dict[str, Any] = {"stages": outcome.timings, "error": error.as_dict()}
        reason = f"{outcome.failed_stage}: {error}"
        if isinstance(error, DOCUMENT_ERRORS):
            event = StateChange(SubmissionState.REJECTED, reason, detail)
            await self.store.finish_processing(job.id, worker_id, outputs=outputs, event=event)
            return
        for output in outputs:
            await self.store.put_output(submission.id, output.kind, output.media_type, output.data)
        await self.store.record_event(
            submission.id, SubmissionState.FAILED, reason=reason, detail=detail
        )
        raise error
