"""CRLs fetched from a distribution point over plain HTTP on 127.0.0.1: only a CRL the issuer
signed is remembered until its ``nextUpdate``. A forged one served once (wrong key, a year's
``nextUpdate``) used to stand in for the real CRL until then: every later check of that
distribution point was 'unknown' (refused under hard-fail, waved through under soft-fail)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from gateway.signing.revocation import RevocationChecker
from tests.live_revocation import RevocationLab, revocation_lab, self_signed_ca

from .signing_support import StaticHttpServer


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[RevocationLab]:
    cert, key = self_signed_ca("CRL fetch test CA")
    with revocation_lab(tmp_path / "ca", cert, key) as made:
        yield made


def _forged(lab: RevocationLab) -> bytes:
    """A CRL in the CA's name, signed with another key, valid for a year."""
    now = datetime.now(UTC)
    crl = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(lab.ca_cert.subject)
        .last_update(now)
        .next_update(now + timedelta(days=365))
        .sign(rsa.generate_private_key(public_exponent=65537, key_size=2048), hashes.SHA256())
    )
    return crl.public_bytes(serialization.Encoding.DER)


def test_a_forged_crl_served_once_is_not_remembered(lab: RevocationLab) -> None:
    with StaticHttpServer() as server:
        cert, _ = lab.issue("signer", crl_url=server.url)
        checker = RevocationChecker(ocsp=False, timeout=2.0)
        server.body = _forged(lab)
        assert checker.status(cert, lab.ca_cert) == "unknown"
        server.body = lab.crl().public_bytes(serialization.Encoding.DER)
        assert checker.status(cert, lab.ca_cert) == f"good:crl {server.url}"
        assert server.requests == 2
        checker.status(cert, lab.ca_cert)  # the real CRL is remembered (and the answer too)
        assert server.requests == 2
