"""What a job can take from the step before it in the same process, instead of a store read.

Two hand-overs, both of rows a transaction has just committed:

* :class:`HandedOutputs`: when ``process`` hands its ``deliver`` job to the same worker (see
  :class:`~gateway.jobs.kinds.Recorded`), the outputs that job will read were written a moment
  ago, in the transaction that created it; the delivery that follows needs no store read.
* :class:`ReceivedSubmissions`: a submission stored through the API of this process (the row
  its insert returned) for the first run of its ``process`` job, which then needs no store
  read either.

Only committed data is kept (the entry is made after the commit), each entry is taken once,
and the tables are bounded: an entry whose job never comes here (deferred by an open breaker,
claimed by another process or replica) is simply forgotten, and the job reads the store as on
any retry.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Generic, TypeVar

from gateway.store import Output, Submission

HANDED_LIMIT = 256
"""At most this many submissions' outputs are kept (the oldest go first)."""
RECEIVED_LIMIT = 1024
"""At most this many received submissions are kept (the oldest go first): a burst queues
hundreds of documents before their processing starts."""

T = TypeVar("T")


class _Kept(Generic[T]):
    """Submission id → a value just committed, taken once; the oldest go past ``limit``."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._kept: dict[str, T] = {}

    def _put(self, submission_id: str, value: T) -> None:
        while len(self._kept) >= self.limit:
            del self._kept[next(iter(self._kept))]
        self._kept[submission_id] = value

    def take(self, submission_id: str) -> T | None:
        """The kept value, removed; ``None`` if none is kept."""
        return self._kept.pop(submission_id, None)

    def __len__(self) -> int:
        return len(self._kept)


class HandedOutputs(_Kept[dict[str, Output]]):
    """Submission id → the outputs its processing just stored, for the handed-off delivery."""

    def __init__(self, limit: int = HANDED_LIMIT) -> None:
        super().__init__(limit)

    def keep(self, submission_id: str, outputs: Mapping[str, Output]) -> None:
        """Keep ``outputs`` (as committed) for the submission's handed-off delivery."""
        self._put(submission_id, dict(outputs))


class ReceivedSubmissions(_Kept[Submission]):
    """Submission id → the submission as stored by the API, for its first processing."""

    def __init__(self, limit: int = RECEIVED_LIMIT) -> None:
        super().__init__(limit)

    def keep(self, submission: Submission) -> None:
        """Keep ``submission`` (as committed, state ``received``) for its process job."""
        self._put(submission.id, submission)
