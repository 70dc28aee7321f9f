"""The monthly Peppol reports: built from the reporting records, checked with the official
rules, and sent through the ordinary delivery path; and the scheduled ``report`` job kind.

::

    reports = await build_month_reports(store, validator, "POP000360", period)
    tsr, eusr = await submit_month_reports(store, reports, tenant_id=…, receiver=…)
    # each is a submission of flow ``peppol-out``: validated again, routed to the adapter
    # [routing] gives the receiver (9925:be0848934496 unless configured otherwise), delivered

Sending is idempotent per month: each report is submitted under the idempotency key
``peppol-<kind>:<YYYY-MM>``, so a second run returns the first submissions. So only a month
that is over is sent (``peppol.report-month-open`` otherwise): a partial report would stand
for the whole month.

The ``report`` kind runs on a job keyed ``peppol-report:<YYYY-MM>`` that becomes due on the
first day of the next month; it claims the month in the store (once across replicas), sends
both reports (an empty month too) and queues the job of the next month. Missing months of the
past are not back-filled.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from gateway.errors import FieldError, ValidationFailed
from gateway.flows.peppol_out import PEPPOL_OUT
from gateway.jobs import Completed, JobResult, Submissions
from gateway.render.mls import spis_participant
from gateway.render.peppol_reports import (
    OPENPEPPOL_RECEIVER,
    ReportPeriod,
    render_eusr,
    render_tsr,
)
from gateway.store import ConflictError, Job, JobSpec, Receipt, StateChange, Store, Submission
from gateway.store.peppol_reporting import PeppolReportingStore
from gateway.validation import ValidationReport, Validator

log = logging.getLogger("lingang.peppol.reporting")

REPORT = "report"
"""Kind of the scheduled job that sends a month's reports."""
JOB_PREFIX = "peppol-report:"
DUE_AFTER_MONTH_START = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class MonthReports:
    """A month's two reports, as built and as checked."""

    period: ReportPeriod
    tsr: bytes
    eusr: bytes
    transmissions: int
    checks: dict[str, ValidationReport] = field(default_factory=dict)
    """``tsr``/``eusr`` → the official rules' verdict (empty when validation is off)."""


async def build_month_reports(
    store: Store, validator: Validator | None, seat_id: str, period: ReportPeriod
) -> MonthReports:
    """Both reports of ``period``; :class:`ValidationFailed` if either breaks an official rule
    (a bug of ours: the report is never sent then)."""
    groups = await PeppolReportingStore(store.connector).groups_between(*period.bounds)
    reports = MonthReports(
        period,
        render_tsr(period, seat_id, groups),
        render_eusr(period, seat_id, groups),
        sum(group.count for group in groups),
    )
    if validator is not None:
        for kind, xml, profile in (
            ("tsr", reports.tsr, "peppol-tsr"),
            ("eusr", reports.eusr, "peppol-eusr"),
        ):
            check = validator.validate(xml, profile)
            reports.checks[kind] = check
            if check.fatal:
                rules = ", ".join(sorted(check.rule_ids()))
                raise ValidationFailed(
                    f"the {kind.upper()} of {period.label} breaks {rules}", report=check
                )
    return reports


async def submit_month_reports(
    store: Store,
    reports: MonthReports,
    *,
    tenant_id: str,
    receiver: str = OPENPEPPOL_RECEIVER,
    sender: str = "",
) -> tuple[Submission, Submission]:
    """Submit both reports for delivery to ``receiver`` (the tenant is made if missing).

    Only a month that is over is sent (:func:`check_month_over`): the reports cover the whole
    calendar month, and the month's idempotency key would keep a partial report for good."""
    check_month_over(reports.period, store.clock())
    await ensure_tenant(store, tenant_id)
    submissions = Submissions(store)
    made: list[Submission] = []
    for kind, xml in (("tsr", reports.tsr), ("eusr", reports.eusr)):
        submission, _ = await submissions.submit(
            tenant_id,
            xml,
            content_type="application/xml",
            filename=f"peppol-{kind}-{reports.period.label}.xml",
            metadata={
                "receiver": receiver,
                "sender": sender,
                "document_number": f"{kind}-{reports.period.label}",
            },
            idempotency_key=f"peppol-{kind}:{reports.period.label}",
            flow=PEPPOL_OUT.name,
        )
        made.append(submission)
    return made[0], made[1]


