"""The Peppol P-Mode of a received UserMessage: the values the Peppol AS4 profile 2.0.3 fixes.

The profile's text (``openpeppol-edec-as4/docs/specification``): One-Way/Push only
(``peppol/01-exchange-patterns.adoc``), the agreement (``03-agreement.adoc``), one PartyId
per side of type ``urn:fdc:peppol.eu:2017:identifiers:ap`` with the initiator / responder
role and no ``trackingIdentifier`` (``05-party-identification.adoc``), Service with its type
and Action ``«scheme id»::«document type id value»`` (``06-service-action-role.adoc``), the
default MPC (``08-mpc.adoc``), every payload a gzip-compressed MIME attachment
(``10-message-packaging.adoc``). Each refusal is an :class:`As4Invalid` with the ebMS 3 Core
§6.7 code: ``EBMS:0010`` ProcessingModeMismatch for a value the P-Mode fixes, ``EBMS:0003``
ValueInconsistent for an inconsistent one, ``EBMS:0011`` ExternalPayloadError for a payload
outside the message, ``EBMS:0009`` InvalidHeader for a malformed Action.
"""

from __future__ import annotations

from lxml import etree

from adapters.peppol import ns
from adapters.peppol.errors import As4Invalid
from adapters.peppol.identifiers import (
    DOCTYPE_SCHEME_QNS,
    DOCTYPE_SCHEME_WILDCARD,
    PARTICIPANT_SCHEME,
)
from adapters.peppol.ns import q

DOCUMENT_TYPE_SCHEMES = (DOCTYPE_SCHEME_QNS + "::", DOCTYPE_SCHEME_WILDCARD + "::")
"""What an ``Action`` starts with (Peppol code lists v9.7, document type identifier schemes)."""
GZIP = "application/gzip"
"""The AS4 compression type (the ``CompressionType`` part property)."""


def _refuse(message: str, code: str, rule: str, where: str) -> As4Invalid:
    return As4Invalid(message, ebms_code=code, field=where, rule=rule)


def _check_party(user: etree._Element, side: str, role: str) -> None:
    """``From`` / ``To``: one ``PartyId`` of the Peppol party type and the fixed role."""
    party = ns.first(user, f"eb:PartyInfo/eb:{side}")
    if party is None:
        raise _refuse(
            f"the UserMessage has no {side}", "EBMS:0009", f"as4.header.{side}", f"eb:{side}"
        )
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
        if (
            name in ("originalSender", "finalRecipient")
            and scheme is not None
            and scheme.strip().lower() != PARTICIPANT_SCHEME
        ):
            raise _refuse(
                f"the {name} property has type {scheme[:100]!r}, not {PARTICIPANT_SCHEME}",
                "EBMS:0003",
                f"as4.header.{name}-type",
                f"eb:MessageProperties/eb:Property[@name='{name}']/@type",
            )
    _check_payload_parts(user)


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
