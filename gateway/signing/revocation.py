"""Revocation status: OCSP first, CRL as the fallback.

For each certificate of a path (the anchor excepted) the checker asks, in order:

1. the OCSP responders named in the certificate's Authority Information Access (when OCSP is
   enabled), asked with a SHA-1 CertID (RFC 5019 2.1.1); the answer's SingleResponse for the
   certificate is found by its CertID under whatever hash the responder chose (RFC 6960
   4.2.1); the response must be signed by the issuer or by a responder certificate the
   issuer gave the OCSPSigning purpose, which must carry id-pkix-ocsp-nocheck or be shown not
   revoked by the issuer's CRL (RFC 6960 4.2.2.2.1), and be current (``thisUpdate`` / ``nextUpdate``;
   without ``nextUpdate``, newer information "is available all the time" (RFC 6960 4.2.2.1),
   so ``thisUpdate`` must be within the clock skew of now, or a recorded answer could be
   replayed for ever; ``producedAt`` may not be in the future either). The request carries
   no nonce unless asked (:attr:`RevocationChecker.nonce`): freshness is judged by time, as
   RFC 5019 4 has clients do;
2. the configured CRLs from the issuer, then the CRLs at the certificate's distribution
   points (``http`` only); each CRL's signature and ``nextUpdate`` are checked, and its scope
   (:mod:`.crl_scope`): a delta CRL, or a CRL for other certificates or only some reasons,
   cannot say a certificate it does not list is good.

The first definite answer counts: *revoked* raises ``check=Check.REVOKED``. When no source gives
one, the status is unknown: ``check=Check.REVOCATION_UNKNOWN`` (hard fail, the default) or, with
``soft_fail``, accepted and reported. Answers are cached until their ``nextUpdate``.

A revoked certificate is refused whatever the revocation date: a B-B signature has no trusted
time, so its claimed SigningTime cannot prove it was made before the revocation.
"""

from __future__ import annotations

import base64
import secrets
import threading
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Self

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID, ExtensionOID

from gateway.errors import VerificationError
from gateway.signing.algorithms import Check
from gateway.signing.chain import (
    check_key_strength,
    extension,
    named,
    public_key_of,
    readable,
    unprocessed_critical,
    verify_with_key,
)
from gateway.signing.crl_scope import CrlScope, crl_scope
from gateway.signing.deadline_fetch import fetch_within

if TYPE_CHECKING:
    from cryptography.hazmat.bindings._rust.ocsp import OCSPResponse, OCSPSingleResponse

CLOCK_SKEW = timedelta(minutes=5)
DEFAULT_CACHE = timedelta(minutes=5)
MAX_CRL_BYTES = 16 * 1024 * 1024
MAX_OCSP_BYTES = 1024 * 1024
CACHE_SIZE = 4096
CERT_ID_HASH = hashes.SHA1()
"""The hash of the CertIDs we ask about: SHA-1, as RFC 5019 2.1.1 requires of clients."""
NONCE_OCTETS = 32
"""Length of the nonce sent when :attr:`RevocationChecker.nonce` is on: the most RFC 8954 2.1
allows (1 to 32 octets; a responder may refuse a longer one)."""


class RevokedError(VerificationError):
    """A certificate of the path is revoked."""

    code = "revoked"

    def __init__(self, message: str) -> None:
        super().__init__(message, check=Check.REVOKED)

    @classmethod
    def _from_wire(cls, data: Mapping[str, Any]) -> Self:
        return cls(str(data.get("message", "")))


