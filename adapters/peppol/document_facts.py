"""What the SBDH needs from a business document: its root, ``CustomizationID`` /
``ProfileID`` and the seller's and the buyer's electronic addresses and countries (UBL, CII, or
a Peppol report).

:func:`document_facts` reads them from the bytes to be sent, streaming over the head of the
document (a large one costs no tree); :func:`payload_facts` from a received payload already
parsed; :func:`payload_identifiers` the ``CustomizationID`` / ``ProfileID`` any received payload
we can read carries.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from lxml import etree

from adapters.peppol.identifiers import (
    CII_NAMESPACE,
    EUSR_NAMESPACE,
    TSR_NAMESPACE,
    ParticipantId,
)
from gateway.errors import InputError, UnsafeInputError
from gateway.validation.profiles import RAM
from gateway.xmlsafe import DEFAULT_LIMITS, XmlLimits

_CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
_CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
INVOICE_ROOTS = frozenset(
    {
        ("urn:oasis:names:specification:ubl:schema:xsd:Invoice-2", "Invoice"),
        ("urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2", "CreditNote"),
        (CII_NAMESPACE, "CrossIndustryInvoice"),
    }
)
"""``(namespace, local name)`` of a UBL invoice or credit note and of a CII invoice."""


@dataclass(frozen=True, slots=True)
class DocumentFacts:
    """What the SBDH needs from a business document (UBL, CII, or a Peppol report)."""

    root_namespace: str
    local_name: str
    customization_id: str
    profile_id: str
    supplier: ParticipantId | None
    """The seller's electronic address (BT-34: UBL ``AccountingSupplierParty/Party/EndpointID``,
    CII ``SellerTradeParty/URIUniversalCommunication/URIID``)."""
    customer: ParticipantId | None
    """The buyer's electronic address (BT-49: ``AccountingCustomerParty`` /
    ``BuyerTradeParty``)."""
    seller_country: str = ""
    """The seller's country (BT-40: UBL ``AccountingSupplierParty/Party/PostalAddress/Country/
    IdentificationCode``, CII ``SellerTradeParty/PostalTradeAddress/CountryID``)."""
    buyer_country: str = ""
    """The buyer's country (BT-55: ``AccountingCustomerParty`` / ``BuyerTradeParty``, the same
    paths). Which of the two is C1's, the sending end user's, the enveloping rules say
    (:func:`adapters.peppol.envelope_parties.c1_country`)."""

    @property
    def is_cii(self) -> bool:
        """Whether the document is a UN/CEFACT CrossIndustryInvoice (D16B)."""
        return self.root_namespace == CII_NAMESPACE


_REPORT_NAMESPACES = (TSR_NAMESPACE, EUSR_NAMESPACE)
"""The Peppol reports carry ``CustomizationID`` / ``ProfileID`` as children of their root in
their own namespace (TSR 1.0, EUSR 1.1), not as ``cbc:`` elements."""
_CII_CONTEXT = f"{{{CII_NAMESPACE}}}ExchangedDocumentContext"
_CII_LINE = f"{{{RAM}}}IncludedSupplyChainTradeLineItem"
_CII_AGREEMENT = f"{{{RAM}}}ApplicableHeaderTradeAgreement"
CII_CUSTOMIZATION = (
    "rsm:ExchangedDocumentContext/ram:GuidelineSpecifiedDocumentContextParameter/ram:ID"
)
"""BT-24 of a CII invoice: the customization part of its Peppol document type."""
CII_PROCESS = (
    "rsm:ExchangedDocumentContext/ram:BusinessProcessSpecifiedDocumentContextParameter/ram:ID"
)
"""BT-23 of a CII invoice: its Peppol process."""
_CII_AGREEMENT_PATH = "rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeAgreement"
CII_ENDPOINTS = {
    "SellerTradeParty": f"{_CII_AGREEMENT_PATH}/ram:SellerTradeParty/ram:URIUniversalCommunication/ram:URIID",
    "BuyerTradeParty": f"{_CII_AGREEMENT_PATH}/ram:BuyerTradeParty/ram:URIUniversalCommunication/ram:URIID",
}
"""BT-34 / BT-49, the seller's and the buyer's electronic address (``@schemeID``: the EAS): the
sending and the receiving participant (PEPPOL-EN16931-R020 / R010 require both)."""
UBL_ENDPOINTS = {
    "AccountingSupplierParty": "cac:AccountingSupplierParty/cac:Party/cbc:EndpointID",
    "AccountingCustomerParty": "cac:AccountingCustomerParty/cac:Party/cbc:EndpointID",
}
_FACT_TAGS = [
    f"{{{_CBC}}}CustomizationID",
    f"{{{_CBC}}}ProfileID",
    *(f"{{{ns}}}{name}" for ns in _REPORT_NAMESPACES for name in ("CustomizationID", "ProfileID")),
    f"{{{_CBC}}}EndpointID",
    f"{{{_CBC}}}IdentificationCode",
    f"{{{_CAC}}}AccountingCustomerParty",
    _CII_CONTEXT,
    _CII_LINE,
    _CII_AGREEMENT,
]
"""The only elements :func:`document_facts` is shown (the parser skips the rest in C)."""


def document_facts(payload: bytes, *, limits: XmlLimits | None = None) -> DocumentFacts:
    """Root, ``CustomizationID``, ``ProfileID`` and the endpoint ids of a UBL document; of a
    CII invoice, the same from its document context (:data:`CII_CUSTOMIZATION`,
    :data:`CII_PROCESS`) and its trade agreement (:data:`CII_ENDPOINTS`); of a TSR or EUSR,
    root, ``CustomizationID`` and ``ProfileID`` (it names no endpoints).

    Reads only the head of the document (events for a few tags, until the customer party —
    in CII the header trade agreement, after the lines, each dropped once read past — is
    past), so a large document costs no full tree; a DOCTYPE or entity is refused, and the
    parser's own depth limit applies (``huge_tree`` off)."""
    chosen = limits or DEFAULT_LIMITS
    if len(payload) > chosen.max_bytes:
        raise UnsafeInputError(
            f"business document is {len(payload)} bytes, more than {chosen.max_bytes}",
            rule="xml.max-bytes",
        )
    head = payload[:65536]
    if b"<!DOCTYPE" in head or b"<!doctype" in head or b"<!ENTITY" in head:
        raise UnsafeInputError(
            "XML with a DOCTYPE or entity declaration is refused", rule="xml.no-dtd"
        )
    found: dict[str, str] = {}
    countries: dict[str, str] = {}
    parties: dict[str, ParticipantId | None] = {}
    root: etree._Element | None = None
    events = etree.iterparse(
        io.BytesIO(payload),
        events=("start", "end"),
        tag=_FACT_TAGS,
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
    )
    try:
        for event, element in events:
            if root is None:
                root = element.getroottree().getroot()
            if event == "start":
                continue
            parent = element.getparent()
            local = etree.QName(element).localname
            if element.tag == _CII_LINE:
                _drop_read(element)
            elif element.tag == _CII_CONTEXT:
                if parent is root:
                    found.update(_cii_context(element))
            elif element.tag == _CII_AGREEMENT:
                if parent is not None and parent.getparent() is root:
                    parties.update(_cii_parties(element))
                    countries.update(_cii_countries(element))
                    break
            elif parent is root and local in ("CustomizationID", "ProfileID"):
                found[local] = (element.text or "").strip()
            elif local == "EndpointID" and parent is not None:
                party = parent.getparent()
                if party is not None and party.getparent() is root:
                    side = etree.QName(party).localname
                    parties[side] = _participant_of(
                        element, UBL_ENDPOINTS.get(side, f"{side}/Party/EndpointID")
                    )
            elif local == "IdentificationCode" and (side := _country_side(element, root)):
                countries[side] = (element.text or "").strip().upper()
            elif local == "AccountingCustomerParty" and parent is root:
                break
    except etree.XMLSyntaxError as exc:
        raise InputError(
            f"business document is not well-formed: {exc}", rule="xml.well-formed"
        ) from exc
    if root is None:
        root = events.root  # none of the tags: the whole (small, non-UBL) document was read
    root_tag = root.tag if root is not None else ""
    qname = etree.QName(root_tag) if root_tag else None
    if qname is None:
        raise InputError("business document is empty", rule="xml.well-formed")
    return DocumentFacts(
        root_namespace=qname.namespace or "",
        local_name=qname.localname,
        customization_id=found.get("CustomizationID", ""),
        profile_id=found.get("ProfileID", ""),
        supplier=parties.get("AccountingSupplierParty", parties.get("SellerTradeParty")),
        customer=parties.get("AccountingCustomerParty", parties.get("BuyerTradeParty")),
        seller_country=countries.get(
            "AccountingSupplierParty", countries.get("SellerTradeParty", "")
        ),
        buyer_country=countries.get(
            "AccountingCustomerParty", countries.get("BuyerTradeParty", "")
        ),
    )


