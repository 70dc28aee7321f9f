"""Deleting what is old enough to go, and never what is evidence (``[retention]``).

Two things grow without end otherwise: the finished jobs of the hourly ``housekeeping`` job
kind (one row an hour, 8,760 a year, with the summary each left as a receipt), and the
documents themselves with their outputs, events, delivery jobs and receipts.

* **Housekeeping jobs** finished longer than ``jobs_days`` ago are deleted with their
  receipts.
* **Documents** whose processing has ended (delivered, converted, rejected, failed,
  refused) and that have not changed for ``documents_days`` are deleted whole: the
  document, its outputs, events, facts, jobs and receipts. Left alone: a document with a
  job still pending or leased, or a dead-lettered one (an operator may retry it; a
  document delivered on one route can have a dead job on another), one the
  export gate holds, the gateway's own Message Level Status and Peppol report documents,
  one an export-ledger entry written before entries recorded their tenant is attributed
  through, and — unless ``receipts_days`` allows it — one holding a receipt (the
  receiver's signed AS4 receipt is the proof it was received).

Never touched, whatever the settings: the export ledger and its checkpoints (append-only,
hash-chained; the ledger verifies after any pruning: it holds each document's digest, not
the document), export holds and counts, the Peppol transmissions the monthly TSR/EUSR
count (so no period's counts change), received messages with the receipts answered to
them, and the eBL registry.

Work goes in batches of :data:`BATCH` rows, oldest first, each its own short transaction
(PostgreSQL locks the rows it selects and skips those another transaction holds), so
replicas pruning together do not collide and no run holds a lock for long::

    pruned = await Retention.of(store).prune(RetentionPolicy(documents_days=365))
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from gateway.store.base import HasConnector, reads, writes
from gateway.store.connector import Connector, Query, Script
from gateway.store.records import Clock, utcnow

BATCH = 500
"""Rows selected per transaction."""
EVERY_ROW = 2**62
"""The batch of a count: no limit (``LIMIT`` takes no ``NULL`` in SQLite, nothing negative
in PostgreSQL)."""


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    """How old (days) each kind of row must be before it goes; 0 keeps it for good."""

    jobs_days: float = 30.0
    documents_days: float = 0.0
    receipts_days: float = 0.0


@dataclass(frozen=True, slots=True)
class Pruned:
    """What a run deleted (or, in a dry run, would delete): ``documents`` with their
    ``receipts`` and ``document_jobs``; finished ``housekeeping_jobs`` with theirs."""

    documents: int = 0
    document_jobs: int = 0
    receipts: int = 0
    housekeeping_jobs: int = 0

    @property
    def total(self) -> int:
        return self.documents + self.housekeeping_jobs

    def __add__(self, other: Pruned) -> Pruned:
        return Pruned(
            self.documents + other.documents,
            self.document_jobs + other.document_jobs,
            self.receipts + other.receipts,
            self.housekeeping_jobs + other.housekeeping_jobs,
        )


@dataclass(frozen=True, slots=True)
class _Cutoffs:
    """The moments a policy turns into: rows older than these go (``None``: none go)."""

    jobs: datetime | None
    documents: datetime | None
    receipts: datetime | None


class Retention:
    """Prunes the store by a :class:`RetentionPolicy`, over the store's connector."""

    def __init__(self, connector: Connector, *, clock: Clock = utcnow, batch: int = BATCH) -> None:
        self.connector = connector
        self.clock = clock
        self.batch = max(1, batch)

    @classmethod
    def of(cls, store: HasConnector, *, batch: int = BATCH) -> Retention:
        """The retention over the same database as ``store``."""
        return cls(store.connector, clock=store.clock, batch=batch)

    def cutoffs(self, policy: RetentionPolicy) -> _Cutoffs:
        """What ``policy`` means now."""
        now = self.clock()

        def before(days: float) -> datetime | None:
            return now - timedelta(days=days) if days > 0 else None

        return _Cutoffs(
            before(policy.jobs_days), before(policy.documents_days), before(policy.receipts_days)
        )

    async def prune(self, policy: RetentionPolicy, *, dry_run: bool = False) -> Pruned:
        """Delete (``dry_run``: count) what ``policy`` lets go, batch after batch."""
        cutoffs = self.cutoffs(policy)
        pruned = Pruned()
        if cutoffs.documents is not None:
            for tenant_id in await self._tenants():
                if dry_run:
                    pruned += await self._count_documents(tenant_id, cutoffs)
                else:
                    pruned += await self._drain(
                        partial(self._prune_documents, tenant_id, cutoffs),
                        lambda batch: batch.documents,
                    )
        if cutoffs.jobs is not None:
            if dry_run:
                pruned += await self._count_jobs(cutoffs.jobs)
            else:
                pruned += await self._drain(
                    partial(self._prune_jobs, cutoffs.jobs), lambda batch: batch.housekeeping_jobs
                )
        return pruned

    async def _drain(
        self, prune_batch: Callable[[], Awaitable[Pruned]], size: Callable[[Pruned], int]
    ) -> Pruned:
        """Run ``prune_batch`` until a batch of fewer than :attr:`batch` rows (by ``size``)."""
        total = Pruned()
        while True:
            batch = await prune_batch()
            total += batch
            if size(batch) < self.batch:
                return total

    @reads
    def _tenants(self) -> Script[list[str]]:
        return [row["id"] for row in (yield Query("list_tenants", {}, "all"))]

    def _documents_due(self, tenant_id: str, cutoffs: _Cutoffs, batch: int) -> Script[list[str]]:
        params = {
            "tenant_id": tenant_id,
            "before": cutoffs.documents,
            "receipts_before": cutoffs.receipts,
            "batch": batch,
        }
        return [row["id"] for row in (yield Query("retention_documents_due", params, "all"))]

    @writes
    def _prune_documents(self, tenant_id: str, cutoffs: _Cutoffs) -> Script[Pruned]:
        """One batch of documents, deleted whole in one transaction."""
        ids = yield from self._documents_due(tenant_id, cutoffs, self.batch)
        if not ids:
            return Pruned()
        params = {"ids": ids}
        receipts = yield Query("retention_delete_document_receipts", params, "rowcount")
        jobs = yield Query("retention_delete_document_jobs", params, "rowcount")
        yield Query("retention_delete_document_events", params)
        yield Query("retention_delete_document_outputs", params)
        yield Query("retention_delete_document_facts", params)
        documents = yield Query("retention_delete_documents", params, "rowcount")
        return Pruned(
            documents=int(documents or 0), document_jobs=int(jobs or 0), receipts=int(receipts or 0)
        )

    @reads
    def _count_documents(self, tenant_id: str, cutoffs: _Cutoffs) -> Script[Pruned]:
        """How many documents of ``tenant_id`` a run would delete now (no batch limit)."""
        ids = yield from self._documents_due(tenant_id, cutoffs, EVERY_ROW)
        return Pruned(documents=len(ids))

    def _jobs_due(self, before: datetime, batch: int) -> Script[list[str]]:
        params = {"before": before, "batch": batch}
        return [row["id"] for row in (yield Query("retention_jobs_due", params, "all"))]

    @writes
    def _prune_jobs(self, before: datetime) -> Script[Pruned]:
        """One batch of finished housekeeping jobs, with their receipts."""
        ids = yield from self._jobs_due(before, self.batch)
        if not ids:
            return Pruned()
        receipts = yield Query("retention_delete_job_receipts", {"ids": ids}, "rowcount")
        jobs = yield Query("retention_delete_jobs", {"ids": ids}, "rowcount")
        return Pruned(receipts=int(receipts or 0), housekeeping_jobs=int(jobs or 0))

    @reads
    def _count_jobs(self, before: datetime) -> Script[Pruned]:
        """How many finished housekeeping jobs a run would delete now."""
        return Pruned(housekeeping_jobs=len((yield from self._jobs_due(before, EVERY_ROW))))
