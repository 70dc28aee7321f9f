"""Test certificates on P-256 keys, made one at a time: a root (no ``issuer``), a CA or an
end entity, with the extensions a test needs. Shared by the path-validation tests."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

Issued = tuple[x509.Certificate, ec.EllipticCurvePrivateKey]
"""A certificate with its private key."""


def role_usage(*, ca: bool) -> x509.KeyUsage:
    """keyCertSign and cRLSign for a CA, digitalSignature for an end entity."""
    return x509.KeyUsage(
        digital_signature=not ca,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


def issue(
    subject: str | x509.Name,
    issuer: Issued | None,
    *,
    ca: bool,
    path_length: int | None = None,
    usage: bool = False,
    extensions: Sequence[tuple[x509.ExtensionType, bool]] = (),
    since: timedelta = timedelta(days=-1),
    until: timedelta = timedelta(days=30),
    now: datetime | None = None,
) -> Issued:
    """A certificate for ``subject`` (a common name, or a whole name) signed by ``issuer``
    (self-signed without one), valid from ``now + since`` to ``now + until``, with a critical
    basicConstraints, the critical keyUsage of its role when ``usage``, then ``extensions``
    (each with its criticality)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = (
        subject
        if isinstance(subject, x509.Name)
        else x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    )
    moment = now or datetime.now(UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer[0].subject if issuer else name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(moment + since)
        .not_valid_after(moment + until)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=path_length), critical=True)
    )
    if usage:
        builder = builder.add_extension(role_usage(ca=ca), critical=True)
    for value, critical in extensions:
        builder = builder.add_extension(value, critical=critical)
    return builder.sign(issuer[1] if issuer else key, hashes.SHA256()), key
