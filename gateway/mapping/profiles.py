"""The target profiles and every constant each one fixes: the one source of profile facts.

Mapping and render build documents from :data:`PROFILE_SPECS`; validation detects a
document's profile with :func:`profile_of_customization` and the identifiers here, and keeps
only what is its own (which rule files each profile runs); the Peppol adapter takes its
document type identifiers from the specs.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from gateway.errors import FieldError

_UUID_NAMESPACE = uuid.UUID("6f0c7a4e-2a51-4b7e-9d35-6c1f0e0b8a11")

CEN_CUSTOMIZATION = "urn:cen.eu:en16931:2017"
"""BT-24 of a plain EN 16931 document (and the CII guideline id of ``cii``)."""
PEPPOL_BILLING = "urn:fdc:peppol.eu:2017:poacc:billing:3.0"
PEPPOL_SELFBILLING = "urn:fdc:peppol.eu:2017:poacc:selfbilling:3.0"
BIS3_CUSTOMIZATION = f"{CEN_CUSTOMIZATION}#compliant#{PEPPOL_BILLING}"
BIS3_SELFBILLING_CUSTOMIZATION = f"{CEN_CUSTOMIZATION}#compliant#{PEPPOL_SELFBILLING}"
PINT_FAMILY = "urn:peppol:pint:"
"""Every PINT specification identifier starts so."""
PINT_CUSTOMIZATION = f"{PINT_FAMILY}billing-1"
PINT_SG_FAMILY = f"{PINT_CUSTOMIZATION}@sg-"
"""Every PINT SG release's specification identifier starts so."""
PINT_SG_CUSTOMIZATION = f"{PINT_SG_FAMILY}1"
BIS3_PROCESS = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"
PINT_PROCESS = "urn:peppol:bis:billing"

UBL_INVOICE_ROOT = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2::Invoice"
UBL_CREDIT_NOTE_ROOT = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2::CreditNote"
CII_ROOT = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100::CrossIndustryInvoice"

PEPPOL_MIME_CODES = frozenset(
    {
        "application/pdf",
        "image/png",
        "image/jpeg",
        "text/csv",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.oasis.opendocument.spreadsheet",
    }
)
"""BT-125-1 MIME codes EN 16931 and Peppol BIS 3 accept (BR-CL-24)."""
PINT_MIME_CODES = PEPPOL_MIME_CODES | {"application/xml"}
"""PINT and PINT SG add ``application/xml`` (ibr-cl-24). Neither list has an OFD or JSON type."""


@dataclass(frozen=True, slots=True)
class ProfileSpec:
    """What a target profile fixes: identifiers, syntax, tax scheme, what it may carry."""

    name: str
    customization_id: str
    """BT-24 specification identifier (CII: the guideline id)."""
    process_id: str | None
    """BT-23 business process type (the Peppol process identifier where Peppol carries it)."""
    syntax: str
    """``ubl`` or ``cii``."""
    tax_scheme: str
    """``VAT`` (UNCL5305 categories) or ``GST`` (IRAS categories, PINT SG)."""
    attachment_mime_codes: frozenset[str]
    """BT-125-1 MIME codes the profile's rules accept for an embedded document."""
    uuid: bool = False
    """Whether the document carries a UUID (PINT SG BT-SG-003)."""
    issue_time: bool = False
    """Whether the document carries the issue time (PINT BT-168)."""
    detached_signature: bool = True
    """Whether the document travels unsigned with a detached XAdES signature kept beside it.

    Peppol BIS 3 (PEPPOL-EN16931-R008) and PINT (ibr-079) forbid empty elements anywhere in
    the document and an XML signature is made of them (``ds:DigestMethod``, ``ds:Transform``),
    so an enveloped signature would make a valid invoice invalid at the receiver; Peppol signs
    the transport (AS4) instead. CII has no place for a signature in its schema. True for every
    invoice profile here."""
    peppol_document_types: tuple[str, str] | None = None
    """Peppol document type identifier values (invoice, credit note) when Peppol carries the
    profile; ``None`` for plain EN 16931 CII, which has no Peppol document type."""
    peppol_doctype_scheme: str = "busdox-docid-qns"
    """The document type identifier scheme (PINT: ``peppol-doctype-wildcard``)."""
    requires_buyer_reference: bool = False
    """Whether the rules demand BT-10 or BT-13 (PEPPOL-EN16931-R003 and its PINT SG twin)."""
    bank_branch_name: bool = False
    """Whether the payment account may name its bank (UBL ``FinancialInstitutionBranch/
    cbc:Name``): the EN 16931 UBL rules BIS 3 runs warn on it (UBL-CR-429); PINT and PINT SG
    have no such rule. The CII renderer never writes it."""

    @property
    def xml_attachment(self) -> bool:
        """Whether BT-125 may carry ``application/xml`` (the original fapiao XML)."""
        return "application/xml" in self.attachment_mime_codes

    def document_type(self, credit_note: bool) -> str | None:
        """The Peppol document type identifier value for an invoice or a credit note."""
        if self.peppol_document_types is None:
            return None
        return self.peppol_document_types[1 if credit_note else 0]


