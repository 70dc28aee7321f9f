"""Forgetting idempotency keys once they are older than the published retention
(``[limits] idempotency_hours``; draft-ietf-httpapi-idempotency-key-header §2.3: a resource
may expire keys after a time it documents).

Two kinds of key are kept: a submission's ``idempotency_key`` (``POST /v1/documents``) and
an eBL action's stored first answer (table ``ebl_idempotency``). Forgetting a submission's
key sets it to ``NULL``: the submission, its document, outputs, events, receipts and
export-ledger entries stay as they were; only a later request with that key is no longer
taken for a repeat (it is a new request). An eBL answer is deleted; the eBL and its title
chain stay.

The gateway's own keys are never forgotten (:data:`KEPT_PREFIXES`): a Message Level Status
(``mls:<message id>``) and a month's Peppol reports (``peppol-tsr:<month>``,
``peppol-eusr:<month>``) are sent once because their key stays taken.

Work goes in batches of :data:`BATCH` rows, oldest first, each its own short transaction,
so no run holds a lock for long and several replicas forgetting at once do not collide
(PostgreSQL skips rows another transaction holds; SQLite has one writer at a time)::

    forgotten = await IdempotencyExpiry.of(store).forget_before(now - timedelta(days=7))
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from gateway.store.base import HasConnector, writes
from gateway.store.connector import Connector, Query, Script
from gateway.store.records import Clock, utcnow

KEPT_PREFIXES = ("mls:", "peppol-tsr:", "peppol-eusr:")
"""Keys of the gateway's own messages, kept for good (the queries and the partial index
``submissions_expiring_keys`` spell them out)."""
BATCH = 500
"""Rows changed per transaction."""


@dataclass(frozen=True, slots=True)
class Forgotten:
    """How many keys a run forgot: ``submissions`` (documents API) and ``ebl_answers``."""

    submissions: int = 0
    ebl_answers: int = 0

    @property
    def total(self) -> int:
        return self.submissions + self.ebl_answers


class IdempotencyExpiry:
    """Forgets idempotency keys older than a time, over the store's connector."""

    def __init__(self, connector: Connector, *, clock: Clock = utcnow, batch: int = BATCH) -> None:
        self.connector = connector
        self.clock = clock
        self.batch = max(1, batch)

    @classmethod
    def of(cls, store: HasConnector, *, batch: int = BATCH) -> IdempotencyExpiry:
        """The expiry over the same database as ``store``."""
        return cls(store.connector, clock=store.clock, batch=batch)

    async def expire(self, hours: float) -> Forgotten:
        """Forget the keys older than ``hours`` (nothing when ``hours`` is 0: kept for good)."""
        if hours <= 0:
            return Forgotten()
        return await self.forget_before(self.clock() - timedelta(hours=hours))

    async def forget_before(self, before: datetime) -> Forgotten:
        """Forget every key first used before ``before`` (batch after batch)."""
        submissions = await self._drain("forget_submission_keys", before)
        answers = await self._drain("forget_ebl_answers", before)
        return Forgotten(submissions, answers)

    async def _drain(self, query: str, before: datetime) -> int:
        total = 0
        while True:
            changed = await self._forget_batch(query, before)
            total += changed
            if changed < self.batch:
                return total

    @writes
    def _forget_batch(self, query: str, before: datetime) -> Script[int]:
        """One batch of ``query``: how many rows it changed."""
        params = {"before": before, "batch": self.batch}
        return int((yield Query(query, params, "rowcount")) or 0)
