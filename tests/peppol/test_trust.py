"""Trust in Peppol certificates: AP and SMP anchors apart, validity, revocation (CRL, and the
soft-fail setting for an unknown status)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes

from adapters.peppol.trust import SenderVerdicts, common_name
from gateway.errors import VerificationError
from gateway.signing.peppol_pki import PeppolIssued, PeppolTestPki, issue_access_point
from gateway.signing.revocation import RevocationChecker, RevokedError
from gateway.signing.truststore import TrustStore


def crl(issuer: PeppolIssued, revoked: list[x509.Certificate]) -> x509.CertificateRevocationList:
    now = datetime.now(UTC)
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer.cert.subject)
        .last_update(now - timedelta(minutes=1))
        .next_update(now + timedelta(days=1))
    )
    for cert in revoked:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder()
            .serial_number(cert.serial_number)
            .revocation_date(now)
            .build()
        )
    return builder.sign(issuer.key, hashes.SHA256())


def test_ap_and_smp_anchors_are_apart(
    pki: PeppolTestPki, ap_trust: TrustStore, smp_trust: TrustStore
) -> None:
    assert ap_trust.check(pki.receiver.cert)[-1] == pki.ap_ca.cert
    assert smp_trust.check(pki.smp.cert)[-1] == pki.smp_ca.cert
    for store, cert in (
        (ap_trust, pki.smp.cert),
        (smp_trust, pki.sender.cert),
        (ap_trust, pki.rogue.cert),
    ):
        with pytest.raises(VerificationError) as caught:
            store.check(cert)
        assert caught.value.check == "chain"
    assert common_name(pki.sender.cert) == "PSG000001"


def test_validity_is_checked(pki: PeppolTestPki, ap_trust: TrustStore) -> None:
    with pytest.raises(VerificationError) as caught:
        ap_trust.check(pki.receiver.cert, moment=datetime.now(UTC) + timedelta(days=800))
    assert caught.value.check == "expired"


def test_revoked_by_crl_is_refused(pki: PeppolTestPki) -> None:
    checker = RevocationChecker(
        crls=[crl(pki.ap_ca, [pki.receiver.cert])], ocsp=False, fetch_crls=False
    )
    store = TrustStore((pki.ap_ca.cert,), revocation=checker, soft_fail=False)
    with pytest.raises(RevokedError):
        store.check(pki.receiver.cert)
    store.check(pki.sender.cert)  # the CRL answers "good" for another certificate


def test_unknown_status_soft_and_hard_fail(pki: PeppolTestPki) -> None:
    checker = RevocationChecker(ocsp=False, fetch_crls=False)
    TrustStore((pki.ap_ca.cert,), revocation=checker, soft_fail=True).check(pki.receiver.cert)
    with pytest.raises(VerificationError) as caught:
        TrustStore((pki.ap_ca.cert,), revocation=checker, soft_fail=False).check(pki.receiver.cert)
    assert caught.value.check == "revocation-unknown"


def test_keys_test_pki_peppol_writes_the_pki(
    tmp_path: object, capsys: pytest.CaptureFixture[str]
) -> None:
    from pathlib import Path

    from gateway.cli import main

    folder = Path(str(tmp_path)) / "pki"
    assert main(["keys", "test-pki", "--peppol", str(folder)]) == 0
    assert "PSG000001" in capsys.readouterr().out
    names = {p.name for p in folder.iterdir()}
    assert {"ap-ca.pem", "smp-ca.pem", "ap-sender.key.pem", "ap-receiver.pem", "smp.pem"} <= names
    store = TrustStore(tuple(x509.load_pem_x509_certificates((folder / "ap-ca.pem").read_bytes())))
    store.check(x509.load_pem_x509_certificate((folder / "ap-sender.pem").read_bytes()))
    assert (folder / "ap-sender.key.pem").stat().st_mode & 0o077 == 0


class CountingTrust(TrustStore):
    """A trust store that counts its checks."""

    checks = 0

    def check(self, cert: x509.Certificate, **kwargs: object) -> list[x509.Certificate]:
        type(self).checks += 1
        return TrustStore.check(self, cert, **kwargs)  # type: ignore[arg-type]


def test_sender_verdicts_keep_a_trusted_path_not_a_refusal(pki: PeppolTestPki) -> None:
    CountingTrust.checks = 0
    verdicts = SenderVerdicts(CountingTrust((pki.ap_ca.cert,)), ttl=timedelta(minutes=5))
    assert verdicts.kept(pki.sender.cert) is None
    path = verdicts.check(pki.sender.cert)
    assert verdicts.check(pki.sender.cert) == path == verdicts.kept(pki.sender.cert)
    assert CountingTrust.checks == 1
    later = datetime.now(UTC) + timedelta(minutes=6)
    assert verdicts.kept(pki.sender.cert, later) is None  # past the TTL: checked again
    untrusted = SenderVerdicts(CountingTrust((pki.smp_ca.cert,)))
    for _ in range(2):
        with pytest.raises(VerificationError):
            untrusted.check(pki.sender.cert)
    assert untrusted.kept(pki.sender.cert) is None
    assert CountingTrust.checks == 3


def test_sender_verdicts_end_with_the_certificate(pki: PeppolTestPki) -> None:
    now = datetime.now(UTC)
    short = issue_access_point(
        pki.ap_ca,
        "PSG000009",
        not_before=now - timedelta(days=1),
        not_after=now + timedelta(seconds=30),
    )
    verdicts = SenderVerdicts(TrustStore((pki.ap_ca.cert,)), ttl=timedelta(hours=1))
    verdicts.check(short.cert)
    assert verdicts.kept(short.cert) is not None
    assert verdicts.kept(short.cert, now + timedelta(minutes=1)) is None


def test_a_trust_store_over_the_whole_peppol_pki_still_keeps_ap_and_smp_apart(
    pki: PeppolTestPki, tmp_path: Path
) -> None:
    """The Peppol root issues AP and SMP certificates (through their own CAs): an adapter whose
    ap_trust and smp_trust name the root, or a bundle with both CAs, still refuses an SMP
    certificate where an access point's is expected (the endpoint's, a receipt's, a sending
    AP's) and an AP certificate as the signer of SMP answers; each kind is still trusted."""
    from adapters.peppol.adapter import build_sender

    bundle = tmp_path / "whole-pki.pem"
    bundle.write_bytes(
        b"".join(
            pki.path(name).read_bytes() for name in ("peppol-root.pem", "ap-ca.pem", "smp-ca.pem")
        )
    )
    for anchors in ([str(pki.path("peppol-root.pem"))], [str(bundle)]):
        sender = build_sender(
            "peppol",
            {
                "key": str(pki.path("ap-sender.key.pem")),
                "cert": str(pki.path("ap-sender.pem")),
                "ap_trust": anchors,
                "smp_trust": anchors,
                "revocation": "off",
            },
            tmp_path,
        )
        ap_trust, smp_trust = sender.ap_trust, sender.discovery.smp.smp_trust
        assert ap_trust is not None and smp_trust is not None
        ap_trust.check(pki.receiver.cert, intermediates=[pki.ap_ca.cert])
        smp_trust.check(pki.smp.cert, intermediates=[pki.smp_ca.cert])
        for store, cert, issuer in (
            (ap_trust, pki.smp.cert, pki.smp_ca.cert),
            (smp_trust, pki.sender.cert, pki.ap_ca.cert),
        ):
            with pytest.raises(VerificationError, match="certificate, not a trusted") as caught:
                store.check(cert, intermediates=[issuer])
            assert caught.value.check == "chain"


def test_a_certificate_signed_with_an_unknown_algorithm_is_refused_not_a_crash(
    pki: PeppolTestPki, ap_trust: TrustStore, smp_trust: TrustStore
) -> None:
    """A certificate whose signature algorithm is not one the trust check knows (an SMP's
    endpoint certificate, a sending AP's token) is a refusal, never an unexpected exception."""
    from cryptography.hazmat.primitives import serialization

    sha256_with_rsa = bytes.fromhex("2a864886f70d01010b")  # 1.2.840.113549.1.1.11
    unknown = bytes.fromhex("2a864886f70d010163")  # 1.2.840.113549.1.1.99
    for store, cert in ((ap_trust, pki.receiver.cert), (smp_trust, pki.smp.cert)):
        der = cert.public_bytes(serialization.Encoding.DER)
        assert der.count(sha256_with_rsa) == 2
        mutated = x509.load_der_x509_certificate(der.replace(sha256_with_rsa, unknown))
        with pytest.raises(VerificationError, match="not supported"):
            store.check(mutated)
