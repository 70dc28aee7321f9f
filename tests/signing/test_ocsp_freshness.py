"""An OCSP answer without ``nextUpdate`` is only as fresh as its ``thisUpdate`` (RFC 6960
3.2 items 5-6, 4.2.2.1: without nextUpdate "newer revocation information is available all
the time").

A signed 'good' answer with neither ``nextUpdate`` nor our nonce (one recorded from a
responder that signs on demand, answering a request without a nonce) used to count as good
however old it was: replayed after the certificate was revoked, it hid the revocation the
CRL shows. It is now judged current only within the clock skew of its ``thisUpdate``; an
older one is no answer, and the CRL decides.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from gateway.signing.revocation import RevocationChecker, RevokedError
from tests.live_revocation import RevocationLab, revocation_lab, self_signed_ca

from .signing_support import StaticHttpServer


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[RevocationLab]:
    cert, key = self_signed_ca("OCSP freshness test CA", since_days=10)
    with revocation_lab(tmp_path / "ca", cert, key) as made:
        yield made


def _good_answer(lab: RevocationLab, cert: x509.Certificate, this_update: datetime) -> bytes:
    """A 'good' answer signed by the CA, without nextUpdate and without a nonce."""
    return lab.good_answer(
        cert, cert_id_hash=hashes.SHA256(), this_update=this_update, lifetime=None
    )


def test_an_old_good_answer_without_next_update_cannot_hide_a_revocation(
    lab: RevocationLab,
) -> None:
    with StaticHttpServer() as responder, StaticHttpServer() as crls:
        cert, _ = lab.issue("signer", ocsp_url=responder.url, crl_url=crls.url)
        lab.revoke(cert)
        crls.body = lab.crl().public_bytes(serialization.Encoding.DER)
        responder.body = _good_answer(lab, cert, datetime.now(UTC) - timedelta(days=2))
        with pytest.raises(RevokedError, match="CRL"):
            RevocationChecker(timeout=2.0).status(cert, lab.ca_cert)
        assert responder.requests == 1 and crls.requests == 1


def test_a_fresh_good_answer_without_next_update_counts(lab: RevocationLab) -> None:
    with StaticHttpServer() as responder:
        cert, _ = lab.issue("signer", ocsp_url=responder.url)
        responder.body = _good_answer(lab, cert, datetime.now(UTC) - timedelta(minutes=1))
        assert RevocationChecker(timeout=2.0).status(cert, lab.ca_cert).startswith("good:ocsp")


def test_an_unreadable_certificate_in_an_answer_is_passed_over(lab: RevocationLab) -> None:
    """The answer comes over plain http; the responder certificates it carries are anyone's
    to change. One whose issuer name cannot be read raised KeyError out of the checker (and so out
    of every verifier asking it); now it is passed over, and the answer, signed by the CA
    itself, counts."""
    assert isinstance(lab.ca_key, rsa.RSAPrivateKey)
    with StaticHttpServer() as responder, StaticHttpServer() as crls:
        cert, _ = lab.issue("signer", ocsp_url=responder.url, crl_url=crls.url)
        crls.body = lab.crl().public_bytes(serialization.Encoding.DER)
        delegate, _ = lab.issue("responder")
        der = delegate.public_bytes(serialization.Encoding.DER)
        at = der.index(b"OCSP freshness test CA") - 2  # the issuer's common name: its tag
        broken = x509.load_der_x509_certificate(der[:at] + b"\x07" + der[at + 1 :])
        responder.body = lab.good_answer(cert, cert_id_hash=hashes.SHA256(), certificates=[broken])
        status = RevocationChecker(timeout=2.0).status(cert, lab.ca_cert)
        assert status == f"good:ocsp {responder.url}"
