"""Live revocation services on 127.0.0.1 for tests: Debian's ``openssl ocsp`` as an OCSP
responder over an OpenSSL CA index, and a CRL served over plain HTTP.

:class:`RevocationLab` issues end-entity certificates under a given CA whose Authority
Information Access names the responder's URL and whose CRL distribution point names the CRL
server's, so a :class:`gateway.signing.revocation.RevocationChecker` finds both the way it
would in production.
"""

from __future__ import annotations

import contextlib
import http.server
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509 import ocsp
from cryptography.x509.oid import NameOID

CaKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
SubjectKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey


def free_port() -> int:
    """A port nobody listens on right now (bind to 0, read it, close)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_listening(process: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    """Wait for ``openssl ocsp`` to say it accepts connections (a probe connection that
    sends nothing would hold its one-at-a-time loop, spinning)."""
    assert process.stderr is not None
    deadline = time.monotonic() + timeout
    seen = b""
    while time.monotonic() < deadline and b"waiting for OCSP client" not in seen:
        line = process.stderr.readline()
        if not line and process.poll() is not None:
            raise RuntimeError(f"openssl ocsp exited with {process.returncode}: {seen!r}")
        seen += line
    if b"waiting for OCSP client" not in seen:
        raise RuntimeError(f"openssl ocsp did not start: {seen!r}")


@dataclass
class RevocationLab:
    """A CA's revocation services: index + OCSP responder, and a CRL over HTTP."""

    folder: Path
    ca_cert: x509.Certificate
    ca_key: CaKey
    ocsp_port: int = field(default_factory=free_port)
    crl_port: int = field(default_factory=free_port)
    revoked: list[x509.Certificate] = field(default_factory=list)
    issued: list[x509.Certificate] = field(default_factory=list)
    _responder: subprocess.Popen[bytes] | None = None
    _crl_server: http.server.ThreadingHTTPServer | None = None

    @property
    def ocsp_url(self) -> str:
        return f"http://127.0.0.1:{self.ocsp_port}"

    @property
    def crl_url(self) -> str:
        return f"http://127.0.0.1:{self.crl_port}/ca.crl"

    def issue(
        self,
        common_name: str,
        key: SubjectKey | None = None,
        *,
        ocsp_url: str | None = None,
        crl_url: str | None = None,
    ) -> tuple[x509.Certificate, SubjectKey]:
        """An end-entity certificate naming ``ocsp_url`` (default: the lab's responder) and
        ``crl_url`` (default: none) for its revocation status."""
        key = key or rsa.generate_private_key(public_exponent=65537, key_size=2048)
        now = datetime.now(UTC)
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
            .issuer_name(self.ca_cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.AuthorityInformationAccess(
                    [
                        x509.AccessDescription(
                            x509.oid.AuthorityInformationAccessOID.OCSP,
                            x509.UniformResourceIdentifier(ocsp_url or self.ocsp_url),
                        )
                    ]
                ),
                critical=False,
            )
        )
        if crl_url is not None:
            builder = builder.add_extension(
                x509.CRLDistributionPoints(
                    [
                        x509.DistributionPoint(
                            [x509.UniformResourceIdentifier(crl_url)], None, None, None
                        )
                    ]
                ),
                critical=False,
            )
        cert = builder.sign(self.ca_key, hashes.SHA256())
        self.issued.append(cert)
        return cert, key

    def revoke(self, cert: x509.Certificate) -> None:
        """Mark ``cert`` revoked (before :meth:`start`: the index and CRL are written then)."""
        self.revoked.append(cert)

    def _index_line(self, cert: x509.Certificate) -> str:
        expiry = cert.not_valid_after_utc.strftime("%y%m%d%H%M%SZ")
        serial = f"{cert.serial_number:X}"
        serial = serial if len(serial) % 2 == 0 else "0" + serial
        subject = "/" + "/".join(f"{a.rfc4514_attribute_name}={a.value}" for a in cert.subject)
        if cert in self.revoked:
            when = (datetime.now(UTC) - timedelta(hours=1)).strftime("%y%m%d%H%M%SZ")
            return f"R\t{expiry}\t{when}\t{serial}\tunknown\t{subject}\n"
        return f"V\t{expiry}\t\t{serial}\tunknown\t{subject}\n"

    def crl(self) -> x509.CertificateRevocationList:
        now = datetime.now(UTC)
        builder = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(self.ca_cert.subject)
            .last_update(now - timedelta(minutes=1))
            .next_update(now + timedelta(days=1))
        )
        for cert in self.revoked:
            builder = builder.add_revoked_certificate(
                x509.RevokedCertificateBuilder()
                .serial_number(cert.serial_number)
                .revocation_date(now - timedelta(hours=1))
                .build()
            )
        return builder.sign(self.ca_key, hashes.SHA256())

    def good_answer(
        self,
        cert: x509.Certificate,
        *,
        cert_id_hash: hashes.HashAlgorithm | None = None,
        this_update: datetime | None = None,
        lifetime: timedelta | None = timedelta(hours=1),
        signer: tuple[x509.Certificate, CaKey] | None = None,
        certificates: list[x509.Certificate] | None = None,
    ) -> bytes:
        """The DER of a signed OCSP "good" answer about ``cert``: its CertID hashed with
        ``cert_id_hash`` (SHA-1 unless given), thisUpdate a minute ago unless given,
        nextUpdate ``lifetime`` later (``None``: none), signed by ``signer`` (the CA unless
        given) and carrying ``certificates`` (none unless given)."""
        this = this_update or datetime.now(UTC) - timedelta(minutes=1)
        signer_cert, signer_key = signer or (self.ca_cert, self.ca_key)
        answer = (
            ocsp.OCSPResponseBuilder()
            .add_response(
                cert=cert,
                issuer=self.ca_cert,
                algorithm=cert_id_hash or hashes.SHA1(),
                cert_status=ocsp.OCSPCertStatus.GOOD,
                this_update=this,
                next_update=None if lifetime is None else this + lifetime,
                revocation_time=None,
                revocation_reason=None,
            )
            .responder_id(ocsp.OCSPResponderEncoding.HASH, signer_cert)
        )
        if certificates:
            answer = answer.certificates(certificates)
        signed = answer.sign(signer_key, hashes.SHA256())
        return signed.public_bytes(serialization.Encoding.DER)

    def start_ocsp(self, signer: tuple[x509.Certificate, SubjectKey] | None = None) -> None:
        """Write the CA index and start ``openssl ocsp`` on :attr:`ocsp_port`, signing its
        answers with the CA's own key or, given ``signer``, as that delegated responder
        (whose certificate it puts in every answer)."""
        openssl = shutil.which("openssl")
        if openssl is None:
            raise RuntimeError("openssl is not installed")
        self.folder.mkdir(parents=True, exist_ok=True)
        index = self.folder / "index.txt"
        index.write_text("".join(self._index_line(c) for c in self.issued), "ascii")
        pem = serialization.Encoding.PEM
        (self.folder / "ca.pem").write_bytes(self.ca_cert.public_bytes(pem))
        (self.folder / "ca.key.pem").write_bytes(
            self.ca_key.private_bytes(
                pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        rsigner, rkey = self.folder / "ca.pem", self.folder / "ca.key.pem"
        if signer is not None:
            rsigner, rkey = self.folder / "responder.pem", self.folder / "responder.key.pem"
            rsigner.write_bytes(signer[0].public_bytes(pem))
            rkey.write_bytes(
                signer[1].private_bytes(
                    pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
                )
            )
        self._responder = subprocess.Popen(
            [
                openssl,
                "ocsp",
                "-index",
                str(index),
                "-port",
                str(self.ocsp_port),  # openssl 3.0 takes a port number only (all interfaces)
                "-CA",
                str(self.folder / "ca.pem"),
                "-rsigner",
                str(rsigner),
                "-rkey",
                str(rkey),
                "-nmin",
                "5",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        _wait_listening(self._responder)
        assert self._responder.stderr is not None
        threading.Thread(target=self._responder.stderr.read, daemon=True).start()  # drain

    def stop_ocsp(self) -> None:
        if self._responder is not None and self._responder.poll() is None:
            self._responder.terminate()
            self._responder.wait(timeout=10)
        self._responder = None

    def start_crl_server(self) -> None:
        """Serve the CA's current CRL (DER) at :attr:`crl_url`."""
        body = self.crl().public_bytes(serialization.Encoding.DER)

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path != "/ca.crl":
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/pkix-crl")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self._crl_server = http.server.ThreadingHTTPServer(("127.0.0.1", self.crl_port), Handler)
        threading.Thread(target=self._crl_server.serve_forever, daemon=True).start()

    def stop_crl_server(self) -> None:
        if self._crl_server is not None:
            self._crl_server.shutdown()
            self._crl_server.server_close()
        self._crl_server = None

    def stop(self) -> None:
        self.stop_ocsp()
        self.stop_crl_server()


def self_signed_ca(
    common_name: str, *, since_days: int = 1
) -> tuple[x509.Certificate, rsa.RSAPrivateKey]:
    """A self-signed RSA CA valid from ``since_days`` ago for a year, for a lab of its own."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=since_days))
        .not_valid_after(now + timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return cert, key


@contextlib.contextmanager
def revocation_lab(
    folder: Path, ca_cert: x509.Certificate, ca_key: CaKey
) -> Iterator[RevocationLab]:
    """A :class:`RevocationLab`, stopped on exit."""
    lab = RevocationLab(folder, ca_cert, ca_key)
    try:
        yield lab
    finally:
        lab.stop()
