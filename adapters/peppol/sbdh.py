"""The Peppol Business Message Envelope: build and read the SBDH (UN/CEFACT SBDH 1.3).

:func:`build_sbdh` wraps a business document (its bytes, spliced in without re-serialising it)
in a ``StandardBusinessDocument`` with the Peppol scopes ``DOCUMENTID``, ``PROCESSID`` and,
always, ``COUNTRY_C1``; ``MLS_TO`` / ``MLS_TYPE`` when asked. :func:`parse_sbdh` reads one back
(hostile input: :func:`gateway.xmlsafe.parse_xml`) and checks what Peppol requires of it.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from xml.sax.saxutils import escape

from lxml import etree

from adapters.peppol.countries import COUNTRY_C1_CODES
from adapters.peppol.document_facts import (
    CII_CUSTOMIZATION,
    CII_ENDPOINTS,
    CII_PROCESS,
    UBL_ENDPOINTS,
    DocumentFacts,
    payload_facts,
    payload_identifiers,
)
from adapters.peppol.envelope_parties import (
    c1_country,
    check_envelope_parties,
    enveloped_parties,
    required_endpoint,
)
from adapters.peppol.identifiers import (
    BIS3_CII_INVOICE,
    BIS3_CREDIT_NOTE,
    BIS3_INVOICE,
    BIS3_PROCESS,
    DOCTYPE_SCHEME_QNS,
    PARTICIPANT_SCHEME,
    PINT_PROCESS,
    PINT_SG_CREDIT_NOTE,
    PINT_SG_INVOICE,
    PROCESS_SCHEME,
    DocumentTypeId,
    ParticipantId,
    ProcessId,
    document_type_for,
    process_for,
)
from gateway.errors import FieldError, InputError
from gateway.validation.xsd import validate_xsd
from gateway.xmlsafe import DEFAULT_LIMITS, XmlLimits, parse_xml

SBDH_NS = "http://www.unece.org/cefact/namespaces/StandardBusinessDocumentHeader"
_DECLARATION = re.compile(rb"^\s*<\?xml[^>]*\?>\s*")
MLS_TYPES = ("ALWAYS_SEND", "FAILURE_ONLY")
HEADER_VERSION = "1.0"
"""The only ``HeaderVersion`` of the Peppol Business Message Envelope."""
_HEAD = "StandardBusinessDocumentHeader"
_IDENT = f"{_HEAD}/DocumentIdentification"
PROFILE_IDENTIFIERS: dict[tuple[str, str], tuple[DocumentTypeId, ProcessId]] = {
    ("Invoice", "pint-sg"): (PINT_SG_INVOICE, PINT_PROCESS),
    ("CreditNote", "pint-sg"): (PINT_SG_CREDIT_NOTE, PINT_PROCESS),
    ("Invoice", "bis3"): (BIS3_INVOICE, BIS3_PROCESS),
    ("CreditNote", "bis3"): (BIS3_CREDIT_NOTE, BIS3_PROCESS),
    ("CrossIndustryInvoice", "bis3-cii"): (BIS3_CII_INVOICE, BIS3_PROCESS),
}
"""Identifiers by payload root and gateway profile, for documents that do not carry them."""


@dataclass(frozen=True, slots=True)
class SbdhHeader:
    """The facts an SBDH carries."""

    sender: ParticipantId
    receiver: ParticipantId
    document_type: DocumentTypeId
    process: ProcessId
    country_c1: str
    instance_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    created: datetime = field(default_factory=lambda: datetime.now(UTC))
    standard: str = ""
    """The payload's root namespace (default: the document type's)."""
    type_name: str = ""
    """The payload's root element name (default: the document type's)."""
    type_version: str = ""
    """The SBDH ``TypeVersion`` (default: the document type's version, its last ``::`` part,
    which it must always equal)."""
    mls_to: ParticipantId | None = None
    mls_type: str | None = None


@dataclass(frozen=True, slots=True)
class Sbdh:
    """A parsed SBDH: the header and the payload element's bytes."""

    header: SbdhHeader
    payload: bytes


