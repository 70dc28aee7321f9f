"""The export ledger's records: the decision as stored, what a document's export records,
how an export ended, and a hold."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from gateway.store.records import Job, JobSpec


@dataclass(frozen=True, slots=True)
class Verdict:
    """The final decision, as the store records it."""

    allowed: bool
    basis: str = ""
    article: str = ""
    reason: str = ""
    policy_version: str = ""
    decided_by: str = ""
    """``policy <version>``, or the officer who released the document, by the name they
    gave."""
    principal: str = ""
    """Who released the document as authenticated (``api-key:<id>``, ``cli:<user>``);
    ``""`` for the policy's own decisions."""
    counted: bool = False
    """Add the document's individuals to the yearly counts."""
    detail: Mapping[str, Any] = field(default_factory=dict)


Judge = Callable[[int, int], Verdict]
"""Given the exporting tenant's individuals of the exporter this year (all, with sensitive
information) with this document's new ones added, the final :class:`Verdict`. Where a judge is asked for, a
:class:`Verdict` may be given instead: a decision the counts cannot change, which needs no
lock on them (see :func:`gateway.store.ledger_export.count_and_judge`)."""


@dataclass(frozen=True, slots=True)
class ExportRecord:
    """What the ledger records about a document leaving, before the decision."""

    exporter: str
    destination: str
    recipient: str
    document_id: str
    digest: str
    categories: tuple[str, ...]
    subjects: tuple[tuple[str, bool], ...] = ()
    """Keyed hashes of the individuals, with whether sensitive information of them leaves."""
    subject_key_id: str = ""
    """The id of the subject key the hashes were made with (kept with each counted
    individual, so a count can be checked against the right key after a rotation)."""
    platform: str = ""
    """The target profile or channel (``pint-sg``, ``dcsa-pint`` …), as policy rules name
    it (kept by a hold for the re-check at release time; not a ledger field)."""
    kind: str = ""
    """``invoice``, ``credit-note`` or ``bill-of-lading`` (the same)."""

    def to_json(self) -> dict[str, Any]:
        return {
            "exporter": self.exporter,
            "destination": self.destination,
            "recipient": self.recipient,
            "document_id": self.document_id,
            "digest": self.digest,
            "categories": list(self.categories),
            "subjects": [[h, s] for h, s in self.subjects],
            "subject_key_id": self.subject_key_id,
            "platform": self.platform,
            "kind": self.kind,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ExportRecord:
        return cls(
            exporter=str(data["exporter"]),
            destination=str(data["destination"]),
            recipient=str(data["recipient"]),
            document_id=str(data["document_id"]),
            digest=str(data["digest"]),
            categories=tuple(data["categories"]),
            subjects=tuple((str(h), bool(s)) for h, s in data["subjects"]),
            subject_key_id=str(data.get("subject_key_id") or ""),
            platform=str(data.get("platform") or ""),
            kind=str(data.get("kind") or ""),
        )


@dataclass(frozen=True, slots=True)
class Enclosure:
    """A document that leaves with an eBL's envelope transfer besides the transport document:
    a supporting document or the carrier's visualisation, as the envelope manifest announces
    it (the receiving platform asks for the bytes it lacks)."""

    name: str
    checksum: str
    """SHA-256 of the bytes (DCSA's ``documentChecksum``)."""
    media_type: str
    size: int
    visualisation: bool = False
    """The carrier's visualisation of the eBL (``eBLVisualisationByCarrier``)."""

    @property
    def role(self) -> str:
        return "carrier's visualisation" if self.visualisation else "supporting document"


@dataclass(frozen=True, slots=True)
class EnclosureExport:
    """An enclosure as the ledger records it, and the gate's final decision on it (the
    yearly counts never change it: the gate finds no individual in what it cannot read)."""

    record: ExportRecord
    verdict: Verdict


@dataclass(frozen=True, slots=True)
class TransferExport:
    """What the export gate gives an eBL transfer to record with it (see
    :meth:`gateway.store.ebl.EblRegistry.begin_transfer`)."""

    record: ExportRecord
    judge: Judge | Verdict
    """The transfer's decision: the transport document's, held when any enclosure is."""
    tenant_id: str = ""
    """The tenant exporting: its counts the transfer adds to, and it may release or refuse
    the transfer if it is held."""
    enclosures: tuple[EnclosureExport, ...] = ()
    """What leaves with the transport document; each gets its own ledger entry."""


class TransferAssessor(Protocol):
    """The export gate as an eBL platform sees it (:class:`gateway.jobs.gate.TransferGate`):
    what a transfer of ``document`` and its ``enclosures`` to ``destination`` records, and
    how it is judged."""

    def assess(
        self,
        document: Mapping[str, Any],
        *,
        td_checksum: str,
        exporter: str,
        destination: str,
        recipient: str,
        tenant_id: str,
        enclosures: Sequence[Enclosure] = (),
    ) -> TransferExport: ...


@dataclass(frozen=True, slots=True)
class ExportResult:
    """How :meth:`LedgerStore.finish_export` ended."""

    verdict: Verdict
    seq: int | None = None
    """The (last) ledger entry written (``None``: held)."""
    job: Job | None = None
    personal: int = 0
    sensitive: int = 0
    entries: int = 1
    """Ledger entries written, ending at ``seq`` (an eBL transfer's: one per document)."""


@dataclass(frozen=True, slots=True)
class Hold:
    """A document the policy holds (or held), and what was decided about it."""

    submission_id: str
    tenant_id: str
    state: str
    """``held``, ``releasing`` (a release job is queued), ``released`` or ``refused``; in
    a listing (:meth:`LedgerStore.list_holds`) also ``release_failed``: releasing, but its
    release job was dead-lettered, so the document is back to held and waits for a new
    decision (release again or refuse)."""
    reason: str
    policy_version: str
    record: ExportRecord
    counted: bool
    job: JobSpec
    held_at: str
    decided_by: str | None = None
    """The officer who decided, by the name they gave."""
    basis: str | None = None
    decided_at: str | None = None
    principal: str | None = None
    """Who decided as authenticated (``api-key:<id>``, ``cli:<user>``); ``None`` before
    the gateway recorded it."""
    enclosures: tuple[ExportRecord, ...] = ()
    """What leaves with a held eBL transfer besides the transport document (each gets its
    ledger entry on release)."""
    article: str = ""
    """What held it: the decision's article (``negative``, ``art-8``, ``art-7`` …; ``""``
    for a hold recorded before the gateway kept it)."""
    data_export: Mapping[str, Any] | None = None
    """The exporter's thresholds and filings as the gate had them (``DataExport.to_json``),
    for the re-check at release time; ``None`` when not recorded."""
    rule: str | None = None
    """The policy rule that held it (a negative-list rule's id), if one did."""
    stopped: tuple[str, str, str] | None = None
    """The release the re-check at release time stopped (officer, basis, principal): the
    same decision sent again (a retry after a lost answer) gets the hold back as it is."""

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.submission_id,
            "state": self.state,
            "reason": self.reason,
            "policy_version": self.policy_version,
            "exporter": self.record.exporter,
            "destination": self.record.destination,
            "recipient": self.record.recipient,
            "document_id": self.record.document_id,
            "categories": list(self.record.categories),
            "subjects": len(self.record.subjects),
            "held_at": self.held_at,
            "decided_by": self.decided_by,
            "principal": self.principal,
            "basis": self.basis,
            "decided_at": self.decided_at,
            "enclosures": [
                {
                    "document_id": e.document_id,
                    "digest": e.digest,
                    "categories": list(e.categories),
                }
                for e in self.enclosures
            ],
        }


