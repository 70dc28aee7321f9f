"""What the operator console reads: document lists with filters, dead letters, held
documents, queue depths and recent throughput; and the sessions signed out (migration
``0019_console_signouts``: a sign-out holds on every replica and after a restart).

Every read that touches a tenant's records is scoped to that tenant. The list reads return
summaries without the documents' bytes. Migration ``0004_console`` adds what they need:
``document_facts`` (each document's profile, receiver, number and delivery time, written
from the submission's metadata and its ``queued`` and ``delivered`` events by the statements
that write those, in the same transaction) with an index per filter, so a filtered page walks one index newest first
and stops at the page's end whatever the store holds; and indexes for documents by state
and dead letters by time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from gateway.store import rows
from gateway.store.base import reads, writes
from gateway.store.connector import Connector, Query, Script
from gateway.store.records import Clock, Job, JobState, utcnow

RECENT_DOCUMENTS = 500
"""How many of a tenant's newest documents the health page looks at for endpoints."""
HELD_STATE = "held"
"""The submission state of a document held for a person's decision (the export gate)."""


@dataclass(frozen=True, slots=True)
class DocumentFilter:
    """The console's document filters; ``None`` means any."""

    state: str | None = None
    profile: str | None = None
    receiver: str | None = None
    number: str | None = None
    """The document's number (a fapiao's 发票号码, an eBL's reference), exactly."""
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True, slots=True)
class DocumentSummary:
    """One row of the document list (no document bytes)."""

    id: str
    state: str
    filename: str | None
    content_type: str
    created_at: datetime
    updated_at: datetime
    profile: str | None
    receiver: str | None
    number: str | None


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A dead-lettered job of one of the tenant's documents."""

    job: Job
    filename: str | None
    document_state: str


@dataclass(frozen=True, slots=True)
class QueueDepth:
    kind: str
    state: JobState
    count: int


class ConsoleStore:
    """The console's reads (and its sign-outs) over the gateway's store connector."""

    def __init__(self, connector: Connector, *, clock: Clock = utcnow) -> None:
        self.connector = connector
        self.clock = clock

    @reads
    def find_documents(
        self,
        tenant_id: str,
        found: DocumentFilter,
        *,
        limit: int = 50,
        before: tuple[datetime, str] | None = None,
    ) -> Script[list[DocumentSummary]]:
        """A tenant's documents, newest first, filtered; ``before`` is the last row seen
        ``(created_at, id)`` (keyset paging)."""
        params = {
            "tenant_id": tenant_id,
            "state": found.state,
            "profile": found.profile,
            "receiver": found.receiver,
            "number": found.number,
            "since": found.since,
            "until": found.until,
            "before_at": before[0] if before else None,
            "before_id": before[1] if before else None,
            "limit": limit,
        }
        name = "console_documents"
        if found.state is not None:
            name = "console_documents_by_state"
        if found.number is not None:
            name = "console_documents_by_number"
        elif found.receiver is not None:
            name = "console_documents_by_receiver"
        elif found.profile is not None:
            name = "console_documents_by_profile"
        return [_summary(r) for r in (yield Query(name, params, "all"))]

    @reads
    def dead_letters(self, tenant_id: str, *, limit: int = 100) -> Script[list[DeadLetter]]:
        """The tenant's dead-lettered jobs, most recently failed first."""
        found = yield Query("console_dead_letters", {"tenant_id": tenant_id, "limit": limit}, "all")
        return [DeadLetter(rows.job(r), r["filename"], r["document_state"]) for r in found]

    @reads
    def held_documents(self, tenant_id: str, *, limit: int = 100) -> Script[list[DocumentSummary]]:
        """The tenant's documents in state ``held`` (waiting for a release), oldest first."""
        params = {"tenant_id": tenant_id, "state": HELD_STATE, "limit": limit}
        return [_summary(r) for r in (yield Query("console_held", params, "all"))]

    @reads
    def queue_depths(self) -> Script[list[QueueDepth]]:
        """Waiting work over the whole gateway: jobs pending, leased or dead, by kind (counts
        only; done jobs are history)."""
        found = yield Query("console_queue_depths", {}, "all")
        return [QueueDepth(r["kind"], JobState(r["state"]), int(r["n"])) for r in found]

    @reads
    def delivered_per_bucket(
        self, tenant_id: str, since: datetime, bucket_seconds: int
    ) -> Script[dict[int, int]]:
        """How many of the tenant's documents were delivered in each ``bucket_seconds``
        since ``since`` (bucket 0 starts at ``since``; empty buckets are absent)."""
        params = {"tenant_id": tenant_id, "since": since, "bucket_seconds": bucket_seconds}
        found = yield Query("console_delivered_per_bucket", params, "all")
        return {int(r["bucket"]): int(r["n"]) for r in found}

    @reads
    def delivery_endpoints(
        self, tenant_id: str, *, recent: int = RECENT_DOCUMENTS
    ) -> Script[list[tuple[str, str]]]:
        """``(adapter, endpoint)`` of the deliveries of the tenant's ``recent`` newest
        documents (for their breakers' states)."""
        found = yield Query("console_endpoints", {"tenant_id": tenant_id, "recent": recent}, "all")
        return [(r["adapter"], r["endpoint"]) for r in found]

    # -- sessions signed out ----------------------------------------------------------

    @writes
    def sign_out(self, nonce: str, expires: int) -> Script[None]:
        """Remember that the session ``nonce`` ended (until ``expires``, Unix seconds, when
        its cookie would have expired anyway); forget the ones past their expiry."""
        now = int(self.clock().timestamp())
        yield Query("console_signout", {"nonce": nonce, "expires": expires, "now": now})

    @reads
    def signed_out(self, nonce: str) -> Script[bool]:
        """Whether the session ``nonce`` was signed out (on any replica, before a restart)."""
        return (yield Query("console_signed_out", {"nonce": nonce}, "one")) is not None


def _summary(row: Any) -> DocumentSummary:
    return DocumentSummary(
        id=row["id"],
        state=row["state"],
        filename=row["filename"],
        content_type=row["content_type"],
        created_at=rows.to_time(row["created_at"]),
        updated_at=rows.to_time(row["updated_at"]),
        profile=_opt(row["profile"]),
        receiver=_opt(row["receiver"]),
        number=_opt(row["number"]),
    )


def _opt(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)
