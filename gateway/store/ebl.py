"""The eBL registry: title, chain and transfers of every eBL this platform has known.

Tables (migration ``ebl_registry``): ``ebl_titles`` (one row per transport document checksum:
state, possessor, the verified chain, the title), ``ebl_accepted`` (envelopes accepted, by
their last entry's checksum: the ``DUPE`` answers), ``ebl_inbound`` (envelope transfers being
received, waiting for documents), ``ebl_outbound`` (envelope transfers being sent) and
``ebl_documents`` (additional documents by checksum); ``ebl_title_documents`` (migration
``ebl_title_documents``) links each eBL to the documents it carries here, received with it or
attached here (``origin``, migration ``ebl_document_origin``).

Title states::

    held ──begin_transfer──► sending ──RECE/DUPE──► transferred ──(comes back)──► held
      ▲                         │  │
      └────BENV/BSIG/DISE───────┘  └──(comes back along the chain sent, its answer lost:
                                       the transfer settled as accepted)──► held
                                           surrendered: final

A surrender request leaves the eBL ``held`` by the carrier's platform (the carrier answers
it); ``surrendered`` follows the carrier's ``SACC`` (title ``surrendered``), on the carrier's
platform once the notification is accepted and on the platform notified. A transaction
between parties of this platform (:meth:`EblRegistry.record_here`) moves ``held`` to ``held``
(or, the carrier's ``SACC`` to a requester of its own platform, to ``surrendered``).

Every change is one compare-and-set on ``(state, head)``: two transfers racing for the same
eBL (two workers, two replicas, two platforms sending it here) cannot both win, on SQLite
(one writer) as on PostgreSQL (the losing ``UPDATE`` or ``INSERT`` finds the row changed and
changes nothing). The checks of the envelope itself are done before, by
:mod:`gateway.pint.chain`; this module only decides against what the registry knows.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from gateway.store.base import HasConnector, reads, writes
from gateway.store.connector import Connector, Query, Row, Script
from gateway.store.ebl_idempotency import Remembered, remember
from gateway.store.ebl_legacy import LeftRow, left_rows
from gateway.store.ledger_export import chain_entries, count_and_judge, insert_hold
from gateway.store.ledger_records import TransferExport
from gateway.store.records import Clock, ConflictError, JobSpec, NotFoundError, new_id, utcnow
from gateway.store.scripts import fenced, insert_job

TRANSFER = "transfer"
"""The job kind that sends an outbound envelope transfer until it has a signed answer."""

ALREADY_ISSUED = "ebl.already-issued"
"""Rule of the conflict of issuing a transport document a second time (PINT's ``ISSU`` is
once per document)."""
NOT_HELD = "ebl.not-held"
"""Rule of the conflict of acting on an eBL this platform does not hold now (sent, being
sent, surrendered): it has no control of it to give."""
CHANGED_MEANWHILE = "ebl.changed-meanwhile"
"""Rule of the conflict of acting on an eBL another request changed since it was read."""


@dataclass(frozen=True, slots=True)
class TitleRecord:
    """One eBL as the registry knows it."""

    td_checksum: str
    reference: str
    state: str
    possessor: str
    head: str
    chain: list[str]
    title: dict[str, Any]
    transport_document: dict[str, Any]
    version: int
    updated_at: str


@dataclass(frozen=True, slots=True)
class NewTitle:
    """What an accepted envelope (or a local issue) makes the registry know."""

    td_checksum: str
    reference: str
    state: str
    possessor: str
    chain: Sequence[str]
    checksums: Sequence[str]
    title: dict[str, Any]
    transport_document: dict[str, Any]


@dataclass(frozen=True, slots=True)
class CarriedDocument:
    """An additional document an eBL carries on this platform: received with it (named as
    the envelope manifest named it) or attached here. An onward transfer announces it again."""

    checksum: str
    name: str
    media_type: str
    size: int | None = None
    """The size of the bytes held here; ``None`` when they are not held (read back only)."""
    received: bool = False
    """Received with the eBL from another platform (read back only; what :meth:`EblRegistry
    .accept` links); else attached here. An onward transfer forwards a received supporting
    document only when its sender asks."""


@dataclass(frozen=True, slots=True)
class Decision:
    """The registry's answer to an envelope: ``RECE``, ``DUPE`` or ``DISE``."""

    code: str
    reason: str = ""
    duplicate_of: str | None = None
    received: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Outbound:
    """An envelope transfer this platform sends."""

    id: str
    td_checksum: str
    platform: str
    base_head: str
    envelope: dict[str, Any]
    documents: list[str]
    title: dict[str, Any]
    state: str
    response_code: str | None
    response: str | None
    held: str | None = None
    """Why the export gate holds this transfer (when it does; see ``begin_transfer``)."""


