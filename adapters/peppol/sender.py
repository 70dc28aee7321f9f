"""Send one business document over Peppol AS4: discover, envelope, sign, encrypt, POST,
verify the receipt — and report every step.

:class:`As4Sender` is what the ``peppol`` adapter and ``lingang peppol send`` share. The
message id is the caller's (the same on every retry, so the receiving AP can drop
duplicates) and the SBDH ``InstanceIdentifier`` is derived from it, so a retry sends the same
envelope. Outcomes:

* a verified receipt whose digests are exactly the ones signed → :class:`SendReport`;
* discovery errors → their typed error (retryable or not), wrapped as a delivery error;
* an ebMS error answer → :class:`As4Rejected` (final: ``EBMS:0004`` / ``PEPPOL:NOT_SERVICED``
  and the rest) or :class:`As4RetryLater` (``EBMS:0005``);
* connection failures, timeouts, 5xx without an ebMS answer, 429 → retryable;
* a receiving AP's or receipt signer's certificate of the other Peppol network (production
  vs test) → final, before anything is sent (``as4.endpoint-network``) or after
  (``as4.receipt-network``);
* a receipt that does not verify or covers other digests → final (``as4.receipt-*``);
* an answer over :data:`MAX_ANSWER_BYTES` → not read on (``as4.answer-size``): retryable
  after HTTP 429 / 5xx, final otherwise.
"""

from __future__ import annotations

import asyncio
import ssl
import time
import uuid
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import aiohttp
from cryptography import x509

from adapters.peppol import as4, sbdh, signals
from adapters.peppol.discovery import Discovery, LookupReport
from adapters.peppol.document_facts import document_facts
from adapters.peppol.errors import As4Rejected, As4RetryLater, DiscoveryError
from adapters.peppol.identifiers import ParticipantId
from adapters.peppol.resend import BuiltMessages
from adapters.peppol.smp import Endpoint
from adapters.peppol.trust import check_network, common_name, peppol_network
from adapters.peppol.wssec import Credentials
from adapters.retry_after import asked_wait
from gateway.bounded_body import read_bounded
from gateway.errors import (
    DeliveryError,
    InputError,
    LingangError,
    PermanentDeliveryError,
    TransientDeliveryError,
    VerificationError,
)
from gateway.signing.truststore import TrustStore
from gateway.xmlsafe import XmlLimits

MESSAGE_NAMESPACE = uuid.UUID("6f0d3b8e-5c1e-4e53-9d3f-3a1f2f7c9b10")
MAX_ANSWER_BYTES = 1024 * 1024
"""The largest AS4 answer read. A signed receipt for our one attachment, or an ebMS error
signal, is a few kilobytes (phase4's receipts: about 7 KB); a larger answer is not read on."""