@dataclass(slots=True)
class RevocationChecker:
    """Checks certificates against OCSP responders and CRLs."""

    crls: Sequence[x509.CertificateRevocationList] = ()
    ocsp: bool = True
    fetch_crls: bool = True
    timeout: float = 5.0
    """Seconds one OCSP or CRL answer may take in all (connecting, redirects, the whole
    body), not between bytes: a responder trickling its answer is given up on, as one that
    does not answer (:func:`~gateway.signing.deadline_fetch.fetch_within`)."""
    nonce: bool = False
    """Send an OCSP nonce (RFC 8954) and refuse an answer echoing another one.

    Off by default, as RFC 5019 2.1.1 asks ("Clients SHOULD NOT include the
    requestExtensions structure"): the high-volume responders of public CAs answer from
    pre-produced responses and ignore a nonce, and a request with a nonce is a different
    GET URL every time, which no HTTP cache in front of the responder can answer (RFC 5019
    5, 6). Replay is bounded by time instead, for every answer (RFC 5019 4): ``thisUpdate``
    not ahead of now, ``nextUpdate`` not passed (without it, ``thisUpdate`` within the
    clock skew), ``producedAt`` not ahead. On, an answer without a nonce is still judged by
    time (RFC 5019 4: not refused "solely on the basis of the nonexistent expected
    nonce"); one with another request's nonce is refused."""
    _cache: dict[tuple[x509.Certificate, int], tuple[str, datetime]] = field(default_factory=dict)
    _crl_cache: dict[tuple[str, x509.Certificate], x509.CertificateRevocationList] = field(
        default_factory=dict
    )
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def status(self, cert: x509.Certificate, issuer: x509.Certificate) -> str:
        """``"good:<source>"`` or ``"unknown"``; raises :class:`RevokedError` when revoked."""
        now = datetime.now(UTC)
        key = (issuer, cert.serial_number)
        with self._lock:
            cached = self._cache.get(key)
        if cached is not None and cached[1] > now:
            return self._conclude(cached[0], cert)
        answer, until = self._ocsp_status(cert, issuer, now) if self.ocsp else ("unknown", now)
        if answer == "unknown":
            answer, until = self._crl_status(cert, issuer, now)
        if answer != "unknown":
            with self._lock:
                if len(self._cache) >= CACHE_SIZE:
                    self._cache.clear()
                self._cache[key] = (answer, until)
        return self._conclude(answer, cert)

    @staticmethod
    def _conclude(answer: str, cert: x509.Certificate) -> str:
        if answer.startswith("revoked"):
            raise RevokedError(f"certificate {named(cert)} is revoked ({answer.split(':', 1)[1]})")
        return answer

    def _ocsp_status(
        self, cert: x509.Certificate, issuer: x509.Certificate, now: datetime
    ) -> tuple[str, datetime]:
        for url in _ocsp_urls(cert):
            response = self._ask_ocsp(url, cert, issuer)
            if response is None:
                continue
            signer = _ocsp_signer(response, issuer, now)
            if signer is None or not self._responder_trusted(signer, issuer, now):
                continue
            single = _single_response(response, cert, issuer)
            if single is None:
                continue
            if not _current(response, single, now):
                continue
            next_update = single.next_update_utc or (now + DEFAULT_CACHE)
            status = single.certificate_status
            if status == ocsp.OCSPCertStatus.GOOD:
                return f"good:ocsp {url}", min(next_update, now + DEFAULT_CACHE * 12)
            if status == ocsp.OCSPCertStatus.REVOKED:
                return f"revoked:OCSP {url}", next_update
        return "unknown", now

    def _responder_trusted(
        self, signer: x509.Certificate, issuer: x509.Certificate, now: datetime
    ) -> bool:
        """Whether the answer's signer may still be believed (RFC 6960 4.2.2.2.1).

        The issuing CA itself: yes. A delegated responder whose certificate carries
        id-pkix-ocsp-nocheck: yes, for its lifetime (the CA vouches for it; the caller already
        checked that lifetime). Any other delegated responder must be shown not revoked by a
        complete CRL of the issuing CA (the configured CRLs, then its own distribution
        points): revoked *or unknown* makes its answer unusable, and the certificate's status
        comes from the CRL path as for any unusable answer. Trusting an unchecked responder
        would let a stolen responder key vouch for any certificate of the CA for as long as
        its CRL can be kept from us.
        """
        if signer == issuer or extension(signer, x509.OCSPNoCheck) is not None:
            return True
        answer, _ = self._crl_status(signer, issuer, now)
        return answer.startswith("good")

    def _ask_ocsp(
        self, url: str, cert: x509.Certificate, issuer: x509.Certificate
    ) -> OCSPResponse | None:
        """Ask one OCSP responder; the answer if it is for this request, else ``None``.

        The request follows RFC 5019, the lightweight profile high-volume CA responders
        follow. Its CertID is hashed with SHA-1 (2.1.1: a strict responder answers a SHA-256
        CertID ``unauthorized`` or ``malformedRequest``); the hash only names the certificate
        (issuer name and key, with the serial number), the answer's own signature protects
        it, and SHA-1 signatures on answers are still refused. It is sent by GET when the
        whole URL fits in 255 bytes, as section 5 requires (so caches in front of the
        responder can answer it), else by POST (:func:`ocsp_http_request`). It carries no
        nonce unless :attr:`nonce` is on (see there); when it does, an answer with another
        nonce is refused, one without is judged by time like any other.
        """
        nonce = x509.OCSPNonce(secrets.token_bytes(NONCE_OCTETS)) if self.nonce else None
        builder = ocsp.OCSPRequestBuilder().add_certificate(cert, issuer, CERT_ID_HASH)
        if nonce is not None:
            builder = builder.add_extension(nonce, critical=False)
        request = builder.build()
        try:
            http = ocsp_http_request(url, request.public_bytes(serialization.Encoding.DER))
            data = fetch_within(http, self.timeout, MAX_OCSP_BYTES)
            response = ocsp.load_der_ocsp_response(data)
        except (OSError, ValueError):
            return None
        if response.response_status != ocsp.OCSPResponseStatus.SUCCESSFUL:
            return None
        if nonce is not None and not _echoes(response, nonce):
            return None
        return response

    def _crl_status(
        self, cert: x509.Certificate, issuer: x509.Certificate, now: datetime
    ) -> tuple[str, datetime]:
        for source, crl in self._crls_for(cert, issuer):
            next_update = crl.next_update_utc
            if not _signed_by(crl, issuer):
                continue
            if next_update is None or next_update < now - CLOCK_SKEW:
                continue
            scope = crl_scope(crl, cert)
            if scope is None:
                continue
            entry = crl.get_revoked_certificate_by_serial_number(cert.serial_number)
            if entry is not None:
                return f"revoked:CRL {source}", next_update
            if scope is CrlScope.COMPLETE:
                return f"good:crl {source}", next_update
        return "unknown", now

    def _crls_for(
        self, cert: x509.Certificate, issuer: x509.Certificate
    ) -> list[tuple[str, x509.CertificateRevocationList]]:
        found = [("file", crl) for crl in self.crls if crl.issuer == issuer.subject]
        if self.fetch_crls:
            for url in _crl_urls(cert):
                crl = self._fetch_crl(url, issuer)
                if crl is not None:
                    found.append((url, crl))
        return found

    def _fetch_crl(
        self, url: str, issuer: x509.Certificate
    ) -> x509.CertificateRevocationList | None:
        """The CRL at ``url``, remembered until its ``nextUpdate`` only when ``issuer`` signed
        it: a CRL that does not verify (a wrong or forged one served once) would otherwise
        stand in for the real one until the ``nextUpdate`` it claims."""
        with self._lock:
            cached = self._crl_cache.get((url, issuer))
        now = datetime.now(UTC)
        if cached is not None and (cached.next_update_utc or now) > now:
            return cached
        try:
            crl = load_crl(fetch_within(url, self.timeout, MAX_CRL_BYTES))
        except (OSError, ValueError):
            return None
        if _signed_by(crl, issuer):
            with self._lock:
                self._crl_cache[url, issuer] = crl
        return crl