@dataclass(frozen=True, slots=True)
class Inbound:
    """An envelope transfer being received (waiting for additional documents)."""

    reference: str
    td_checksum: str
    envelope: dict[str, Any]
    documents: dict[str, dict[str, Any]]


def _dump(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else str(value)


REFERENCE_LIVE = "ebl.reference-live"
"""Rule of the conflict of issuing a transport document under the reference of an eBL of
the same carrier that is still live."""


def _check_reference_free(new: NewTitle) -> Script[None]:
    """Refuse (:class:`ConflictError`) to issue ``new`` while an eBL its carrier issued under
    the same ``transportDocumentReference`` is live: held, being sent or transferred, i.e.
    not surrendered to the carrier (``SACC``). DCSA eBL 3.0.3 has the reference be "a
    unique number allocated by the shipping line to the transport document"; two live
    eBLs under one number are two originals of one bill of lading, each with its holder.
    Another transport document under that reference (an amendment) is issued once the
    first is surrendered; the same one is :data:`ALREADY_ISSUED`."""
    yield Query("ebl_lock_reference", {"reference": new.reference})
    rows = yield Query("ebl_titles_by_reference", {"reference": new.reference}, "all")
    carrier = new.title.get("carrier")
    for row in rows:
        known = _title(row)
        if known.td_checksum == new.td_checksum or known.state == "surrendered":
            continue
        if _same_party(known.title.get("carrier"), carrier):
            raise ConflictError(
                f"eBL {new.reference} ({known.td_checksum[:12]}…) issued by this carrier is "
                f"{known.state}, not surrendered: a transport document is issued under its "
                "reference once that one is surrendered (SACC)",
                field="transportDocument.transportDocumentReference",
                rule=REFERENCE_LIVE,
            )


def _same_party(one: Any, other: Any) -> bool:
    """Whether two PINT party objects name the same party: the same platform and an
    identifying code in common."""
    if not isinstance(one, Mapping) or not isinstance(other, Mapping):
        return False

    def codes(party: Mapping[str, Any]) -> set[tuple[Any, Any]]:
        found = party.get("identifyingCodes")
        return {
            (c.get("codeListProvider"), c.get("partyCode"))
            for c in (found if isinstance(found, list) else [])
            if isinstance(c, Mapping)
        }

    return one.get("eblPlatform") == other.get("eblPlatform") and bool(codes(one) & codes(other))


def _title(row: Row) -> TitleRecord:
    return TitleRecord(
        td_checksum=row["td_checksum"],
        reference=row["reference"],
        state=row["state"],
        possessor=row["possessor"],
        head=row["head"],
        chain=json.loads(row["chain"]),
        title=json.loads(row["title"]),
        transport_document=json.loads(row["transport_document"]),
        version=int(row["version"]),
        updated_at=row["updated_at"].isoformat()
        if isinstance(row["updated_at"], datetime)
        else _text(row["updated_at"]),
    )


def _outbound(row: Row) -> Outbound:
    return Outbound(
        id=row["id"],
        td_checksum=row["td_checksum"],
        platform=row["platform"],
        base_head=row["base_head"],
        envelope=json.loads(row["envelope"]),
        documents=json.loads(row["documents"]),
        title=json.loads(row["title"]),
        state=row["state"],
        response_code=row["response_code"],
        response=row["response"],
    )


def _title_params(new: NewTitle, now: datetime) -> dict[str, Any]:
    return {
        "td_checksum": new.td_checksum,
        "reference": new.reference,
        "state": new.state,
        "possessor": new.possessor,
        "head": new.checksums[-1],
        "chain": _dump(list(new.chain)),
        "title": _dump(new.title),
        "transport_document": _dump(new.transport_document),
        "now": now,
    }


class EblRegistry:
    """The eBL registry over the store's connector (SQLite or PostgreSQL)."""

    def __init__(self, connector: Connector, *, clock: Clock = utcnow) -> None:
        self.connector = connector
        self.clock = clock

    @classmethod
    def of(cls, store: HasConnector) -> EblRegistry:
        """The registry over the same database as ``store``."""
        return cls(store.connector, clock=store.clock)

    # -- reading ------------------------------------------------------------------------

    @reads
    def get(self, td_checksum: str) -> Script[TitleRecord | None]:
        """The eBL with this transport document checksum, or ``None``."""
        row = yield Query("ebl_get_title", {"td_checksum": td_checksum}, "one")
        return None if row is None else _title(row)

    @reads
    def find(self, key: str) -> Script[TitleRecord | None]:
        """The eBL by checksum or by ``transportDocumentReference`` (the newest one)."""
        row = yield Query("ebl_get_title", {"td_checksum": key}, "one")
        if row is None:
            found = yield Query("ebl_titles_by_reference", {"reference": key}, "all")
            row = found[-1] if found else None
        return None if row is None else _title(row)

    @reads
    def find_all(self, key: str) -> Script[list[TitleRecord]]:
        """Every eBL ``key`` names: the one with this checksum, else each with this
        ``transportDocumentReference``, oldest first (:meth:`find` is the last)."""
        row = yield Query("ebl_get_title", {"td_checksum": key}, "one")
        if row is not None:
            return [_title(row)]
        found = yield Query("ebl_titles_by_reference", {"reference": key}, "all")
        return [_title(r) for r in found]

    @reads
    def titles(
        self,
        *,
        state: str | None = None,
        before: datetime | None = None,
        before_checksum: str | None = None,
        limit: int = 50,
    ) -> Script[list[TitleRecord]]:
        """Up to ``limit`` eBLs, most recently changed first (by time, then checksum, both
        descending); ``state`` filters, ``before`` pages (changed before that time, or at
        it with a checksum below ``before_checksum``: the rows after the last one seen,
        none skipped when several share its time)."""
        params = {
            "state": state,
            "before": before,
            "before_checksum": before_checksum,
            "limit": limit,
        }
        found = yield Query("ebl_list_titles", params, "all")
        return [_title(r) for r in found]

    @reads
    def outbound(self, transfer_id: str) -> Script[Outbound | None]:
        """An outbound transfer, or ``None``."""
        row = yield Query("ebl_get_outbound", {"id": transfer_id}, "one")
        return None if row is None else _outbound(row)

    @reads
    def outbound_of(self, td_checksum: str) -> Script[list[Outbound]]:
        """Every outbound transfer of an eBL, oldest first; one the export gate holds
        carries the reason (:attr:`Outbound.held`)."""
        found = yield Query("ebl_outbound_of_title", {"td_checksum": td_checksum}, "all")
        transfers = [_outbound(r) for r in found]
        for index, transfer in enumerate(transfers):
            if transfer.state == "sending":
                hold = yield Query("hold_get", {"submission_id": transfer.id}, "one")
                if hold is not None and hold["state"] == "held":
                    transfers[index] = replace(transfer, held=hold["reason"])
        return transfers

    @reads
    def refused_issues(self, key: str) -> Script[list[Outbound]]:
        """The issues straight to another platform, by checksum or
        ``transportDocumentReference``, that the receiving platform refused, oldest first:
        the eBL was not issued (no title is kept), the transfer keeps the signed refusal.
        None once the transport document is issued after all."""
        found = yield Query("ebl_refused_issues", {"key": key}, "all")
        return [_outbound(r) for r in found]

    @reads
    def present_documents(self, checksums: Sequence[str]) -> Script[set[str]]:
        """Which of ``checksums`` the registry holds a document for."""
        present: set[str] = set()
        for checksum in checksums:
            if (yield Query("ebl_document_present", {"checksum": checksum}, "one")) is not None:
                present.add(checksum)
        return present

    @reads
    def documents_of(self, td_checksum: str) -> Script[list[CarriedDocument]]:
        """The documents the eBL carries here, oldest first."""
        found = yield Query("ebl_documents_of_title", {"td_checksum": td_checksum}, "all")
        return [
            CarriedDocument(
                r["checksum"],
                r["name"],
                r["media_type"],
                None if r["size"] is None else int(r["size"]),
                r["origin"] == "received",
            )
            for r in found
        ]

    @reads
    def document(self, checksum: str) -> Script[tuple[str, bytes] | None]:
        """``(media type, bytes)`` of a document, or ``None``."""
        row = yield Query("ebl_get_document", {"checksum": checksum}, "one")
        return None if row is None else (row["media_type"], bytes(row["data"]))

    @reads
    def inbound(self, reference: str) -> Script[Inbound | None]:
        """An envelope transfer being received, or ``None``."""
        row = yield Query("ebl_get_inbound", {"reference": reference}, "one")
        if row is None:
            return None
        return Inbound(
            row["reference"],
            row["td_checksum"],
            json.loads(row["envelope"]),
            json.loads(row["documents"]),
        )

    @reads
    def left_by_migrations(self) -> Script[list[LeftRow]]:
        """Rows a migration could not map without guessing, left as they were and unchanged
        since (see :mod:`gateway.store.ebl_legacy`)."""
        return (yield from left_rows())

    @reads
    def continues(self, known: TitleRecord, chain: Sequence[str]) -> Script[bool]:
        """Whether an envelope with ``chain`` continues what the registry knows of the eBL
        ``known`` (:meth:`accept` takes it) rather than contradicting it (``DISE``)."""
        passed_on = yield from _passed_on(known)
        return passed_on is not None and _extends(passed_on.chain, chain)

    @reads
    def accepted(self, last_checksum: str) -> Script[Decision | None]:
        """The ``DUPE`` answer for an envelope accepted before, or ``None``."""
        return (yield from self._duplicate(last_checksum))

    # -- receiving -----------------------------------------------------------------------

    @writes
    def put_document(self, checksum: str, media_type: str, data: bytes) -> Script[None]:
        """Keep an additional document (content-addressed: a second copy changes nothing)."""
        params = {"checksum": checksum, "media_type": media_type, "data": data, "now": self.clock()}
        yield Query("ebl_put_document", params)

    @writes
    def open_inbound(
        self, reference: str, td_checksum: str, envelope: dict[str, Any], documents: dict[str, Any]
    ) -> Script[Decision | None]:
        """Remember an envelope transfer waiting for documents. A transfer started again
        (the same last chain entry: a retry, or a corrected manifest after ``INCD``) replaces
        the envelope and documents kept before; one accepted meanwhile is not opened again:
        its ``DUPE`` answer is returned instead (``None``: opened)."""
        params = {
            "reference": reference,
            "td_checksum": td_checksum,
            "envelope": _dump(envelope),
            "documents": _dump(documents),
            "now": self.clock(),
        }
        if not (yield Query("ebl_put_inbound", params, "rowcount")):
            return (yield from self._duplicate(reference))
        return None

    @writes
    def close_inbound(self, reference: str) -> Script[None]:
        """End an envelope transfer being received without taking it (a signed ``BSIG`` or
        ``BENV`` at its finish): PINT ends the active transfer with a rejection, so its
        documents can no longer be sent to it; the sender starts a new one to try again."""
        yield from _end_inbound(reference)

    @writes
    def accept(
        self,
        new: NewTitle,
        *,
        sender: str,
        received: Sequence[str],
        inbound: str | None = None,
        documents: Sequence[CarriedDocument] = (),
    ) -> Script[Decision]:
        """Decide a verified envelope against the registry and, if it is new and extends
        what the registry knows, take the eBL (one transaction, compare-and-set) with the
        ``documents`` its manifest announced (kept with the eBL for onward transfers).

        * an envelope accepted before (same last entry) → ``DUPE`` with that entry;
        * an eBL never seen → ``RECE``, the title inserted;
        * an eBL this platform passed on whose chain the envelope extends → ``RECE``;
        * an eBL whose transfer from here is still ``sending`` (its answer lost) and whose
          chain being sent the envelope extends → ``RECE``, that transfer settled as
          accepted (the envelope shows its receiver took it);
        * anything else (the platform holds it, or knows entries the envelope lacks) →
          ``DISE``, nothing changed but the ``inbound`` transfer ended (a rejection ends
          the active transfer). A compare-and-set lost to another transaction is decided
          once more against what it committed (:data:`DECISIONS`)."""
        now = self.clock()
        last = new.checksums[-1]
        duplicate = yield from self._duplicate(last)
        if duplicate is not None:
            return duplicate
        for _ in range(DECISIONS):
            decided = yield from _take(new, now)
            if isinstance(decided, Decision):  # the envelope contradicts the registry
                duplicate = yield from self._duplicate(last)  # accepted since the first look
                if duplicate is not None:
                    return duplicate
                yield from _end_inbound(inbound)
                return decided
            if decided.changed:
                break
            duplicate = yield from self._duplicate(last)
            if duplicate is not None:
                return duplicate
        else:
            yield from _end_inbound(inbound)
            return Decision("DISE", "another transfer of this eBL won the race")
        settles = decided.settles
        yield Query(
            "ebl_insert_accepted",
            {
                "last_checksum": last,
                "td_checksum": new.td_checksum,
                "last_entry": new.chain[-1],
                "received": _dump(list(received)),
                "sender": sender,
                "now": now,
            },
        )
        if settles is not None:  # its receiver took it: the envelope continues its chain
            close = {"id": settles, "state": "accepted", "response_code": None,
                     "response": None, "now": now}  # fmt: skip
            yield Query("ebl_close_outbound", close)
        yield from _end_inbound(inbound)
        yield from _link(new.td_checksum, documents, now, received=True)
        return Decision("RECE", received=tuple(received))

    def _duplicate(self, last_checksum: str) -> Script[Decision | None]:
        row = yield Query("ebl_get_accepted", {"last_checksum": last_checksum}, "one")
        if row is None:
            return None
        return Decision(
            "DUPE",
            "this envelope was accepted before",
            duplicate_of=row["last_entry"],
            received=tuple(json.loads(row["received"])),
        )

    # -- sending ---------------------------------------------------------------------------

    @writes
    def issue(
        self,
        new: NewTitle,
        documents: Sequence[CarriedDocument] = (),
        *,
        remembered: Remembered | None = None,
    ) -> Script[TitleRecord]:
        """Record an eBL issued on this platform and held here, carrying ``documents``
        (``ISSUE`` once: a second issue of the same transport document is a
        :class:`ConflictError`); with ``remembered``, its answer in the same transaction."""
        now = self.clock()
        yield from _check_reference_free(new)
        changed = yield Query("ebl_insert_title", _title_params(new, now), "rowcount")
        if not changed:
            raise ConflictError(
                f"transport document {new.reference} ({new.td_checksum[:12]}…) was issued before",
                field="transportDocument",
                rule=ALREADY_ISSUED,
            )
        yield from _link(new.td_checksum, documents, now)
        issued = _title((yield Query("ebl_get_title", {"td_checksum": new.td_checksum}, "one")))
        yield from remember(remembered, issued, now)
        return issued

    @writes
    def record_here(
        self,
        td_checksum: str,
        *,
        base_head: str,
        chain: Sequence[str],
        state: str,
        possessor: str,
        title: dict[str, Any],
        attached: Sequence[CarriedDocument] = (),
        remembered: Remembered | None = None,
    ) -> Script[TitleRecord]:
        """Record a transaction between parties of this platform: the held eBL (unchanged
        since ``base_head`` was read) takes ``chain``, which ends with the transaction's
        signed entry, and stays ``held`` (or becomes ``surrendered`` after the carrier's
        ``SACC``) in one compare-and-set; no envelope leaves. A :class:`ConflictError` when
        the eBL is no longer held here as it was read. With ``remembered``, the answer is
        written in the same transaction."""
        now = self.clock()
        params = {
            "td_checksum": td_checksum,
            "state": state,
            "possessor": possessor,
            "head": hashlib.sha256(chain[-1].encode("ascii")).hexdigest(),
            "chain": _dump(list(chain)),
            "title": _dump(title),
            "from_state": "held",
            "from_head": base_head,
            "now": now,
        }
        if not (yield Query("ebl_move_title", params, "rowcount")):
            row = yield Query("ebl_get_title", {"td_checksum": td_checksum}, "one")
            if row is None:
                raise NotFoundError(f"no eBL {td_checksum}", field="reference")
            raise ConflictError(
                f"eBL {row['reference']} is {row['state']} here and changed meanwhile",
                field="reference",
                rule=CHANGED_MEANWHILE,
            )
        yield from _link(td_checksum, attached, now)
        recorded = _title((yield Query("ebl_get_title", {"td_checksum": td_checksum}, "one")))
        yield from remember(remembered, recorded, now)
        return recorded

    @writes
    def begin_transfer(
        self,
        td_checksum: str,
        *,
        base_head: str | None,
        platform: str,
        envelope: dict[str, Any],
        documents: Sequence[str],
        title: dict[str, Any],
        adapter: str,
        issue: NewTitle | None = None,
        export: TransferExport | None = None,
        attached: Sequence[CarriedDocument] = (),
        remembered: Remembered | None = None,
    ) -> Script[Outbound]:
        """Lock a held eBL for a transfer to ``platform`` and queue the ``transfer`` job,
        in one transaction. ``issue`` records a new eBL issued straight to another platform
        (``base_head`` ``None``). A :class:`ConflictError` when the eBL is not held here (or
        changed since ``base_head`` was read): the platform has no control to give.
        ``attached``: documents attached here to this transfer, which the eBL carries from now.

        With ``export`` (the export gate's record and judge) the eBL leaving is counted and
        written in the export ledger in the same transaction, one entry for the transport
        document and one for each document leaving with it (``export.enclosures``); when the
        gate holds it (any of them held holds the transfer), the
        eBL stays locked, no job is queued, and the result carries ``held`` (the reason)
        until a compliance officer releases the transfer (its ``transfer`` job is queued
        then) or refuses it (the eBL is ``held`` here again).
        With ``remembered``, the answer is written in the same transaction."""
        now = self.clock()
        if issue is not None:
            yield from _check_reference_free(issue)
            params = _title_params(issue, now) | {"state": "sending"}
            if not (yield Query("ebl_insert_title", params, "rowcount")):
                raise ConflictError(
                    f"transport document {issue.reference} was issued before",
                    field="transportDocument",
                    rule=ALREADY_ISSUED,
                )
            base = ""  # an issue: no head before it
        else:
            row = yield Query("ebl_get_title", {"td_checksum": td_checksum}, "one")
            if row is None:
                raise NotFoundError(f"no eBL {td_checksum}", field="reference")
            known = _title(row)
            if known.state != "held" or (base_head is not None and known.head != base_head):
                raise ConflictError(
                    f"eBL {known.reference} is {known.state} here: this platform has no control "
                    "of it to transfer",
                    field="reference",
                    rule=NOT_HELD,
                )
            base = known.head
            params = {
                "td_checksum": td_checksum,
                "state": "sending",
                "possessor": known.possessor,
                "head": known.head,
                "chain": _dump(known.chain),
                "title": _dump(known.title),
                "from_state": "held",
                "from_head": known.head,
                "now": now,
            }
            if not (yield Query("ebl_move_title", params, "rowcount")):
                raise ConflictError(
                    f"eBL {known.reference} changed meanwhile",
                    field="reference",
                    rule=CHANGED_MEANWHILE,
                )
        yield from _link(td_checksum, attached, now)
        transfer_id = new_id()
        yield Query(
            "ebl_insert_outbound",
            {
                "id": transfer_id,
                "td_checksum": td_checksum,
                "platform": platform,
                "base_head": base,
                "envelope": _dump(envelope),
                "documents": _dump(list(documents)),
                "title": _dump(title),
                "now": now,
            },
        )
        spec = JobSpec(TRANSFER, adapter, platform, message_id=f"{transfer_id}@pint")
        if export is not None:
            tenant_id = export.tenant_id
            verdict, _, _ = yield from count_and_judge(tenant_id, export.record, export.judge, now)
            enclosed = [e.record for e in export.enclosures]
            if not verdict.allowed:
                yield from insert_hold(
                    transfer_id, tenant_id, export.record, verdict, spec, now,
                    enclosures=enclosed,
                )  # fmt: skip
                row = yield Query("ebl_get_outbound", {"id": transfer_id}, "one")
                held = replace(_outbound(row), held=verdict.reason)
                yield from remember(remembered, held, now)
                return held
            yield from insert_job(transfer_id, spec, now, self.connector.queue_time(self.clock))
            row = yield Query("ebl_get_outbound", {"id": transfer_id}, "one")
            yield from remember(remembered, _outbound(row), now)  # before the ledger's last
            leaving = [
                (export.record, verdict),
                *((e.record, e.verdict) for e in export.enclosures),
            ]
            yield from chain_entries(tenant_id, transfer_id, leaving, now)  # the last requests
            return _outbound(row)
        yield from insert_job(transfer_id, spec, now, self.connector.queue_time(self.clock))
        begun = _outbound((yield Query("ebl_get_outbound", {"id": transfer_id}, "one")))
        yield from remember(remembered, begun, now)
        return begun

    @writes
    def finish_transfer(
        self,
        transfer_id: str,
        *,
        accepted: bool,
        response_code: str,
        response: str,
        job_id: str | None = None,
        worker_id: str | None = None,
    ) -> Script[Outbound]:
        """Record the signed answer to an outbound transfer (and complete its job, fenced by
        the lease, in the same transaction): accepted → the eBL is ``transferred`` with the
        chain sent (or still ``held``, with that chain, when the transfer only notified the
        other platform, e.g. an ``ENDORSE`` that moves no possession, or ``surrendered``
        when it notified the carrier's ``SACC``); rejected → ``held``
        again as before, or, for an eBL issued straight to another platform, not issued at all
        (the carrier may issue it again)."""
        now = self.clock()
        if job_id is not None:
            yield from fenced("complete_job", {"id": job_id, "worker_id": worker_id, "now": now})
        return (yield from close_transfer(transfer_id, accepted, response_code, response, now))

    @writes
    def acknowledge(
        self,
        transfer_id: str,
        *,
        response_code: str,
        response: str,
        job_id: str | None = None,
        worker_id: str | None = None,
    ) -> Script[Outbound]:
        """Keep the receiver's signed answer (``RECE`` / ``DUPE``) to a transfer that was
        settled as accepted before the answer came (:meth:`accept` took an envelope that
        continues its chain), and complete its job, fenced by the lease."""
        now = self.clock()
        if job_id is not None:
            yield from fenced("complete_job", {"id": job_id, "worker_id": worker_id, "now": now})
        yield from _acknowledge(transfer_id, response_code, response, now)
        row = yield Query("ebl_get_outbound", {"id": transfer_id}, "one")
        if row is None:
            raise NotFoundError(f"no outbound transfer {transfer_id}", field="transfer")
        return _outbound(row)


def close_transfer(
    transfer_id: str, accepted: bool, response_code: str, response: str, now: datetime
) -> Script[Outbound]:
    """The end of an outbound transfer (see :meth:`EblRegistry.finish_transfer`); also how
    a transfer the export gate held and a compliance officer refused gives the eBL back.
    A transfer that did not happen (rejected, refused) leaves the eBL without the documents
    it attached: they did not leave, and the next transfer does not announce them. A transfer
    already settled as accepted (the eBL came back along its chain) changes nothing but keeps
    an accepting answer as its acknowledgement."""
    row = yield Query("ebl_get_outbound", {"id": transfer_id}, "one")
    if row is None:
        raise NotFoundError(f"no outbound transfer {transfer_id}", field="transfer")
    transfer = _outbound(row)
    if transfer.state != "sending":
        if accepted and transfer.state == "accepted" and transfer.response is None:
            yield from _acknowledge(transfer_id, response_code, response, now)
            return _outbound((yield Query("ebl_get_outbound", {"id": transfer_id}, "one")))
        return transfer
    title_row = yield Query("ebl_get_title", {"td_checksum": transfer.td_checksum}, "one")
    known = _title(title_row)
    chain = transfer.envelope["envelopeTransferChain"] if accepted else known.chain
    passed_on = (
        accepted and (transfer.title.get("possessor") or {}).get("eblPlatform") == transfer.platform
    )
    surrendered = accepted and bool(transfer.title.get("surrendered"))
    params = {
        "td_checksum": transfer.td_checksum,
        "state": "surrendered" if surrendered else "transferred" if passed_on else "held",
        "possessor": _possessor_label(transfer.title) if accepted else known.possessor,
        "head": hashlib.sha256(chain[-1].encode("ascii")).hexdigest(),
        "chain": _dump(chain),
        "title": _dump(transfer.title if accepted else known.title),
        "from_state": "sending",
        "from_head": known.head,
        "now": now,
    }
    if not accepted and not transfer.base_head:
        yield Query(
            "ebl_delete_title", {"td_checksum": transfer.td_checksum, "from_state": "sending"}
        )
        yield Query("ebl_unlink_documents", {"td_checksum": transfer.td_checksum})
    else:
        yield Query("ebl_move_title", params, "rowcount")
        if not accepted:  # what this transfer attached does not stay with the eBL
            since = {"td_checksum": transfer.td_checksum, "since": row["created_at"]}
            yield Query("ebl_unlink_attached_since", since)
    state = "accepted" if accepted else "rejected"
    close = {"id": transfer_id, "state": state, "response_code": response_code,
             "response": response, "now": now}  # fmt: skip
    yield Query("ebl_close_outbound", close)
    return _outbound((yield Query("ebl_get_outbound", {"id": transfer_id}, "one")))


def _acknowledge(
    transfer_id: str, response_code: str, response: str, now: datetime
) -> Script[None]:
    """Keep the signed answer to a transfer settled before it came (once: the first kept)."""
    params = {"id": transfer_id, "response_code": response_code, "response": response,
              "now": now}  # fmt: skip
    yield Query("ebl_acknowledge_outbound", params)


DECISIONS = 2
"""How often :meth:`EblRegistry.accept` decides an envelope against the registry: once more
after losing a compare-and-set, against what the winner committed (on PostgreSQL, where
another replica may commit between the read and the write: the sender's own worker
recording the answer to the transfer the envelope continues loses nothing by coming first)."""


@dataclass(frozen=True, slots=True)
class _Taken:
    """The registry's write for an envelope that continues what it knows."""

    changed: bool
    """Whether the compare-and-set took (else another transaction changed the row first)."""
    settles: str | None = None
    """The outbound transfer still ``sending`` that the envelope shows was received."""


def _take(new: NewTitle, now: datetime) -> Script[_Taken | Decision]:
    """Insert an eBL never seen, or move one the envelope continues (compare-and-set on
    the state and head read here); a ``DISE`` :class:`Decision` when the envelope does not
    continue what the registry knows."""
    row = yield Query("ebl_get_title", {"td_checksum": new.td_checksum}, "one")
    params = _title_params(new, now)
    if row is None:
        return _Taken(bool((yield Query("ebl_insert_title", params, "rowcount"))))
    known = _title(row)
    passed_on = yield from _passed_on(known)
    if passed_on is None and known.state == "sending":
        return _Taken(False)  # its transfer was answered since the row was read
    if passed_on is None or not _extends(passed_on.chain, new.chain):
        return Decision(
            "DISE",
            f"the registry has the eBL {known.state} with {len(known.chain)} chain "
            "entries this envelope does not continue",
        )
    params |= {"from_state": known.state, "from_head": known.head}
    changed = yield Query("ebl_move_title", params, "rowcount")
    return _Taken(bool(changed), passed_on.sending)


def _end_inbound(reference: str | None) -> Script[None]:
    """Forget the envelope transfer ``reference`` being received, if there is one."""
    if reference is not None:
        yield Query("ebl_delete_inbound", {"reference": reference})


def _link(
    td_checksum: str,
    documents: Sequence[CarriedDocument],
    now: datetime,
    *,
    received: bool = False,
) -> Script[None]:
    """Record that the eBL carries ``documents``, ``received`` with it from another platform
    or attached here (a document it carries already keeps its first name and origin)."""
    for document in documents:
        params = {
            "td_checksum": td_checksum,
            "checksum": document.checksum,
            "name": document.name,
            "media_type": document.media_type,
            "now": now,
            "origin": "received" if received else "attached",
        }
        yield Query("ebl_link_document", params)


@dataclass(frozen=True, slots=True)
class _PassedOn:
    """The chain with which this platform gave up control of an eBL, and the outbound
    transfer still ``sending`` it (``None``: the transfer was answered)."""

    chain: list[str]
    sending: str | None = None


def _passed_on(known: TitleRecord) -> Script[_PassedOn | None]:
    """The chain an envelope must continue for this platform to take the eBL ``known``
    again; ``None`` while the platform holds it (or it is surrendered).

    An eBL ``transferred`` left with its chain. One still ``sending`` left with the chain of
    the envelope being sent when its answer was lost (a crash, a timeout): an envelope that
    continues that chain shows its receiver took it (the next entry is signed by the party
    it made possessor, on its platform, as the title rules checked), so the transfer is
    settled as accepted instead of the eBL's return being disputed (``DISE``) until the
    sender's retry hears ``DUPE``. An envelope that never left (held by the export gate) has
    no continuation."""
    if known.state == "transferred":
        return _PassedOn(known.chain)
    if known.state != "sending":
        return None
    found = yield Query("ebl_outbound_of_title", {"td_checksum": known.td_checksum}, "all")
    for row in reversed(found):
        if row["state"] == "sending":
            transfer = _outbound(row)
            return _PassedOn(list(transfer.envelope["envelopeTransferChain"]), transfer.id)
    return None


def _extends(known: Sequence[str], incoming: Sequence[str]) -> bool:
    return len(incoming) > len(known) and list(incoming[: len(known)]) == list(known)


def _possessor_label(title: dict[str, Any]) -> str:
    possessor = title.get("possessor") or {}
    codes = possessor.get("identifyingCodes") or [{}]
    first = min((c.get("codeListProvider", ""), c.get("partyCode", "")) for c in codes)
    return f"{possessor.get('eblPlatform', '')}:{first[0]}/{first[1]}"
