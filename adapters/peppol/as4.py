"""The Peppol AS4 codec, both ways: build and read a UserMessage (sender and receiver side).

Sending: :func:`build_user_message` puts the SBDH, gzip-compressed, as the one MIME
attachment of an ebMS 3 ``UserMessage`` (SOAP 1.2), signs ``eb:Messaging``, ``Body`` and the
attachment, encrypts the attachment to the receiver and returns the bytes, the Content-Type
and the references signed (which the receipt must echo).

Receiving: :func:`parse_user_message` splits the MIME message, checks the signer against the
AP trust store, decrypts, verifies every digest and the signature value, checks coverage
(Messaging, Body, every ``PartInfo``) and that every payload came encrypted, decompresses
within a size cap and returns the :class:`IncomingMessage`; every refusal is an
:class:`As4Invalid` carrying the ebMS error code to answer with
(:mod:`adapters.peppol.signals` builds the receipt or the error).
"""

from __future__ import annotations

import gzip
import uuid
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import rsa
from lxml import etree

from adapters.peppol import mime, ns, wssec, xmldsig
from adapters.peppol.identifiers import (
    DOCTYPE_SCHEME_QNS,
    DOCTYPE_SCHEME_WILDCARD,
    PARTICIPANT_SCHEME,
    DocumentTypeId,
    ParticipantId,
    ProcessId,
)
from adapters.peppol.ns import q
from adapters.peppol.sbdh import SbdhHeader
from adapters.peppol.xmldsig import SignedReference
from gateway.errors import InputError, LingangError, VerificationError
from gateway.xmlsafe import XmlLimits, parse_xml

SOAP_LIMITS = XmlLimits(max_bytes=4 * 1024 * 1024, max_depth=32, max_elements=5_000)
MAX_DECOMPRESSED = 256 * 1024 * 1024
DOCUMENT_TYPE_SCHEMES = (DOCTYPE_SCHEME_QNS + "::", DOCTYPE_SCHEME_WILDCARD + "::")
"""What an ``Action`` starts with (Peppol code lists v9.7, document type identifier schemes)."""
GZIP = "application/gzip"
"""The AS4 compression type (the ``CompressionType`` part property)."""


class As4Invalid(InputError):
    """A received AS4 message that is refused; ``ebms_code`` is the error to answer with."""

    code = "as4-invalid"

    def __init__(
        self,
        message: str,
        *,
        ebms_code: str | None = None,
        field: str | None = None,
        rule: str | None = None,
    ) -> None:
        code = ebms_code or rule or "EBMS:0004"
        super().__init__(message, field=field, rule=rule or code)
        self.ebms_code = code
        """The ebMS error to answer with (rebuilt from ``rule`` after crossing a process
        boundary; ``EBMS:0004``, "other", when neither is known)."""


@dataclass(frozen=True, slots=True)
class UserMessageHeader:
    """The ebMS header of a Peppol UserMessage."""

    from_party: str
    """The sending AP's seat id (its certificate's CN)."""
    to_party: str
    service: ProcessId
    action: DocumentTypeId
    original_sender: ParticipantId
    final_recipient: ParticipantId
    message_id: str = field(default_factory=lambda: f"{uuid.uuid4()}@lingang")
    conversation_id: str = ""
    timestamp: datetime = field(default_factory=lambda: datetime.now(UTC))
    ref_to_message_id: str = ""


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """A built UserMessage: what to POST and what its receipt must echo."""

    message_id: str
    body: bytes
    content_type: str
    signed_references: tuple[SignedReference, ...]


@dataclass(frozen=True, slots=True)
class IncomingMessage:
    """A received, verified and decrypted UserMessage."""

    header: UserMessageHeader
    payloads: dict[str, bytes]
    """Decompressed attachments by Content-ID (the first is the SBDH)."""
    signer: x509.Certificate
    signed_references: tuple[SignedReference, ...]
    signed_info: etree._Element
    """The sender's ``ds:SignedInfo`` (its references go into the receipt)."""

    @property
    def sbdh(self) -> bytes:
        return next(iter(self.payloads.values()))


def _text(parent: etree._Element, text: str, tag: str, **attrs: str) -> etree._Element:
    el = etree.SubElement(parent, tag, attrib=attrs)
    el.text = text
    return el


