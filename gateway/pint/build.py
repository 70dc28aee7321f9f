"""Make what a PINT sender signs: issuance manifests, chain entries, manifests, envelopes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from gateway.pint.checksums import bytes_checksum, document_checksum, jws_checksum
from gateway.pint.codes import ActionCode
from gateway.pint.title import Party
from gateway.signing.jose import CompactSigner


def action_time(moment: datetime | None = None) -> str:
    """RFC 3339 UTC with milliseconds (``actionDateTime``)."""
    moment = (moment or datetime.now(UTC)).astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def transaction(
    action: ActionCode,
    actor: Party,
    recipient: Party | None,
    *,
    at: datetime | None = None,
    comments: str = "",
    reason_code: str | None = None,
) -> dict[str, Any]:
    """A ``Transaction`` object (``reason_code``: a ``SURRENDER_FOR_AMENDMENT``'s
    ``reasonCode``)."""
    out: dict[str, Any] = {
        "actionCode": action.value,
        "actor": actor.as_json(),
        "actionDateTime": action_time(at),
    }
    if recipient is not None:
        out["recipient"] = recipient.as_json()
    if reason_code is not None:
        out["reasonCode"] = reason_code
    if comments:
        out["comments"] = comments
    return out


def issuance_manifest(
    transport_document: Mapping[str, Any],
    issue_to: Party,
    carrier: CompactSigner,
    *,
    visualisation: bytes | None = None,
) -> str:
    """The carrier-signed ``IssuanceManifest`` of a transport document issued to ``issue_to``
    (with the checksum of the carrier's ``visualisation`` of it, when there is one)."""
    payload = {
        "documentChecksum": document_checksum(transport_document),
        "issueToChecksum": document_checksum(issue_to.as_json()),
    }
    if visualisation is not None:
        payload["eBLVisualisationByCarrierChecksum"] = bytes_checksum(visualisation)
    return carrier.sign_json(payload)


def chain_entry(
    signer: CompactSigner,
    platform: str,
    transport_document_checksum: str,
    transactions: Sequence[Mapping[str, Any]],
    *,
    previous: str | None = None,
    issuance: str | None = None,
) -> str:
    """A signed ``EnvelopeTransferChainEntry`` following the entry ``previous`` (its JWS)."""
    entry: dict[str, Any] = {
        "eblPlatform": platform,
        "transportDocumentChecksum": transport_document_checksum,
        "transactions": list(transactions),
    }
    if previous is not None:
        entry["previousEnvelopeTransferChainEntrySignedContentChecksum"] = jws_checksum(previous)
    if issuance is not None:
        entry["issuanceManifestSignedContent"] = issuance
    return signer.sign_json(entry)


def document_metadata(name: str, data: bytes, media_type: str) -> dict[str, Any]:
    """``DocumentMetadata`` of an additional document."""
    return metadata(name, len(data), media_type, bytes_checksum(data))


def metadata(name: str, size: int, media_type: str, checksum: str) -> dict[str, Any]:
    """``DocumentMetadata`` of a document held by checksum (``size`` bytes)."""
    return {"name": name, "size": size, "mediaType": media_type, "documentChecksum": checksum}


def envelope(
    signer: CompactSigner,
    transport_document: Mapping[str, Any],
    chain: Sequence[str],
    documents: Sequence[Mapping[str, Any]] = (),
    *,
    visualisation: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """An ``EblEnvelope`` with its signed manifest over ``chain``, the supporting
    ``documents`` and the carrier's ``visualisation`` (``DocumentMetadata``, if any)."""
    manifest: dict[str, Any] = {
        "transportDocumentChecksum": document_checksum(transport_document),
        "lastEnvelopeTransferChainEntrySignedContentChecksum": jws_checksum(chain[-1]),
    }
    if visualisation is not None:
        manifest["eBLVisualisationByCarrier"] = dict(visualisation)
    if documents:
        manifest["supportingDocuments"] = [dict(d) for d in documents]
    return {
        "transportDocument": dict(transport_document),
        "envelopeManifestSignedContent": signer.sign_json(manifest),
        "envelopeTransferChain": list(chain),
    }
