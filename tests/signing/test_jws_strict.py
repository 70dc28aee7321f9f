"""JWS parts are strict base64url, and an unencoded payload (``b64``) is refused.

RFC 7515 2 defines BASE64URL as the URL-safe alphabet "with all trailing '=' characters
omitted ... and without the inclusion of any line breaks, whitespace, or other additional
characters". Both verifiers (compact JWS of DCSA PINT, detached JWS of HTTPS bodies and
ledger checkpoints) decoded with Python's lenient decoder: foreign characters were dropped,
``+`` and ``/`` taken, the unused low bits of the last character ignored, and the detached
one took ``=`` padding. One signed token had many spellings that all verified; PINT names
entries by the SHA-256 of their exact text, so each spelling was a different entry.

RFC 7797 3, 6: ``"b64": false`` means the payload was signed unencoded, and the producer MUST
list ``b64`` in ``crit``. A token with ``b64: false`` and no ``crit`` was verified as if the
parameter were absent: the verifier read a different payload than the producer signed. Both
are refused now, with ``check`` naming the rule.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, utils

from gateway.errors import VerificationError
from gateway.signing.jose import CompactSigner, KeySet, b64url, verify_compact
from gateway.signing.jws import DetachedJwsSigner, verify_detached

ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
BODY = b'{"transportDocumentReference":"TD-1"}'


def _respell(encoded: str, how: str) -> str:
    """Another spelling of the same octets that strict base64url does not allow."""
    if how == "foreign character":
        return encoded[:4] + "!" + encoded[4:]
    if how == "line break":
        return encoded[:40] + "\n" + encoded[40:]
    if how == "standard alphabet":
        return encoded.translate(str.maketrans("-_", "+/")) + (
            "" if set("-_") & set(encoded) else "+A"
        )
    if how == "padding":
        return encoded + "=" * (-len(encoded) % 4 or 4)
    assert how == "unused bits set"
    last = ALPHABET.index(encoded[-1])
    return encoded[:-1] + ALPHABET[last ^ 1]


SPELLINGS = ["foreign character", "line break", "standard alphabet", "padding", "unused bits set"]


def _es256(key: ec.EllipticCurvePrivateKey, header: dict[str, Any], payload: bytes) -> str:
    """A compact ES256 JWS over ``payload`` with exactly ``header`` (base64url payload)."""
    protected = b64url(json.dumps(header, separators=(",", ":")).encode())
    signing_input = f"{protected}.{b64url(payload)}"
    r, s = utils.decode_dss_signature(key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256())))
    return f"{signing_input}.{b64url(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"


@pytest.fixture(scope="module")
def key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture(scope="module")
def keys(key: ec.EllipticCurvePrivateKey) -> KeySet:
    made = KeySet()
    made.add(key, "SGTD")
    return made


@pytest.mark.parametrize("how", SPELLINGS)
def test_a_compact_jws_signature_spelled_otherwise_is_refused(
    key: ec.EllipticCurvePrivateKey, keys: KeySet, how: str
) -> None:
    token = CompactSigner(key).sign_bytes(BODY)
    assert verify_compact(token, keys).payload == BODY
    head, payload, signature = token.split(".")
    respelled = f"{head}.{payload}.{_respell(signature, how)}"
    assert respelled != token
    with pytest.raises(VerificationError) as caught:
        verify_compact(respelled, keys)
    assert caught.value.check == "jws.format"


@pytest.mark.parametrize("how", SPELLINGS)
def test_a_detached_jws_signature_spelled_otherwise_is_refused(
    key: ec.EllipticCurvePrivateKey, how: str
) -> None:
    token = DetachedJwsSigner(key).sign_detached(BODY)
    assert verify_detached(token, BODY, key.public_key())["alg"] == "ES256"
    protected, _, signature = token.partition("..")
    with pytest.raises(VerificationError) as caught:
        verify_detached(f"{protected}..{_respell(signature, how)}", BODY, key.public_key())
    assert caught.value.check == "jws.format"


@pytest.mark.parametrize("b64", [False, "false", 0, None])
def test_b64_other_than_true_without_crit_is_refused(
    key: ec.EllipticCurvePrivateKey, keys: KeySet, b64: object
) -> None:
    token = _es256(key, {"alg": "ES256", "kid": CompactSigner(key).kid, "b64": b64}, BODY)
    with pytest.raises(VerificationError) as caught:
        verify_compact(token, keys)
    assert caught.value.check == "jws.b64" and "RFC 7797" in caught.value.message
    protected, _, signature = token.split(".")
    with pytest.raises(VerificationError) as detached:
        verify_detached(f"{protected}..{signature}", BODY, key.public_key())
    assert detached.value.check == "jws.b64"


def test_b64_true_is_the_default_and_passes(key: ec.EllipticCurvePrivateKey, keys: KeySet) -> None:
    token = _es256(key, {"alg": "ES256", "kid": CompactSigner(key).kid, "b64": True}, BODY)
    assert verify_compact(token, keys).payload == BODY
    protected, _, signature = token.split(".")
    assert verify_detached(f"{protected}..{signature}", BODY, key.public_key())["b64"] is True


def test_crit_is_refused_naming_the_clause(key: ec.EllipticCurvePrivateKey, keys: KeySet) -> None:
    header = {"alg": "ES256", "kid": CompactSigner(key).kid, "crit": ["exp"], "exp": 1}
    with pytest.raises(VerificationError) as caught:
        verify_compact(_es256(key, header, BODY), keys)
    assert caught.value.check == "jws.crit" and "RFC 7515 4.1.11" in caught.value.message
