"""A throw-away TLS PKI for the demo and tests: one CA, a server cert for 127.0.0.1/localhost
and a client cert for mutual TLS. Never use these files for anything real."""

from __future__ import annotations

import ipaddress
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


@dataclass(frozen=True, slots=True)
class TlsFiles:
    """PEM files of the throw-away PKI."""

    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path

    def server_context(self, *, require_client_cert: bool = True) -> ssl.SSLContext:
        """A server-side context; with mutual TLS unless told otherwise."""
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(str(self.server_cert), str(self.server_key))
        if require_client_cert:
            context.load_verify_locations(cafile=str(self.ca))
            context.verify_mode = ssl.CERT_REQUIRED
        return context

    def client_context(self) -> ssl.SSLContext:
        """A client-side context trusting the CA and presenting the client certificate."""
        context = ssl.create_default_context(cafile=str(self.ca))
        context.load_cert_chain(str(self.client_cert), str(self.client_key))
        return context


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Lingang Gateway test PKI"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    path.chmod(0o600)


def _issue(
    subject: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: x509.Certificate | None,
    issuer_key: ec.EllipticCurvePrivateKey,
    *,
    usage: ExtendedKeyUsage | None = None,
) -> x509.Certificate:
    now = datetime.now(UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(issuer.subject if issuer else _name(subject))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=30))
    )
    if issuer is None:
        builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=0), True)
        builder = builder.add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), True
        )
    else:
        builder = builder.add_extension(x509.BasicConstraints(ca=False, path_length=None), True)
    if usage is not None:
        builder = builder.add_extension(x509.ExtendedKeyUsage([usage.oid]), False)
        if usage.server:
            builder = builder.add_extension(
                x509.SubjectAlternativeName(
                    [
                        x509.DNSName("localhost"),
                        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                    ]
                ),
                False,
            )
    builder = builder.add_extension(
        x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False
    )
    return builder.sign(issuer_key, hashes.SHA256())


@dataclass(frozen=True, slots=True)
class ExtendedKeyUsage:
    """Which end of a TLS connection a certificate is for."""

    oid: x509.ObjectIdentifier
    server: bool


SERVER = ExtendedKeyUsage(ExtendedKeyUsageOID.SERVER_AUTH, True)
CLIENT = ExtendedKeyUsage(ExtendedKeyUsageOID.CLIENT_AUTH, False)


def make_tls(directory: Path) -> TlsFiles:
    """Create (or reuse, if all files exist) the throw-away PKI in ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    files = TlsFiles(
        ca=directory / "tls-ca.pem",
        server_cert=directory / "tls-server.pem",
        server_key=directory / "tls-server.key",
        client_cert=directory / "tls-client.pem",
        client_key=directory / "tls-client.key",
    )
    if all(p.exists() for p in (files.ca, files.server_cert, files.client_cert)):
        return files
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _issue("Lingang test TLS CA", ca_key, None, ca_key)
    files.ca.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    for cert_path, key_path, usage, name in (
        (files.server_cert, files.server_key, SERVER, "127.0.0.1"),
        (files.client_cert, files.client_key, CLIENT, "lingang-gateway"),
    ):
        key = ec.generate_private_key(ec.SECP256R1())
        cert = _issue(name, key, ca, ca_key, usage=usage)
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        _write_key(key_path, key)
    return files