def _scope(kind: str, value: str, identifier: str | None) -> str:
    ident = f"<Identifier>{escape(identifier)}</Identifier>" if identifier else ""
    return f"<Scope><Type>{kind}</Type><InstanceIdentifier>{escape(value)}</InstanceIdentifier>{ident}</Scope>"


def resolved(header: SbdhHeader) -> SbdhHeader:
    """``header`` with its defaults filled in: ``Standard``, ``Type`` and ``TypeVersion`` from
    the document type."""
    return replace(
        header,
        standard=header.standard or header.document_type.root_namespace,
        type_name=header.type_name or header.document_type.local_name,
        type_version=header.type_version or header.document_type.version,
    )


def _scope_field(kind: str) -> str:
    return f"{_HEAD}/BusinessScope/Scope[Type={kind}]"


def check_header(header: SbdhHeader) -> None:
    """What a Peppol receiver (phase4 / peppol-commons ``PeppolSBDHDataReader``) demands of a
    header, beyond its XSD; :class:`FieldError` naming the field and the rule:

    * the ``DOCUMENTID`` value starts with ``{Standard}::{Type}##`` (``peppol.sbdh.documentid``)
      and its version — the last ``::`` part — is ``TypeVersion`` (``peppol.sbdh.type-version``);
    * ``COUNTRY_C1`` is an assigned ISO 3166-1 alpha-2 code or a Peppol extra
      (:mod:`adapters.peppol.countries`; ``peppol.sbdh.country-c1``);
    * ``MLS_TYPE``, when present, is ``ALWAYS_SEND`` or ``FAILURE_ONLY`` (``peppol.sbdh.mls-type``).

    Our own headers pass it before they are sent (:func:`header_xml`, defaults filled in),
    received ones after they are read (:func:`parse_sbdh`), as they are."""
    doctype = header.document_type.value
    prefix = f"{header.standard}::{header.type_name}##"
    if not doctype.startswith(prefix):
        raise FieldError(
            f"the DOCUMENTID {doctype!r} does not start with Standard::Type## ({prefix!r})",
            field=_scope_field("DOCUMENTID"),
            rule="peppol.sbdh.documentid",
        )
    customization = doctype[len(prefix) :]
    version = customization.rsplit("::", 1)[1] if "::" in customization else ""
    if not version or version != header.type_version:
        raise FieldError(
            f"the DOCUMENTID's version {version!r} is not the TypeVersion {header.type_version!r}",
            field=f"{_IDENT}/TypeVersion",
            rule="peppol.sbdh.type-version",
        )
    if header.country_c1 not in COUNTRY_C1_CODES:
        raise FieldError(
            f"COUNTRY_C1 {header.country_c1!r} is not an assigned ISO 3166-1 alpha-2 code "
            "(nor one the Peppol country code list adds)",
            field=_scope_field("COUNTRY_C1"),
            rule="peppol.sbdh.country-c1",
        )
    if header.mls_type is not None and header.mls_type not in MLS_TYPES:
        raise FieldError(
            f"MLS_TYPE {header.mls_type!r} is not one of {', '.join(MLS_TYPES)}",
            field=_scope_field("MLS_TYPE"),
            rule="peppol.sbdh.mls-type",
        )


def check_payload_root(header: SbdhHeader, payload: etree._Element) -> None:
    """``Standard`` must be the payload root's namespace (``peppol.sbdh.standard``) and
    ``Type`` its local name (``peppol.sbdh.type``); :class:`FieldError` otherwise."""
    qname = etree.QName(payload)
    for name, said, actual, rule in (
        ("Standard", header.standard, qname.namespace or "", "peppol.sbdh.standard"),
        ("Type", header.type_name, qname.localname, "peppol.sbdh.type"),
    ):
        if said != actual:
            raise FieldError(
                f"the SBDH {name} {said!r} is not the payload root's "
                f"{'namespace' if name == 'Standard' else 'local name'} {actual!r}",
                field=f"{_IDENT}/{name}",
                rule=rule,
            )


