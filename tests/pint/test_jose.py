"""Compact JWS: our signatures verified by joserfc and joserfc's verified by us, for every
algorithm PINT uses, keys found by JWK thumbprint from JWKS documents; refusals by name."""

from __future__ import annotations

import base64
import json
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import trustme
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from joserfc import jws as jose_jws
from joserfc.jwk import ECKey, OKPKey, RSAKey
from joserfc.jwk import KeySet as JoseKeySet

from gateway.errors import SigningError, VerificationError
from gateway.signing.jose import (
    CompactSigner,
    KeySet,
    b64url,
    jwks_of,
    key_from_jwk,
    thumbprint,
    verify_compact,
)
from gateway.signing.truststore import TrustStore
from gateway.testing.pint import make_key, pem
from tests.signing.signing_support import as_sm2, broken_extensions

CASES = [
    ("ed25519", "EdDSA", OKPKey),
    ("p256", "ES256", ECKey),
    ("rsa", "PS256", RSAKey),
    ("rsa", "RS256", RSAKey),
]


@pytest.fixture(autouse=True)
def _quiet_joserfc() -> Iterator[None]:
    """joserfc warns that RFC 9864 deprecates the name ``EdDSA``; PINT 3.0 still uses it."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def test_rfc7638_thumbprint_example() -> None:
    jwk = {
        "kty": "RSA",
        "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
        "e": "AQAB",
        "alg": "RS256",
        "kid": "2011-04-29",
    }
    assert thumbprint(jwk) == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


@pytest.mark.parametrize(("kind", "alg", "jose_class"), CASES)
def test_joserfc_verifies_ours(kind: str, alg: str, jose_class: type) -> None:
    key = make_key(kind)
    token = CompactSigner(key, alg).sign_json({"responseCode": "RECE"})
    theirs = jose_class.import_key(pem(key))
    header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    assert header == {"alg": alg, "kid": theirs.thumbprint()}
    assert (
        jose_jws.deserialize_compact(token, theirs, algorithms=[alg]).payload
        == b'{"responseCode":"RECE"}'
    )


@pytest.mark.parametrize(("kind", "alg", "jose_class"), CASES)
def test_we_verify_joserfc_with_keys_from_its_jwks(kind: str, alg: str, jose_class: type) -> None:
    theirs = jose_class.import_key(pem(make_key(kind)))
    token = jose_jws.serialize_compact(
        {"alg": alg, "kid": theirs.thumbprint()}, b'{"a":[1,2]}', theirs, algorithms=[alg]
    )
    keys = KeySet()
    assert keys.add_jwks(JoseKeySet([theirs]).as_dict(private=False), "IQAX") == [
        theirs.thumbprint()
    ]
    verified = verify_compact(token, keys)
    assert verified.json() == {"a": [1, 2]}
    assert verified.signer.owner == "IQAX"


def test_our_jwks_is_read_by_joserfc() -> None:
    keys = [make_key("ed25519"), make_key("p256"), make_key("rsa")]
    document = jwks_of(keys)
    theirs = JoseKeySet.import_key_set(document)
    assert [k.kid for k in theirs] == [thumbprint(k) for k in keys]
    for entry in document["keys"]:
        assert thumbprint(key_from_jwk(entry)) == entry["kid"]


def _known(key: object, owner: str = "AEOT") -> KeySet:
    keys = KeySet()
    keys.add(key, owner)  # type: ignore[arg-type]
    return keys


def _with_header(token: str, **changes: object) -> str:
    header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    header.update(changes)
    return ".".join([b64url(json.dumps(header).encode()), *token.split(".")[1:]])


def test_refusals_name_their_check() -> None:
    key = make_key("ed25519")
    token = CompactSigner(key).sign_json({"x": 1})
    keys = _known(key)
    cases = {
        "algorithm": _with_header(token, alg="none"),
        "jws.key": _with_header(token, kid="someone-else"),
        "jws.crit": _with_header(token, crit=["exp"]),
        "signature": token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB"),
        "jws.format": token + ".x",
    }
    for check, bad in cases.items():
        with pytest.raises(VerificationError) as caught:
            verify_compact(bad, keys)
        assert caught.value.check == check, check
    hs = _with_header(token, alg="HS256")
    with pytest.raises(VerificationError, match="refused"):
        verify_compact(hs, keys)
    payload = b64url(b'{"x":2}')
    parts = token.split(".")
    with pytest.raises(VerificationError, match="does not verify"):
        verify_compact(f"{parts[0]}.{payload}.{parts[2]}", keys)


def test_a_key_signs_only_its_own_family() -> None:
    with pytest.raises(SigningError):
        CompactSigner(make_key("p256"), "PS256")
    rsa_key = make_key("rsa")
    token = CompactSigner(rsa_key, "PS256").sign_json({})
    swapped = _with_header(token, alg="ES256")
    with pytest.raises(VerificationError):
        verify_compact(swapped, _known(rsa_key))


def test_one_jwks_name_for_two_keys_is_refused() -> None:
    key, other = make_key("ed25519"), make_key("ed25519")
    document, clash = jwks_of([key]), jwks_of([other])
    document["keys"][0]["kid"] = clash["keys"][0]["kid"] = "platform-signing-2026"
    keys = KeySet()
    assert keys.add_jwks(document, "IQAX") == [thumbprint(key)]
    with pytest.raises(VerificationError, match="already names another key"):
        keys.add_jwks(clash, "WAVE")


def test_x5c_must_be_the_named_key_and_chain_to_the_trust_store() -> None:
    ca = trustme.CA()
    leaf = ca.issue_cert("iqax.example")
    key = serialization.load_pem_private_key(leaf.private_key_pem.bytes(), None)
    cert = x509.load_pem_x509_certificate(leaf.cert_chain_pems[0].bytes())
    anchor = x509.load_pem_x509_certificate(ca.cert_pem.bytes())
    signer = CompactSigner(key, x5c=[cert])  # type: ignore[arg-type]
    token = signer.sign_json({"x": 1})
    keys = _known(key, "IQAX")
    keys.trust = TrustStore((anchor,))
    assert verify_compact(token, keys).signer.owner == "IQAX"
    keys.trust = TrustStore((x509.load_pem_x509_certificate(trustme.CA().cert_pem.bytes()),))
    with pytest.raises(VerificationError) as caught:
        verify_compact(token, keys)
    assert caught.value.check == "chain"
    other = make_key("p256")
    forged = CompactSigner(other, x5c=[cert]).sign_json({"x": 1})  # another key, same cert
    keys = _known(other, "IQAX")
    with pytest.raises(VerificationError, match="x5c"):
        verify_compact(forged, keys)
    keys.require_x5c = True
    with pytest.raises(VerificationError, match="x5c"):
        verify_compact(CompactSigner(other).sign_json({}), keys)


def test_an_x5c_certificate_of_a_key_type_no_jws_algorithm_takes_is_refused() -> None:
    """An ``x5c`` certificate whose key is P-384 (a type no accepted JWS algorithm takes) is
    the sender's input like the rest of the header: a ``jws.x5c`` refusal, with or without
    ``kid``. It was a SigningError, which the PINT receiver answered with a 500."""
    key = make_key("p256")
    token = CompactSigner(key).sign_json({"x": 1})
    der = base64.b64encode(_p384_certificate().public_bytes(serialization.Encoding.DER))
    with_kid = _with_header(token, x5c=[der.decode()])
    for bad in (with_kid, _without_kid(with_kid)):
        with pytest.raises(VerificationError) as caught:
            verify_compact(bad, _known(key, "IQAX"))
        assert caught.value.check == "jws.x5c"
        assert "secp384r1" in caught.value.message


def test_an_x5c_intermediate_with_broken_extensions_is_refused() -> None:
    """The sender's own CA in ``x5c``, with extensions that cannot be read, issuing a
    certificate for a partner's known key: path building read the CA's basicConstraints and
    a ValueError came out of verify_compact (a 500 at the PINT receiver), before any
    signature was checked."""
    partner = make_key("p256")
    ca_key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sender's own CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(2)
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "iqax.example")]))
        .issuer_name(ca_name)
        .public_key(partner.public_key())  # type: ignore[arg-type]
        .serial_number(3)
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .sign(ca_key, hashes.SHA256())
    )
    chain = [
        base64.b64encode(leaf.public_bytes(serialization.Encoding.DER)).decode(),
        base64.b64encode(broken_extensions(ca)).decode(),
    ]
    keys = _known(partner, "IQAX")
    keys.trust = TrustStore((x509.load_pem_x509_certificate(trustme.CA().cert_pem.bytes()),))
    token = _with_header(CompactSigner(partner).sign_json({"x": 1}), x5c=chain)
    with pytest.raises(VerificationError) as caught:
        verify_compact(token, keys)
    assert caught.value.check == "structure" and "cannot be read" in caught.value.message


def test_an_x5c_certificate_with_an_sm2_key_is_refused() -> None:
    """An SM2 key (China's commercial curve, unknown to ``cryptography``) in the ``x5c``
    certificate raised UnsupportedAlgorithm out of verify_compact (a 500 at the receiver)."""
    trusted = make_key("p256")
    made = trustme.CA().issue_cert("iqax.example", key_type=trustme.KeyType.ECDSA)
    cert = x509.load_pem_x509_certificate(made.cert_chain_pems[0].bytes())
    chain = [base64.b64encode(as_sm2(cert)).decode()]
    token = _with_header(CompactSigner(trusted).sign_json({"x": 1}), x5c=chain)
    with pytest.raises(VerificationError) as caught:
        verify_compact(_without_kid(token), _known(trusted, "IQAX"))
    assert caught.value.check == "algorithm" and "1.2.156.10197.1.301" in caught.value.message


def _p384_certificate() -> x509.Certificate:
    key = ec.generate_private_key(ec.SECP384R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "p384.example")])
    now = datetime.now(UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )


def _without_kid(token: str) -> str:
    header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    header.pop("kid", None)
    return ".".join([b64url(json.dumps(header).encode()), *token.split(".")[1:]])


def test_a_header_with_alg_only_verifies_with_a_known_key() -> None:
    """The DCSA conformance kit signs with ``alg`` alone and exchanges certificates."""
    ours, theirs = make_key("p256"), make_key("rsa")
    keys = _known(ours, "AEOT")
    keys.add(theirs, "IQAX")
    jose_key = RSAKey.import_key(pem(theirs))
    token = jose_jws.serialize_compact({"alg": "PS256"}, b"{}", jose_key, algorithms=["PS256"])
    assert verify_compact(token, keys).signer.owner == "IQAX"
    stranger = RSAKey.import_key(pem(make_key("rsa")))
    forged = jose_jws.serialize_compact({"alg": "PS256"}, b"{}", stranger, algorithms=["PS256"])
    with pytest.raises(VerificationError, match="no known key"):
        verify_compact(forged, keys)


def test_a_jwks_with_foreign_keys_keeps_the_usable_ones() -> None:
    from cryptography.hazmat.primitives.asymmetric import ec

    p384 = ECKey.import_key(pem(ec.generate_private_key(ec.SECP384R1())))  # type: ignore[arg-type]
    usable = make_key("ed25519")
    document = jwks_of([usable])
    document["keys"] += [
        p384.as_dict(private=False),
        {**jwks_of([make_key("p256")])["keys"][0], "use": "enc"},
    ]
    assert KeySet().add_jwks(document, "IQAX") == [thumbprint(usable)]
