"""OCSP requests follow RFC 5019: no nonce unless asked, freshness judged by time.

RFC 5019 2.1.1: "Clients SHOULD NOT include the requestExtensions structure", and 4: clients
"MUST be able to determine OCSPResponse freshness based on an accurate source of time". The
checker sent a 16-octet nonce with every request: each GET URL was new, so no HTTP cache in
front of a responder could ever answer it (RFC 5019 5, 6), for a nonce the high-volume
responders of public CAs ignore. Now no nonce is sent unless ``nonce=True`` (then 32 octets,
the most RFC 8954 2.1 allows, and another request's nonce is refused). Replays are bounded
by the answer's times: a recorded 'good' answer past its nextUpdate, or one claiming to be
produced in the future, is no answer.

The responder is Debian's ``openssl ocsp`` (tests/live_revocation.py), reached through a
recording pass-through so the tests see the request exactly as it went over the wire.
"""

from __future__ import annotations

import base64
import http.server
import shutil
import threading
import urllib.parse
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509 import ocsp

from gateway.signing import revocation
from gateway.signing.revocation import RevocationChecker, RevokedError
from tests.live_revocation import RevocationLab, revocation_lab, self_signed_ca

from .signing_support import StaticHttpServer

if shutil.which("openssl") is None:
    pytest.skip("openssl is not installed", allow_module_level=True)


class RecordingProxy:
    """Passes OCSP requests (GET or POST) on to ``target`` and keeps each one's DER."""

    def __init__(self, target: str) -> None:
        self.requests: list[tuple[str, str, bytes]] = []
        """(method, path, DER request) of each request, in order."""
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                encoded = urllib.parse.unquote(self.path.lstrip("/"))
                der = base64.b64decode(encoded)
                proxy.requests.append(("GET", self.path, der))
                self._forward(urllib.request.Request(target + self.path, method="GET"))

            def do_POST(self) -> None:
                der = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                proxy.requests.append(("POST", self.path, der))
                headers = {"Content-Type": "application/ocsp-request"}
                self._forward(urllib.request.Request(target, der, headers, method="POST"))

            def _forward(self, request: urllib.request.Request) -> None:
                with urllib.request.urlopen(request, timeout=5) as answer:
                    body = answer.read()
                self.send_response(200)
                self.send_header("Content-Type", "application/ocsp-response")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self._http = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._http.server_address[1]}"
        threading.Thread(target=self._http.serve_forever, daemon=True).start()

    def close(self) -> None:
        self._http.shutdown()
        self._http.server_close()

    def request(self, index: int) -> ocsp.OCSPRequest:
        return ocsp.load_der_ocsp_request(self.requests[index][2])


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[RevocationLab]:
    cert, key = self_signed_ca("OCSP nonce test CA")
    with revocation_lab(tmp_path / "ca", cert, key) as made:
        yield made


@pytest.fixture
def proxy(lab: RevocationLab) -> Iterator[RecordingProxy]:
    made = RecordingProxy(lab.ocsp_url)
    try:
        yield made
    finally:
        made.close()


def test_requests_carry_no_nonce_and_repeat_as_the_same_cacheable_get(
    lab: RevocationLab, proxy: RecordingProxy
) -> None:
    cert, _ = lab.issue("signer", ocsp_url=proxy.url)
    lab.start_ocsp()
    for _ in range(2):  # two checkers: nothing remembered between them
        assert RevocationChecker(timeout=5.0).status(cert, lab.ca_cert) == f"good:ocsp {proxy.url}"
    (first, second) = proxy.requests
    assert first[0] == "GET" and first == second
    assert len(proxy.request(0).extensions) == 0


def test_a_revocation_is_seen_without_a_nonce(lab: RevocationLab, proxy: RecordingProxy) -> None:
    cert, _ = lab.issue("signer", ocsp_url=proxy.url)
    lab.revoke(cert)
    lab.start_ocsp()
    with pytest.raises(RevokedError, match="OCSP"):
        RevocationChecker(timeout=5.0).status(cert, lab.ca_cert)


def test_a_nonce_when_asked_is_32_octets_and_the_responder_echoes_it(
    lab: RevocationLab, proxy: RecordingProxy
) -> None:
    cert, _ = lab.issue("signer", ocsp_url=proxy.url)
    lab.start_ocsp()
    checker = RevocationChecker(timeout=5.0, nonce=True)
    assert checker.status(cert, lab.ca_cert) == f"good:ocsp {proxy.url}"
    (extension,) = proxy.request(0).extensions
    sent = extension.value
    assert isinstance(sent, x509.OCSPNonce) and len(sent.nonce) == 32


def test_a_recorded_good_answer_past_its_next_update_cannot_hide_a_revocation(
    lab: RevocationLab,
) -> None:
    """Without a nonce, a replayed answer is refused by its times: recorded while the
    certificate was good, replayed after it was revoked and after the answer's nextUpdate."""
    with StaticHttpServer() as responder, StaticHttpServer() as crls:
        cert, _ = lab.issue("signer", ocsp_url=responder.url, crl_url=crls.url)
        earlier = datetime.now(UTC) - timedelta(hours=2)
        responder.body = lab.good_answer(cert, this_update=earlier, lifetime=timedelta(hours=1))
        lab.revoke(cert)
        crls.body = lab.crl().public_bytes(serialization.Encoding.DER)
        with pytest.raises(RevokedError, match="CRL"):
            RevocationChecker(timeout=2.0).status(cert, lab.ca_cert)
        assert responder.requests == 1


def test_an_answer_produced_in_the_future_is_not_current(lab: RevocationLab) -> None:
    """producedAt later than now (beyond the clock skew) makes an answer unreliable, as a
    thisUpdate in the future does (RFC 6960 4.2.2.1). ``cryptography`` stamps producedAt
    with the time of signing, so the checker's clock is set back instead."""
    cert, _ = lab.issue("signer")
    now = datetime.now(UTC)
    der = lab.good_answer(cert, this_update=now - timedelta(hours=2), lifetime=timedelta(hours=4))
    answer = ocsp.load_der_ocsp_response(der)
    (single,) = answer.responses
    assert revocation._current(answer, single, now)
    earlier = now - revocation.CLOCK_SKEW - timedelta(minutes=1)
    assert single.this_update_utc < earlier < single.next_update_utc  # only producedAt is ahead
    assert not revocation._current(answer, single, earlier)