def messaging_element(
    header: UserMessageHeader, content_id: str, messaging_id: str
) -> etree._Element:
    """``eb:Messaging`` with the Peppol ``UserMessage``."""
    messaging = etree.Element(q("eb", "Messaging"), nsmap={"eb": ns.EB, "wsu": ns.WSU})
    messaging.set(q("S12", "mustUnderstand"), "true")
    messaging.set(q("wsu", "Id"), messaging_id)
    user = etree.SubElement(messaging, q("eb", "UserMessage"))
    info = etree.SubElement(user, q("eb", "MessageInfo"))
    _text(
        info,
        header.timestamp.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        q("eb", "Timestamp"),
    )
    _text(info, header.message_id, q("eb", "MessageId"))
    if header.ref_to_message_id:
        _text(info, header.ref_to_message_id, q("eb", "RefToMessageId"))
    party = etree.SubElement(user, q("eb", "PartyInfo"))
    for side, ident, role in (
        ("From", header.from_party, ns.ROLE_INITIATOR),
        ("To", header.to_party, ns.ROLE_RESPONDER),
    ):
        el = etree.SubElement(party, q("eb", side))
        _text(el, ident, q("eb", "PartyId"), type=ns.PEPPOL_PARTY_TYPE)
        _text(el, role, q("eb", "Role"))
    collab = etree.SubElement(user, q("eb", "CollaborationInfo"))
    _text(collab, ns.PEPPOL_AGREEMENT, q("eb", "AgreementRef"))
    _text(collab, header.service.value, q("eb", "Service"), type=header.service.scheme)
    _text(collab, header.action.uri(), q("eb", "Action"))
    _text(collab, header.conversation_id or header.message_id, q("eb", "ConversationId"))
    props = etree.SubElement(user, q("eb", "MessageProperties"))
    _text(
        props,
        header.original_sender.value,
        q("eb", "Property"),
        name="originalSender",
        type=PARTICIPANT_SCHEME,
    )
    _text(
        props,
        header.final_recipient.value,
        q("eb", "Property"),
        name="finalRecipient",
        type=PARTICIPANT_SCHEME,
    )
    payload = etree.SubElement(user, q("eb", "PayloadInfo"))
    part = etree.SubElement(payload, q("eb", "PartInfo"), href=f"cid:{content_id}")
    part_props = etree.SubElement(part, q("eb", "PartProperties"))
    _text(part_props, "application/xml", q("eb", "Property"), name="MimeType")
    _text(part_props, GZIP, q("eb", "Property"), name="CompressionType")
    return messaging


def soap_envelope(
    security: etree._Element, messaging: etree._Element, body_id: str
) -> etree._Element:
    """``S12:Envelope`` with the Security and Messaging headers and an empty signed Body."""
    envelope = etree.Element(q("S12", "Envelope"), nsmap={"S12": ns.SOAP12})
    head = etree.SubElement(envelope, q("S12", "Header"))
    head.append(security)
    head.append(messaging)
    body = etree.SubElement(envelope, q("S12", "Body"), nsmap={"wsu": ns.WSU})
    body.set(q("wsu", "Id"), body_id)
    return envelope


def sign_envelope(
    envelope: etree._Element,
    security: etree._Element,
    credentials: wssec.Credentials,
    *,
    element_ids: list[str],
    attachments: dict[str, bytes],
) -> list[SignedReference]:
    """Add the sender's token and the signature to ``security`` (already in ``envelope``)."""
    token_id = wssec.new_id("X509")
    security.append(wssec.binary_security_token(credentials.cert, token_id))
    signature, made = xmldsig.build_signature(
        envelope,
        element_ids=element_ids,
        attachments=attachments,
        key=credentials.key,
        key_info=wssec.token_reference(f"#{token_id}"),
        signature_id=wssec.new_id("SIG"),
    )
    security.append(signature)
    xmldsig.sign_value(signature, credentials.key)
    return made


