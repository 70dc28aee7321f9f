"""A Peppol-like test PKI (G3 shape) for the AS4 and SMP tests and demos.

:func:`make_peppol_pki` writes into a folder::

    peppol-root.pem                     "Lingang Test Peppol Root CA - G3"
    ap-ca.pem                           access point CA (issued by the root)
    smp-ca.pem                          SMP CA (issued by the root)
    ap-sender.pem / .key.pem            our access point, seat id PSG000001
    ap-receiver.pem / .key.pem          a receiving access point, PSG000002
    smp.pem / .key.pem                  an SMP, PSG000003
    rogue-ca.pem, ap-rogue.pem / .key   an AP certificate from a CA nobody trusts (negative tests)

Seat ids follow the ``P?? 000000`` form (``P`` + country + six digits). All keys are RSA 2048
(Peppol AS4 2.0.3 signs RSA-SHA256), written unencrypted and ``0600``: test material only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from gateway.private_files import private_dir, write_private


@dataclass(frozen=True, slots=True)
class PeppolIssued:
    """A certificate with its key."""

    cert: x509.Certificate
    key: rsa.RSAPrivateKey


@dataclass(frozen=True, slots=True)
class PeppolTestPki:
    """The made PKI, in memory and as files under :attr:`folder`."""

    __test__ = False

    folder: Path
    root: PeppolIssued
    ap_ca: PeppolIssued
    smp_ca: PeppolIssued
    sender: PeppolIssued
    receiver: PeppolIssued
    smp: PeppolIssued
    rogue_ca: PeppolIssued
    rogue: PeppolIssued

    def path(self, name: str) -> Path:
        return self.folder / name


def _name(common_name: str, unit: str, country: str = "SG", uid: str | None = None) -> x509.Name:
    attributes = [
        x509.NameAttribute(NameOID.COUNTRY_NAME, country),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Lingang Gateway Test"),
        x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, unit),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
    ]
    if uid is not None:
        attributes.append(x509.NameAttribute(NameOID.USER_ID, uid))
    return x509.Name(attributes)


def _issue(
    name: x509.Name, issuer: PeppolIssued | None, *, ca: bool, now: datetime, days: int
) -> PeppolIssued:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer.cert.subject if issuer else name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=days))
        .add_extension(
            x509.BasicConstraints(ca=ca, path_length=0 if ca and issuer else None), critical=True
        )
        .add_extension(
            x509.KeyUsage(
                digital_signature=not ca,
                content_commitment=False,
                key_encipherment=not ca,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=ca,
                crl_sign=ca,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    if issuer is not None:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()),
            critical=False,
        )
    if not ca:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False
        )
    signer = issuer.key if issuer else key
    return PeppolIssued(builder.sign(signer, hashes.SHA256()), key)


def issue_access_point(
    ca: PeppolIssued,
    seat_id: str,
    *,
    not_before: datetime,
    not_after: datetime,
    unit: str = "PEPPOL TEST AP",
) -> PeppolIssued:
    """One more AP certificate from ``ca`` with the given validity (an expired or a
    to-be-revoked sender in negative tests) and network (``unit``, its subject OU)."""
    issued = _issue(_name(seat_id, unit), ca, ca=False, now=not_before, days=1)
    key = issued.key
    builder = (
        x509.CertificateBuilder()
        .subject_name(issued.cert.subject)
        .issuer_name(ca.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
    )
    for extension in issued.cert.extensions:
        builder = builder.add_extension(extension.value, critical=extension.critical)
    return PeppolIssued(builder.sign(ca.key, hashes.SHA256()), key)


def issue_smp(
    ca: PeppolIssued,
    seat_id: str,
    *,
    uid: str | None = None,
    now: datetime | None = None,
    unit: str = "PEPPOL TEST SMP",
) -> PeppolIssued:
    """One more SMP certificate from ``ca`` (a second SMP, the target of a redirect), with a
    ``UID`` attribute in its subject when ``uid`` is given, of the network ``unit`` names
    (its subject OU)."""
    return _issue(
        _name(seat_id, unit, uid=uid),
        ca,
        ca=False,
        now=now or datetime.now(UTC),
        days=365,
    )


def make_peppol_pki(folder: str | Path, *, now: datetime | None = None) -> PeppolTestPki:
    """Make the PKI and write it into ``folder`` (created if missing)."""
    out = private_dir(Path(folder))
    now = now or datetime.now(UTC)
    root = _issue(
        _name("Lingang Test Peppol Root CA - G3", "FOR TEST ONLY"),
        None,
        ca=True,
        now=now,
        days=3650,
    )
    ap_ca = _issue(
        _name("Lingang Test Peppol Access Point CA - G3", "FOR TEST ONLY"),
        root,
        ca=True,
        now=now,
        days=1825,
    )
    smp_ca = _issue(
        _name("Lingang Test Peppol SMP CA - G3", "FOR TEST ONLY"), root, ca=True, now=now, days=1825
    )
    rogue_ca = _issue(
        _name("Rogue Access Point CA", "NOT PEPPOL"), None, ca=True, now=now, days=365
    )
    pki = PeppolTestPki(
        folder=out,
        root=root,
        ap_ca=ap_ca,
        smp_ca=smp_ca,
        sender=_issue(_name("PSG000001", "PEPPOL TEST AP"), ap_ca, ca=False, now=now, days=365),
        receiver=_issue(_name("PSG000002", "PEPPOL TEST AP"), ap_ca, ca=False, now=now, days=365),
        smp=_issue(_name("PSG000003", "PEPPOL TEST SMP"), smp_ca, ca=False, now=now, days=365),
        rogue_ca=rogue_ca,
        rogue=_issue(_name("PSG000009", "PEPPOL TEST AP"), rogue_ca, ca=False, now=now, days=365),
    )
    pem = serialization.Encoding.PEM
    for file, issued in {
        "peppol-root": pki.root,
        "ap-ca": pki.ap_ca,
        "smp-ca": pki.smp_ca,
        "rogue-ca": pki.rogue_ca,
    }.items():
        pki.path(f"{file}.pem").write_bytes(issued.cert.public_bytes(pem))
    for file, issued in {
        "ap-sender": pki.sender,
        "ap-receiver": pki.receiver,
        "smp": pki.smp,
        "ap-rogue": pki.rogue,
    }.items():
        pki.path(f"{file}.pem").write_bytes(issued.cert.public_bytes(pem))
        write_private(
            pki.path(f"{file}.key.pem"),
            issued.key.private_bytes(
                pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            ),
        )
    return pki