def _participant_of(element: etree._Element | None, field: str) -> ParticipantId | None:
    """The participant an electronic address names (``@schemeID:value``; ``None`` when there is
    no such element or it is empty); a malformed one is a :class:`FieldError` on ``field``."""
    text = (element.text or "").strip() if element is not None else ""
    if element is None or not text:
        return None
    return ParticipantId.parse(f"{element.get('schemeID', '')}:{text}", field=field)


def _cii_context(context: etree._Element) -> dict[str, str]:
    """``CustomizationID`` and ``ProfileID`` of a CII invoice from its document context (the
    guideline and the business process parameters' ``ram:ID``)."""
    out: dict[str, str] = {}
    for key, name in (
        ("CustomizationID", "GuidelineSpecifiedDocumentContextParameter"),
        ("ProfileID", "BusinessProcessSpecifiedDocumentContextParameter"),
    ):
        text = context.findtext(f"{{{RAM}}}{name}/{{{RAM}}}ID")
        if text and text.strip():
            out[key] = text.strip()
    return out


def _cii_parties(agreement: etree._Element) -> dict[str, ParticipantId | None]:
    """The seller's and the buyer's participant from a CII header trade agreement."""
    return {
        side: _participant_of(
            agreement.find(f"{{{RAM}}}{side}/{{{RAM}}}URIUniversalCommunication/{{{RAM}}}URIID"),
            field,
        )
        for side, field in CII_ENDPOINTS.items()
    }