def compress(data: bytes | Sequence[bytes | memoryview]) -> bytes:
    """gzip (AS4 compression) of ``data`` or of its pieces in turn (no copy of a large
    payload), without a timestamp so equal input gives equal bytes."""
    if isinstance(data, bytes):
        return gzip.compress(data, compresslevel=6, mtime=0)
    packer = zlib.compressobj(6, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    out = [packer.compress(piece) for piece in data]
    out.append(packer.flush())
    return b"".join(out)


def build_user_message(
    sbdh: bytes | Sequence[bytes | memoryview],
    header: UserMessageHeader,
    credentials: wssec.Credentials,
    receiver_cert: x509.Certificate | None,
) -> OutgoingMessage:
    """The signed (and, with ``receiver_cert``, encrypted) MIME UserMessage carrying ``sbdh``
    (bytes, or pieces such as :func:`adapters.peppol.sbdh.sbdh_parts`)."""
    content_id = f"{uuid.uuid4()}@lingang"
    messaging_id = wssec.new_id("msg")
    body_id = wssec.new_id("body")
    compressed = compress(sbdh)
    security = wssec.security_header()
    envelope = soap_envelope(security, messaging_element(header, content_id, messaging_id), body_id)
    made = sign_envelope(
        envelope,
        security,
        credentials,
        element_ids=[messaging_id, body_id],
        attachments={content_id: compressed},
    )
    if receiver_cert is not None:
        wire = wssec.encrypt_attachments(security, receiver_cert, {content_id: compressed})
        # tokens and encryption precede the signature, as receivers process the header in order
        signature = ns.first(security, "ds:Signature")
        signer_token = signature.getprevious() if signature is not None else None
        for moved in (signer_token, signature):
            if moved is not None:
                security.remove(moved)
                security.append(moved)
        part_type = "application/octet-stream"
    else:
        wire = {content_id: compressed}
        part_type = "application/gzip"
    soap = etree.tostring(envelope, xml_declaration=True, encoding="UTF-8")
    body, content_type = mime.build_multipart(soap, [(content_id, part_type, wire[content_id])])
    return OutgoingMessage(header.message_id, body, content_type, tuple(made))


def _required(parent: etree._Element, path: str, what: str) -> etree._Element:
    found = ns.first(parent, path)
    if found is None:
        raise As4Invalid(
            f"the UserMessage has no {what}", ebms_code="EBMS:0009", rule="as4.header." + what
        )
    return found


MAX_HEADER_TEXT = 1000
"""Longest identifier or value in a UserMessage header accepted (a MessageId is stored and
indexed, and no profile needs more)."""


def _required_text(parent: etree._Element, path: str, what: str) -> str:
    text = (_required(parent, path, what).text or "").strip()
    if not text:
        raise As4Invalid(
            f"the UserMessage's {what} is empty", ebms_code="EBMS:0009", rule="as4.header." + what
        )
    if len(text) > MAX_HEADER_TEXT:
        raise As4Invalid(
            f"the UserMessage's {what} is {len(text)} characters, more than {MAX_HEADER_TEXT}",
            ebms_code="EBMS:0009",
            rule="as4.header." + what,
        )
    return text


def _refuse(message: str, code: str, rule: str, where: str) -> As4Invalid:
    return As4Invalid(message, ebms_code=code, field=where, rule=rule)


def _check_party(user: etree._Element, side: str, role: str) -> None:
    """``From`` / ``To``: one ``PartyId`` of the Peppol party type and the fixed role."""
    party = _required(user, f"eb:PartyInfo/eb:{side}", side)
    ids = list(party.iterchildren(q("eb", "PartyId")))
    if len(ids) != 1:
        raise _refuse(
            f"{side} has {len(ids)} PartyId elements; the Peppol AS4 profile has exactly one, "
            "the CN of the access point's certificate",
            "EBMS:0003",
            "as4.pmode.party-id",
            f"eb:PartyInfo/eb:{side}/eb:PartyId",
        )
    if ids[0].get("type") != ns.PEPPOL_PARTY_TYPE:
        raise _refuse(
            f"{side}/PartyId type {ids[0].get('type')!r} is not {ns.PEPPOL_PARTY_TYPE}",
            "EBMS:0010",
            "as4.pmode.party-type",
            f"eb:PartyInfo/eb:{side}/eb:PartyId/@type",
        )
    found = (ns.first_text(party, "eb:Role") or "").strip()
    if found != role:
        raise _refuse(
            f"{side}/Role {found!r} is not {role}",
            "EBMS:0010",
            "as4.pmode.role",
            f"eb:PartyInfo/eb:{side}/eb:Role",
        )


def _check_payload_parts(user: etree._Element) -> None:
    """Every ``PartInfo`` is a MIME attachment (``cid:``), gzip-compressed, with its MIME type."""
    for part in user.iterfind("eb:PayloadInfo/eb:PartInfo", ns.NSMAP):
        href = part.get("href", "")
        if not href:
            raise _refuse(
                "a PartInfo without href names a payload in the SOAP Body; the Peppol AS4 "
                "profile carries every payload as a MIME attachment",
                "EBMS:0003",
                "as4.payload-in-body",
                "eb:PayloadInfo/eb:PartInfo/@href",
            )
        if not href.startswith("cid:"):
            raise _refuse(
                f"PartInfo href {href[:200]!r} is not a cid: reference to an attachment of the "
                "message (external payloads are not used)",
                "EBMS:0011",
                "as4.external-payload",
                "eb:PayloadInfo/eb:PartInfo/@href",
            )
        props = {
            prop.get("name", ""): (prop.text or "").strip()
            for prop in part.iterfind("eb:PartProperties/eb:Property", ns.NSMAP)
        }
        compression = props.get("CompressionType")
        if compression is None:
            raise _refuse(
                f"the part {href} has no CompressionType; the Peppol AS4 profile uses AS4 "
                "compression (application/gzip) for every payload",
                "EBMS:0010",
                "as4.pmode.compression",
                "eb:PartInfo/eb:PartProperties/eb:Property[@name='CompressionType']",
            )
        if compression.lower() != GZIP:
            raise _refuse(
                f"the part {href} has CompressionType {compression[:100]!r}; AS4 compression "
                f"is {GZIP}",
                "EBMS:0003",
                "as4.compression-type",
                "eb:PartInfo/eb:PartProperties/eb:Property[@name='CompressionType']",
            )
        if not props.get("MimeType"):
            raise _refuse(
                f"the compressed part {href} has no MimeType (AS4 compression: the type of the "
                "uncompressed payload)",
                "EBMS:0003",
                "as4.part-mime-type",
                "eb:PartInfo/eb:PartProperties/eb:Property[@name='MimeType']",
            )


def check_peppol_pmode(user: etree._Element) -> None:
    """The values the Peppol AS4 profile fixes, in a received ``eb:UserMessage``:
    no ``RefToMessageId`` (One-Way/Push only); ``@mpc`` absent or the default MPC; ``From`` / ``To`` each one ``PartyId`` of type
    ``urn:fdc:peppol.eu:2017:identifiers:ap`` with the initiator / responder role;
    ``AgreementRef`` without ``type`` and ``pmode``; no ``trackingIdentifier`` property;
    ``originalSender`` / ``finalRecipient`` once each, of type ``iso6523-actorid-upis`` when
    typed;
    every ``PartInfo`` a ``cid:`` attachment with ``CompressionType`` ``application/gzip``
    and a ``MimeType``. :class:`As4Invalid`: ``EBMS:0010`` (ProcessingModeMismatch) for a
    value the P-Mode fixes, ``EBMS:0003`` (ValueInconsistent) for an inconsistent one,
    ``EBMS:0011`` (ExternalPayloadError) for a payload outside the message."""
    mpc = user.get("mpc")
    if mpc is not None and mpc.strip() != ns.DEFAULT_MPC:
        raise _refuse(
            f"UserMessage mpc {mpc[:200]!r} is not the default MPC {ns.DEFAULT_MPC}",
            "EBMS:0010",
            "as4.pmode.mpc",
            "eb:UserMessage/@mpc",
        )
    if (ns.first_text(user, "eb:MessageInfo/eb:RefToMessageId") or "").strip():
        raise _refuse(
            "the UserMessage has a RefToMessageId: Peppol exchanges are One-Way/Push only "
            "(Two-Way SHALL NOT be used, so RefToMessageId is not used)",
            "EBMS:0010",
            "as4.pmode.one-way",
            "eb:MessageInfo/eb:RefToMessageId",
        )
    _check_party(user, "From", ns.ROLE_INITIATOR)
    _check_party(user, "To", ns.ROLE_RESPONDER)
    service = ns.first(user, "eb:CollaborationInfo/eb:Service")
    if service is not None and not (service.get("type") or "").strip():
        raise _refuse(
            "Service has no type; the Peppol AS4 profile sets it to the process identifier "
            "scheme (cenbii-procid-ubl)",
            "EBMS:0010",
            "as4.pmode.service-type",
            "eb:CollaborationInfo/eb:Service/@type",
        )
    action = (ns.first_text(user, "eb:CollaborationInfo/eb:Action") or "").strip()
    if action and not action.startswith(DOCUMENT_TYPE_SCHEMES):
        raise _refuse(
            f"Action {action[:200]!r} does not start with a document type identifier scheme "
            f"({' or '.join(DOCUMENT_TYPE_SCHEMES)}): the Peppol AS4 profile "
            "has Action = «scheme id»::«document type id value»",
            "EBMS:0009",
            "as4.header.Action",
            "eb:CollaborationInfo/eb:Action",
        )
    agreement = ns.first(user, "eb:CollaborationInfo/eb:AgreementRef")
    if agreement is not None:
        for attribute in ("type", "pmode"):
            if agreement.get(attribute) is not None:
                raise _refuse(
                    f"AgreementRef has a {attribute} attribute; the Peppol AS4 profile forbids it",
                    "EBMS:0010",
                    "as4.pmode.agreement",
                    f"eb:CollaborationInfo/eb:AgreementRef/@{attribute}",
                )
    seen: set[str] = set()
    for prop in user.iterfind("eb:MessageProperties/eb:Property", ns.NSMAP):
        name = prop.get("name", "")
        if name in ("originalSender", "finalRecipient") and name in seen:
            raise _refuse(
                f"the {name} property is given more than once",
                "EBMS:0003",
                f"as4.header.{name}-repeated",
                f"eb:MessageProperties/eb:Property[@name='{name}']",
            )
        seen.add(name)
        if name == "trackingIdentifier":
            raise _refuse(
                "the trackingIdentifier property MUST NOT be used in Peppol",
                "EBMS:0010",
                "as4.pmode.tracking-identifier",
                "eb:MessageProperties/eb:Property[@name='trackingIdentifier']",
            )
        scheme = prop.get("type")
        if name in ("originalSender", "finalRecipient") and scheme not in (
            None,
            PARTICIPANT_SCHEME,
        ):
            raise _refuse(
                f"the {name} property has type {scheme[:100]!r}, not {PARTICIPANT_SCHEME}",
                "EBMS:0003",
                f"as4.header.{name}-type",
                f"eb:MessageProperties/eb:Property[@name='{name}']/@type",
            )
    _check_payload_parts(user)


def read_user_message_header(messaging: etree._Element) -> UserMessageHeader:
    """The Peppol header fields of ``eb:Messaging/eb:UserMessage``, checked against the
    Peppol P-Mode (:func:`check_peppol_pmode`; no security checks)."""
    if ns.first(messaging, "eb:SignalMessage/eb:PullRequest") is not None:
        raise As4Invalid(
            "a PullRequest: the Peppol AS4 profile uses One-Way/Push only (One-Way/Pull SHALL "
            "NOT be used)",
            ebms_code="EBMS:0008",
            field="eb:SignalMessage/eb:PullRequest",
            rule="as4.pull-not-supported",
        )
    user = _required(messaging, "eb:UserMessage", "UserMessage")
    if (
        len(messaging.findall(q("eb", "UserMessage"))) > 1
        or ns.first(messaging, "eb:SignalMessage") is not None
    ):
        raise As4Invalid(
            "eb:Messaging bundles more than the one UserMessage of a Peppol exchange",
            ebms_code="EBMS:0003",
            field="eb:Messaging",
            rule="as4.header.one-message",
        )
    props: dict[str, str] = {}
    for prop in user.iterfind("eb:MessageProperties/eb:Property", ns.NSMAP):
        props[prop.get("name", "")] = (prop.text or "").strip()
    for name in ("originalSender", "finalRecipient"):
        if not props.get(name):
            raise As4Invalid(
                f"the UserMessage has no {name} property",
                ebms_code="EBMS:0009",
                rule=f"as4.header.{name}",
            )
    service = _required(user, "eb:CollaborationInfo/eb:Service", "Service")
    agreement = _required_text(user, "eb:CollaborationInfo/eb:AgreementRef", "AgreementRef")
    if agreement != ns.PEPPOL_AGREEMENT:
        raise As4Invalid(
            f"AgreementRef {agreement!r} is not the Peppol agreement",
            ebms_code="EBMS:0010",
            rule="as4.header.agreement",
        )
    check_peppol_pmode(user)
    timestamp_text = _required_text(user, "eb:MessageInfo/eb:Timestamp", "Timestamp")
    try:
        timestamp = datetime.fromisoformat(timestamp_text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise As4Invalid(
            f"Timestamp {timestamp_text!r} is not a date-time",
            ebms_code="EBMS:0009",
            rule="as4.header.Timestamp",
        ) from exc
    try:
        return UserMessageHeader(
            from_party=_required_text(user, "eb:PartyInfo/eb:From/eb:PartyId", "From/PartyId"),
            to_party=_required_text(user, "eb:PartyInfo/eb:To/eb:PartyId", "To/PartyId"),
            service=ProcessId(
                (service.text or "").strip(), service.get("type", "cenbii-procid-ubl")
            ),
            action=DocumentTypeId.parse(
                _required_text(user, "eb:CollaborationInfo/eb:Action", "Action")
            ),
            original_sender=ParticipantId.parse(props["originalSender"], field="originalSender"),
            final_recipient=ParticipantId.parse(props["finalRecipient"], field="finalRecipient"),
            message_id=_required_text(user, "eb:MessageInfo/eb:MessageId", "MessageId"),
            conversation_id=(
                ns.first_text(user, "eb:CollaborationInfo/eb:ConversationId") or ""
            ).strip(),
            timestamp=timestamp,
            ref_to_message_id=(
                ns.first_text(user, "eb:MessageInfo/eb:RefToMessageId") or ""
            ).strip(),
        )
    except As4Invalid:
        raise
    except LingangError as exc:
        raise As4Invalid(exc.message, ebms_code="EBMS:0009", rule=exc.rule) from exc


def decompress(data: mime.Octets, limit: int = MAX_DECOMPRESSED) -> bytes:
    """gunzip with a size cap (a gzip bomb is refused, EBMS:0303)."""
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(data, limit + 1)
    except zlib.error as exc:
        raise As4Invalid(f"attachment does not decompress: {exc}", ebms_code="EBMS:0303") from exc
    if len(out) > limit or inflater.unconsumed_tail:
        raise As4Invalid(
            f"attachment decompresses to more than {limit} bytes",
            ebms_code="EBMS:0303",
            rule="as4.decompress-limit",
        )
    if not inflater.eof:
        raise As4Invalid("attachment is a truncated gzip stream", ebms_code="EBMS:0303")
    return out


def parse_soap(soap: bytes) -> etree._Element:
    """Parse a SOAP 1.2 envelope (hostile input; small limits: payloads travel as attachments)."""
    try:
        root = parse_xml(soap, limits=SOAP_LIMITS, what="SOAP envelope")
    except LingangError as exc:
        raise As4Invalid(exc.message, ebms_code="EBMS:0004", rule=exc.rule) from exc
    if root.tag != q("S12", "Envelope"):
        raise As4Invalid(
            f"not a SOAP 1.2 envelope (root {root.tag})", ebms_code="EBMS:0004", rule="as4.soap12"
        )
    return root


def parse_user_message(
    content_type: str,
    body: mime.Body,
    *,
    credentials: wssec.Credentials | None,
    check_signer: Callable[[x509.Certificate], object],
    max_payload: int = MAX_DECOMPRESSED,
) -> IncomingMessage:
    """Read, authenticate, decrypt and decompress a received UserMessage (see the module doc).

    Every refusal is an :class:`As4Invalid`; library errors from malformed certificates, keys
    or base64 are translated (EBMS:0101), never raised as they are."""
    try:
        return _parse_user_message(
            content_type,
            body,
            credentials=credentials,
            check_signer=check_signer,
            max_payload=max_payload,
        )
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise As4Invalid(
            f"the message's security header cannot be processed: {exc}",
            ebms_code="EBMS:0101",
            rule="as4.unreadable",
        ) from exc


def _parse_user_message(
    content_type: str,
    body: mime.Body,
    *,
    credentials: wssec.Credentials | None,
    check_signer: Callable[[x509.Certificate], object],
    max_payload: int = MAX_DECOMPRESSED,
) -> IncomingMessage:
    try:
        soap, attachments = mime.split_message(content_type, body)
    except InputError as exc:
        raise As4Invalid(exc.message, ebms_code="EBMS:0007", rule=exc.rule) from exc
    root = parse_soap(soap)
    messaging = _required(root, "S12:Header/eb:Messaging", "Messaging")
    soap_header = messaging.getparent()
    if soap_header is not None and len(soap_header.findall(q("eb", "Messaging"))) > 1:
        raise As4Invalid(
            "the SOAP header has more than one eb:Messaging",
            ebms_code="EBMS:0009",
            field="S12:Header/eb:Messaging",
            rule="as4.header.Messaging-repeated",
        )
    header = read_user_message_header(messaging)
    require_empty_body(root)
    for part in messaging.iterfind("eb:UserMessage/eb:PayloadInfo/eb:PartInfo", ns.NSMAP):
        if part.get("href", "").removeprefix("cid:") not in attachments:
            raise As4Invalid(
                f"PartInfo {part.get('href')} names no MIME attachment of the message",
                ebms_code="EBMS:0011",
                field="eb:PayloadInfo/eb:PartInfo/@href",
                rule="as4.part-missing",
            )
    security = ns.first(root, "S12:Header/wsse:Security")
    signature = ns.first(security, "ds:Signature") if security is not None else None
    if security is None or signature is None:
        raise As4Invalid(
            "the message is not signed", ebms_code="EBMS:0103", rule="as4.signature-required"
        )
    try:
        signer = wssec.signing_certificate(root, signature)
    except VerificationError as exc:
        raise As4Invalid(
            exc.message, ebms_code=_security_code(exc, "EBMS:0101"), rule=exc.rule
        ) from exc
    try:
        check_signer(signer)
    except VerificationError as exc:
        raise As4Invalid(
            f"the signer is not trusted: {exc.message}", ebms_code="EBMS:0101", rule=exc.rule
        ) from exc
    wire: dict[str, mime.Octets] = {cid: octets for cid, (_, octets) in attachments.items()}
    encrypted = ns.first(security, "xenc:EncryptedKey") is not None
    if encrypted and credentials is None:
        raise As4Invalid("encrypted message but no decryption key", ebms_code="EBMS:0102")
    try:
        plain = (
            wssec.decrypt_attachments(security, credentials.key, wire)
            if credentials and encrypted
            else {}
        )
    except VerificationError as exc:
        raise As4Invalid(
            exc.message, ebms_code=_security_code(exc, "EBMS:0102"), rule=exc.rule
        ) from exc
    signed_octets: dict[str, mime.Octets] = {
        cid: plain.get(cid, octets) for cid, octets in wire.items()
    }
    c14n = ns.first(signature, "ds:SignedInfo/ds:CanonicalizationMethod")
    if c14n is None or c14n.get("Algorithm") != ns.EXC_C14N:
        raise As4Invalid(
            f"the SignedInfo's canonicalization "
            f"{c14n.get('Algorithm') if c14n is not None else None!r} is not exclusive C14N "
            f"({ns.EXC_C14N})",
            ebms_code="EBMS:0103",
            field="ds:SignedInfo/ds:CanonicalizationMethod/@Algorithm",
            rule="xmldsig.c14n",
        )
    try:
        verified = xmldsig.verify_signature(
            root, signature, _rsa(signer), attachments=signed_octets
        )
    except VerificationError as exc:
        raise As4Invalid(
            exc.message, ebms_code=_security_code(exc, "EBMS:0101"), rule=exc.rule
        ) from exc
    covered = {ref.uri for ref in verified.references}
    body_el = ns.first(root, "S12:Body")
    required = {
        "#" + (messaging.get(q("wsu", "Id")) or "?"),
        "#" + ((body_el.get(q("wsu", "Id")) if body_el is not None else None) or "?"),
    }
    hrefs = [
        p.get("href", "")
        for p in messaging.iterfind("eb:UserMessage/eb:PayloadInfo/eb:PartInfo", ns.NSMAP)
    ]
    required |= set(hrefs)
    if not required <= covered:
        raise As4Invalid(
            f"the signature does not cover {sorted(required - covered)}",
            ebms_code="EBMS:0103",
            rule="as4.signature-coverage",
        )
    require_encrypted(hrefs, plain)
    if len(hrefs) != 1 or not hrefs[0].startswith("cid:"):
        raise As4Invalid(
            "a Peppol message carries exactly one attachment, the SBDH",
            ebms_code="EBMS:0003",
            rule="as4.one-payload",
        )
    if set(wire) != {hrefs[0][4:]}:
        raise As4Invalid(
            "MIME attachments do not match PayloadInfo",
            ebms_code="EBMS:0007",
            rule="as4.mime.payload-info",
        )
    payloads = {hrefs[0][4:]: decompress(signed_octets[hrefs[0][4:]], max_payload)}
    signed_info = ns.first(signature, "ds:SignedInfo")
    assert signed_info is not None
    return IncomingMessage(header, payloads, signer, tuple(verified.references), signed_info)


POLICY_CHECKS = frozenset(
    {
        "xmldsig.signature-method",
        "xmldsig.digest-method",
        "xmldsig.c14n",
        "xmldsig.transforms",
        wssec.TOKEN_TYPE,
        wssec.ENCRYPTION_ALGORITHM,
    }
)
"""Refusals of a security method or parameter the profile does not allow (an algorithm, a
transform, a key reference other than a Binary Security Token of ValueType X509v3): ebMS 3
Core §6.7.2 ``EBMS:0103`` PolicyNoncompliance ("the message's security methods, parameters,
scope or other security policy-level requirements … were not satisfied"), not a signature
or decryption that failed (``EBMS:0101`` / ``EBMS:0102``)."""


def _security_code(error: VerificationError, failed: str) -> str:
    """``EBMS:0103`` for a :data:`POLICY_CHECKS` refusal, else ``failed``."""
    return "EBMS:0103" if error.check in POLICY_CHECKS else failed


def require_empty_body(root: etree._Element) -> None:
    """The SOAP ``Body`` carries nothing: the Peppol AS4 profile (Message packaging) puts
    every payload in a MIME attachment; :class:`As4Invalid` ``EBMS:0003`` else."""
    body = ns.first(root, "S12:Body")
    if body is not None and (len(body) or (body.text or "").strip()):
        raise As4Invalid(
            "the SOAP Body carries content; the Peppol AS4 profile carries every payload as a "
            "MIME attachment and the Body stays empty",
            ebms_code="EBMS:0003",
            field="S12:Body",
            rule="as4.payload-in-body",
        )


def require_encrypted(hrefs: Sequence[str], decrypted: Mapping[str, object]) -> None:
    """Every payload (``PartInfo`` href) must have been decrypted: the Peppol AS4 profile
    (Use of Peppol PKI; CEF eDelivery AS4 1.14 §3.2.6, ``PMode[1].Security.X509.Encryption``)
    has the payload encrypted to the receiving AP's certificate, so a payload that came in
    clear — no ``xenc:EncryptedKey``, or an attachment its ``ReferenceList`` leaves out — is
    refused: :class:`As4Invalid` ``EBMS:0103`` (PolicyNoncompliance)."""
    clear = [href for href in hrefs if href.removeprefix("cid:") not in decrypted]
    if clear:
        raise As4Invalid(
            f"the payload {', '.join(clear)} is not encrypted; the Peppol AS4 profile requires "
            "every payload encrypted to the receiving access point's certificate",
            ebms_code="EBMS:0103",
            field="eb:PayloadInfo/eb:PartInfo/@href",
            rule="as4.encryption-required",
        )


def _rsa(cert: x509.Certificate) -> rsa.RSAPublicKey:
    key = cert.public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        raise VerificationError("the signing certificate has no RSA key", check="as4.signer-key")
    return key


def check_header_matches_sbdh(header: UserMessageHeader, sbdh_header: SbdhHeader) -> None:
    """The AS4 header must say what the SBDH says (Peppol AS4 profile, SBDH section):
    ``originalSender`` / ``finalRecipient`` = SBDH Sender / Receiver, ``Action`` = the
    DOCUMENTID scope, ``Service`` = the PROCESSID scope; :class:`As4Invalid` (EBMS:0003) else."""
    pairs = (
        ("originalSender", header.original_sender.same_as(sbdh_header.sender)),
        ("finalRecipient", header.final_recipient.same_as(sbdh_header.receiver)),
        ("Action", header.action.uri() == sbdh_header.document_type.uri()),
        (
            "Service",
            header.service.value == sbdh_header.process.value
            and header.service.scheme == sbdh_header.process.scheme,
        ),
    )
    for name, agrees in pairs:
        if not agrees:
            raise As4Invalid(
                f"the AS4 {name} does not match the SBDH",
                ebms_code="EBMS:0003",
                rule=f"as4.sbdh-{name}",
            )