def check_payload_identifiers(header: SbdhHeader, payload: etree._Element) -> None:
    """The envelope's document type and process must be the payload's own.

    The ``DOCUMENTID`` scope is the document type identifier of the business document it
    carries, ``Standard::Type##CustomizationID::TypeVersion``, and ``PROCESSID`` its process,
    the document's ``ProfileID`` (Peppol Business Message Envelope 2.0, DocumentIdentification
    and BusinessScope; for a CII invoice the guideline and business process parameters,
    :func:`~adapters.peppol.document_facts.payload_identifiers`). Document type identifiers
    are compared exactly (they are case-sensitive; the SBDH names the document's own
    customization, never a wildcard). A payload that carries none of them is not compared:
    its own rules reject it (BT-23/BT-24 are mandatory), answered by a Message Level Status.

    :class:`FieldError` on the scope: rule ``peppol.sbdh.customization`` (the DOCUMENTID's
    customization is not the payload's ``CustomizationID``) or ``peppol.sbdh.process``
    (PROCESSID is not its ``ProfileID``). Call after :func:`check_header`."""
    identifiers = payload_identifiers(payload)
    if identifiers is None:
        return
    customization, profile = identifiers
    doctype = header.document_type.value
    said = doctype[len(f"{header.standard}::{header.type_name}##") :].rsplit("::", 1)[0]
    if customization and customization != said:
        raise FieldError(
            f"the SBDH DOCUMENTID {doctype!r} names the customization {said!r}, but the "
            f"payload's CustomizationID is {customization!r}: the DOCUMENTID is the document "
            "type identifier of the document it carries (Standard::Type##CustomizationID::"
            "TypeVersion)",
            field=_scope_field("DOCUMENTID"),
            rule="peppol.sbdh.customization",
        )
    if profile and profile != header.process.value:
        raise FieldError(
            f"the SBDH PROCESSID {header.process.value!r} is not the payload's ProfileID "
            f"{profile!r}: the PROCESSID is the process of the document it carries",
            field=_scope_field("PROCESSID"),
            rule="peppol.sbdh.process",
        )


def header_xml(header: SbdhHeader) -> str:
    """The ``StandardBusinessDocumentHeader`` element (default namespace in scope); the header
    must pass :func:`check_header` once its defaults are filled in."""
    header = resolved(header)
    check_header(header)
    created = header.created.astimezone(UTC).isoformat(timespec="milliseconds")
    scopes = [
        _scope("DOCUMENTID", header.document_type.value, header.document_type.scheme),
        _scope("PROCESSID", header.process.value, header.process.scheme),
        _scope("COUNTRY_C1", header.country_c1, None),
    ]
    if header.mls_to is not None:
        scopes.append(_scope("MLS_TO", header.mls_to.value, PARTICIPANT_SCHEME))
    if header.mls_type is not None:
        scopes.append(_scope("MLS_TYPE", header.mls_type, None))
    return (
        f"<StandardBusinessDocumentHeader><HeaderVersion>{HEADER_VERSION}</HeaderVersion>"
        f'<Sender><Identifier Authority="{PARTICIPANT_SCHEME}">{escape(header.sender.value)}'
        "</Identifier></Sender>"
        f'<Receiver><Identifier Authority="{PARTICIPANT_SCHEME}">{escape(header.receiver.value)}'
        "</Identifier></Receiver>"
        "<DocumentIdentification>"
        f"<Standard>{escape(header.standard)}</Standard>"
        f"<TypeVersion>{escape(header.type_version)}</TypeVersion>"
        f"<InstanceIdentifier>{escape(header.instance_id)}</InstanceIdentifier>"
        f"<Type>{escape(header.type_name)}</Type>"
        f"<CreationDateAndTime>{created}</CreationDateAndTime>"
        "</DocumentIdentification>"
        f"<BusinessScope>{''.join(scopes)}</BusinessScope>"
        "</StandardBusinessDocumentHeader>"
    )


