"""Validation profiles: which official artefacts apply to which document, and detection.

A profile names the XSD of each document type it accepts and the compiled Schematron
(XSLT) files to run, in order. Detection reads the root element and, for UBL invoices, the
CustomizationID (BT-24).
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from gateway.errors import UnknownFormatError
from gateway.mapping.profiles import PEPPOL_BILLING, profile_of_customization

UBL_INVOICE = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
UBL_CREDIT_NOTE = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
UBL_BILL_OF_LADING = "urn:oasis:names:specification:ubl:schema:xsd:BillOfLading-2"
UBL_APPLICATION_RESPONSE = "urn:oasis:names:specification:ubl:schema:xsd:ApplicationResponse-2"
CII = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
SBDH = "http://www.unece.org/cefact/namespaces/StandardBusinessDocumentHeader"
PEPPOL_ENVELOPE = "http://peppol.eu/xsd/ticc/envelope/1.0"
CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
RAM = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
PEPPOL_TSR = "urn:fdc:peppol:transaction-statistics-report:1.0"
PEPPOL_EUSR = "urn:fdc:peppol:end-user-statistics-report:1.1"
MLS_CUSTOMIZATION = "urn:peppol:edec:mls:1.0"
REPORTING_XSD = ("peppol-reporting-xsd", "tsr-1.0.1-eusr-1.1")


@dataclass(frozen=True, slots=True)
class DocumentType:
    """A root element we can validate, and its XSD (artefact set, version, path)."""

    name: str
    namespace: str
    local_name: str
    xsd_set: str
    xsd_version: str
    xsd_path: str


DOCUMENT_TYPES: tuple[DocumentType, ...] = (
    DocumentType(
        "Invoice", UBL_INVOICE, "Invoice", "ubl-2.1", "2.1", "maindoc/UBL-Invoice-2.1.xsd"
    ),
    DocumentType(
        "CreditNote",
        UBL_CREDIT_NOTE,
        "CreditNote",
        "ubl-2.1",
        "2.1",
        "maindoc/UBL-CreditNote-2.1.xsd",
    ),
    DocumentType(
        "BillOfLading",
        UBL_BILL_OF_LADING,
        "BillOfLading",
        "ubl-2.1",
        "2.1",
        "maindoc-transport-cs1/UBL-BillOfLading-2.1.xsd",
    ),
    DocumentType(
        "ApplicationResponse",
        UBL_APPLICATION_RESPONSE,
        "ApplicationResponse",
        "ubl-2.1",
        "2.1",
        "maindoc-transport-cs1/UBL-ApplicationResponse-2.1.xsd",
    ),
    DocumentType(
        "CrossIndustryInvoice",
        CII,
        "CrossIndustryInvoice",
        "cii-d16b",
        "D16B",
        "uncefact/data/standard/CrossIndustryInvoice_100pD16B.xsd",
    ),
    DocumentType(
        "StandardBusinessDocument",
        SBDH,
        "StandardBusinessDocument",
        "sbdh",
        "1.3",
        "StandardBusinessDocumentHeader.xsd",
    ),
    DocumentType(
        "BinaryContent",
        PEPPOL_ENVELOPE,
        "BinaryContent",
        "peppol-envelope",
        "1.2",
        "PEPPOL-EDN-Business-Message-Envelope-1.2-2019-02-01.xsd",
    ),
    DocumentType(
        "TextContent",
        PEPPOL_ENVELOPE,
        "TextContent",
        "peppol-envelope",
        "1.2",
        "PEPPOL-EDN-Business-Message-Envelope-1.2-2019-02-01.xsd",
    ),
    DocumentType(
        "StandardBusinessDocumentHeader",
        SBDH,
        "StandardBusinessDocumentHeader",
        "sbdh",
        "1.3",
        "StandardBusinessDocumentHeader.xsd",
    ),
    DocumentType(
        "TransactionStatisticsReport",
        PEPPOL_TSR,
        "TransactionStatisticsReport",
        *REPORTING_XSD,
        "peppol-transaction-statistics-reporting-1.0.1.xsd",
    ),
    DocumentType(
        "EndUserStatisticsReport",
        PEPPOL_EUSR,
        "EndUserStatisticsReport",
        *REPORTING_XSD,
        "peppol-end-user-statistics-reporting-1.1.xsd",
    ),
)


@dataclass(frozen=True, slots=True)
class RuleFile:
    """One compiled Schematron to run: the label its findings carry and where it is installed."""

    source: str
    set_name: str
    version: str
    path: str


@dataclass(frozen=True, slots=True)
class Profile:
    """A validation profile: accepted document types and the rules per type."""

    name: str
    description: str
    rules: dict[str, tuple[RuleFile, ...]]
    """Document type name → Schematron files (empty tuple: XSD only)."""


BIS3_VERSION = "3.0.21"
"""The Peppol BIS Billing release the ``bis3`` profile applies (in force since May 2026)."""


def _bis3(peppol_file: str) -> tuple[RuleFile, ...]:
    return (
        RuleFile("cen-ubl", "peppol-bis3", BIS3_VERSION, "CEN-EN16931-UBL.xslt"),
        RuleFile("peppol-bis3", "peppol-bis3", BIS3_VERSION, peppol_file),
    )


def _pint(set_name: str, version: str, kind: str, sg: bool) -> tuple[RuleFile, ...]:
    folder = f"trn-{kind}/schematron"
    base = RuleFile("pint", set_name, version, f"{folder}/PINT-UBL-validation-preprocessed.xslt")
    if not sg:
        return (base,)
    return (
        base,
        RuleFile("pint-sg", set_name, version, f"{folder}/PINT-jurisdiction-aligned-rules.xslt"),
    )


def _reporting(kind: str, version: str) -> RuleFile:
    name = f"peppol-{kind}-statistics-reporting-{version}.xslt"
    return RuleFile("peppol-reporting", "peppol-reporting", "tsr-1.0.5-eusr-1.1.5", name)


_CEN_UBL = (RuleFile("cen-ubl", "cen-ubl", "1.3.16", "EN16931-UBL-validation.xslt"),)
_CEN_CII = (RuleFile("cen-cii", "cen-cii", "1.3.16", "EN16931-CII-validation.xslt"),)

PROFILE_TABLE: dict[str, Profile] = {
    p.name: p
    for p in (
        Profile(
            "bis3",
            f"Peppol BIS Billing {BIS3_VERSION}: UBL XSD + CEN EN 16931 + PEPPOL rules",
            {t: _bis3("PEPPOL-EN16931-UBL.xslt") for t in ("Invoice", "CreditNote")},
        ),
        Profile(
            "pint",
            "Peppol PINT Billing 1.1.3: UBL XSD + PINT rules",
            {
                "Invoice": _pint("pint", "1.1.3", "invoice", False),
                "CreditNote": _pint("pint", "1.1.3", "creditnote", False),
            },
        ),
        Profile(
            "pint-sg",
            "PINT-SG 1.4.1 (InvoiceNow): UBL XSD + PINT rules + SG jurisdiction rules",
            {
                "Invoice": _pint("pint-sg", "1.4.1", "invoice", True),
                "CreditNote": _pint("pint-sg", "1.4.1", "creditnote", True),
            },
        ),
        Profile(
            "cii", "EN 16931 CII: CII D16B XSD + CEN rules", {"CrossIndustryInvoice": _CEN_CII}
        ),
        Profile(
            "bis3-cii",
            "Peppol BIS Billing 3 in CII: CII D16B XSD + CEN rules + PEPPOL CII rules (3.0.19)",
            {
                "CrossIndustryInvoice": (
                    *_CEN_CII,
                    RuleFile("peppol-bis3", "peppol-bis3-sch", "3.0.19", "PEPPOL-EN16931-CII.sch"),
                )
            },
        ),
        Profile(
            "en16931-ubl",
            "EN 16931 UBL: UBL XSD + CEN rules 1.3.16",
            {"Invoice": _CEN_UBL, "CreditNote": _CEN_UBL},
        ),
        Profile(
            "bis3-selfbilling",
            f"Peppol self-billing {BIS3_VERSION}: UBL XSD + CEN + PEPPOL self-billing rules",
            {t: _bis3("PEPPOL-EN16931-UBL-SB.xslt") for t in ("Invoice", "CreditNote")},
        ),
        Profile(
            "peppol-mls",
            "Peppol Message Level Status: UBL ApplicationResponse XSD + peppol-mls-1.0.1",
            {
                "ApplicationResponse": (
                    RuleFile("peppol-mls", "peppol-mls", "1.0.1", "peppol-mls-1.0.1.xslt"),
                )
            },
        ),
        Profile(
            "peppol-tsr",
            "Peppol Transaction Statistics Report: XSD 1.0.1 + rules 1.0.5",
            {"TransactionStatisticsReport": (_reporting("transaction", "1.0.5"),)},
        ),
        Profile(
            "peppol-eusr",
            "Peppol End User Statistics Report: XSD 1.1 + rules 1.1.5",
            {"EndUserStatisticsReport": (_reporting("end-user", "1.1.5"),)},
        ),
        Profile(
            "xsd",
            "XSD only (BillOfLading, ApplicationResponse, SBDH, Peppol envelope, reports)",
            {t.name: () for t in DOCUMENT_TYPES},
        ),
    )
}

PROFILES = ("bis3", "pint", "pint-sg", "cii", "en16931-ubl")
"""The invoice profiles; ``bis3-cii``, ``bis3-selfbilling``, ``peppol-mls``, ``peppol-tsr``,
``peppol-eusr`` and ``xsd`` are also accepted."""
ALL_PROFILES = tuple(PROFILE_TABLE)


def document_type(root: etree._Element) -> DocumentType:
    """The document type of a parsed root; :class:`UnknownFormatError` if none matches."""
    qname = etree.QName(root)
    for dtype in DOCUMENT_TYPES:
        if qname.namespace == dtype.namespace and qname.localname == dtype.local_name:
            return dtype
    raise UnknownFormatError(
        f"no validation profile for root element {{{qname.namespace}}}{qname.localname}",
        field="/",
        rule="validation.document-type",
    )


def detect_profile(root: etree._Element) -> str:
    """The profile for a document: by root element, then by CustomizationID (BT-24)."""
    dtype = document_type(root)
    if dtype.name == "CrossIndustryInvoice":
        context = f"{{{CII}}}ExchangedDocumentContext"
        guideline = root.findtext(
            f"{context}/{{{RAM}}}GuidelineSpecifiedDocumentContextParameter/{{{RAM}}}ID"
        )
        return "bis3-cii" if PEPPOL_BILLING in (guideline or "") else "cii"
    if dtype.name == "TransactionStatisticsReport":
        return "peppol-tsr"
    if dtype.name == "EndUserStatisticsReport":
        return "peppol-eusr"
    if dtype.name == "ApplicationResponse":
        customization = (root.findtext(f"{{{CBC}}}CustomizationID") or "").strip()
        return "peppol-mls" if customization == MLS_CUSTOMIZATION else "xsd"
    if dtype.name not in ("Invoice", "CreditNote"):
        return "xsd"
    customization = (root.findtext(f"{{{CBC}}}CustomizationID") or "").strip()
    return profile_of_customization(customization)
