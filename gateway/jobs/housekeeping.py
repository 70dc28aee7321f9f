"""The hourly ``housekeeping`` job kind: forgets idempotency keys past their retention
(:class:`~gateway.store.idempotency.IdempotencyExpiry`, ``[limits] idempotency_hours``),
then deletes what ``[retention]`` lets go (:class:`~gateway.store.retention.Retention`:
finished housekeeping jobs, and finished documents where the operator chose so).

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
from gateway.store.retention import Retention, RetentionPolicy

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
    """Forgets idempotency keys older than ``idempotency_hours`` (0: none) and prunes by
    ``retention`` (default: finished housekeeping jobs after 30 days), then is done."""

    name = HOUSEKEEPING

    def __init__(
        self,
        store: Store,
        *,
        idempotency_hours: float,
        retention: RetentionPolicy | None = None,
    ) -> None:
        self.store = store
        self.idempotency_hours = idempotency_hours
        self.retention = retention or RetentionPolicy()

    async def run(self, job: Job, worker_id: str) -> JobResult:
        hour = datetime.strptime(job.submission_id.removeprefix(JOB_PREFIX), "%Y-%m-%dT%H")
        following = hour.replace(tzinfo=UTC) + PERIOD
        await self.store.enqueue_job(
            housekeeping_job_key(following), JobSpec(HOUSEKEEPING, not_before=following)
        )
        forgotten = await IdempotencyExpiry.of(self.store).expire(self.idempotency_hours)
        pruned = await Retention.of(self.store).prune(self.retention)
        detail = {
            "idempotency_hours": self.idempotency_hours,
            "forgotten_document_keys": forgotten.submissions,
            "forgotten_ebl_answers": forgotten.ebl_answers,
        }
        if pruned.total:
            detail |= {
                "pruned_documents": pruned.documents,
                "pruned_document_jobs": pruned.document_jobs,
                "pruned_receipts": pruned.receipts,
                "pruned_housekeeping_jobs": pruned.housekeeping_jobs,
            }
        if not forgotten.total and not pruned.total:
            return Completed()
        log.info("housekeeping forgot keys or pruned rows", extra=detail)
        return Completed(
            Receipt(kind="housekeeping", data=b"", media_type="application/json", detail=detail)
        )

    def dead_event(self, job: Job, reason: str, *, retryable: bool) -> StateChange | None:
        return None  # the job belongs to no submission