def strip_declaration(payload: bytes) -> memoryview:
    """The payload without its byte-order mark and XML declaration (it must be UTF-8, like the
    envelope), as a view of ``payload``."""
    offset = 3 if payload.startswith(b"\xef\xbb\xbf") else 0
    match = _DECLARATION.match(payload[offset : offset + 1024])
    if match is None:
        return memoryview(payload)[offset:]
    declaration = match.group(0).lower()
    if b"encoding" in declaration and b"utf-8" not in declaration:
        raise InputError(
            "the payload must be UTF-8 (the envelope and the payload share one encoding)",
            rule="peppol.sbdh.encoding",
        )
    return memoryview(payload)[offset + match.end() :]


def sbdh_parts(payload: bytes, header: SbdhHeader) -> tuple[bytes, memoryview, bytes]:
    """The SBDH as three pieces — head, the payload (a view, not a copy), tail — so a large
    document is compressed without being copied."""
    body = strip_declaration(payload)
    head = b"".join(
        (
            b'<?xml version="1.0" encoding="UTF-8"?>\n',
            f'<StandardBusinessDocument xmlns="{SBDH_NS}">'.encode(),
            header_xml(header).encode(),
        )
    )
    return head, body, b"</StandardBusinessDocument>"


def build_sbdh(payload: bytes, header: SbdhHeader) -> bytes:
    """``payload`` (an XML document) inside a Peppol SBDH, as UTF-8 bytes."""
    return b"".join(sbdh_parts(payload, header))


def header_for_document(
    facts: DocumentFacts,
    *,
    country_c1: str = "",
    sender: ParticipantId | None = None,
    receiver: ParticipantId | None = None,
    default_sender: ParticipantId | None = None,
    instance_id: str | None = None,
    profile: str = "",
) -> SbdhHeader:
    """The SBDH header for a document. Sender and receiver: for an invoice or credit note the
    Peppol enveloping rules cover (:func:`enveloped_parties`), the document's own electronic
    addresses, which a ``sender`` / ``receiver`` given may only repeat (another one, or a
    document that names none, is a :class:`FieldError` with rule
    ``peppol.sbdh.sender-endpoint`` / ``peppol.sbdh.receiver-endpoint``, before anything is
    sent); for any other document ``sender`` / ``receiver`` if given, else its endpoint ids
    (the sender: else ``default_sender``). The document type and process come from its
    ``CustomizationID`` / ``ProfileID``, else from the gateway ``profile`` the flow chose.
    COUNTRY_C1 is C1's country in the document (:func:`c1_country`: the seller's, the buyer's
    for a self-billed invoice or credit note), else ``country_c1``. The header
    passes :func:`check_header` (a document whose root is not the document type's, say, is
    refused here, before anything is sent)."""
    parties = enveloped_parties(facts)
    if parties is not None:
        chosen_sender: ParticipantId | None = required_endpoint(parties[0], sender)
        chosen_receiver: ParticipantId | None = required_endpoint(parties[1], receiver)
    else:
        chosen_sender = sender or facts.supplier or default_sender
        chosen_receiver = receiver or facts.customer
    if chosen_sender is None or chosen_receiver is None:
        endpoints = CII_ENDPOINTS if facts.is_cii else UBL_ENDPOINTS
        which = list(endpoints)[0 if chosen_sender is None else 1]
        raise FieldError(
            f"no Peppol participant id for the {which} ({endpoints[which]}) and none given",
            field=endpoints[which],
            rule="peppol.sbdh.participants",
        )
    if facts.customization_id and facts.profile_id:
        document_type = document_type_for(
            facts.root_namespace, facts.local_name, facts.customization_id
        )
        process = process_for(facts.profile_id)
    elif (facts.local_name, profile) in PROFILE_IDENTIFIERS:
        document_type, process = PROFILE_IDENTIFIERS[(facts.local_name, profile)]
    else:
        customization, process_path = (
            (CII_CUSTOMIZATION, CII_PROCESS)
            if facts.is_cii
            else ("cbc:CustomizationID", "cbc:ProfileID")
        )
        raise FieldError(
            f"the document has no {customization} and {process_path} and no known profile: "
            "its Peppol document type is unknown",
            field=customization if not facts.customization_id else process_path,
            rule="peppol.doctype-from-document",
        )
    header = SbdhHeader(
        sender=chosen_sender,
        receiver=chosen_receiver,
        document_type=document_type,
        process=process,
        country_c1=c1_country(facts) or country_c1,
        standard=facts.root_namespace,
        type_name=facts.local_name,
        type_version=document_type.version,
        instance_id=instance_id or str(uuid.uuid4()),
    )
    check_header(header)
    return header


