"""Envelopes made entirely by a second independent JOSE implementation, ``jwcrypto``
(latchset): its own keys (Ed25519 and RSA), its own JWS serialisation and JSON layout, the
keys handed over only as the JWKS it exports. Our receiver verifies them (EdDSA and RS256,
headers with ``kid`` and headers with ``alg`` only), refuses one tampered byte with ``BSIG``,
and jwcrypto verifies our signed responses with our published JWKS."""

from __future__ import annotations

import copy
import hashlib
import json
from typing import Any

import pytest
import rfc8785
from jwcrypto import jwk, jws

from gateway.errors import VerificationError
from gateway.pint.chain import verify_envelope
from gateway.pint.codes import PintRejection, ResponseCode
from gateway.pint.responses import sign_response
from gateway.pint.schema import EnvelopeSchema
from gateway.signing.jose import CompactSigner, KeySet, jwks_of, verify_compact
from gateway.testing.pint import make_key

KINDS = {
    "EdDSA": {"kty": "OKP", "crv": "Ed25519"},
    "RS256": {"kty": "RSA", "size": 2048},
}


def _key(alg: str) -> jwk.JWK:
    """A key jwcrypto makes, with ``kid`` = its RFC 7638 thumbprint (as PINT platforms
    publish them)."""
    exported = json.loads(jwk.JWK.generate(**KINDS[alg]).export(private_key=True))
    exported["kid"] = jwk.JWK(**exported).thumbprint()
    return jwk.JWK(**exported)


def _jwks(key: jwk.JWK) -> dict[str, Any]:
    published = jwk.JWKSet()
    published.add(key)
    return dict(json.loads(published.export(private_keys=False)))


def _sign(key: jwk.JWK, alg: str, payload: dict[str, Any], *, with_kid: bool) -> str:
    header = {"alg": alg, "kid": key.thumbprint()} if with_kid else {"alg": alg}
    token = jws.JWS(json.dumps(payload, indent=2, ensure_ascii=False).encode("utf-8"))
    token.add_signature(key, alg=alg, protected=json.dumps(header))
    return str(token.serialize(compact=True))


def _party(platform: str, code: str) -> dict[str, Any]:
    return {
        "partyName": f"{code} 有限公司",
        "eblPlatform": platform,
        "identifyingCodes": [{"codeListProvider": platform, "partyCode": code}],
    }


def _envelope(
    document: dict[str, Any],
    platform: tuple[jwk.JWK, str],
    carrier: tuple[jwk.JWK, str],
    *,
    with_kid: bool,
) -> dict[str, Any]:
    td_checksum = hashlib.sha256(rfc8785.dumps(document)).hexdigest()
    shipper, buyer = _party("WAVE", "SHIPPER"), _party("IQAX", "BUYER")
    issuance = _sign(*carrier, {
        "documentChecksum": td_checksum,
        "issueToChecksum": hashlib.sha256(rfc8785.dumps(shipper)).hexdigest(),
    }, with_kid=with_kid)  # fmt: skip
    entry = _sign(*platform, {
        "eblPlatform": "WAVE",
        "transportDocumentChecksum": td_checksum,
        "issuanceManifestSignedContent": issuance,
        "transactions": [
            {"actionCode": "ISSUE", "actor": _party("WAVE", "CARRIER"), "recipient": shipper,
             "actionDateTime": "2026-06-01T08:00:00.000Z"},
            {"actionCode": "TRANSFER", "actor": shipper, "recipient": buyer,
             "actionDateTime": "2026-06-01T09:00:00.000Z"},
        ],
    }, with_kid=with_kid)  # fmt: skip
    manifest = _sign(*platform, {
        "transportDocumentChecksum": td_checksum,
        "lastEnvelopeTransferChainEntrySignedContentChecksum": hashlib.sha256(
            entry.encode()
        ).hexdigest(),
    }, with_kid=with_kid)  # fmt: skip
    return {
        "transportDocument": document,
        "envelopeManifestSignedContent": manifest,
        "envelopeTransferChain": [entry],
    }


@pytest.mark.parametrize("with_kid", [True, False], ids=["kid", "alg-only"])
@pytest.mark.parametrize(("platform_alg", "carrier_alg"), [("EdDSA", "RS256"), ("RS256", "EdDSA")])
def test_envelope_signed_by_jwcrypto_verifies(
    platform_alg: str,
    carrier_alg: str,
    with_kid: bool,
    document: dict[str, Any],
    schema: EnvelopeSchema,
) -> None:
    theirs, carrier = _key(platform_alg), _key(carrier_alg)
    envelope = _envelope(
        document, (theirs, platform_alg), (carrier, carrier_alg), with_kid=with_kid
    )
    keys, carriers = KeySet(), KeySet()
    keys.add_jwks(_jwks(theirs), "WAVE")
    carriers.add_jwks(_jwks(carrier), "WAVE")
    verified = verify_envelope(
        envelope, keys=keys, carriers=carriers, platform="IQAX", schema=schema
    )
    assert verified.title.possessor.label() == "IQAX:IQAX/BUYER"
    assert verified.sender == "WAVE"
    tampered = copy.deepcopy(envelope)
    head, payload, signature = tampered["envelopeTransferChain"][0].split(".")
    flipped = payload[:-2] + ("A" if payload[-2] != "A" else "B") + payload[-1]
    tampered["envelopeTransferChain"][0] = f"{head}.{flipped}.{signature}"
    with pytest.raises(PintRejection) as caught:
        verify_envelope(tampered, keys=keys, carriers=carriers, platform="IQAX", schema=schema)
    assert caught.value.response is ResponseCode.BSIG


@pytest.mark.parametrize(("kind", "alg"), [("ed25519", "EdDSA"), ("rsa", "RS256")])
def test_jwcrypto_verifies_our_signed_responses(kind: str, alg: str) -> None:
    key = make_key(kind)
    token = sign_response(CompactSigner(key, alg), ResponseCode.RECE, "a" * 64)
    published = jwk.JWKSet.from_json(json.dumps(jwks_of([key])))
    (ours,) = list(published)
    checked = jws.JWS()
    checked.deserialize(token)
    checked.verify(ours, alg=alg)
    assert json.loads(checked.payload) == {
        "lastEnvelopeTransferChainEntrySignedContentChecksum": "a" * 64,
        "responseCode": "RECE",
        "receivedAdditionalDocumentChecksums": [],
    }


def test_a_key_published_under_a_name_of_its_own_verifies_by_that_name() -> None:
    """RFC 7517 §4.5: a ``kid`` is any string. A platform publishing its key as
    ``platform-signing-2026`` and signing under that name is understood; the name only finds
    the key: another key's token under it fails."""
    exported = json.loads(jwk.JWK.generate(**KINDS["EdDSA"]).export(private_key=True))
    exported["kid"] = "platform-signing-2026"
    key = jwk.JWK(**exported)
    keys = KeySet()
    keys.add_jwks(_jwks(key), "WAVE")

    def signed(signer: jwk.JWK) -> str:
        token = jws.JWS(b'{"x":1}')
        header = {"alg": "EdDSA", "kid": "platform-signing-2026"}
        token.add_signature(signer, alg="EdDSA", protected=json.dumps(header))
        return str(token.serialize(compact=True))

    assert verify_compact(signed(key), keys).signer.owner == "WAVE"
    with pytest.raises(VerificationError):
        verify_compact(signed(jwk.JWK.generate(**KINDS["EdDSA"])), keys)