GET_LIMIT = 255
"""RFC 5019 5: a request whose GET URL (scheme, host, path and the encoded request) is at
most this many bytes MUST be sent by GET."""


def ocsp_http_request(url: str, der: bytes) -> urllib.request.Request:
    """The HTTP request asking ``url`` about the DER OCSP request ``der``: GET
    ``{url}/{url-encoded base64 of der}`` (RFC 6960 A.1) when that fits in :data:`GET_LIMIT`
    bytes (RFC 5019 5), else a POST of ``der``."""
    encoded = urllib.parse.quote(base64.b64encode(der).decode("ascii"), safe="")
    get_url = f"{url.rstrip('/')}/{encoded}"
    if len(get_url.encode("utf-8")) <= GET_LIMIT:
        return urllib.request.Request(get_url, method="GET")
    return urllib.request.Request(
        url, data=der, headers={"Content-Type": "application/ocsp-request"}, method="POST"
    )


def _signed_by(crl: x509.CertificateRevocationList, issuer: x509.Certificate) -> bool:
    """Whether ``issuer`` issued and signed ``crl``, with a key allowed to sign CRLs: RFC 5280
    6.3.3 (f), "If a key usage extension is present in the CRL issuer's certificate, verify
    that the cRLSign bit is set" (4.2.1.3: otherwise the key "MUST NOT be used to verify
    signatures on ... CRLs")."""
    usage = extension(issuer, x509.KeyUsage)
    if usage is not None and not usage.crl_sign:
        return False
    return crl.issuer == issuer.subject and crl.is_signature_valid(issuer.public_key())  # type: ignore[arg-type]