def _child(parent: etree._Element, name: str, where: str) -> etree._Element:
    found = next(parent.iterchildren(f"{{{SBDH_NS}}}{name}"), None)
    if found is None:
        raise FieldError(f"SBDH has no {where}/{name}", field=f"{where}/{name}", rule="peppol.sbdh")
    return found


def _text(parent: etree._Element, name: str, where: str) -> str:
    text = (_child(parent, name, where).text or "").strip()
    if len(text) > MAX_SBDH_TEXT:
        raise FieldError(
            f"{where}/{name} is {len(text)} characters, more than {MAX_SBDH_TEXT}",
            field=f"{where}/{name}",
            rule="peppol.sbdh",
        )
    return text


MAX_SBDH_TEXT = 1000
"""Longest value read from the SBDH (the InstanceIdentifier is stored and indexed; a UUID
is 36 characters)."""


def _scopes(head: etree._Element) -> dict[str, tuple[str, str]]:
    """The ``BusinessScope`` scopes by ``Type``: ``(InstanceIdentifier, Identifier)``. A Type
    given twice is refused (``peppol.sbdh.scope-repeated``): which one holds would be a guess,
    and a receiver that took the other would read another document type or process."""
    scopes: dict[str, tuple[str, str]] = {}
    for scope in _child(head, "BusinessScope", _HEAD).findall(f"{{{SBDH_NS}}}Scope"):
        kind = _text(scope, "Type", "Scope")
        if kind in scopes:
            raise FieldError(
                f"SBDH BusinessScope has the scope Type {kind} more than once",
                field=_scope_field(kind),
                rule="peppol.sbdh.scope-repeated",
            )
        value = _text(scope, "InstanceIdentifier", "Scope")
        found = scope.find(f"{{{SBDH_NS}}}Identifier")
        scopes[kind] = (value, (found.text or "").strip() if found is not None else "")
    for required in ("DOCUMENTID", "PROCESSID", "COUNTRY_C1"):
        if required not in scopes:
            raise FieldError(
                f"SBDH BusinessScope has no {required} scope",
                field=_scope_field(required),
                rule="peppol.sbdh.scopes",
            )
    return scopes


def _header_version(head: etree._Element) -> None:
    version = _text(head, "HeaderVersion", _HEAD)
    if version != HEADER_VERSION:
        raise FieldError(
            f"HeaderVersion is {version!r}, not {HEADER_VERSION}",
            field=f"{_HEAD}/HeaderVersion",
            rule="peppol.sbdh.header-version",
        )


def _participant(head: etree._Element, kind: str) -> ParticipantId:
    ident = _child(_child(head, kind, _HEAD), "Identifier", f"{_HEAD}/{kind}")
    authority = ident.get("Authority", "")
    if authority != PARTICIPANT_SCHEME:
        raise FieldError(
            f"{kind} Identifier Authority is {authority!r}, not {PARTICIPANT_SCHEME}",
            field=f"{_HEAD}/{kind}/Identifier/@Authority",
            rule="peppol.sbdh.authority",
        )
    return ParticipantId.parse(ident.text or "", field=f"{_HEAD}/{kind}/Identifier")


