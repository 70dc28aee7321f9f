"""Weak keys and signers whose keyUsage forbids signing are refused, naming the certificate.

Key strength: path building checked signatures, CA flags and validity but never the size of a
key. A document signed with an RSA-1024 or P-192 key from a trusted CA verified, and so did a
path through an RSA-1024 intermediate (whose signature on the signer anyone able to factor
1024 bits can forge). Now every certificate of the path but the configured anchor needs RSA
of 2048 bits or more, or an EC key on P-256/384/521 or a Brainpool curve of 256 bits or more
(ETSI TS 119 312; Peppol PKI G3 issues RSA 2048), else ``check=algorithm``.

keyUsage (RFC 5280 4.2.1.3): the XAdES verifier refused a signer whose keyUsage allows
neither digitalSignature nor nonRepudiation, but the shared trust store did not, so an AS4
message, an AS4 receipt, an SMP answer or a JWS ``x5c`` chain signed with a certificate
issued for key encipherment only was accepted. Signers are checked there too now.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from gateway.errors import VerificationError
from gateway.signing import Verifier, XadesSigner
from gateway.signing.jose import CompactSigner, KeySet, verify_compact
from gateway.signing.keys import PrivateKeyProvider
from gateway.signing.truststore import TrustStore

from .signing_support import BILL_OF_LADING

Key = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
Issued = tuple[x509.Certificate, Key]


def _usage(*, ca: bool, sign: bool = True) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=sign and not ca,
        content_commitment=False,
        key_encipherment=not ca,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


def _issue(name: str, key: Key, issuer: Issued | None, *, ca: bool, sign: bool = True) -> Issued:
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer[0].subject if issuer else subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(_usage(ca=ca, sign=sign), critical=True)
        .sign(issuer[1] if issuer else key, hashes.SHA256())
    )
    return cert, key


def _rsa(bits: int) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


@pytest.fixture(scope="module")
def root() -> Issued:
    return _issue("Strength Test Root", _rsa(2048), None, ca=True)


def _verify(root: Issued, ca: Issued, leaf: Issued) -> list[x509.Certificate]:
    signed = XadesSigner(PrivateKeyProvider(leaf[1], leaf[0], [ca[0]])).sign(BILL_OF_LADING)
    chain = Verifier(trust=[root[0]], check_revocation=False).verify(signed).chain
    assert TrustStore((root[0],)).check(leaf[0], intermediates=[ca[0]], signer=True) == chain
    return chain


WEAK = {
    "signer RSA 1024": ("leaf", lambda: _rsa(1024), "an RSA key of 1024 bits"),
    "signer P-192": ("leaf", lambda: ec.generate_private_key(ec.SECP192R1()), "secp192r1"),
    "signer P-224": ("leaf", lambda: ec.generate_private_key(ec.SECP224R1()), "secp224r1"),
    "intermediate RSA 1024": ("ca", lambda: _rsa(1024), "an RSA key of 1024 bits"),
}


@pytest.mark.parametrize("case", sorted(WEAK))
def test_a_weak_key_in_the_path_is_refused(root: Issued, case: str) -> None:
    where, make, named = WEAK[case]
    ca = _issue("Strength Test CA", make() if where == "ca" else _rsa(2048), root, ca=True)
    leaf = _issue("Strength Test Signer", make() if where == "leaf" else _rsa(2048), ca, ca=False)
    holder = (leaf if where == "leaf" else ca)[0].subject.rfc4514_string()
    signed = XadesSigner(PrivateKeyProvider(leaf[1], leaf[0], [ca[0]])).sign(BILL_OF_LADING)
    with pytest.raises(VerificationError) as caught:
        Verifier(trust=[root[0]], check_revocation=False).verify(signed)
    assert caught.value.check == "algorithm"
    assert named in caught.value.message and holder in caught.value.message
    with pytest.raises(VerificationError) as by_store:
        TrustStore((root[0],), what="signer").check(leaf[0], intermediates=[ca[0]])
    assert by_store.value.check == "algorithm" and named in by_store.value.message


@pytest.mark.parametrize(
    "make",
    [
        lambda: _rsa(2048),
        lambda: ec.generate_private_key(ec.SECP256R1()),
        lambda: ec.generate_private_key(ec.SECP384R1()),
        lambda: ec.generate_private_key(ec.BrainpoolP256R1()),
    ],
    ids=["RSA 2048", "P-256", "P-384", "brainpoolP256r1"],
)
def test_accepted_keys_pass(root: Issued, make: object) -> None:
    assert callable(make)
    ca = _issue("Strength Test CA", _rsa(2048), root, ca=True)
    leaf = _issue("Strength Test Signer", make(), ca, ca=False)
    assert _verify(root, ca, leaf) == [leaf[0], ca[0], root[0]]


def test_a_signer_whose_key_usage_forbids_signing_is_refused_by_the_trust_store(
    root: Issued,
) -> None:
    """Key encipherment only: the XAdES verifier and a JWS x5c chain refuse it alike, and
    the trust store names the certificate and the rule when asked about a signer (not when
    asked about an encryption certificate, for which the same keyUsage is right)."""
    ca = _issue("Strength Test CA", _rsa(2048), root, ca=True)
    leaf = _issue(
        "Encipherment Only", ec.generate_private_key(ec.SECP256R1()), ca, ca=False, sign=False
    )
    store = TrustStore((root[0],), what="platform certificate")
    assert store.check(leaf[0], intermediates=[ca[0]])[-1] == root[0]
    with pytest.raises(VerificationError) as caught:
        store.check(leaf[0], intermediates=[ca[0]], signer=True)
    assert caught.value.check == "chain"
    assert "CN=Encipherment Only" in caught.value.message
    assert "RFC 5280 4.2.1.3" in caught.value.message
    signed = XadesSigner(PrivateKeyProvider(leaf[1], leaf[0], [ca[0]])).sign(BILL_OF_LADING)
    with pytest.raises(VerificationError, match="digitalSignature"):
        Verifier(trust=[root[0]], check_revocation=False).verify(signed)
    assert isinstance(leaf[1], ec.EllipticCurvePrivateKey)
    keys = KeySet(trust=store)
    keys.add(leaf[1], "SGTD")
    token = CompactSigner(leaf[1], x5c=[leaf[0], ca[0]]).sign_json({"a": 1})
    with pytest.raises(VerificationError, match="digitalSignature"):
        verify_compact(token, keys)
