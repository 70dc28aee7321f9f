"""What a hand-off carries besides the job: the outputs the processing just stored, and the
submission the API just stored.

When ``process`` hands its ``deliver`` job to the same worker (see
:class:`~gateway.jobs.kinds.Recorded`), the outputs that job will read were written a moment
ago, in the transaction that created it. :class:`HandedOutputs` keeps those exact rows in
memory for the delivery that follows, which then needs no store read. Only committed data is
kept (the entry is made after the commit), each entry is taken once, and the table is
bounded: an entry whose delivery never comes (deferred by an open breaker, taken over by
another worker) is simply forgotten, and the delivery reads the store as on any retry.
"""

from __future__ import annotations

from collections.abc import Mapping

from gateway.store import Output, Submission

HANDED_LIMIT = 256
"""At most this many submissions' outputs are kept (the oldest go first)."""


class HandedOutputs:
    """Submission id → the outputs its processing just stored, for the handed-off delivery."""

    def __init__(self, limit: int = HANDED_LIMIT) -> None:
        self.limit = limit
        self._kept: dict[str, dict[str, Output]] = {}

    def keep(self, submission_id: str, outputs: Mapping[str, Output]) -> None:
        """Keep ``outputs`` (as committed) for the submission's handed-off delivery."""
        while len(self._kept) >= self.limit:
            del self._kept[next(iter(self._kept))]
        self._kept[submission_id] = dict(outputs)

    def take(self, submission_id: str) -> dict[str, Output] | None:
        """The kept outputs, removed; ``None`` if none are kept."""
        return self._kept.pop(submission_id, None)

    def __len__(self) -> int:
        return len(self._kept)


RECEIVED_BYTES_LIMIT = 32 * 1024 * 1024
"""At most this many bytes of received documents are kept (the oldest go first)."""


class ReceivedSubmissions:
    """Submission id → the submission as :meth:`~gateway.jobs.Submissions.submit` just
    committed it, for the first run of its ``process`` job in this process (which then reads
    nothing back). Like :class:`HandedOutputs`: only committed rows, each taken once, bounded
    by count and bytes; a job run elsewhere or retried reads the store."""

    def __init__(self, limit: int = HANDED_LIMIT, max_bytes: int = RECEIVED_BYTES_LIMIT) -> None:
        self.limit = limit
        self.max_bytes = max_bytes
        self._kept: dict[str, Submission] = {}
        self._bytes = 0

    def keep(self, submission: Submission) -> None:
        """Keep a submission just stored (committed) for its first processing."""
        size = len(submission.data)
        if size > self.max_bytes:
            return
        while self._kept and (len(self._kept) >= self.limit or self._bytes + size > self.max_bytes):
            self._bytes -= len(self._kept.pop(next(iter(self._kept))).data)
        self._kept[submission.id] = submission
        self._bytes += size

    def take(self, submission_id: str) -> Submission | None:
        """The kept submission, removed; ``None`` if none is kept."""
        found = self._kept.pop(submission_id, None)
        if found is not None:
            self._bytes -= len(found.data)
        return found

    def __len__(self) -> int:
        return len(self._kept)