def _ubl_types(customization: str) -> tuple[str, str]:
    return (
        f"{UBL_INVOICE_ROOT}##{customization}::2.1",
        f"{UBL_CREDIT_NOTE_ROOT}##{customization}::2.1",
    )


_BIS3_CII_TYPE = f"{CII_ROOT}##{BIS3_CUSTOMIZATION}::D16B"

PROFILE_SPECS: dict[str, ProfileSpec] = {
    "pint-sg": ProfileSpec(
        "pint-sg",
        PINT_SG_CUSTOMIZATION,
        PINT_PROCESS,
        "ubl",
        "GST",
        PINT_MIME_CODES,
        uuid=True,
        issue_time=True,
        peppol_document_types=_ubl_types(PINT_SG_CUSTOMIZATION),
        peppol_doctype_scheme="peppol-doctype-wildcard",
        requires_buyer_reference=True,
        bank_branch_name=True,
    ),
    "bis3": ProfileSpec(
        "bis3",
        BIS3_CUSTOMIZATION,
        BIS3_PROCESS,
        "ubl",
        "VAT",
        PEPPOL_MIME_CODES,
        peppol_document_types=_ubl_types(BIS3_CUSTOMIZATION),
        requires_buyer_reference=True,
    ),
    "pint": ProfileSpec(
        "pint",
        PINT_CUSTOMIZATION,
        PINT_PROCESS,
        "ubl",
        "VAT",
        PINT_MIME_CODES,
        issue_time=True,
        peppol_document_types=_ubl_types(PINT_CUSTOMIZATION),
        peppol_doctype_scheme="peppol-doctype-wildcard",
        bank_branch_name=True,
    ),
    "cii": ProfileSpec(
        "cii",
        CEN_CUSTOMIZATION,
        None,
        "cii",
        "VAT",
        PEPPOL_MIME_CODES,
    ),
    "bis3-cii": ProfileSpec(
        "bis3-cii",
        BIS3_CUSTOMIZATION,
        BIS3_PROCESS,
        "cii",
        "VAT",
        PEPPOL_MIME_CODES,
        peppol_document_types=(_BIS3_CII_TYPE, _BIS3_CII_TYPE),
        requires_buyer_reference=True,
    ),
}

PROFILE_NAMES = tuple(PROFILE_SPECS)
"""Every target profile name, in a stable order."""
UBL_PROFILES = frozenset(n for n, s in PROFILE_SPECS.items() if s.syntax == "ubl")
CII_PROFILES = frozenset(n for n, s in PROFILE_SPECS.items() if s.syntax == "cii")
DETACHED_SIGNATURE_PROFILES = frozenset(n for n, s in PROFILE_SPECS.items() if s.detached_signature)
"""Profiles whose documents travel with a detached signature (see
:attr:`ProfileSpec.detached_signature`)."""


def profile_of_customization(customization: str) -> str:
    """The profile a UBL invoice or credit note claims by its BT-24 (already stripped): PINT SG
    (any release), PINT, Peppol self-billing, BIS 3, else plain EN 16931 UBL."""
    if customization.startswith(PINT_SG_FAMILY):
        return "pint-sg"
    if customization.startswith(PINT_FAMILY):
        return "pint"
    if PEPPOL_SELFBILLING in customization:
        return "bis3-selfbilling"
    if PEPPOL_BILLING in customization:
        return "bis3"
    return "en16931-ubl"


def document_uuid(seller_key: str, number: str) -> str:
    """The UUID a profile that wants one (PINT SG BT-SG-003) gets for a document the gateway
    issues: derived from the seller (endpoint) and the invoice number, so a re-conversion of
    the same fapiao carries the same UUID."""
    return str(uuid.uuid5(_UUID_NAMESPACE, f"{seller_key}|{number}"))


def profile_spec(profile: str) -> ProfileSpec:
    """The spec of a profile name; an unknown name is a :class:`FieldError`."""
    try:
        return PROFILE_SPECS[profile]
    except KeyError:
        raise FieldError(
            f"unknown profile {profile!r}: use one of {sorted(PROFILE_SPECS)}", field="profile"
        ) from None
