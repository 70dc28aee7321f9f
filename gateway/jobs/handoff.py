"""Hand-offs: jobs queued already leased to a worker of this process, which runs them with
no claim; what a hand-off carries besides the job (the outputs the processing just stored,
the submission the API just stored); and the local workers a new submission's processing
job is handed to at ingest (:class:`IngestHandOffs`).

When ``process`` hands its ``deliver`` job to the same worker (see
:class:`~gateway.jobs.kinds.Recorded`), the outputs that job will read were written a moment
ago, in the transaction that created it. :class:`HandedOutputs` keeps those exact rows in
memory for the delivery that follows, which then needs no store read. Only committed data is
kept (the entry is made after the commit), each entry is taken once, and the table is
bounded: an entry whose delivery never comes (deferred by an open breaker, taken over by
another worker) is simply forgotten, and the delivery reads the store as on any retry.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Generic, Protocol, TypeVar

from gateway.store import Job, Output, Submission

T = TypeVar("T")

HANDED_LIMIT = 256
"""At most this many submissions' outputs (or received submissions) are kept (the oldest go
first)."""
RECEIVED_BYTES_LIMIT = 32 * 1024 * 1024
"""At most this many bytes of received documents are kept (the oldest go first)."""


class _TakenOnce(Generic[T]):
    """Submission id → a value just committed, taken once; past ``limit`` entries (or, with
    ``max_bytes``, past that many bytes as ``size`` counts them) the oldest go first, and a
    value larger than ``max_bytes`` on its own is not kept."""

    def __init__(
        self, limit: int, max_bytes: int | None = None, size: Callable[[T], int] = lambda _: 0
    ) -> None:
        self.limit = limit
        self.max_bytes = max_bytes
        self._size = size
        self._kept: dict[str, T] = {}
        self._bytes = 0

    def _put(self, submission_id: str, value: T) -> None:
        size = self._size(value)
        budget = self.max_bytes
        if budget is not None and size > budget:
            return
        while self._kept and (
            len(self._kept) >= self.limit or (budget is not None and self._bytes + size > budget)
        ):
            self._bytes -= self._size(self._kept.pop(next(iter(self._kept))))
        self._kept[submission_id] = value
        self._bytes += size

    def take(self, submission_id: str) -> T | None:
        """The kept value, removed; ``None`` if none is kept."""
        found = self._kept.pop(submission_id, None)
        if found is not None:
            self._bytes -= self._size(found)
        return found

    def __len__(self) -> int:
        return len(self._kept)


class HandedOutputs(_TakenOnce[dict[str, Output]]):
    """Submission id → the outputs its processing just stored, for the handed-off delivery."""

    def __init__(self, limit: int = HANDED_LIMIT) -> None:
        super().__init__(limit)

    def keep(self, submission_id: str, outputs: Mapping[str, Output]) -> None:
        """Keep ``outputs`` (as committed) for the submission's handed-off delivery."""
        self._put(submission_id, dict(outputs))


class ReceivedSubmissions(_TakenOnce[Submission]):
    """Submission id → the submission as :meth:`~gateway.jobs.Submissions.submit` just
    committed it, for the first run of its ``process`` job in this process (which then reads
    nothing back). Like :class:`HandedOutputs`: only committed rows, each taken once, bounded
    by count and bytes; a job run elsewhere or retried reads the store."""

    def __init__(self, limit: int = HANDED_LIMIT, max_bytes: int = RECEIVED_BYTES_LIMIT) -> None:
        super().__init__(limit, max_bytes, lambda submission: len(submission.data))

    def keep(self, submission: Submission) -> None:
        """Keep a submission just stored (committed) for its first processing."""
        self._put(submission.id, submission)


class HandOffTarget(Protocol):
    """A worker that takes jobs handed to it at ingest (:class:`~gateway.jobs.Worker`)."""

    @property
    def worker_id(self) -> str: ...

    @property
    def lease_seconds(self) -> float: ...

    def spare_slots(self) -> int: ...

    def reserve_slot(self) -> bool: ...

    def take(self, job: Job | None) -> None: ...


class IngestHandOffs:
    """The workers of this process (``lingang serve``) a new submission's ``process`` job
    is handed to as the API stores it.

    :meth:`reserve` picks the running worker with the most spare slots and reserves one;
    the submission is then stored with its job already leased to that worker (its first
    attempt, :meth:`~gateway.store.Store.create_submission_handed`), and the worker runs it
    at once: no claim statement, no wake-up. With no spare slot anywhere the job is queued
    pending for any worker, as without hand-offs. Nothing is lost if this process dies
    before the job ends: the lease expires and any worker claims it (attempt two, which
    reads the submission from the store)."""

    def __init__(self) -> None:
        self._workers: list[HandOffTarget] = []

    def add(self, worker: HandOffTarget) -> None:
        """Hand jobs to ``worker`` too (it takes them only while it runs)."""
        self._workers.append(worker)

    def reserve(self) -> HandOffTarget | None:
        """A worker with a slot reserved for the next job (end it with ``take``), or
        ``None`` when no running worker has a spare slot."""
        for worker in sorted(self._workers, key=lambda w: -w.spare_slots()):
            if worker.reserve_slot():
                return worker
        return None