def _cii_countries(agreement: etree._Element) -> dict[str, str]:
    """The seller's and the buyer's country code (``PostalTradeAddress/CountryID``, upper case)
    from a CII header trade agreement, by the party's element name; a party naming none is left
    out."""
    out: dict[str, str] = {}
    for side in CII_ENDPOINTS:
        text = agreement.findtext(f"{{{RAM}}}{side}/{{{RAM}}}PostalTradeAddress/{{{RAM}}}CountryID")
        if text and text.strip():
            out[side] = text.strip().upper()
    return out


def _drop_read(element: etree._Element) -> None:
    """Forget an element read past (a CII line) and its earlier siblings, so the tree the
    parser builds holds no more than the head and the current line."""
    element.clear()
    parent = element.getparent()
    if parent is None:
        return
    while element.getprevious() is not None:
        del parent[0]


def _country_side(element: etree._Element, root: etree._Element) -> str:
    """``AccountingSupplierParty`` / ``AccountingCustomerParty`` when ``element`` is that
    party's ``Party/PostalAddress/Country/IdentificationCode`` under ``root``, else ``""``."""
    names: list[str] = []
    node = element.getparent()
    while node is not None and node is not root and len(names) < 5:
        names.append(etree.QName(node).localname)
        node = node.getparent()
    if node is root and names[:3] == ["Country", "PostalAddress", "Party"] and len(names) == 4:
        return names[3] if names[3] in UBL_ENDPOINTS else ""
    return ""