def hold_from_row(row: Mapping[str, Any]) -> Hold:
    export = json.loads(str(row["export"]))
    job = json.loads(str(row["job"]))
    return Hold(
        submission_id=str(row["submission_id"]),
        tenant_id=str(row["tenant_id"]),
        state=str(row.get("listed") or row["state"]),
        reason=str(row["reason"]),
        policy_version=str(row["policy_version"]),
        record=ExportRecord.from_json(export),
        counted=bool(export.get("counted")),
        job=JobSpec(
            kind=str(job["kind"]),
            adapter=str(job["adapter"]),
            endpoint=str(job["endpoint"]),
            payload_ref=job.get("payload_ref"),
            message_id=job.get("message_id"),
        ),
        held_at=str(row["held_at"]),
        decided_by=row.get("decided_by"),
        basis=row.get("basis"),
        decided_at=row.get("decided_at"),
        principal=row.get("principal"),
        enclosures=tuple(ExportRecord.from_json(e) for e in export.get("enclosures", ())),
        article=str(export.get("article") or ""),
        data_export=export.get("data_export"),
        rule=export.get("rule"),
        stopped=_stopped(export.get("stopped")),
    )


def _stopped(value: Any) -> tuple[str, str, str] | None:
    if not isinstance(value, list) or len(value) != 3:
        return None
    officer, basis, principal = value
    return str(officer), str(basis), str(principal)


def hold_export(
    record: ExportRecord,
    verdict: Verdict,
    enclosures: Sequence[ExportRecord] = (),
) -> dict[str, Any]:
    """What a hold keeps of its export (the ``export`` column): the record, whether its
    individuals count, what held it and the exporter's thresholds (for the re-check at
    release time), and the records of an eBL transfer's enclosures."""
    export: dict[str, Any] = {**record.to_json(), "counted": verdict.counted}
    export["article"] = verdict.article
    decision = verdict.detail.get("decision")
    if isinstance(decision, Mapping) and decision.get("rule"):
        export["rule"] = str(decision["rule"])
    if verdict.detail.get("data_export") is not None:
        export["data_export"] = verdict.detail["data_export"]
    if enclosures:
        export["enclosures"] = [e.to_json() for e in enclosures]
    return export
