"""A complete test PKI for demos and tests, made with ``cryptography``.

:func:`make_test_pki` writes into a folder::

    root.pem / root.key.pem                  root CA (RSA 2048, 10 years)
    intermediate.pem / intermediate.key.pem  intermediate CA issued by the root
    signer-rsa.pem / .key.pem / .p12         gateway signing certificate, RSA 2048
    signer-ec.pem / .key.pem                 gateway signing certificate, ECDSA P-256
    expired.pem / .key.pem                   a signing certificate that expired yesterday
    revoked.pem / .key.pem                   a signing certificate revoked in the CRL and by OCSP
    ocsp.pem / ocsp.key.pem                  OCSP responder (OCSPSigning, id-pkix-ocsp-nocheck)
                                             delegated by the intermediate
    intermediate.crl.pem / root.crl.pem      CRLs (the intermediate's lists ``revoked``)
    chain.pem                                the intermediate (to pass as ``--chain``)

End-entity certificates name ``ocsp_url`` (AIA) and ``{crl_base}/intermediate.crl`` (CDP) when
those are given; the intermediate names ``{crl_base}/root.crl``. The PKCS#12 file's password
is ``password`` (default :data:`P12_PASSWORD`, ``test``). Private keys are written unencrypted,
``0600`` in a ``0700`` folder: this is test material only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID, NameOID

from gateway.private_files import private_dir, write_private
from gateway.signing.keys import PrivateKey

P12_PASSWORD = b"test"


@dataclass(frozen=True, slots=True)
class Issued:
    """A certificate with its key."""

    cert: x509.Certificate
    key: PrivateKey


@dataclass(frozen=True, slots=True)
class TestPki:
    """The made PKI, in memory and as files under :attr:`folder`."""

    __test__ = False

    folder: Path
    root: Issued
    intermediate: Issued
    signer_rsa: Issued
    signer_ec: Issued
    expired: Issued
    revoked: Issued
    ocsp: Issued
    intermediate_crl: x509.CertificateRevocationList
    root_crl: x509.CertificateRevocationList

    def path(self, name: str) -> Path:
        """Path of one written file (e.g. ``"signer-rsa.key.pem"``)."""
        return self.folder / name


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Lingang Gateway Test PKI"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _rsa() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _usage(*, ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not ca,
        content_commitment=not ca,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


def _issue(
    subject: str,
    key: PrivateKey,
    issuer: Issued | None,
    *,
    ca: bool,
    start: datetime,
    end: datetime,
    ocsp_url: str | None = None,
    crl_url: str | None = None,
    ocsp_signing: bool = False,
) -> Issued:
    signer_key = issuer.key if issuer else key
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(issuer.cert.subject if issuer else _name(subject))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(_usage(ca=ca), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    if issuer is not None:
        ski = x509.SubjectKeyIdentifier.from_public_key(issuer.key.public_key())
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False
        )
    if ocsp_url:
        access = x509.AccessDescription(
            AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier(ocsp_url)
        )
        builder = builder.add_extension(x509.AuthorityInformationAccess([access]), critical=False)
    if crl_url:
        point = x509.DistributionPoint([x509.UniformResourceIdentifier(crl_url)], None, None, None)
        builder = builder.add_extension(x509.CRLDistributionPoints([point]), critical=False)
    if ocsp_signing:
        eku = x509.ExtendedKeyUsage([ExtendedKeyUsageOID.OCSP_SIGNING])
        builder = builder.add_extension(eku, critical=False)
        builder = builder.add_extension(x509.OCSPNoCheck(), critical=False)
    return Issued(builder.sign(signer_key, hashes.SHA256()), key)


def _crl(
    issuer: Issued, revoked: list[x509.Certificate], now: datetime
) -> x509.CertificateRevocationList:
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer.cert.subject)
        .last_update(now - timedelta(minutes=1))
        .next_update(now + timedelta(days=7))
    )
    for cert in revoked:
        entry = (
            x509.RevokedCertificateBuilder()
            .serial_number(cert.serial_number)
            .revocation_date(now - timedelta(minutes=1))
            .build()
        )
        builder = builder.add_revoked_certificate(entry)
    return builder.sign(issuer.key, hashes.SHA256())


def make_test_pki(
    folder: str | Path,
    *,
    ocsp_url: str | None = None,
    crl_base: str | None = None,
    now: datetime | None = None,
    password: bytes = P12_PASSWORD,
) -> TestPki:
    """Make the PKI and write it into ``folder`` (created if missing); ``password`` protects
    ``signer-rsa.p12``."""
    out = private_dir(Path(folder))
    now = now or datetime.now(UTC)
    start, end = now - timedelta(days=1), now + timedelta(days=365)
    root = _issue(
        "Test Root CA", _rsa(), None, ca=True, start=start, end=now + timedelta(days=3650)
    )
    root_crl_url = f"{crl_base}/root.crl" if crl_base else None
    inter_crl_url = f"{crl_base}/intermediate.crl" if crl_base else None
    inter = _issue(
        "Test Intermediate CA",
        _rsa(),
        root,
        ca=True,
        start=start,
        end=now + timedelta(days=1825),
        crl_url=root_crl_url,
    )

    def leaf(name: str, key: PrivateKey, begin: datetime = start, finish: datetime = end) -> Issued:
        return _issue(
            name,
            key,
            inter,
            ca=False,
            start=begin,
            end=finish,
            ocsp_url=ocsp_url,
            crl_url=inter_crl_url,
        )

    revoked = leaf("Revoked Signer", ec.generate_private_key(ec.SECP256R1()))
    pki = TestPki(
        folder=out,
        root=root,
        intermediate=inter,
        signer_rsa=leaf("Lingang Gateway Signing RSA", _rsa()),
        signer_ec=leaf("Lingang Gateway Signing EC", ec.generate_private_key(ec.SECP256R1())),
        expired=leaf(
            "Expired Signer",
            ec.generate_private_key(ec.SECP256R1()),
            now - timedelta(days=30),
            now - timedelta(days=1),
        ),
        revoked=revoked,
        ocsp=_issue(
            "Test OCSP Responder",
            ec.generate_private_key(ec.SECP256R1()),
            inter,
            ca=False,
            start=start,
            end=end,
            ocsp_signing=True,
        ),
        intermediate_crl=_crl(inter, [revoked.cert], now),
        root_crl=_crl(root, [], now),
    )
    _write(pki, password)
    return pki


def _pem_key(key: PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _write(pki: TestPki, password: bytes) -> None:
    pem = serialization.Encoding.PEM
    items = {
        "root": pki.root,
        "intermediate": pki.intermediate,
        "signer-rsa": pki.signer_rsa,
        "signer-ec": pki.signer_ec,
        "expired": pki.expired,
        "revoked": pki.revoked,
        "ocsp": pki.ocsp,
    }
    for name, issued in items.items():
        pki.path(f"{name}.pem").write_bytes(issued.cert.public_bytes(pem))
        write_private(pki.path(f"{name}.key.pem"), _pem_key(issued.key))
    pki.path("chain.pem").write_bytes(pki.intermediate.cert.public_bytes(pem))
    pki.path("intermediate.crl.pem").write_bytes(pki.intermediate_crl.public_bytes(pem))
    pki.path("root.crl.pem").write_bytes(pki.root_crl.public_bytes(pem))
    p12 = pkcs12.serialize_key_and_certificates(
        b"lingang-signer",
        pki.signer_rsa.key,
        pki.signer_rsa.cert,
        [pki.intermediate.cert],
        serialization.BestAvailableEncryption(password),
    )
    write_private(pki.path("signer-rsa.p12"), p12)
