"""ebMS signal messages: the signed non-repudiation receipt and ebMS errors, both ways.

Receiver side: :func:`build_receipt` answers a verified :class:`IncomingMessage` with a
receipt whose ``ebbp:NonRepudiationInformation`` repeats each ``ds:Reference`` the sender
signed, itself signed over its ``eb:Messaging`` and ``Body``; :func:`build_error` answers
with ``eb:Error`` elements.

Sender side: :func:`parse_signal` reads the answer (a bare SOAP message or a MIME one),
verifies the receipt's signature and signer, and returns a :class:`VerifiedReceipt` or the
:class:`EbmsError` list; :func:`check_receipt_covers` then demands that the receipt refers to
our message and that its digests are exactly the ones we signed.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from copy import deepcopy
from dataclasses import dataclass, field
from datetime import UTC, datetime

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from lxml import etree

from adapters.peppol import mime, ns, wssec, xmldsig
from adapters.peppol.as4 import (
    IncomingMessage,
    OutgoingMessage,
    _rsa,
    parse_soap,
    sign_envelope,
    soap_envelope,
)
from adapters.peppol.errors import EbmsError
from adapters.peppol.ns import q
from adapters.peppol.xmldsig import SignedReference
from gateway.errors import InputError, VerificationError

SOAP_CONTENT_TYPE = "application/soap+xml; charset=UTF-8"

EBMS_ERRORS = {
    "EBMS:0001": ("ValueNotRecognized", "Content"),
    "EBMS:0002": ("FeatureNotSupported", "Content"),
    "EBMS:0003": ("ValueInconsistent", "Content"),
    "EBMS:0004": ("Other", "Content"),
    "EBMS:0005": ("ConnectionFailure", "Communication"),
    "EBMS:0007": ("MimeInconsistency", "Unpackaging"),
    "EBMS:0008": ("FeatureNotSupported", "Unpackaging"),
    "EBMS:0009": ("InvalidHeader", "Unpackaging"),
    "EBMS:0010": ("ProcessingModeMismatch", "Processing"),
    "EBMS:0011": ("ExternalPayloadError", "Content"),
    "EBMS:0101": ("FailedAuthentication", "Processing"),
    "EBMS:0102": ("FailedDecryption", "Processing"),
    "EBMS:0103": ("PolicyNoncompliance", "Processing"),
    "EBMS:0303": ("DecompressionFailure", "Communication"),
}
"""Short description and category by code: ebMS 3 Core §6.7 (0001–0103) and the AS4 profile's
additional errors (0303 DecompressionFailure: failure, Communication)."""


def _signal_messaging(ref_to: str) -> tuple[etree._Element, etree._Element, str]:
    messaging_id = wssec.new_id("msg")
    messaging = etree.Element(q("eb", "Messaging"), nsmap={"eb": ns.EB, "wsu": ns.WSU})
    messaging.set(q("S12", "mustUnderstand"), "true")
    messaging.set(q("wsu", "Id"), messaging_id)
    signal = etree.SubElement(messaging, q("eb", "SignalMessage"))
    info = etree.SubElement(signal, q("eb", "MessageInfo"))
    etree.SubElement(info, q("eb", "Timestamp")).text = (
        datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    )
    etree.SubElement(info, q("eb", "MessageId")).text = f"{uuid.uuid4()}@lingang"
    if ref_to:
        etree.SubElement(info, q("eb", "RefToMessageId")).text = ref_to
    return messaging, signal, messaging_id


def _finish(messaging: etree._Element, credentials: wssec.Credentials | None) -> bytes:
    security = wssec.security_header()
    body_id = wssec.new_id("body")
    envelope = soap_envelope(security, messaging, body_id)
    if credentials is not None:
        sign_envelope(
            envelope,
            security,
            credentials,
            element_ids=[messaging.get(q("wsu", "Id")) or "", body_id],
            attachments={},
        )
    else:
        header = security.getparent()
        assert header is not None
        header.remove(security)
    return etree.tostring(envelope, xml_declaration=True, encoding="UTF-8")


def build_receipt(incoming: IncomingMessage, credentials: wssec.Credentials) -> bytes:
    """The signed non-repudiation receipt for ``incoming`` (SOAP 1.2 bytes)."""
    messaging, signal, _ = _signal_messaging(incoming.header.message_id)
    receipt = etree.SubElement(signal, q("eb", "Receipt"))
    nri = etree.SubElement(receipt, q("ebbp", "NonRepudiationInformation"), nsmap={"ebbp": ns.EBBP})
    for reference in incoming.signed_info.iterfind(q("ds", "Reference")):
        part = etree.SubElement(nri, q("ebbp", "MessagePartNRInformation"))
        part.append(deepcopy(reference))
    return _finish(messaging, credentials)


def build_error(
    ref_to_message_id: str,
    errors: Sequence[EbmsError],
    credentials: wssec.Credentials | None = None,
) -> bytes:
    """An ebMS error signal (signed when ``credentials`` are given)."""
    messaging, signal, _ = _signal_messaging(ref_to_message_id)
    for error in errors:
        short, category = EBMS_ERRORS.get(error.code, ("Other", "Content"))
        el = etree.SubElement(
            signal,
            q("eb", "Error"),
            errorCode=error.code,
            severity=error.severity or "failure",
            shortDescription=error.short_description or short,
            category=error.category or category,
            origin=error.origin or "ebMS",
        )
        if error.ref_to_message_id or ref_to_message_id:
            el.set("refToMessageInError", error.ref_to_message_id or ref_to_message_id)
        if error.description:
            desc = etree.SubElement(el, q("eb", "Description"))
            desc.set("{http://www.w3.org/XML/1998/namespace}lang", "en")
            desc.text = error.description
        if error.detail:
            etree.SubElement(el, q("eb", "ErrorDetail")).text = error.detail
    return _finish(messaging, credentials)


def not_serviced(ref_to_message_id: str, description: str) -> EbmsError:
    """The Peppol "not serviced" error (EBMS:0004, PEPPOL:NOT_SERVICED)."""
    return EbmsError(
        code="EBMS:0004",
        severity="failure",
        short_description="Other",
        category="Content",
        ref_to_message_id=ref_to_message_id,
        description=description,
        detail="PEPPOL:NOT_SERVICED",
    )


@dataclass(frozen=True, slots=True)
class VerifiedReceipt:
    """A receipt whose signature verified."""

    message_id: str
    ref_to_message_id: str
    references: tuple[SignedReference, ...]
    signer: x509.Certificate
    raw: bytes
    timestamp: str = ""


@dataclass(frozen=True, slots=True)
class SignalResult:
    """What a receiving AP answered: a verified receipt, or ebMS errors."""

    receipt: VerifiedReceipt | None = None
    errors: tuple[EbmsError, ...] = field(default_factory=tuple)
    ref_to_message_id: str = ""


def parse_signal(
    content_type: str,
    body: bytes,
    *,
    check_signer: Callable[[x509.Certificate], object],
    require_signed_errors: bool = False,
) -> SignalResult:
    """Read an AS4 answer; a receipt must be signed by a signer ``check_signer`` accepts.

    :class:`VerificationError` for a receipt that does not verify; :class:`InputError` for an
    answer that is no ebMS signal."""
    parts = mime.parse_message(content_type or mime.SOAP_CONTENT_TYPE, body)
    try:
        root = parse_soap(parts.soap)
    except InputError as exc:
        raise InputError(
            f"the answer is not a SOAP envelope: {exc.message}", rule="as4.answer"
        ) from exc
    signal = root.find("S12:Header/eb:Messaging/eb:SignalMessage", ns.NSMAP)
    if signal is None:
        raise InputError("the answer has no eb:SignalMessage", rule="as4.answer")
    ref_to = (signal.findtext("eb:MessageInfo/eb:RefToMessageId", "", ns.NSMAP) or "").strip()
    errors = tuple(
        EbmsError(
            code=el.get("errorCode", ""),
            severity=el.get("severity", ""),
            short_description=el.get("shortDescription", ""),
            category=el.get("category", ""),
            ref_to_message_id=el.get("refToMessageInError", ""),
            description=(el.findtext("eb:Description", "", ns.NSMAP) or "").strip(),
            detail=(el.findtext("eb:ErrorDetail", "", ns.NSMAP) or "").strip(),
            origin=el.get("origin", ""),
        )
        for el in signal.iterfind("eb:Error", ns.NSMAP)
    )
    receipt = signal.find("eb:Receipt", ns.NSMAP)
    signature = root.find("S12:Header/wsse:Security/ds:Signature", ns.NSMAP)
    if receipt is None:
        if not errors:
            raise InputError("the signal is neither a receipt nor an error", rule="as4.answer")
        if require_signed_errors and signature is None:
            raise VerificationError("the ebMS error is not signed", check="as4.error-unsigned")
        return SignalResult(errors=errors, ref_to_message_id=ref_to)
    if signature is None:
        raise VerificationError("the receipt is not signed", check="as4.receipt-unsigned")
    try:
        signer = wssec.signing_certificate(root, signature)
        check_signer(signer)
        verified = xmldsig.verify_signature(root, signature, _rsa(signer), attachments={})
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise VerificationError(
            f"the receipt's signature cannot be processed: {exc}", check="as4.receipt-unreadable"
        ) from exc
    messaging = root.find("S12:Header/eb:Messaging", ns.NSMAP)
    body_el = root.find("S12:Body", ns.NSMAP)
    needed = {
        "#" + (el.get(q("wsu", "Id")) or "?") for el in (messaging, body_el) if el is not None
    }
    if not needed <= {ref.uri for ref in verified.references}:
        raise VerificationError(
            "the receipt's signature does not cover its Messaging and Body",
            check="as4.receipt-coverage",
        )
    echoed = tuple(
        SignedReference(ref.get("URI", ""), (ref.findtext(q("ds", "DigestValue")) or "").strip())
        for ref in receipt.iterfind(
            "ebbp:NonRepudiationInformation/ebbp:MessagePartNRInformation/ds:Reference", ns.NSMAP
        )
    )
    return SignalResult(
        receipt=VerifiedReceipt(
            message_id=(signal.findtext("eb:MessageInfo/eb:MessageId", "", ns.NSMAP) or "").strip(),
            ref_to_message_id=ref_to,
            references=echoed,
            signer=signer,
            raw=body,
            timestamp=(signal.findtext("eb:MessageInfo/eb:Timestamp", "", ns.NSMAP) or "").strip(),
        ),
        errors=errors,
        ref_to_message_id=ref_to,
    )


def check_receipt_covers(receipt: VerifiedReceipt, sent: OutgoingMessage) -> None:
    """The receipt must refer to ``sent`` and echo exactly the references we signed."""
    if receipt.ref_to_message_id != sent.message_id:
        raise VerificationError(
            f"the receipt refers to {receipt.ref_to_message_id!r}, not to {sent.message_id!r}",
            check="as4.receipt-ref",
        )
    ours = {(r.uri, r.digest) for r in sent.signed_references}
    theirs = {(r.uri, r.digest) for r in receipt.references}
    if ours != theirs or len(receipt.references) != len(sent.signed_references):
        signed = {r.uri: r.digest for r in sent.signed_references}
        echoed = {r.uri: r.digest for r in receipt.references}
        problems = [
            f"{label} {uris}"
            for label, uris in (
                (
                    "another digest for",
                    sorted(u for u in signed.keys() & echoed.keys() if signed[u] != echoed[u]),
                ),
                ("not echoed", sorted(signed.keys() - echoed.keys())),
                ("not ours", sorted(echoed.keys() - signed.keys())),
            )
            if uris
        ] or [f"{len(receipt.references)} references for our {len(sent.signed_references)}"]
        raise VerificationError(
            "the receipt's digests are not the ones we signed (" + "; ".join(problems) + "): "
            "a receipt for another message, or for an earlier build of this MessageId",
            check="as4.receipt-digests",
        )
