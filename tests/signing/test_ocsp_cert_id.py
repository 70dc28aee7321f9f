"""OCSP CertIDs: what we ask with, and how an answer is matched to our certificate.

RFC 5019 2.1.1 (the lightweight profile high-volume CA responders follow): clients MUST use
SHA-1 for the CertID hashes. The checker asked with SHA-256; a responder that answers only
SHA-1 CertIDs said ``unauthorized`` and the CRL had to decide. The request now uses SHA-1,
and goes by GET when its URL fits in 255 bytes (RFC 5019 5), by POST otherwise.

RFC 6960 4.2.1: the answer is a SEQUENCE OF SingleResponse, each with its own CertID, whose
hash the responder chooses. The checker compared the answer's CertID bytes with the request's
(a SHA-256 CertID answering a SHA-1 request never matched) and read the answer as if it held
one SingleResponse (``cryptography`` refuses that for two or more: the answer was dropped).
Each SingleResponse is now compared with the CertID computed under its own hash algorithm.
"""

from __future__ import annotations

import base64
import shutil
import subprocess
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp

from gateway.signing.revocation import RevocationChecker, RevokedError, ocsp_http_request
from gateway.signing.testpki import TestPki
from tests.live_revocation import RevocationLab, revocation_lab, self_signed_ca

from .signing_support import Responder, StaticHttpServer


def _checker() -> RevocationChecker:
    return RevocationChecker(timeout=2.0, fetch_crls=False)


def test_the_request_names_the_certificate_with_sha1(
    pki: TestPki, live_responder: Responder
) -> None:
    live_responder.sha1_only = True
    before = live_responder.ocsp_requests
    status = _checker().status(pki.signer_rsa.cert, pki.intermediate.cert)
    assert status == f"good:ocsp {live_responder.base}/ocsp"
    assert live_responder.ocsp_requests == before + 1
    with pytest.raises(RevokedError, match="OCSP"):
        _checker().status(pki.revoked.cert, pki.intermediate.cert)


@pytest.mark.parametrize("algorithm", [hashes.SHA256(), hashes.SHA384(), hashes.SHA512()])
def test_an_answer_may_hash_its_cert_id_otherwise(
    pki: TestPki, live_responder: Responder, algorithm: hashes.HashAlgorithm
) -> None:
    live_responder.answer_hash = algorithm
    status = _checker().status(pki.signer_ec.cert, pki.intermediate.cert)
    assert status == f"good:ocsp {live_responder.base}/ocsp"
    with pytest.raises(RevokedError, match="OCSP"):
        _checker().status(pki.revoked.cert, pki.intermediate.cert)


def test_an_answer_about_the_same_serial_under_another_issuer_is_no_answer(
    pki: TestPki, other_pki: TestPki, live_responder: Responder
) -> None:
    """The responder's answer names the serial with *its* issuer; asked about a certificate
    with that serial from another CA, the checker must not take it."""
    live_responder.answer_hash = hashes.SHA256()
    status = _checker().status(pki.signer_rsa.cert, other_pki.intermediate.cert)
    assert status == "unknown"


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[RevocationLab]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    cert, key = self_signed_ca("CertID test CA")
    with revocation_lab(tmp_path / "ca", cert, key) as made:
        yield made


def _openssl_answer(lab: RevocationLab, *certs: object, digest: str) -> bytes:
    """``openssl ocsp``'s signed answer (nextUpdate in 5 minutes, no nonce) to one request
    about all of ``certs``, CertIDs hashed with ``digest``."""
    folder = lab.folder
    lab.start_ocsp()  # writes the index and the CA's files
    lab.stop_ocsp()
    pem = serialization.Encoding.PEM
    request = [f"-{digest}", "-issuer", str(folder / "ca.pem"), "-no_nonce"]
    for number, cert in enumerate(certs):
        path = folder / f"cert-{number}.pem"
        path.write_bytes(cert.public_bytes(pem))  # type: ignore[attr-defined]
        request += ["-cert", str(path)]
    openssl = ["openssl", "ocsp"]
    subprocess.run([*openssl, *request, "-reqout", str(folder / "req.der")], check=True)
    respond = [
        *("-index", str(folder / "index.txt"), "-CA", str(folder / "ca.pem")),
        *("-rsigner", str(folder / "ca.pem"), "-rkey", str(folder / "ca.key.pem")),
        *("-reqin", str(folder / "req.der"), "-respout", str(folder / "resp.der"), "-nmin", "5"),
    ]
    subprocess.run([*openssl, *respond], check=True, capture_output=True)
    return (folder / "resp.der").read_bytes()


@pytest.mark.parametrize("digest", ["sha1", "sha256"])
def test_an_answer_with_several_single_responses(lab: RevocationLab, digest: str) -> None:
    """RFC 5019 2.2.1 lets a responder add SingleResponses; ours may be any of them."""
    with StaticHttpServer() as responder:
        good, _ = lab.issue("good signer", ocsp_url=responder.url)
        other, _ = lab.issue("revoked neighbour", ocsp_url=responder.url)
        lab.revoke(other)
        responder.body = _openssl_answer(lab, other, good, digest=digest)
        answer = ocsp.load_der_ocsp_response(responder.body)
        assert len(list(answer.responses)) == 2
        assert _checker().status(good, lab.ca_cert) == f"good:ocsp {responder.url}"
        with pytest.raises(RevokedError, match="OCSP"):
            _checker().status(other, lab.ca_cert)


def test_a_cert_id_of_an_unknown_hash_is_passed_over(lab: RevocationLab) -> None:
    """An answer whose only CertID is hashed with an algorithm we cannot compute (here MD5,
    which ``cryptography`` does not offer for CertIDs) is no answer, not an error."""
    with StaticHttpServer() as responder:
        good, _ = lab.issue("md5 signer", ocsp_url=responder.url)
        responder.body = _openssl_answer(lab, good, digest="md5")
        assert _checker().status(good, lab.ca_cert) == "unknown"


def test_a_short_request_goes_by_get(pki: TestPki, live_responder: Responder) -> None:
    """RFC 5019 5: a request whose GET URL fits in 255 bytes MUST be sent by GET (so caches in
    front of the responder can answer it); it went by POST."""
    status = _checker().status(pki.signer_rsa.cert, pki.intermediate.cert)
    assert status == f"good:ocsp {live_responder.base}/ocsp"
    assert live_responder.ocsp_methods[-1] == "GET"


def test_a_request_whose_url_would_be_too_long_goes_by_post(lab: RevocationLab) -> None:
    with StaticHttpServer() as responder:
        long_url = f"http://127.0.0.1:{responder.port}/{'ocsp-' * 30}"
        good, _ = lab.issue("long url signer", ocsp_url=long_url)
        responder.body = lab.good_answer(good)
        assert _checker().status(good, lab.ca_cert) == f"good:ocsp {long_url}"
        assert responder.methods == ["POST"]


@pytest.mark.parametrize("base", ["http://ocsp.example.cn", "http://ocsp.example.cn/"])
def test_the_get_url_carries_the_request(base: str) -> None:
    """RFC 6960 A.1: ``{url}/{url-encoding of the base64 of the DER request}``."""
    der = bytes(range(256))[:120]  # base64 of these bytes has '+' and '/'
    http = ocsp_http_request(base, der)
    assert http.get_method() == "GET" and http.data is None
    prefix = "http://ocsp.example.cn/"
    assert http.full_url.startswith(prefix) and "//" not in http.full_url[len("http://") :]
    encoded = http.full_url[len(prefix) :]
    assert "/" not in encoded and "+" not in encoded
    assert base64.b64decode(urllib.parse.unquote(encoded)) == der
