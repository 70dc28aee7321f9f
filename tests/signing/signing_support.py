"""Support for the signing tests: a real OCSP responder / CRL server and sample documents.

The responder is an aiohttp server on 127.0.0.1 running in its own thread. It answers OCSP
requests built with ``cryptography.x509.ocsp`` faithfully: it checks the CertID's issuer
hashes, answers ``good`` / ``revoked`` from the PKI, signs with a delegated OCSP-signing
certificate, echoes the nonce, and answers ``unauthorized`` for certificates it does not know.
It also serves the CRLs at ``/crl/<name>.crl`` (the certificates' distribution points).
"""

from __future__ import annotations

import asyncio
import base64
import http.server
import threading
import urllib.parse
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp

from gateway.signing import XadesSigner
from gateway.signing.keys import PrivateKeyProvider
from gateway.signing.testpki import TestPki

DER = serialization.Encoding.DER


class Responder:
    """OCSP responder and CRL server for one :class:`TestPki`."""

    def __init__(self) -> None:
        self.pki: TestPki | None = None
        self.ocsp_down = False
        self.crl_down = False
        self.rogue = False
        self.replay = False
        """Echo a nonce other than the request's (a replayed answer)."""
        """Answer "revoked" for everything, signed with a key the issuer never delegated."""
        self.sha1_only = False
        """Answer only SHA-1 CertIDs, ``unauthorized`` for others (RFC 5019 2.1.1, 2.2.3)."""
        self.answer_hash: hashes.HashAlgorithm | None = None
        """Hash the answer's CertID with this rather than with the request's algorithm."""
        self.ocsp_requests = 0
        self.ocsp_methods: list[str] = []
        """The HTTP method of each OCSP request, in order."""
        self.crl_requests = 0
        self.port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        ready = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(ready,), daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("responder did not start")

    def stop(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(10)

    def _run(self, ready: threading.Event) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        app = web.Application()
        app.router.add_post("/ocsp", self._ocsp)
        app.router.add_get("/ocsp/{request:.+}", self._ocsp_get)
        app.router.add_get("/crl/{name}", self._crl)
        runner = web.AppRunner(app)
        loop.run_until_complete(runner.setup())
        site = web.TCPSite(runner, "127.0.0.1", 0)
        loop.run_until_complete(site.start())
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        ready.set()
        loop.run_forever()
        loop.run_until_complete(runner.cleanup())
        loop.close()

    async def _ocsp(self, request: web.Request) -> web.Response:
        self.ocsp_requests += 1
        self.ocsp_methods.append("POST")
        if self.ocsp_down or self.pki is None:
            return web.Response(status=503)
        body = await request.read()
        try:
            query = ocsp.load_der_ocsp_request(body)
        except ValueError:
            return self._unsuccessful(ocsp.OCSPResponseStatus.MALFORMED_REQUEST)
        return self._answer(query, self.pki)

    async def _ocsp_get(self, request: web.Request) -> web.Response:
        """GET ``/ocsp/{url-encoded base64 of the DER request}`` (RFC 6960 A.1)."""
        self.ocsp_requests += 1
        self.ocsp_methods.append("GET")
        if self.ocsp_down or self.pki is None:
            return web.Response(status=503)
        encoded = request.rel_url.raw_path.removeprefix("/ocsp/")
        try:
            der = base64.b64decode(urllib.parse.unquote(encoded), validate=True)
            query = ocsp.load_der_ocsp_request(der)
        except ValueError:
            return self._unsuccessful(ocsp.OCSPResponseStatus.MALFORMED_REQUEST)
        return self._answer(query, self.pki)

    def _answer(self, query: ocsp.OCSPRequest, pki: TestPki) -> web.Response:
        issuer = pki.intermediate.cert
        known = {
            i.cert.serial_number: i.cert
            for i in (pki.signer_rsa, pki.signer_ec, pki.expired, pki.revoked)
        }
        cert = known.get(query.serial_number)
        if self.sha1_only and not isinstance(query.hash_algorithm, hashes.SHA1):
            return self._unsuccessful(ocsp.OCSPResponseStatus.UNAUTHORIZED)
        if cert is None or not self._same_issuer(query, cert, issuer):
            return self._unsuccessful(ocsp.OCSPResponseStatus.UNAUTHORIZED)
        now = datetime.now(UTC)
        revoked = self.rogue or cert.serial_number == pki.revoked.cert.serial_number
        responder = pki.signer_rsa if self.rogue else pki.ocsp
        response = (
            ocsp.OCSPResponseBuilder()
            .add_response(
                cert=cert,
                issuer=issuer,
                algorithm=self.answer_hash or query.hash_algorithm,
                cert_status=ocsp.OCSPCertStatus.REVOKED if revoked else ocsp.OCSPCertStatus.GOOD,
                this_update=now - timedelta(minutes=1),
                next_update=now + timedelta(hours=1),
                revocation_time=now - timedelta(hours=1) if revoked else None,
                revocation_reason=x509.ReasonFlags.key_compromise if revoked else None,
            )
            .responder_id(ocsp.OCSPResponderEncoding.HASH, responder.cert)
            .certificates([responder.cert])
        )
        for extension in query.extensions:
            if isinstance(extension.value, x509.OCSPNonce):
                nonce = x509.OCSPNonce(b"replayed-nonce-0") if self.replay else extension.value
                response = response.add_extension(nonce, critical=False)
        signed = response.sign(responder.key, hashes.SHA256())
        return web.Response(body=signed.public_bytes(DER), content_type="application/ocsp-response")

    @staticmethod
    def _same_issuer(
        query: ocsp.OCSPRequest, cert: x509.Certificate, issuer: x509.Certificate
    ) -> bool:
        """Whether the request's CertID names ``issuer`` (by name and key hash)."""
        builder = ocsp.OCSPRequestBuilder().add_certificate(cert, issuer, query.hash_algorithm)
        reference = builder.build()
        return (
            query.issuer_key_hash == reference.issuer_key_hash
            and query.issuer_name_hash == reference.issuer_name_hash
        )

    @staticmethod
    def _unsuccessful(status: ocsp.OCSPResponseStatus) -> web.Response:
        body = ocsp.OCSPResponseBuilder.build_unsuccessful(status).public_bytes(DER)
        return web.Response(body=body, content_type="application/ocsp-response")

    async def _crl(self, request: web.Request) -> web.Response:
        self.crl_requests += 1
        if self.crl_down or self.pki is None:
            return web.Response(status=503)
        crls = {"intermediate.crl": self.pki.intermediate_crl, "root.crl": self.pki.root_crl}
        crl = crls.get(request.match_info["name"])
        if crl is None:
            return web.Response(status=404)
        return web.Response(body=crl.public_bytes(DER), content_type="application/pkix-crl")


def signer_for(pki: TestPki, which: str = "signer_rsa", **options: object) -> XadesSigner:
    issued = getattr(pki, which)
    provider = PrivateKeyProvider(issued.key, issued.cert, [pki.intermediate.cert])
    return XadesSigner(provider, **options)  # type: ignore[arg-type]


BILL_OF_LADING = b"""<?xml version="1.0" encoding="UTF-8"?>
<BillOfLading xmlns="urn:oasis:names:specification:ubl:schema:xsd:BillOfLading-2"
  xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
  xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">
  <cbc:UBLVersionID>2.1</cbc:UBLVersionID>
  <cbc:ID>LGW-BL-0001</cbc:ID>
  <cbc:IssueDate>2026-11-20</cbc:IssueDate>
  <cac:ConsignorParty><cac:PartyName><cbc:Name>Shanghai Lingang Exporter</cbc:Name></cac:PartyName></cac:ConsignorParty>
  <cac:CarrierParty><cac:PartyName><cbc:Name>Carrier Line</cbc:Name></cac:PartyName></cac:CarrierParty>
  <cac:Shipment><cbc:ID>SHP-1</cbc:ID></cac:Shipment>
</BillOfLading>
"""


class StaticHttpServer:
    """Answers every GET and POST on 127.0.0.1 with :attr:`body` (a CRL, a recorded OCSP
    response); counts the requests."""

    def __init__(self) -> None:
        self.body = b""
        self.requests = 0
        self.methods: list[str] = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests += 1
                server.methods.append(self.command)
                self.send_response(200)
                self.send_header("Content-Length", str(len(server.body)))
                self.end_headers()
                self.wfile.write(server.body)

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self.do_GET()

            def log_message(self, *args: Any) -> None:
                pass

        self._http = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = int(self._http.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/ca.crl"

    def __enter__(self) -> StaticHttpServer:
        threading.Thread(target=self._http.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._http.shutdown()
        self._http.server_close()


def broken_extensions(cert: x509.Certificate) -> bytes:
    """``cert``'s DER with its basicConstraints value claiming more bytes than it has: the
    certificate still loads (``cryptography`` reads extensions only when asked)."""
    der = cert.public_bytes(serialization.Encoding.DER)
    start = der.index(bytes.fromhex("0603551d13"))  # the basicConstraints OID
    inner = der.index(b"\x30\x03", start)  # its value: SEQUENCE { cA TRUE }
    broken = der[:inner] + b"\x30\x07" + der[inner + 2 :]
    try:
        _ = x509.load_der_x509_certificate(broken).extensions
    except ValueError:
        return broken
    raise AssertionError("the extensions still read")


P256_CURVE = bytes.fromhex("2a8648ce3d030107")
SM2_CURVE = bytes.fromhex("2a811ccf5501822d")
"""The DER of the curve OIDs P-256 (1.2.840.10045.3.1.7) and SM2 (1.2.156.10197.1.301), the
curve of China's commercial cryptography, which ``cryptography`` does not support."""


def as_sm2(cert: x509.Certificate) -> bytes:
    """The DER of a P-256 certificate with its key's curve named SM2 (the key then cannot be
    used: ``public_key()`` raises UnsupportedAlgorithm)."""
    der = cert.public_bytes(serialization.Encoding.DER)
    assert der.count(P256_CURVE) == 1
    return der.replace(P256_CURVE, SM2_CURVE)


def unreadable_subject(cert: x509.Certificate) -> bytes:
    """The DER of ``cert`` with its common name's string type replaced by tag 7, which no
    name may use: the certificate loads, and reading its subject raises KeyError."""
    der = cert.public_bytes(serialization.Encoding.DER)
    value = str(cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value).encode()
    at = der.rindex(value) - 2  # the UTF8String's tag, then its length
    assert der[at] == 0x0C
    return der[:at] + b"\x07" + der[at + 1 :]
