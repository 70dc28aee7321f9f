"""What a hand-off carries besides the job: the outputs the processing just stored.

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

from gateway.store import Output

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
