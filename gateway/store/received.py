"""What a tenant reads of the documents it received: the inbound messages stored by the
receiving adapters (AS4, the https inbox), each with the state of its ``receive`` job and
the verdict that job recorded (flow ``document-in``: accepted, rejected, an MLS).

Every read is scoped to one tenant: a received document belongs to the tenant of its
receiver (``[peppol] local_participants``) or of the inbox it came in by (the https
adapter's ``inbound_tenant``); a Message Level Status, addressed to the access point itself,
to the tenant whose sent document it answers, once correlated. One no tenant claims (a gateway without local participants,
an inbox without a tenant) is kept all the same, read as tenant ``None``: the operator's
view (``lingang received --unclaimed``), never a tenant's. The list reads no document
bytes, only their size.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from gateway.store import rows
from gateway.store.base import reads
from gateway.store.connector import Connector, Query, Script
from gateway.store.records import Clock, InboundMessage, utcnow

PROCESSING = "processing"
"""The ``receive`` job has not ended yet (waiting, running, or retrying a hand-over)."""
FAILED = "failed"
"""The ``receive`` job is dead-lettered (the hand-over to the local system, or the gateway
itself, failed for good) and its sender was not told (no Message Level Status: not Peppol
traffic)."""
REJECTED = "rejected"
"""The inbound flow rejected the document (a fatal finding, an unreadable document), or its
``receive`` job gave up before the local system took it (the hand-over failed, or an error of
the gateway's own) and its sender was answered with an MLS ``RE`` (``FD``)."""
STATUSES = (PROCESSING, "accepted", REJECTED, FAILED, "mls", "mls-ignored")
"""Every status a received document can have (the list filters by them)."""


@dataclass(frozen=True, slots=True)
class ReceivedSummary:
    """One received document without its bytes: where it came from and what became of it."""

    id: str
    channel: str
    message_id: str
    sender: str | None
    receiver: str | None
    media_type: str
    size: int
    received_at: datetime
    status: str
    """``processing``, ``failed`` or the verdict of the inbound flow (``accepted``,
    ``rejected``, ``mls``, ``mls-ignored``)."""
    attempts: int
    last_error: str | None
    retryable: bool | None
    facts: dict[str, Any]
    """What the inbound flow read: ``profile``, ``document_kind``, ``document_number``,
    ``seller``, ``buyer``, ``currency``, ``payable`` (those it found)."""
    mls: str | None = None
    """The code of the Message Level Status its sender was answered with (``AP``, ``AB``,
    ``RE``; ``None``: not Peppol traffic, or not answered yet)."""


class ReceivedStore:
    """A tenant's received documents over the gateway's store connector."""

    def __init__(self, connector: Connector, *, clock: Clock = utcnow) -> None:
        self.connector = connector
        self.clock = clock

    @reads
    def list(
        self,
        tenant_id: str | None,
        *,
        limit: int = 50,
        before: datetime | None = None,
        before_id: str | None = None,
        status: str | None = None,
    ) -> Script[list[ReceivedSummary]]:
        """The tenant's received documents (``None``: those no tenant claims), newest first;
        with ``status``, only those in it (one of :data:`STATUSES`). ``before`` pages by the
        time of arrival; with ``before_id`` (the last row seen), by ``(time, id)``, so
        documents that arrived at the same instant are not skipped at a page's end."""
        params = {
            "tenant_id": tenant_id,
            "limit": limit,
            "before": before,
            "before_id": before_id if before is not None else None,
            "status": status,
        }
        return [_summary(r) for r in (yield Query("received_list", params, "all"))]

    @reads
    def summary(self, tenant_id: str | None, inbound_id: str) -> Script[ReceivedSummary | None]:
        """One of the tenant's received documents (``None``: none, or another tenant's)."""
        params = {"tenant_id": tenant_id, "id": inbound_id}
        row = yield Query("received_one", params, "one")
        return None if row is None else _summary(row)

    @reads
    def message(self, tenant_id: str | None, inbound_id: str) -> Script[InboundMessage | None]:
        """The tenant's received message with its bytes and the answer its sender got."""
        params = {"tenant_id": tenant_id, "id": inbound_id}
        row = yield Query("received_message", params, "one")
        if row is None:
            return None
        answer = row["answer"]
        return replace(rows.inbound(row), answer=None if answer is None else rows.to_bytes(answer))


def _summary(row: Any) -> ReceivedSummary:
    detail = rows.to_json(row["verdict"]) if row["verdict"] is not None else {}
    job_state = row["job_state"]
    if job_state == "dead":
        status = REJECTED if detail.get("verdict") == REJECTED else FAILED
    elif job_state == "done" and detail.get("verdict"):
        status = str(detail["verdict"])
    else:
        status = PROCESSING
    retryable = row["retryable"]
    facts = {k: v for k, v in detail.items() if k not in ("verdict", "mls") and v is not None}
    return ReceivedSummary(
        id=row["id"],
        channel=row["channel"],
        message_id=row["message_id"],
        sender=row["sender"],
        receiver=row["receiver"],
        media_type=row["media_type"],
        size=int(row["size"]),
        received_at=rows.to_time(row["received_at"]),
        status=status,
        attempts=int(row["attempts"] or 0),
        last_error=row["last_error"],
        retryable=None if retryable is None else bool(retryable),
        facts=facts,
        mls=str(detail["mls"]) if detail.get("mls") else None,
    )