def payload_facts(payload: etree._Element) -> DocumentFacts | None:
    """:class:`DocumentFacts` of a received invoice or credit note, UBL or CII (parsed already:
    no second parse); ``None`` for any other root. An electronic address is taken as written,
    ``schemeID:value``, even when it is no Peppol participant id (an ``EM`` e-mail address, say):
    it then equals no SBDH participant, and a document the enveloping rules do not cover is
    not refused for it."""
    qname = etree.QName(payload)
    namespace = qname.namespace or ""
    if (namespace, qname.localname) not in INVOICE_ROOTS:
        return None
    if namespace == CII_NAMESPACE:
        context = payload.find(_CII_CONTEXT)
        trade = f"{{{CII_NAMESPACE}}}SupplyChainTradeTransaction/{_CII_AGREEMENT}"
        found = _cii_context(context) if context is not None else {}
        supplier, customer = (
            _address_as_written(payload.find(f"{trade}/{{{RAM}}}{side}/{_CII_URIID}"))
            for side in CII_ENDPOINTS
        )
        agreement = payload.find(trade)
        countries = _cii_countries(agreement) if agreement is not None else {}
    else:
        found = {
            name: (payload.findtext(f"{{{_CBC}}}{name}") or "").strip()
            for name in ("CustomizationID", "ProfileID")
        }
        supplier, customer = (
            _address_as_written(
                payload.find(f"{{{_CAC}}}{side}/{{{_CAC}}}Party/{{{_CBC}}}EndpointID")
            )
            for side in UBL_ENDPOINTS
        )
        countries = {
            side: code.strip().upper()
            for side in UBL_ENDPOINTS
            if (code := payload.findtext(f"{{{_CAC}}}{side}/{_UBL_COUNTRY}")) and code.strip()
        }
    seller_side, buyer_side = CII_ENDPOINTS if namespace == CII_NAMESPACE else UBL_ENDPOINTS
    return DocumentFacts(
        root_namespace=namespace,
        local_name=qname.localname,
        customization_id=found.get("CustomizationID", ""),
        profile_id=found.get("ProfileID", ""),
        supplier=supplier,
        customer=customer,
        seller_country=countries.get(seller_side, ""),
        buyer_country=countries.get(buyer_side, ""),
    )


_UBL_NAMESPACE_PREFIX = "urn:oasis:names:specification:ubl:schema:xsd:"


def payload_identifiers(payload: etree._Element) -> tuple[str, str] | None:
    """``(CustomizationID, ProfileID)`` of a received payload (``""`` for one it does not
    carry): a UBL document's ``cbc:`` children of its root (an invoice, a credit note, an MLS
    ``ApplicationResponse`` …), a CII invoice's document context (:data:`CII_CUSTOMIZATION`,
    :data:`CII_PROCESS`), a TSR's or EUSR's children in its own namespace. ``None`` for any
    other payload (a Peppol ``BinaryContent``, say): where it would carry them is unknown."""
    namespace = etree.QName(payload).namespace or ""
    if namespace == CII_NAMESPACE:
        context = payload.find(_CII_CONTEXT)
        found = _cii_context(context) if context is not None else {}
        return found.get("CustomizationID", ""), found.get("ProfileID", "")
    if namespace.startswith(_UBL_NAMESPACE_PREFIX):
        where = _CBC
    elif namespace in _REPORT_NAMESPACES:
        where = namespace
    else:
        return None
    customization, profile = (
        (payload.findtext(f"{{{where}}}{name}") or "").strip()
        for name in ("CustomizationID", "ProfileID")
    )
    return customization, profile


_UBL_COUNTRY = (
    f"{{{_CAC}}}Party/{{{_CAC}}}PostalAddress/{{{_CAC}}}Country/{{{_CBC}}}IdentificationCode"
)
_CII_URIID = f"{{{RAM}}}URIUniversalCommunication/{{{RAM}}}URIID"


def _address_as_written(element: etree._Element | None) -> ParticipantId | None:
    """``schemeID:value`` of an electronic address, not checked to be a participant id
    (``None``: no such element, or an empty one)."""
    text = (element.text or "").strip() if element is not None else ""
    if element is None or not text:
        return None
    return ParticipantId(f"{element.get('schemeID', '').strip()}:{text}")