@dataclass
class SendReport:
    """One send, step by step (kept with the receipt and printed by ``peppol send --json``)."""

    message_id: str
    started_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat())
    lookup: dict[str, Any] = field(default_factory=dict)
    sbdh: dict[str, str] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    receipt: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    outcome: str = "pending"
    resent: bool = False
    """The message was the one built for an earlier try, sent again as it was."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "message_id": self.message_id,
            "started_at": self.started_at,
            "outcome": self.outcome,
            "lookup": self.lookup,
            "sbdh": self.sbdh,
            "timings": {k: round(v, 4) for k, v in self.timings.items()},
            "receipt": self.receipt,
            "error": self.error,
            "resent": self.resent,
        }


@dataclass(frozen=True, slots=True)
class Sent:
    """A delivered message: its verified receipt and the report."""

    receipt: signals.VerifiedReceipt
    endpoint: Endpoint
    report: SendReport


def answer_too_large(url: str, status: int) -> DeliveryError:
    """The error for an answer over :data:`MAX_ANSWER_BYTES` (rule ``as4.answer-size``):
    retryable after HTTP 429 or 5xx, as any such answer without a readable signal; final
    otherwise (no receipt can be verified from it, and the same message gets the same answer)."""
    message = (
        f"AS4: the answer of {url} (HTTP {status}) is larger than {MAX_ANSWER_BYTES} bytes, "
        "more than any receipt or ebMS error signal; it was not read"
    )
    if status == 429 or status >= 500:
        return TransientDeliveryError(message, rule="as4.answer-size")
    return PermanentDeliveryError(message, rule="as4.answer-size")


def sbdh_instance_id(message_id: str) -> str:
    """The SBDH ``InstanceIdentifier`` for a transport message id (stable across retries)."""
    return str(uuid.uuid5(MESSAGE_NAMESPACE, message_id))


@dataclass
class As4Sender:
    """A sending access point (corner 2)."""

    credentials: Credentials
    discovery: Discovery
    ap_trust: TrustStore | None
    country_c1: str
    ssl_context: ssl.SSLContext | None = None
    timeout: float = 60.0
    default_sender: ParticipantId | None = None
    max_document_bytes: int = 256 * 1024 * 1024
    """The largest business document sent (its head is read for the SBDH, never a tree)."""
    mls_type: str | None = None
    """``MLS_TYPE`` put in the SBDH of every business document (never of an MLS)."""
    built: BuiltMessages | None = None
    """Messages kept until their receipt: a retry resends the same bytes (see
    :mod:`adapters.peppol.resend`)."""
    _session: aiohttp.ClientSession | None = None

    @property
    def seat_id(self) -> str:
        return common_name(self.credentials.cert)

    @property
    def network(self) -> str | None:
        """Our Peppol network, ``production`` or ``test`` (:func:`peppol_network` of our AP
        certificate; ``None``: a certificate naming neither)."""
        return peppol_network(self.credentials.cert)

    def _check_endpoint_network(self, endpoint: Endpoint) -> None:
        """The receiving AP's certificate — from the SMP, a static route or the caller — must
        be of our network (:func:`check_network`): checked before anything is sent, as the
        Peppol AS4 profile has certificates "verified upon fetching from the SMP"."""
        try:
            check_network(
                endpoint.certificate,
                self.network,
                "the receiving AP's certificate",
                rule="as4.endpoint-network",
            )
        except VerificationError as exc:
            raise PermanentDeliveryError(exc.message, rule=exc.rule) from exc

    def _check_endpoint_trust(self, endpoint: Endpoint) -> None:
        """A receiving AP's certificate that did not come from the SMP (which checks it as
        it reads the answer) — a static route's, the caller's — is checked against
        ``ap_trust`` now, before the document is encrypted to it: from a Peppol AP CA,
        within its validity, not revoked (the Peppol AS4 profile: "Certificates MUST be
        verified"; a route configured once outlives its partner's certificate)."""
        if self.ap_trust is None:
            return
        try:
            self.ap_trust.check(endpoint.certificate)
        except VerificationError as exc:
            raise PermanentDeliveryError(
                f"the receiving AP's certificate ({endpoint.source}) is not trusted: {exc.message}",
                rule="as4.endpoint-certificate",
            ) from exc

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.timeout),
                connector=aiohttp.TCPConnector(ssl=self.ssl_context if self.ssl_context else True),
            )
        return self._session

    def _check_receipt_signer(self, endpoint: Endpoint) -> Any:
        """The receipt's signer must be the receiving AP: its certificate from the SMP (or
        route), or — with ``ap_trust`` — another AP certificate of the same seat (the same
        CN, the Peppol AS4 PartyId), as an AP renewing its certificate signs with the new
        one while senders still hold the old one from the SMP."""

        def check(cert: x509.Certificate) -> None:
            if self.ap_trust is not None:
                self.ap_trust.check(cert, signer=True)
            check_network(cert, self.network, "the receipt's signer", rule="as4.receipt-network")
            if cert.public_key() == endpoint.certificate.public_key():
                return
            if self.ap_trust is not None and common_name(cert) == common_name(endpoint.certificate):
                return
            raise VerificationError(
                f"the receipt is signed by {cert.subject.rfc4514_string()}, not by the receiving "
                f"AP {endpoint.certificate.subject.rfc4514_string()}",
                check="as4.receipt-signer",
            )

        return check

    async def send(
        self,
        document: bytes,
        *,
        message_id: str,
        receiver: ParticipantId | None = None,
        sender: ParticipantId | None = None,
        endpoint: Endpoint | None = None,
        report: SendReport | None = None,
        profile: str = "",
        created: datetime | None = None,
    ) -> Sent:
        """Send ``document`` (a UBL invoice or credit note, a BIS 3 CII invoice, a Peppol report
        or MLS); see the module docstring. ``created`` is the message's time (its
        ``eb:Timestamp`` and SBDH ``CreationDateAndTime``): give the same on every attempt
        (the time the envelope was fixed), so a message rebuilt on another worker signs the
        same digests as the first (:func:`adapters.peppol.as4.part_ids`); default now."""
        report = report or SendReport(message_id)
        started = time.perf_counter()
        try:
            sent = await self._send(
                document,
                message_id,
                receiver,
                sender,
                endpoint,
                report,
                profile,
                created or datetime.now(UTC),
            )
        except LingangError as exc:
            report.outcome = "retry" if exc.retryable else "failed"
            report.error = exc.to_wire()
            report.timings["total"] = time.perf_counter() - started
            raise
        report.outcome = "delivered"
        report.timings["total"] = time.perf_counter() - started
        return sent

    async def _send(
        self,
        document: bytes,
        message_id: str,
        receiver: ParticipantId | None,
        sender: ParticipantId | None,
        endpoint: Endpoint | None,
        report: SendReport,
        profile: str,
        created: datetime,
    ) -> Sent:
        try:
            facts = document_facts(document, limits=XmlLimits(max_bytes=self.max_document_bytes))
            header = sbdh.header_for_document(
                facts,
                country_c1=self.country_c1,
                sender=sender,
                receiver=receiver,
                default_sender=self.default_sender,
                instance_id=sbdh_instance_id(message_id),
                profile=profile,
            )
            header = replace(header, created=created)
            if self.mls_type and facts.local_name != "ApplicationResponse":
                header = replace(header, mls_type=self.mls_type)
            envelope_parts = sbdh.sbdh_parts(document, header)
        except InputError as exc:
            raise PermanentDeliveryError(
                f"cannot envelope the document: {exc.message}", field=exc.field, rule=exc.rule
            ) from exc
        report.sbdh = {
            "sender": header.sender.value,
            "receiver": header.receiver.value,
            "document_type": header.document_type.uri(),
            "process": header.process.uri(),
            "country_c1": header.country_c1,
            "instance_id": header.instance_id,
        }
        if endpoint is None:
            lookup = LookupReport(
                header.receiver.value, header.document_type.uri(), header.process.uri()
            )
            try:
                endpoint = await self.discovery.find(
                    header.receiver, header.document_type, header.process, lookup
                )
            except DiscoveryError as exc:
                report.lookup = lookup.as_dict()
                wrapper = TransientDeliveryError if exc.retryable else PermanentDeliveryError
                raise wrapper(
                    f"Peppol discovery: {exc.message}",
                    field=exc.field,
                    rule=exc.code,
                    retry_after=getattr(exc, "retry_after", None),
                ) from exc
            report.lookup = lookup.as_dict()
            report.timings["lookup"] = lookup.seconds
        else:
            report.lookup = {"source": "given", "endpoint": endpoint.as_dict()}
        self._check_endpoint_network(endpoint)
        if endpoint.source != "smp" and self.ap_trust is not None:
            if self.ap_trust.revocation is not None:  # OCSP / CRL: not on the event loop
                await asyncio.to_thread(self._check_endpoint_trust, endpoint)
            else:
                self._check_endpoint_trust(endpoint)
        built = time.perf_counter()
        message_header = as4.UserMessageHeader(
            from_party=self.seat_id,
            to_party=common_name(endpoint.certificate),
            service=header.process,
            action=header.document_type,
            original_sender=header.sender,
            final_recipient=header.receiver,
            message_id=message_id,
            timestamp=created,
        )
        kept = self.built.get(message_id, endpoint.certificate) if self.built else None
        outgoing = kept or as4.build_user_message(
            envelope_parts, message_header, self.credentials, endpoint.certificate
        )
        if self.built is not None and kept is None:
            self.built.keep(outgoing, endpoint.certificate)
        report.resent = kept is not None
        report.timings["build"] = time.perf_counter() - built
        posted = time.perf_counter()
        status, content_type, answer, asked = await self._post(endpoint.url, outgoing)
        report.timings["exchange"] = time.perf_counter() - posted
        try:
            if self.ap_trust is not None and self.ap_trust.revocation is not None:
                # revocation may ask OCSP responders or fetch CRLs: not on the event loop
                sent = await asyncio.to_thread(
                    self._conclude, status, content_type, answer, outgoing, endpoint, report
                )
            else:
                sent = self._conclude(status, content_type, answer, outgoing, endpoint, report)
        except DeliveryError as exc:
            if exc.retryable and exc.retry_after is None:
                exc.retry_after = asked
            raise
        return sent

    def forget_built(self, message_id: str, sent: Sent) -> None:
        """Drop the message kept for ``message_id``, delivered as ``sent`` (see
        :mod:`adapters.peppol.resend`). Called by whoever keeps the receipt, once it is kept:
        until then a retry after a crash must send the same bytes again, as the AP answers a
        repeat with its original receipt, which a rebuilt message's digests would not match."""
        if self.built is not None:
            self.built.forget(message_id, sent.endpoint.certificate)

    async def _post(
        self, url: str, outgoing: as4.OutgoingMessage
    ) -> tuple[int, str, bytes, float | None]:
        """POST the message; the status, Content-Type, answer (read bounded:
        :data:`MAX_ANSWER_BYTES`, see :func:`answer_too_large`) and the wait a 429 or 503
        asks for (``Retry-After``)."""
        headers = {"Content-Type": outgoing.content_type, "MIME-Version": "1.0"}
        try:
            async with self._client().post(
                url, data=outgoing.body, headers=headers, allow_redirects=False
            ) as response:
                status = response.status
                content_type = response.headers.get("Content-Type", "")
                asked = asked_wait(status, response.headers)
                answer = await read_bounded(response.content, MAX_ANSWER_BYTES)
        except TimeoutError as exc:
            raise TransientDeliveryError(
                f"AS4: {url} did not answer within {self.timeout}s", rule="as4.timeout"
            ) from exc
        except aiohttp.ClientSSLError as exc:
            raise TransientDeliveryError(f"AS4: TLS failure with {url}: {exc}", rule="tls") from exc
        except (aiohttp.ClientError, OSError) as exc:
            raise TransientDeliveryError(
                f"AS4: cannot reach {url}: {exc!r}", rule="as4.connection"
            ) from exc
        if answer is None:
            error = answer_too_large(url, status)
            error.retry_after = asked if error.retryable else None
            raise error
        return status, content_type, answer, asked

    def _conclude(
        self,
        status: int,
        content_type: str,
        answer: bytes,
        outgoing: as4.OutgoingMessage,
        endpoint: Endpoint,
        report: SendReport,
    ) -> Sent:
        try:
            result = signals.parse_signal(
                content_type, answer, check_signer=self._check_receipt_signer(endpoint)
            )
        except VerificationError as exc:
            raise PermanentDeliveryError(
                f"AS4: the receipt does not verify: {exc.message}", rule=exc.rule
            ) from exc
        except InputError as exc:
            snippet = answer[:200].decode("utf-8", "replace")
            if status == 429 or status >= 500:
                raise TransientDeliveryError(
                    f"AS4: HTTP {status} {snippet}".strip(), rule=f"http.{status}"
                ) from exc
            if 300 <= status < 400:
                raise PermanentDeliveryError(
                    f"AS4: HTTP {status}: redirects are refused", rule="as4.redirect"
                ) from exc
            raise PermanentDeliveryError(
                f"AS4: HTTP {status} without an ebMS answer: {exc.message}", rule=f"http.{status}"
            ) from exc
        if result.errors and result.receipt is None:
            report.receipt = {"errors": [e.as_dict() for e in result.errors]}
            failures = [e for e in result.errors if e.severity.lower() != "warning"] or list(
                result.errors
            )
            text = "; ".join(
                f"{e.code} {e.short_description} {e.detail} {e.description}".strip()
                for e in failures
            )
            if all(e.retryable for e in failures):
                raise As4RetryLater(
                    f"AS4 error answer: {text}", tuple(result.errors), rule=failures[0].code
                )
            raise As4Rejected(
                f"AS4 error answer: {text}", tuple(result.errors), rule=failures[0].code
            )
        receipt = result.receipt
        assert receipt is not None
        try:
            signals.check_receipt_covers(receipt, outgoing)
        except VerificationError as exc:
            raise PermanentDeliveryError(f"AS4: {exc.message}", rule=exc.rule) from exc
        report.receipt = {
            "message_id": receipt.message_id,
            "ref_to_message_id": receipt.ref_to_message_id,
            "timestamp": receipt.timestamp,
            "signer": receipt.signer.subject.rfc4514_string(),
            "references": [{"uri": r.uri, "digest": r.digest} for r in receipt.references],
            "verified": True,
        }
        return Sent(receipt, endpoint, report)

    async def aclose(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        await self.discovery.aclose()
