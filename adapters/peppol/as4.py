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
from adapters.peppol.errors import As4Invalid as As4Invalid
from adapters.peppol.identifiers import (
    PARTICIPANT_SCHEME,
    DocumentTypeId,
    ParticipantId,
    ProcessId,
)
from adapters.peppol.ns import q
from adapters.peppol.pmode import GZIP, check_peppol_pmode, require_empty_body
from adapters.peppol.sbdh import SbdhHeader
from adapters.peppol.xmldsig import SignedReference
from gateway.errors import InputError, LingangError, VerificationError
from gateway.xmlsafe import XmlLimits, parse_xml

PART_IDS = uuid.UUID("0c6f5d2e-8a4b-4f1e-9b7d-2e5c3a1f6d48")
"""The namespace of the ids :func:`part_ids` derives from a MessageId."""


def part_ids(message_id: str) -> tuple[str, str, str]:
    """The payload's Content-ID and the ``wsu:Id`` of ``eb:Messaging`` and of the Body, derived
    from the MessageId (globally unique, so these are too): with the same timestamp, a
    message rebuilt for a retry on any host signs exactly the digests the first one did,
    so the receiving AP's original receipt for the MessageId verifies against it."""

    def derived(part: str) -> str:
        return str(uuid.uuid5(PART_IDS, f"{part}\n{message_id}"))

    return f"{derived('payload')}@lingang", f"msg-{derived('messaging')}", f"body-{derived('body')}"


SOAP_LIMITS = XmlLimits(max_bytes=4 * 1024 * 1024, max_depth=32, max_elements=5_000)
MAX_DECOMPRESSED = 256 * 1024 * 1024


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
    content_id, messaging_id, body_id = part_ids(header.message_id)
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


MAX_GZIP_MEMBERS = 1024
"""Most gzip members one attachment may have (a compressor writes one, a streaming one a few)."""
_INFLATE_CHUNK = 64 * 1024


def decompress(data: mime.Octets, limit: int = MAX_DECOMPRESSED) -> bytes:
    """gunzip with a size cap (a gzip bomb is refused, EBMS:0303).

    Every member is read: a gzip file is "a series of members" (RFC 1952 2.2), which
    ``gzip``/``GZIPInputStream`` read as one text, so a payload compressed in pieces arrives
    whole; the cap is for all of them together, and at most :data:`MAX_GZIP_MEMBERS` are
    read. Bytes after a member that begin no other member are not gzip: refused, not
    dropped."""
    view = memoryview(data)
    out: list[bytes] = []
    size = position = members = 0
    while True:
        if members == MAX_GZIP_MEMBERS:
            raise As4Invalid(
                f"attachment has more than {MAX_GZIP_MEMBERS} gzip members",
                ebms_code="EBMS:0303",
                rule="as4.gzip-members",
            )
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        while not inflater.eof:
            if position >= len(view):
                raise As4Invalid("attachment is a truncated gzip stream", ebms_code="EBMS:0303")
            chunk = view[position : position + _INFLATE_CHUNK]
            position += len(chunk)
            try:
                piece = inflater.decompress(chunk, limit + 1 - size)
            except zlib.error as exc:
                where = f" after {members} gzip members" if members else ""
                raise As4Invalid(
                    f"attachment does not decompress{where}: {exc}", ebms_code="EBMS:0303"
                ) from exc
            size += len(piece)
            if size > limit or inflater.unconsumed_tail:
                raise As4Invalid(
                    f"attachment decompresses to more than {limit} bytes",
                    ebms_code="EBMS:0303",
                    rule="as4.decompress-limit",
                )
            out.append(piece)
        members += 1
        position -= len(inflater.unused_data)
        if position >= len(view):
            return b"".join(out)


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