def load_crl(data: bytes) -> x509.CertificateRevocationList:
    """A CRL from PEM or DER bytes."""
    if b"-----BEGIN" in data:
        return x509.load_pem_x509_crl(data)
    return x509.load_der_x509_crl(data)


def _http_only(urls: list[str]) -> list[str]:
    return [u for u in urls if u.lower().startswith(("http://", "https://"))]


def _ocsp_urls(cert: x509.Certificate) -> list[str]:
    access = extension(cert, x509.AuthorityInformationAccess)
    if access is None:
        return []
    return _http_only(
        [
            d.access_location.value
            for d in access
            if d.access_method == AuthorityInformationAccessOID.OCSP
            and isinstance(d.access_location, x509.UniformResourceIdentifier)
        ]
    )


def _crl_urls(cert: x509.Certificate) -> list[str]:
    points = extension(cert, x509.CRLDistributionPoints)
    if points is None:
        return []
    urls = [
        name.value
        for point in points
        for name in (point.full_name or [])
        if isinstance(name, x509.UniformResourceIdentifier)
    ]
    return _http_only(urls)


def _echoes(response: OCSPResponse, nonce: x509.OCSPNonce) -> bool:
    """Whether ``response`` carries our nonce, or none (a pre-produced answer)."""
    try:
        echoed = response.extensions.get_extension_for_class(x509.OCSPNonce).value
    except x509.ExtensionNotFound:
        return True
    except ValueError:
        return False
    return echoed.nonce == nonce.nonce


def _current(response: OCSPResponse, single: OCSPSingleResponse, now: datetime) -> bool:
    """Whether an answer is current by its times (RFC 5019 4, RFC 6960 4.2.2.1), within
    :data:`CLOCK_SKEW`: ``thisUpdate`` and ``producedAt`` not in the future, ``nextUpdate``
    not passed; without ``nextUpdate``, ``thisUpdate`` no older than the skew."""
    this_update = single.this_update_utc
    current_until = single.next_update_utc or this_update
    ahead = now + CLOCK_SKEW
    return (
        this_update <= ahead
        and response.produced_at_utc <= ahead
        and current_until >= now - CLOCK_SKEW
    )