def _created(ident: etree._Element) -> datetime:
    created_text = _text(ident, "CreationDateAndTime", _IDENT)
    try:
        return datetime.fromisoformat(created_text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise FieldError(
            f"CreationDateAndTime {created_text!r} is not a date-time",
            field=f"{_IDENT}/CreationDateAndTime",
            rule="peppol.sbdh.created",
        ) from exc


def _payload(root: etree._Element, head: etree._Element) -> etree._Element:
    payloads = [child for child in root if isinstance(child.tag, str) and child is not head]
    if len(payloads) != 1:
        raise FieldError(
            f"SBDH must carry exactly one payload element (found {len(payloads)})",
            field="StandardBusinessDocument",
            rule="peppol.sbdh.payload",
        )
    return payloads[0]


def parse_sbdh(
    data: bytes, *, limits: XmlLimits | None = None, schema: etree.XMLSchema | None = None
) -> Sbdh:
    """Read a Peppol SBDH; :class:`FieldError` names the missing or wrong part and the rule.
    With ``schema`` (the official SBDH 1.3 XSD) the header is first checked against it; then
    ``HeaderVersion`` (``1.0``), the scopes (each Type once; DOCUMENTID, PROCESSID and
    COUNTRY_C1 present), :func:`check_payload_root`, :func:`check_header`,
    :func:`check_payload_identifiers` (DOCUMENTID and PROCESSID the payload's
    ``CustomizationID`` and ``ProfileID``) and, for an invoice or credit note, :func:`check_envelope_parties` (Sender and Receiver the payload's parties
    where the Peppol enveloping rules say so).

    The payload is serialised detached from the envelope, so it declares its own namespaces
    only: a payload in prefixes alone (a CII ``rsm:CrossIndustryInvoice``) would otherwise
    carry the envelope's default namespace, a declaration it never had."""
    root = parse_xml(data, what="SBDH", limits=limits or DEFAULT_LIMITS)
    if root.tag != f"{{{SBDH_NS}}}StandardBusinessDocument":
        raise FieldError(
            f"not a StandardBusinessDocument (root is {root.tag})",
            field="StandardBusinessDocument",
            rule="peppol.sbdh",
        )
    head = _child(root, _HEAD, "StandardBusinessDocument")
    errors = [finding.text for finding in validate_xsd(schema, head)] if schema is not None else []
    if errors:
        raise FieldError(
            f"the SBDH does not follow its XSD: {errors[0]}",
            field=_HEAD,
            rule="peppol.sbdh.xsd",
        )
    _header_version(head)
    ident = _child(head, "DocumentIdentification", _HEAD)
    scopes = _scopes(head)
    payload = _payload(root, head)
    doc_value, doc_scheme = scopes["DOCUMENTID"]
    proc_value, proc_scheme = scopes["PROCESSID"]
    mls_to = scopes.get("MLS_TO")
    header = SbdhHeader(
        sender=_participant(head, "Sender"),
        receiver=_participant(head, "Receiver"),
        document_type=DocumentTypeId(doc_value, doc_scheme or DOCTYPE_SCHEME_QNS),
        process=ProcessId(proc_value, proc_scheme or PROCESS_SCHEME),
        country_c1=scopes["COUNTRY_C1"][0],
        instance_id=_text(ident, "InstanceIdentifier", _IDENT),
        created=_created(ident),
        standard=_text(ident, "Standard", _IDENT),
        type_name=_text(ident, "Type", _IDENT),
        type_version=_text(ident, "TypeVersion", _IDENT),
        mls_to=ParticipantId.parse(mls_to[0], field="MLS_TO") if mls_to else None,
        mls_type=scopes["MLS_TYPE"][0] if "MLS_TYPE" in scopes else None,
    )
    check_payload_root(header, payload)
    check_header(header)
    check_payload_identifiers(header, payload)
    facts = payload_facts(payload)
    if facts is not None:
        check_envelope_parties(header.sender, header.receiver, facts)
    root.remove(payload)  # out of the envelope: its namespaces stay behind (see below)
    body = etree.tostring(payload, encoding="UTF-8", xml_declaration=True)
    return Sbdh(header=header, payload=body)
