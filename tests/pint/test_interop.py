"""Envelopes made entirely by another JOSE implementation (joserfc: EdDSA, PS256, RS256,
ES256; keys handed over only as JWKS) verify at our receiver, and joserfc verifies our
signed responses."""

from __future__ import annotations

import hashlib
import json
import warnings
from collections.abc import Iterator
from typing import Any

import pytest
import rfc8785
from joserfc import jws as jose_jws
from joserfc.jwk import ECKey, OKPKey, RSAKey
from joserfc.jwk import KeySet as JoseKeySet

from gateway.pint.chain import verify_envelope
from gateway.pint.codes import ResponseCode
from gateway.pint.responses import sign_response
from gateway.pint.schema import EnvelopeSchema
from gateway.signing.jose import CompactSigner, KeySet, jwks_of
from gateway.testing.pint import make_key, pem


@pytest.fixture(autouse=True)
def _quiet_joserfc() -> Iterator[None]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def _party(platform: str, code: str) -> dict[str, Any]:
    return {
        "partyName": code,
        "eblPlatform": platform,
        "identifyingCodes": [{"codeListProvider": platform, "partyCode": code}],
    }


def _sign(key: Any, alg: str, payload: dict[str, Any]) -> str:
    text = json.dumps(payload, indent=1).encode()  # their own JSON layout, not ours
    return str(
        jose_jws.serialize_compact(
            {"alg": alg, "kid": key.thumbprint()}, text, key, algorithms=[alg]
        )
    )


@pytest.mark.parametrize(
    ("platform_kind", "platform_alg", "carrier_kind", "carrier_alg"),
    [
        ("ed25519", "EdDSA", "rsa", "RS256"),
        ("rsa", "PS256", "ed25519", "EdDSA"),
        ("rsa", "RS256", "p256", "ES256"),
    ],
)
def test_envelope_signed_by_joserfc_verifies(
    platform_kind: str, platform_alg: str, carrier_kind: str, carrier_alg: str,
    document: dict[str, Any], schema: EnvelopeSchema,
) -> None:  # fmt: skip
    classes = {"ed25519": OKPKey, "rsa": RSAKey, "p256": ECKey}
    theirs = classes[platform_kind].import_key(pem(make_key(platform_kind)))
    carrier = classes[carrier_kind].import_key(pem(make_key(carrier_kind)))
    td_checksum = hashlib.sha256(rfc8785.dumps(document)).hexdigest()
    shipper, buyer = _party("BOLE", "SHIPPER"), _party("IQAX", "BUYER")
    issuance = _sign(carrier, carrier_alg, {
        "documentChecksum": td_checksum,
        "issueToChecksum": hashlib.sha256(rfc8785.dumps(shipper)).hexdigest(),
    })  # fmt: skip
    entry = _sign(theirs, platform_alg, {
        "eblPlatform": "BOLE",
        "transportDocumentChecksum": td_checksum,
        "issuanceManifestSignedContent": issuance,
        "transactions": [
            {"actionCode": "ISSUE", "actor": _party("BOLE", "CARRIER"), "recipient": shipper,
             "actionDateTime": "2026-06-01T08:00:00.000Z"},
            {"actionCode": "TRANSFER", "actor": shipper, "recipient": buyer,
             "actionDateTime": "2026-06-01T09:00:00.000Z"},
        ],
    })  # fmt: skip
    manifest = _sign(theirs, platform_alg, {
        "transportDocumentChecksum": td_checksum,
        "lastEnvelopeTransferChainEntrySignedContentChecksum": hashlib.sha256(entry.encode()).hexdigest(),
    })  # fmt: skip
    envelope = {
        "transportDocument": document,
        "envelopeManifestSignedContent": manifest,
        "envelopeTransferChain": [entry],
    }
    keys, carriers = KeySet(), KeySet()
    keys.add_jwks(JoseKeySet([theirs]).as_dict(private=False), "BOLE")
    carriers.add_jwks(JoseKeySet([carrier]).as_dict(private=False), "BOLE")
    verified = verify_envelope(
        envelope, keys=keys, carriers=carriers, platform="IQAX", schema=schema
    )
    assert verified.title.possessor.label() == "IQAX:IQAX/BUYER"
    assert verified.sender == "BOLE"


def test_joserfc_verifies_our_signed_response_with_our_jwks() -> None:
    key = make_key("rsa")
    token = sign_response(CompactSigner(key), ResponseCode.RECE, "a" * 64, received=["b" * 64])
    published = JoseKeySet.import_key_set(jwks_of([key]))
    verified = jose_jws.deserialize_compact(token, published, algorithms=["PS256"])
    assert json.loads(verified.payload) == {
        "lastEnvelopeTransferChainEntrySignedContentChecksum": "a" * 64,
        "responseCode": "RECE",
        "receivedAdditionalDocumentChecksums": ["b" * 64],
    }
