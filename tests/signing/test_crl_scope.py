"""A CRL answers only for the certificates it covers (RFC 5280 5.2, 5.2.4, 5.2.5, 6.3.3).

Each CRL here is signed by the right CA and current, and does not list the revoked signer.
Those that do not cover it (a delta CRL, a CA-only list, another distribution point's
partition, one with an unknown critical extension) or cover only some reasons must not make
the revoked signer's signature valid: the status is unknown, and the hard-fail verifier
refuses. A CRL whose scope names the signer's own distribution point still decides.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes

from gateway.errors import VerificationError
from gateway.signing import Verifier
from gateway.signing.algorithms import Check
from gateway.signing.testpki import TestPki

from .signing_support import BILL_OF_LADING, signer_for


def _crl(
    pki: TestPki, extension: x509.ExtensionType, *, listed: tuple[x509.Certificate, ...] = ()
) -> x509.CertificateRevocationList:
    """A current CRL of the intermediate CA listing ``listed``, with ``extension``."""
    now = datetime.now(UTC)
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(pki.intermediate.cert.subject)
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
    return builder.add_extension(extension, critical=True).sign(
        pki.intermediate.key, hashes.SHA256()
    )


def _point(
    *,
    full_name: list[x509.GeneralName] | None = None,
    users: bool = False,
    cas: bool = False,
    reasons: frozenset[x509.ReasonFlags] | None = None,
) -> x509.IssuingDistributionPoint:
    return x509.IssuingDistributionPoint(full_name, None, users, cas, reasons, False, False)


def _own_point(pki: TestPki) -> list[x509.GeneralName]:
    """The distribution point the signing certificates name."""
    points = pki.revoked.cert.extensions.get_extension_for_class(x509.CRLDistributionPoints)
    names = points.value[0].full_name
    assert names
    return list(names)


def _verify(pki: TestPki, crl: x509.CertificateRevocationList, which: str = "revoked") -> None:
    signed = signer_for(pki, which).sign(BILL_OF_LADING)
    verifier = Verifier(
        trust=[pki.root.cert], crls=[crl, pki.root_crl], ocsp=False, fetch_crls=False
    )
    verifier.verify(signed)


NOT_COVERING: dict[str, x509.ExtensionType] = {
    "delta CRL": x509.DeltaCRLIndicator(1),
    "only CA certificates": _point(cas=True),
    "only key compromise": _point(reasons=frozenset({x509.ReasonFlags.key_compromise})),
    "another partition": _point(
        full_name=[x509.UniformResourceIdentifier("http://ca.example/part-2.crl")]
    ),
    "unknown critical extension": x509.UnrecognizedExtension(
        x509.ObjectIdentifier("1.3.6.1.4.1.55555.1"), b"\x05\x00"
    ),
}


@pytest.mark.parametrize("kind", sorted(NOT_COVERING))
def test_a_crl_that_does_not_cover_the_signer_cannot_clear_it(pki: TestPki, kind: str) -> None:
    with pytest.raises(VerificationError) as caught:
        _verify(pki, _crl(pki, NOT_COVERING[kind]))
    assert caught.value.check == Check.REVOCATION_UNKNOWN, caught.value.message


def test_a_crl_for_the_signers_own_distribution_point_decides(pki: TestPki) -> None:
    scoped = _point(full_name=_own_point(pki), users=True)
    with pytest.raises(VerificationError) as caught:
        _verify(pki, _crl(pki, scoped, listed=(pki.revoked.cert,)))
    assert caught.value.check == Check.REVOKED
    _verify(pki, _crl(pki, scoped, listed=(pki.revoked.cert,)), which="signer_rsa")


def test_an_entry_in_a_crl_of_some_reasons_still_revokes(pki: TestPki) -> None:
    partial = _point(reasons=frozenset({x509.ReasonFlags.key_compromise}))
    with pytest.raises(VerificationError) as caught:
        _verify(pki, _crl(pki, partial, listed=(pki.revoked.cert,)))
    assert caught.value.check == Check.REVOKED
