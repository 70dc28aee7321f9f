"""A CRL counts only when its issuer's key may sign CRLs (RFC 5280 6.3.3 (f), 4.2.1.3).

RFC 5280 6.3.3 (f): "If a key usage extension is present in the CRL issuer's certificate,
verify that the cRLSign bit is set." The checker verified a CRL's signature with the issuing
CA's key whatever that key was allowed to do: a CA whose keyUsage allows certificate signing
only (its CRLs come from elsewhere) still had a CRL of its own key believed, and a
certificate it did not list was "good". Now such a CRL is no answer (unknown); the same CRL
from a CA with cRLSign still decides.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from gateway.signing.revocation import RevocationChecker, RevokedError


def _ca(*, crl_sign: bool) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"CRL usage CA {crl_sign}")])
    now = datetime.now(UTC)
    usage = x509.KeyUsage(False, False, False, False, False, True, crl_sign, False, False)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(usage, critical=True)
        .sign(key, hashes.SHA256())
    )
    return cert, key


def _leaf(ca: tuple[x509.Certificate, ec.EllipticCurvePrivateKey]) -> x509.Certificate:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "CRL usage signer")]))
        .issuer_name(ca[0].subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .sign(ca[1], hashes.SHA256())
    )


def _crl(
    ca: tuple[x509.Certificate, ec.EllipticCurvePrivateKey], *listed: x509.Certificate
) -> x509.CertificateRevocationList:
    now = datetime.now(UTC)
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ca[0].subject)
        .last_update(now - timedelta(minutes=1))
        .next_update(now + timedelta(days=1))
    )
    for cert in listed:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder()
            .serial_number(cert.serial_number)
            .revocation_date(now - timedelta(hours=1))
            .build()
        )
    return builder.sign(ca[1], hashes.SHA256())


@pytest.mark.parametrize("crl_sign", [True, False])
def test_a_crl_counts_only_from_a_key_allowed_to_sign_crls(crl_sign: bool) -> None:
    ca = _ca(crl_sign=crl_sign)
    cert = _leaf(ca)
    checker = RevocationChecker(crls=[_crl(ca)], ocsp=False, fetch_crls=False)
    assert checker.status(cert, ca[0]) == ("good:crl file" if crl_sign else "unknown")
    listing = RevocationChecker(crls=[_crl(ca, cert)], ocsp=False, fetch_crls=False)
    if crl_sign:
        with pytest.raises(RevokedError):
            listing.status(cert, ca[0])
    else:
        assert listing.status(cert, ca[0]) == "unknown"
