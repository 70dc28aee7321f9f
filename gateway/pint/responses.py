"""Signed answers: ``EnvelopeTransferFinishedResponse`` as compact JWS, made and read."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from gateway.errors import VerificationError
from gateway.pint.codes import ResponseCode
from gateway.signing.jose import CompactSigner, KeySet, verify_compact


def sign_response(
    signer: CompactSigner,
    code: ResponseCode,
    last_checksum: str,
    *,
    reason: str = "",
    duplicate_of: str | None = None,
    missing: Sequence[str] = (),
    received: Sequence[str] = (),
) -> str:
    """The signed response for ``code`` about the envelope whose last entry is ``last_checksum``.

    ``RECE`` and ``DUPE`` always carry ``receivedAdditionalDocumentChecksums`` (PINT 3.0: "the
    receiving platform includes this attribute with the RECE or DUPE responseCode"), empty
    for an envelope without additional documents; other codes never do."""
    payload: dict[str, Any] = {
        "lastEnvelopeTransferChainEntrySignedContentChecksum": last_checksum,
        "responseCode": code.value,
    }
    if reason and code is not ResponseCode.RECE:
        payload["reason"] = reason[:255]
    if duplicate_of is not None:
        payload["duplicateOfAcceptedEnvelopeTransferChainEntrySignedContent"] = duplicate_of
    if missing:
        payload["missingAdditionalDocumentChecksums"] = list(missing)
    if code.accepted:  # always with RECE / DUPE, an empty list when there were none
        payload["receivedAdditionalDocumentChecksums"] = list(received)
    return signer.sign_json(payload)


@dataclass(frozen=True, slots=True)
class SignedResponse:
    """A verified response: its code, payload and the token as received."""

    code: ResponseCode
    payload: dict[str, Any]
    token: str
    signer: str


def read_response(token: str, keys: KeySet, *, platform: str, last_checksum: str) -> SignedResponse:
    """Verify a response from ``platform`` about the envelope ending in ``last_checksum``."""
    verified = verify_compact(token.strip().strip('"'), keys)
    if verified.signer.owner != platform:
        raise VerificationError(
            f"the response is signed by {verified.signer.owner}, not {platform}",
            check="pint.response-signer",
        )
    payload = verified.json()
    if not isinstance(payload, dict):
        raise VerificationError("the response payload is not an object", check="pint.response")
    try:
        code = ResponseCode(str(payload.get("responseCode")))
    except ValueError:
        raise VerificationError(
            f"unknown responseCode {payload.get('responseCode')!r}", check="pint.response"
        ) from None
    if payload.get("lastEnvelopeTransferChainEntrySignedContentChecksum") != last_checksum:
        raise VerificationError(
            "the response is about another envelope", check="pint.response-checksum"
        )
    return SignedResponse(code, payload, token.strip().strip('"'), verified.signer.owner)
