"""Verify a received ``EblEnvelope``: schema, manifest, transfer chain, issuance, title.

Order of the checks (the first failure decides the signed answer)::

    shape and official schema                                      BENV
    manifest JWS (key by kid, x5c) ─ payload schema                BSIG / BENV
    transport document checksum = manifest's                       BSIG
    last chain entry checksum = manifest's                         BSIG
    each entry: JWS by its platform's key, payload schema,         BSIG / BENV
      same document checksum, previous-entry checksum, ISSUE
      entry carries the carrier-signed issuance manifest
    the manifest's eBLVisualisationByCarrier = the issuance        BSIG
      manifest's eBLVisualisationByCarrierChecksum (both or none)
    (the issuance manifest's issueToChecksum is not compared with   --
      anything: it is the checksum of the EBL_ISS ``issueTo``
      (an IssueToParty, with ``sendToPlatform``), which no envelope
      carries; DCSA's own conformance kit signs a random one)
    title replay (ISSUE once and first, possessor acts, ...)        BENV
    the last transaction is addressed to a party of the receiving  BENV
      platform

Signature failures are ``BSIG`` (the receiver asserts nothing about the content); content
that verified but breaks a rule is ``BENV``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from gateway.errors import FieldError, VerificationError
from gateway.pint.checksums import document_checksum, jws_checksum
from gateway.pint.codes import PintRejection, ResponseCode
from gateway.pint.schema import EnvelopeSchema
from gateway.pint.title import Party, Title, replay
from gateway.signing.jose import (
    MAX_PAYLOAD_DEPTH,
    KeySet,
    Verified,
    json_part,
    split_compact,
    verify_compact,
)

MAX_CHAIN = 1000
"""Longest transfer chain accepted."""


@dataclass(frozen=True, slots=True)
class VerifiedEnvelope:
    """An envelope whose signatures, checksums and title chain verified."""

    transport_document: dict[str, Any]
    transport_document_checksum: str
    manifest: dict[str, Any]
    chain: tuple[str, ...]
    """The signed entries, first (``ISSUE``) to last."""
    checksums: tuple[str, ...]
    """The checksum of each signed entry."""
    entries: tuple[dict[str, Any], ...]
    title: Title
    documents: dict[str, dict[str, Any]]
    """The additional documents the manifest announces, by checksum."""
    sender: str
    """The sending platform (the last entry's ``eblPlatform``)."""

    @property
    def last_checksum(self) -> str:
        """Checksum of the last signed entry (the envelope's identity for DUPE)."""
        return self.checksums[-1]

    @property
    def recipient(self) -> Party:
        """The party the envelope is for: the last transaction's recipient (see
        :attr:`~gateway.pint.title.Title.final_recipient`), a party of the receiving platform."""
        return self.title.final_recipient

    @property
    def reference(self) -> str:
        """The ``transportDocumentReference``."""
        return str(self.transport_document.get("transportDocumentReference", ""))


def _bsig(message: str, field: str) -> PintRejection:
    return PintRejection(message, response=ResponseCode.BSIG, field=field)


def _benv(message: str, field: str) -> PintRejection:
    return PintRejection(message, response=ResponseCode.BENV, field=field)


def _verify(token: Any, keys: KeySet, field: str, *, signed_at: datetime | None = None) -> Verified:
    if not isinstance(token, str):
        raise _benv(f"{field} is not a compact JWS string", field)
    try:
        return verify_compact(token, keys, signed_at=signed_at)
    except VerificationError as exc:
        raise _bsig(f"{field}: {exc.message}", field) from exc


def claimed_time(token: Any, now: datetime | None = None) -> datetime:
    """When a transfer chain entry says it was made: the latest ``actionDateTime`` of its
    transactions, read before its signature is checked (the signature covers it, so once
    it verifies this is the time its signer claimed). Never later than ``now``; now when
    the entry names no readable time (its schema check refuses it afterwards)."""
    current = now or datetime.now(UTC)
    try:
        _, payload, _, _ = split_compact(token)
        entry = json_part(payload, MAX_PAYLOAD_DEPTH, "the entry", "jws.payload")
        transactions = entry.get("transactions")
        times = [datetime.fromisoformat(t["actionDateTime"]) for t in transactions]
        latest = max(times)
    except (VerificationError, ValueError, TypeError, KeyError, AttributeError, RecursionError):
        return current
    if latest.tzinfo is None:
        return current
    return min(latest, current)


def _payload(verified: Verified, field: str) -> dict[str, Any]:
    try:
        payload = verified.json()
    except VerificationError as exc:
        raise _benv(f"{field}: {exc.message}", field) from exc
    if not isinstance(payload, dict):
        raise _benv(f"{field}: the signed payload is not an object", field)
    return payload


def _td_checksum(document: Any) -> str:
    try:
        return document_checksum(document)
    except FieldError as exc:
        raise _benv(f"transportDocument: {exc.message}", "transportDocument") from exc


def verify_envelope(
    envelope: Any,
    *,
    keys: KeySet,
    carriers: KeySet,
    platform: str,
    schema: EnvelopeSchema | None = None,
) -> VerifiedEnvelope:
    """Verify ``envelope`` (parsed JSON) for the receiving ``platform``; raise
    :class:`~gateway.pint.codes.PintRejection` naming the code, field and rule."""
    if not isinstance(envelope, dict):
        raise _benv("the envelope is not a JSON object", "$")
    if schema is not None:
        schema.check_envelope(envelope)
    document = envelope.get("transportDocument")
    chain = envelope.get("envelopeTransferChain")
    if not isinstance(document, dict):
        raise _benv("transportDocument is missing", "transportDocument")
    if not isinstance(chain, list) or not chain or len(chain) > MAX_CHAIN:
        raise _benv(
            f"envelopeTransferChain needs 1 to {MAX_CHAIN} entries", "envelopeTransferChain"
        )
    signed_manifest = _verify(
        envelope.get("envelopeManifestSignedContent"), keys, "envelopeManifestSignedContent"
    )
    manifest = _payload(signed_manifest, "envelopeManifestSignedContent")
    if schema is not None:
        schema.check_payload("EnvelopeManifest", manifest, where="envelopeManifestSignedContent")
    td_checksum = _td_checksum(document)
    if manifest.get("transportDocumentChecksum") != td_checksum:
        raise _bsig(
            "the transport document does not match the signed manifest's checksum",
            "envelopeManifestSignedContent.transportDocumentChecksum",
        )
    checksums = tuple(jws_checksum(t) if isinstance(t, str) else "" for t in chain)
    if manifest.get("lastEnvelopeTransferChainEntrySignedContentChecksum") != checksums[-1]:
        raise _bsig(
            "the last chain entry does not match the signed manifest's checksum",
            "envelopeManifestSignedContent.lastEnvelopeTransferChainEntrySignedContentChecksum",
        )
    entries = _verify_entries(chain, checksums, td_checksum, manifest, keys, carriers, schema)
    sender = str(entries[-1]["eblPlatform"])
    if signed_manifest.signer.owner != sender:
        raise _bsig(
            f"the manifest is signed by {signed_manifest.signer.owner}, not the sender {sender}",
            "envelopeManifestSignedContent",
        )
    title = replay(_transactions(entries), to_order=bool(document.get("isToOrder")))
    if title.final_recipient.platform != platform:
        raise _benv(
            f"the eBL ends with {title.final_recipient.label()}, not a party of platform "
            f"{platform}",
            "envelopeTransferChain",
        )
    return VerifiedEnvelope(
        transport_document=document,
        transport_document_checksum=td_checksum,
        manifest=manifest,
        chain=tuple(chain),
        checksums=checksums,
        entries=tuple(entries),
        title=title,
        documents=_announced_documents(manifest),
        sender=sender,
    )


def _verify_entries(
    chain: Sequence[Any],
    checksums: Sequence[str],
    td_checksum: str,
    manifest: Mapping[str, Any],
    keys: KeySet,
    carriers: KeySet,
    schema: EnvelopeSchema | None,
) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    for index, token in enumerate(chain):
        field = f"envelopeTransferChain[{index}]"
        signed_at = None if index == len(chain) - 1 else claimed_time(token)
        verified = _verify(token, keys, field, signed_at=signed_at)
        entry = _payload(verified, field)
        if schema is not None:
            schema.check_payload("EnvelopeTransferChainEntry", entry, where=field)
        if verified.signer.owner != entry.get("eblPlatform"):
            raise _bsig(
                f"{field} names platform {entry.get('eblPlatform')!r} but is signed by "
                f"{verified.signer.owner}",
                field,
            )
        if entry.get("transportDocumentChecksum") != td_checksum:
            raise _benv(
                f"{field} is for another transport document", f"{field}.transportDocumentChecksum"
            )
        previous = entry.get("previousEnvelopeTransferChainEntrySignedContentChecksum")
        expected = checksums[index - 1] if index else None
        if previous != expected:
            raise _benv(
                f"{field} does not follow the entry before it",
                f"{field}.previousEnvelopeTransferChainEntrySignedContentChecksum",
            )
        if index == 0:
            _check_issuance(entry, td_checksum, manifest, carriers, schema, field, signed_at)
        elif "issuanceManifestSignedContent" in entry or "controlTrackingRegistry" in entry:
            raise _benv(
                f"{field}: only the first entry carries the issuance manifest and registry", field
            )
        entries.append(entry)
    return entries


def _check_issuance(
    entry: Mapping[str, Any],
    td_checksum: str,
    manifest: Mapping[str, Any],
    carriers: KeySet,
    schema: EnvelopeSchema | None,
    field: str,
    signed_at: datetime | None,
) -> None:
    where = f"{field}.issuanceManifestSignedContent"
    if "issuanceManifestSignedContent" not in entry:
        raise _benv("the first entry must carry the carrier-signed issuance manifest", where)
    signed = _verify(entry["issuanceManifestSignedContent"], carriers, where, signed_at=signed_at)
    if signed.signer.owner != entry.get("eblPlatform"):
        raise _bsig(
            f"the issuance manifest is signed by a carrier of {signed.signer.owner}, "
            f"not of the issuing platform {entry.get('eblPlatform')!r}",
            where,
        )
    issuance = _payload(signed, where)
    if schema is not None:
        schema.check_payload("IssuanceManifest", issuance, where=where)
    if issuance.get("documentChecksum") != td_checksum:
        raise _bsig("the carrier signed another transport document", f"{where}.documentChecksum")
    _check_visualisation(manifest, issuance, where)


def _check_visualisation(
    manifest: Mapping[str, Any], issuance: Mapping[str, Any], where: str
) -> None:
    """The carrier's visualisation travels with the eBL unchanged: the envelope manifest's
    ``eBLVisualisationByCarrier.documentChecksum`` is the issuance manifest's
    ``eBLVisualisationByCarrierChecksum``, and neither comes without the other. A mismatch
    is ``BSIG``: the content does not match what the carrier signed."""
    signed = issuance.get("eBLVisualisationByCarrierChecksum")
    visual = manifest.get("eBLVisualisationByCarrier")
    announced = visual.get("documentChecksum") if isinstance(visual, Mapping) else None
    field = "envelopeManifestSignedContent.eBLVisualisationByCarrier"
    if signed is None and visual is not None:
        raise _bsig(
            "the manifest announces an eBL visualisation by the carrier, but the carrier's "
            f"issuance manifest has no eBLVisualisationByCarrierChecksum ({where})",
            field,
        )
    if signed is not None and announced != signed:
        found = "none" if visual is None else repr(str(announced)[:64])
        raise _bsig(
            "the manifest's eBLVisualisationByCarrier.documentChecksum must be the checksum the "
            f"carrier signed in the issuance manifest ({where}.eBLVisualisationByCarrierChecksum)"
            f", found {found}",
            f"{field}.documentChecksum",
        )


def _transactions(entries: Sequence[Mapping[str, Any]]) -> list[tuple[Mapping[str, Any], str]]:
    out: list[tuple[Mapping[str, Any], str]] = []
    for index, entry in enumerate(entries):
        transactions = entry.get("transactions")
        if not isinstance(transactions, list) or not transactions:
            raise _benv("a chain entry needs transactions", f"envelopeTransferChain[{index}]")
        for number, transaction in enumerate(transactions):
            where = f"envelopeTransferChain[{index}].transactions[{number}]"
            if not isinstance(transaction, Mapping):
                raise _benv(f"{where} is not an object", where)
            actor = transaction.get("actor")
            if isinstance(actor, Mapping) and actor.get("eblPlatform") != entry.get("eblPlatform"):
                raise _benv(
                    f"{where}: the actor is on {actor.get('eblPlatform')!r}, the entry was "
                    f"made by {entry.get('eblPlatform')!r}",
                    f"{where}.actor.eblPlatform",
                )
            out.append((transaction, where))
    return out


def _announced_documents(manifest: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    documents: dict[str, dict[str, Any]] = {}
    for index, meta in enumerate(manifest.get("supportingDocuments") or ()):
        if not isinstance(meta, dict) or not isinstance(meta.get("documentChecksum"), str):
            raise _benv("a supporting document has no checksum", f"supportingDocuments[{index}]")
        documents[meta["documentChecksum"]] = meta
    visual = manifest.get("eBLVisualisationByCarrier")
    if isinstance(visual, dict) and isinstance(visual.get("documentChecksum"), str):
        documents[visual["documentChecksum"]] = visual
    return documents
