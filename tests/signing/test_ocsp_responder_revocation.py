"""The revocation of a delegated OCSP responder's own certificate (RFC 6960 4.2.2.2.1).

A delegated responder certificate either carries id-pkix-ocsp-nocheck, and the client may
trust it for its lifetime, or its revocation should be checked. The checker checked neither:
a responder whose certificate the CA had revoked (its key stolen) still vouched "good" for
any certificate of that CA, a revoked one too. Now a responder certificate without nocheck
must be shown not revoked by a complete CRL of the issuing CA; revoked or unknown, its answer
is unusable and the certificate's own status comes from the CRL path.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

from gateway.signing.revocation import RevocationChecker, RevokedError
from tests.live_revocation import RevocationLab, revocation_lab, self_signed_ca

from .signing_support import StaticHttpServer

DER = serialization.Encoding.DER


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[RevocationLab]:
    cert, key = self_signed_ca("Responder revocation test CA")
    with revocation_lab(tmp_path / "ca", cert, key) as made:
        yield made


def _responder(
    lab: RevocationLab,
    *,
    nocheck: bool,
    crl_url: str | None,
    critical: x509.ExtensionType | None = None,
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    """A delegated responder certificate (OCSPSigning) issued by the lab's CA, with the
    extension ``critical`` marked critical when given."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "delegated responder")]))
        .issuer_name(lab.ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.OCSP_SIGNING]), critical=False)
    )
    if nocheck:
        builder = builder.add_extension(x509.OCSPNoCheck(), critical=False)
    if critical is not None:
        builder = builder.add_extension(critical, critical=True)
    if crl_url is not None:
        point = x509.DistributionPoint([x509.UniformResourceIdentifier(crl_url)], None, None, None)
        builder = builder.add_extension(x509.CRLDistributionPoints([point]), critical=False)
    assert isinstance(lab.ca_key, rsa.RSAPrivateKey)
    cert = builder.sign(lab.ca_key, hashes.SHA256())
    lab.issued.append(cert)
    return cert, key


def _good(
    lab: RevocationLab,
    cert: x509.Certificate,
    responder: tuple[x509.Certificate, ec.EllipticCurvePrivateKey],
) -> bytes:
    """A current "good" answer about ``cert``, signed by ``responder``, carrying its cert."""
    return lab.good_answer(cert, signer=responder, certificates=[responder[0]])


def test_a_revoked_responder_cannot_vouch_for_a_revoked_certificate(lab: RevocationLab) -> None:
    with StaticHttpServer() as answers, StaticHttpServer() as crls:
        responder = _responder(lab, nocheck=False, crl_url=crls.url)
        cert, _ = lab.issue("signer", ocsp_url=answers.url, crl_url=crls.url)
        lab.revoke(responder[0])
        lab.revoke(cert)
        crls.body = lab.crl().public_bytes(DER)
        answers.body = _good(lab, cert, responder)
        with pytest.raises(RevokedError, match="CRL"):
            RevocationChecker(timeout=2.0).status(cert, lab.ca_cert)


def test_a_revoked_responder_s_good_answer_is_unusable(lab: RevocationLab) -> None:
    with StaticHttpServer() as answers, StaticHttpServer() as crls:
        responder = _responder(lab, nocheck=False, crl_url=crls.url)
        cert, _ = lab.issue("signer", ocsp_url=answers.url, crl_url=crls.url)
        lab.revoke(responder[0])
        crls.body = lab.crl().public_bytes(DER)
        answers.body = _good(lab, cert, responder)
        assert RevocationChecker(timeout=2.0).status(cert, lab.ca_cert) == f"good:crl {crls.url}"
        assert answers.requests == 1


def test_a_responder_the_crl_does_not_list_is_believed(lab: RevocationLab) -> None:
    with StaticHttpServer() as answers, StaticHttpServer() as crls:
        responder = _responder(lab, nocheck=False, crl_url=crls.url)
        cert, _ = lab.issue("signer", ocsp_url=answers.url)
        crls.body = lab.crl().public_bytes(DER)
        answers.body = _good(lab, cert, responder)
        status = RevocationChecker(timeout=2.0).status(cert, lab.ca_cert)
        assert status == f"good:ocsp {answers.url}"
        assert crls.requests == 1


def test_a_configured_crl_speaks_for_a_responder_without_distribution_point(
    lab: RevocationLab,
) -> None:
    with StaticHttpServer() as answers:
        responder = _responder(lab, nocheck=False, crl_url=None)
        cert, _ = lab.issue("signer", ocsp_url=answers.url)
        answers.body = _good(lab, cert, responder)
        checker = RevocationChecker(crls=[lab.crl()], timeout=2.0)
        assert checker.status(cert, lab.ca_cert) == f"good:ocsp {answers.url}"
        lab.revoke(responder[0])
        checker = RevocationChecker(crls=[lab.crl()], timeout=2.0)
        assert checker.status(cert, lab.ca_cert) == "good:crl file"


def test_a_responder_whose_status_nobody_tells_is_not_believed(lab: RevocationLab) -> None:
    """No nocheck, no CRL to be had: the answer is unusable, as if the responder were down."""
    with StaticHttpServer() as answers:
        responder = _responder(lab, nocheck=False, crl_url=None)
        cert, _ = lab.issue("signer", ocsp_url=answers.url)
        answers.body = _good(lab, cert, responder)
        assert RevocationChecker(timeout=2.0).status(cert, lab.ca_cert) == "unknown"


def test_a_nocheck_responder_is_trusted_for_its_lifetime(lab: RevocationLab) -> None:
    with StaticHttpServer() as answers, StaticHttpServer() as crls:
        responder = _responder(lab, nocheck=True, crl_url=crls.url)
        cert, _ = lab.issue("signer", ocsp_url=answers.url)
        lab.revoke(responder[0])
        crls.body = lab.crl().public_bytes(DER)
        answers.body = _good(lab, cert, responder)
        assert (
            RevocationChecker(timeout=2.0).status(cert, lab.ca_cert) == f"good:ocsp {answers.url}"
        )
        assert crls.requests == 0


@pytest.mark.parametrize(
    ("critical", "believed"),
    [
        (x509.UnrecognizedExtension(ObjectIdentifier("1.3.6.1.4.1.55555.7.1"), b"\x05\x00"), False),
        (
            x509.CertificatePolicies([x509.PolicyInformation(ObjectIdentifier("1.2.3.4"), None)]),
            False,
        ),
        (x509.SubjectAlternativeName([x509.DNSName("ocsp.example")]), True),
    ],
)
def test_a_responder_with_a_critical_extension_the_gateway_does_not_process_is_not_believed(
    lab: RevocationLab, critical: x509.ExtensionType, believed: bool
) -> None:
    """RFC 5280 4.2: the responder's certificate is a certificate like any other; one with a
    critical extension the gateway does not process must be rejected, so its "good" answer
    is no answer and the CRL decides (here: revoked)."""
    with StaticHttpServer() as answers, StaticHttpServer() as crls:
        responder = _responder(lab, nocheck=True, crl_url=None, critical=critical)
        cert, _ = lab.issue("signer", ocsp_url=answers.url, crl_url=crls.url)
        lab.revoke(cert)
        crls.body = lab.crl().public_bytes(DER)
        answers.body = _good(lab, cert, responder)
        if believed:
            status = RevocationChecker(timeout=2.0).status(cert, lab.ca_cert)
            assert status == f"good:ocsp {answers.url}"
            return
        with pytest.raises(RevokedError, match="CRL"):
            RevocationChecker(timeout=2.0).status(cert, lab.ca_cert)
