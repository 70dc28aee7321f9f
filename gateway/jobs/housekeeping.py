"""The hourly ``housekeeping`` job kind: forgets idempotency keys past their retention
(:class:`~gateway.store.idempotency.IdempotencyExpiry`, ``[limits] idempotency_hours``).

It rides the one claim loop, like the monthly Peppol reports: a job keyed
``housekeeping:<YYYY-MM-DDTHH>`` (UTC) is due from the start of that hour. Every worker pool
queues the current hour's job when it starts (queueing is idempotent per key, so replicas
starting together queue one job, and one worker claims it); each run first queues the next
hour's job, then does the work, so a run that fails and is retried never breaks the chain.
A gateway that was stopped for a while runs the job of the hour it starts in.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from gateway.jobs.kinds import Completed, JobResult
from gateway.store import Job, JobSpec, Receipt, StateChange, Store
from gateway.store.idempotency import IdempotencyExpiry

log = logging.getLogger("lingang.housekeeping")

HOUSEKEEPING = "housekeeping"
"""Kind of the hourly job."""
JOB_PREFIX = "housekeeping:"
PERIOD = timedelta(hours=1)


def hour_of(moment: datetime) -> datetime:
    """The start of the UTC hour ``moment`` falls in."""
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def housekeeping_job_key(hour: datetime) -> str:
    """The id the job of ``hour`` is queued under."""
    return f"{JOB_PREFIX}{hour_of(hour):%Y-%m-%dT%H}"


async def schedule_housekeeping(store: Store, now: datetime) -> str:
    """Queue the job of the hour ``now`` falls in (idempotent); its key."""
    hour = hour_of(now)
    key = housekeeping_job_key(hour)
    await store.enqueue_job(key, JobSpec(HOUSEKEEPING, not_before=hour))
    return key


class HousekeepingKind:
    """Forgets idempotency keys older than ``idempotency_hours`` (0: none), then is done."""

    name = HOUSEKEEPING

    def __init__(self, store: Store, *, idempotency_hours: float) -> None:
        self.store = store
        self.idempotency_hours = idempotency_hours

    async def run(self, job: Job, worker_id: str) -> JobResult:
        hour = datetime.strptime(job.submission_id.removeprefix(JOB_PREFIX), "%Y-%m-%dT%H")
        following = hour.replace(tzinfo=UTC) + PERIOD
        await self.store.enqueue_job(
            housekeeping_job_key(following), JobSpec(HOUSEKEEPING, not_before=following)
        )
        forgotten = await IdempotencyExpiry.of(self.store).expire(self.idempotency_hours)
        detail = {
            "idempotency_hours": self.idempotency_hours,
            "forgotten_document_keys": forgotten.submissions,
            "forgotten_ebl_answers": forgotten.ebl_answers,
        }
        if not forgotten.total:
            return Completed()
        log.info("idempotency keys forgotten", extra=detail)
        return Completed(
            Receipt(kind="housekeeping", data=b"", media_type="application/json", detail=detail)
        )

    def dead_event(self, job: Job, reason: str, *, retryable: bool) -> StateChange | None:
        return None  # the job belongs to no submission