def _single_response(
    response: OCSPResponse, cert: x509.Certificate, issuer: x509.Certificate
) -> OCSPSingleResponse | None:
    """The SingleResponse whose CertID names ``cert`` issued by ``issuer``, or ``None``.

    A responder may answer with several SingleResponses (RFC 6960 4.2.1, RFC 5019 2.2.1) and
    hash its CertIDs with another algorithm than the request's (a SHA-1 request may get a
    SHA-256 CertID back): each is compared with the CertID computed with its own algorithm.
    """
    try:
        singles = list(response.responses)
    except ValueError:
        return None
    for single in singles:
        if single.serial_number != cert.serial_number:
            continue
        try:
            expected = _cert_id(cert, issuer, single.hash_algorithm)
        except (ValueError, TypeError, UnsupportedAlgorithm):
            continue
        if (single.issuer_name_hash, single.issuer_key_hash) == expected:
            return single
    return None


def _cert_id(
    cert: x509.Certificate, issuer: x509.Certificate, algorithm: hashes.HashAlgorithm
) -> tuple[bytes, bytes]:
    """The issuer name hash and issuer key hash of ``cert``'s CertID under ``algorithm``."""
    request = ocsp.OCSPRequestBuilder().add_certificate(cert, issuer, algorithm).build()
    return request.issuer_name_hash, request.issuer_key_hash


def _ocsp_signer(
    response: OCSPResponse, issuer: x509.Certificate, now: datetime
) -> x509.Certificate | None:
    """Who signed ``response``: ``issuer``, or a responder ``issuer`` delegated to (valid
    now, with the OCSPSigning purpose); ``None`` when neither did."""
    try:
        algorithm = response.signature_hash_algorithm
        included = response.certificates
    except (ValueError, UnsupportedAlgorithm):
        return None
    if algorithm is None or isinstance(algorithm, hashes.SHA1 | hashes.MD5):
        return None
    delegated = [c for c in included if _readable(c) and _delegated(c, issuer, now)]
    for candidate in (issuer, *delegated):
        try:
            key = public_key_of(candidate)
        except VerificationError:
            continue
        signed = response.tbs_response_bytes
        if verify_with_key(key, response.signature, signed, algorithm, raw_ecdsa=False):
            return candidate
    return None


def _readable(cert: x509.Certificate) -> bool:
    """Whether every part of ``cert`` can be read (a responder certificate travels in the
    answer, over plain http: anyone on the path can make it unreadable)."""
    try:
        readable(cert)
    except VerificationError:
        return False
    return True


def _delegated(responder: x509.Certificate, issuer: x509.Certificate, now: datetime) -> bool:
    """Whether ``responder`` is a responder ``issuer`` delegated to (RFC 6960 4.2.2.2):
    issued directly by it and signed by it (not with SHA-1, which ``cryptography`` does not
    verify), valid now, with the OCSPSigning purpose in extendedKeyUsage, a keyUsage (when present) allowing digitalSignature (RFC 5280
    4.2.1.3: the bit for verifying signatures other than on certificates and CRLs, which an
    OCSP answer is), a key as strong as any certificate of a path must have
    (:func:`~gateway.signing.chain.check_key_strength`), and no critical extension the
    gateway does not process (RFC 5280 4.2; id-pkix-ocsp-nocheck is processed here).

    The answer it signs stands for the CA's own word, so it is held to what a certificate of
    a path is held to: a responder key of 1024 bits or on P-192 would let whoever breaks that
    weaker key say "good" for every certificate of the CA."""
    if responder.issuer != issuer.subject:
        return False
    if unprocessed_critical(responder, also={ExtensionOID.OCSP_NO_CHECK}) is not None:
        return False
    if not responder.not_valid_before_utc <= now <= responder.not_valid_after_utc:
        return False
    try:
        check_key_strength(responder)
        responder.verify_directly_issued_by(issuer)
        purposes = responder.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except (
        ValueError,
        TypeError,
        InvalidSignature,
        UnsupportedAlgorithm,
        VerificationError,
        x509.ExtensionNotFound,
    ):
        return False
    usage = extension(responder, x509.KeyUsage)
    if usage is not None and not usage.digital_signature:
        return False
    return ExtendedKeyUsageOID.OCSP_SIGNING in purposes