def check_month_over(period: ReportPeriod, now: datetime) -> None:
    """:class:`FieldError` (rule ``peppol.report-month-open``) unless ``period`` ended by
    ``now`` (its last day over in UTC)."""
    _, end = period.bounds
    if now < end:
        raise FieldError(
            f"the month {period.label} is not over until {end:%Y-%m-%d %H:%M} UTC: its reports "
            "cover the whole month and are sent from then on",
            field="month",
            rule="peppol.report-month-open",
        )


def reporting_sender(seat_id: str) -> str:
    """The participant our reports are sent as: the access point's own identifier in the
    Service Provider Identifier Scheme (``0242:`` + its SPIS value), as for MLS; empty
    without a seat id."""
    return spis_participant(seat_id) if seat_id.strip() else ""


async def ensure_tenant(store: Store, tenant_id: str) -> None:
    """Make the tenant ``tenant_id`` unless it exists (another process may race us)."""
    if await store.get_tenant(tenant_id) is not None:
        return
    with contextlib.suppress(ConflictError):
        await store.create_tenant(tenant_id, tenant_id=tenant_id)


def report_job_key(period: ReportPeriod) -> str:
    """The id the ``report`` job of ``period`` is queued under."""
    return f"{JOB_PREFIX}{period.label}"


def report_job(period: ReportPeriod) -> JobSpec:
    """The ``report`` job of ``period``: due just after the month ends."""
    _, end = period.bounds
    return JobSpec(REPORT, not_before=end + DUE_AFTER_MONTH_START)


async def schedule_reports(store: Store, now: datetime, *, until_day: int = 15) -> list[str]:
    """Queue the ``report`` jobs that should exist at ``now``: the current month's and, up to
    the ``until_day``-th, the previous month's. Idempotent; returns the job keys."""
    current = ReportPeriod.of_month(f"{now.astimezone(UTC):%Y-%m}")
    periods = [current]
    if now.astimezone(UTC).day <= until_day:
        periods.insert(0, current.previous())
    keys = []
    for period in periods:
        await store.enqueue_job(report_job_key(period), report_job(period))
        keys.append(report_job_key(period))
    return keys


@dataclass(frozen=True, slots=True)
class ReportSettings:
    """What the ``report`` kind needs to know (from ``[peppol]``)."""

    seat_id: str
    tenant_id: str
    receiver: str = OPENPEPPOL_RECEIVER
    until_day: int = 15


class ReportKind:
    """Sends a month's reports (job kind ``report``) and queues the next month's job."""

    name = REPORT

    def __init__(
        self,
        store: Store,
        validator: Callable[[], Validator | None],
        settings: ReportSettings,
    ) -> None:
        self.store = store
        self.validator = validator
        self.settings = settings

    async def run(self, job: Job, worker_id: str) -> JobResult:
        period = ReportPeriod.of_month(job.submission_id.removeprefix(JOB_PREFIX))
        reporting = PeppolReportingStore(self.store.connector)
        fresh = await reporting.claim_month(period.label)
        reports = await build_month_reports(
            self.store, self.validator(), self.settings.seat_id, period
        )
        tsr, eusr = await submit_month_reports(
            self.store,
            reports,
            tenant_id=self.settings.tenant_id,
            receiver=self.settings.receiver,
            sender=reporting_sender(self.settings.seat_id),
        )
        now = self.store.clock()
        _, end = period.bounds
        late = now > end + timedelta(days=self.settings.until_day)
        detail = {
            "month": period.label,
            "transmissions": reports.transmissions,
            "tsr_submission": tsr.id,
            "eusr_submission": eusr.id,
            "late": late,
            "first_claim": fresh,
        }
        await reporting.finish_month(period.label, tsr.id, eusr.id, detail)
        following = ReportPeriod.of_month(f"{end:%Y-%m}")
        await self.store.enqueue_job(report_job_key(following), report_job(following))
        if late:
            log.warning("Peppol reports sent after the deadline", extra=detail)
        return Completed(
            Receipt(kind="peppol-reports", data=b"", media_type="application/json", detail=detail)
        )

    def dead_event(self, job: Job, reason: str, *, retryable: bool) -> StateChange | None:
        return None  # the job belongs to no submission
