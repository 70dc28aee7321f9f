"""OCSP responders and CRL servers that misbehave on 127.0.0.1: an answer trickled a byte at a
time, or bytes that are not HTTP, are no answer ('unknown'), and quickly.

The checker's ``timeout`` bounded each wait for a byte, not the answer: a responder (or
anything on the plain-HTTP path to it) sending a byte every 50 ms made a check with a 1 s
timeout take 35 s, holding the thread that verifies an incoming AS4 message or PINT
envelope; a 16 MiB CRL at that pace holds it for days. And an answer that is not HTTP
(``http.client.BadStatusLine``, ``LineTooLong``, a broken chunked body) escaped the checker as
an exception instead of 'no answer'.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from gateway.signing.revocation import RevocationChecker
from tests.live_revocation import RevocationLab, self_signed_ca

TIMEOUT = 1.0


@contextmanager
def misbehaving_server(
    head: bytes, body: bytes = b"", pause: float = 0.0, *, speaks_first: bool = False
) -> Iterator[int]:
    """A server on 127.0.0.1 that answers every request with ``head``, then ``body`` a
    byte each ``pause`` seconds (``speaks_first``: without waiting for a request, as an
    FTP server greets); yields its port."""
    listener = socket.create_server(("127.0.0.1", 0))
    stopping = threading.Event()

    def answer(connection: socket.socket) -> None:
        with connection:
            try:
                if not speaks_first:
                    connection.recv(65536)
                connection.sendall(head)
                for byte in body:
                    if stopping.is_set():
                        return
                    connection.sendall(bytes([byte]))
                    time.sleep(pause)
            except OSError:
                return

    def serve() -> None:
        while not stopping.is_set():
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=answer, args=(connection,), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    try:
        yield int(listener.getsockname()[1])
    finally:
        stopping.set()
        listener.close()


@pytest.fixture
def lab(tmp_path: Path) -> RevocationLab:
    cert, key = self_signed_ca("Misbehaving responders test CA")
    return RevocationLab(tmp_path / "ca", cert, key)


def _status_of_cert_served_by(lab: RevocationLab, port: int) -> tuple[str, float]:
    """The status of a certificate whose OCSP responder and CRL are both at ``port``, and
    how long the check took."""
    base = f"http://127.0.0.1:{port}"
    cert, _ = lab.issue("served", ocsp_url=f"{base}/ocsp", crl_url=f"{base}/ca.crl")
    started = time.monotonic()
    status = RevocationChecker(timeout=TIMEOUT).status(cert, lab.ca_cert)
    return status, time.monotonic() - started


def test_a_trickled_answer_is_given_up_on_at_the_timeout(lab: RevocationLab) -> None:
    crl = lab.crl().public_bytes(serialization.Encoding.DER)
    head = f"HTTP/1.1 200 OK\r\nContent-Length: {len(crl)}\r\n\r\n".encode()
    with misbehaving_server(head, crl, pause=0.05) as port:
        status, took = _status_of_cert_served_by(lab, port)
    assert status == "unknown"
    assert took < 4 * TIMEOUT, f"two answers (OCSP, CRL) of {TIMEOUT} s each took {took:.1f} s"


def test_trickled_headers_are_given_up_on_at_the_timeout(lab: RevocationLab) -> None:
    head = b"HTTP/1.1 200 OK\r\n"
    with misbehaving_server(head, b"X-Slow: " + b"a" * 400, pause=0.05) as port:
        status, took = _status_of_cert_served_by(lab, port)
    assert status == "unknown"
    assert took < 4 * TIMEOUT, took


@pytest.mark.parametrize(
    "head",
    [
        b"SSH-2.0-OpenSSH_9.2\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nX-Long: " + b"a" * 70_000 + b"\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 4096\r\n\r\n0123",
    ],
    ids=["not-http", "header-line-too-long", "broken-chunking", "short-body"],
)
def test_an_answer_that_is_not_http_is_no_answer(lab: RevocationLab, head: bytes) -> None:
    with misbehaving_server(head) as port:
        status, _ = _status_of_cert_served_by(lab, port)
    assert status == "unknown"


def test_a_crl_served_whole_still_counts(lab: RevocationLab) -> None:
    """The deadline is for the exchange: a prompt answer is read as before."""
    crl = lab.crl().public_bytes(serialization.Encoding.DER)
    head = f"HTTP/1.1 200 OK\r\nContent-Length: {len(crl)}\r\n\r\n".encode()
    with misbehaving_server(head + crl) as port:
        status, _ = _status_of_cert_served_by(lab, port)
    assert status == f"good:crl http://127.0.0.1:{port}/ca.crl"


def test_a_redirect_to_ftp_is_no_answer(lab: RevocationLab) -> None:
    """urllib follows a redirect to ``ftp:``, whose exchange no HTTP deadline bounds: an FTP
    server trickling its greeting held the check as long as it liked. Only http and https
    are spoken now."""
    greeting = b"220 " + b"x" * 400 + b"\r\n"
    with misbehaving_server(b"", greeting, pause=0.05, speaks_first=True) as ftp:
        moved = f"HTTP/1.1 302 Found\r\nLocation: ftp://127.0.0.1:{ftp}/ca.crl\r\n"
        with misbehaving_server(f"{moved}Content-Length: 0\r\n\r\n".encode()) as port:
            status, took = _status_of_cert_served_by(lab, port)
    assert status == "unknown"
    assert took < 4 * TIMEOUT, took
