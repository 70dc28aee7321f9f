"""Peppol identifiers: participants, document types and processes (code lists v9.7).

A participant is ``iso6523-actorid-upis::ICD:VALUE`` on the wire; the gateway writes it
``ICD:VALUE`` (e.g. ``0195:SGUEN201234567A``). PINT SG uses the ``peppol-doctype-wildcard``
document type scheme and the ``urn:peppol:bis:billing`` process.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from gateway.errors import FieldError
from gateway.mapping.profiles import PROFILE_SPECS, profile_spec
from gateway.render.peppol_reports import EUSR_NS, TSR_NS
from gateway.shown_text import check_identifier
from gateway.validation.profiles import CII

PARTICIPANT_SCHEME = "iso6523-actorid-upis"
DOCTYPE_SCHEME_QNS = "busdox-docid-qns"
DOCTYPE_SCHEME_WILDCARD = "peppol-doctype-wildcard"
PROCESS_SCHEME = "cenbii-procid-ubl"
TRANSPORT_PROFILE_AS4 = "peppol-transport-as4-v2_0"

_PARTICIPANT = re.compile(r"^[0-9]{4}:[^\s:][^\s]{0,134}$")

UBL_NAMESPACE_PREFIX = "urn:oasis:names:specification:ubl:schema:xsd:"
"""Every UBL 2 document namespace (``…:Invoice-2``) starts so."""
TSR_NAMESPACE = TSR_NS
"""Peppol Transaction Statistics Report 1.0 (PEPPOL-FACTS §5)."""
EUSR_NAMESPACE = EUSR_NS
"""Peppol End User Statistics Report 1.1 (PEPPOL-FACTS §5)."""
CII_NAMESPACE = CII
SYNTAX_VERSIONS: dict[str, str] = {
    TSR_NAMESPACE: "1.0",
    EUSR_NAMESPACE: "1.1",
    CII_NAMESPACE: "D16B",
}
"""The syntax version by payload root namespace, for the syntaxes that are not UBL 2.1: the
last ``::`` part of their Peppol document type identifiers (code lists v9.7, Document types:
TSR ``…::1.0``, EUSR ``…::1.1``, BIS 3 CII ``…::D16B``) and their SBDH ``TypeVersion``."""
UBL_SYNTAX_VERSION = "2.1"
"""The syntax version of every UBL document type in the Peppol code lists."""


@dataclass(frozen=True, slots=True)
class ParticipantId:
    """A Peppol participant (scheme ``iso6523-actorid-upis``): ``ICD:VALUE``."""

    value: str
    scheme: str = PARTICIPANT_SCHEME

    @classmethod
    def parse(cls, text: str, *, field: str = "participant") -> ParticipantId:
        """``0195:SG…`` or ``iso6523-actorid-upis::0195:SG…``; :class:`FieldError` otherwise."""
        raw = text.strip()
        if raw.lower().startswith(PARTICIPANT_SCHEME + "::"):
            raw = raw[len(PARTICIPANT_SCHEME) + 2 :]
        if not _PARTICIPANT.match(raw):
            raise FieldError(
                f"participant id {text!r} is not ICD:VALUE (four-digit ICD, e.g. 0195:SGUEN…)",
                field=field,
                rule="peppol.participant-id",
            )
        check_identifier(raw, field, "a Peppol participant id")
        return cls(raw)

    @property
    def icd(self) -> str:
        """The ISO 6523 ICD (``0195``)."""
        return self.value.split(":", 1)[0]

    def uri(self) -> str:
        """``scheme::value`` as used in SMP URLs."""
        return f"{self.scheme}::{self.value}"

    def same_as(self, other: ParticipantId) -> bool:
        """The value compares case-insensitively, the scheme exactly (Peppol Policy for use of
        Identifiers, POLICY 2)."""
        return self.scheme == other.scheme and self.value.lower() == other.value.lower()

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True, slots=True)
class DocumentTypeId:
    """A document type identifier with its scheme."""

    value: str
    scheme: str = DOCTYPE_SCHEME_WILDCARD

    @classmethod
    def parse(cls, text: str) -> DocumentTypeId:
        """``scheme::value`` or a bare value (scheme from the value's form)."""
        for scheme in (DOCTYPE_SCHEME_WILDCARD, DOCTYPE_SCHEME_QNS):
            if text.startswith(scheme + "::"):
                return cls(text[len(scheme) + 2 :], scheme)
        if "##" not in text or "::" not in text:
            raise FieldError(
                f"document type {text!r} is not ROOTNS::ROOT##CUSTOMIZATION::VERSION",
                field="doctype",
                rule="peppol.doctype-id",
            )
        scheme = DOCTYPE_SCHEME_WILDCARD if ":pint:" in text else DOCTYPE_SCHEME_QNS
        return cls(text, scheme)

    @property
    def root_namespace(self) -> str:
        """The payload's root namespace (``urn:…:Invoice-2``)."""
        return self.value.split("::", 1)[0]

    @property
    def local_name(self) -> str:
        """The payload's root element name (``Invoice``)."""
        return self.value.split("::", 1)[1].split("##", 1)[0]

    @property
    def version(self) -> str:
        """The syntax version after the last ``::`` (``2.1``)."""
        return self.value.rsplit("::", 1)[1]

    def uri(self) -> str:
        """``scheme::value`` (the AS4 ``Action`` and the SMP path segment)."""
        return f"{self.scheme}::{self.value}"


@dataclass(frozen=True, slots=True)
class ProcessId:
    """A process identifier with its scheme."""

    value: str
    scheme: str = PROCESS_SCHEME

    def uri(self) -> str:
        """``scheme::value``."""
        return f"{self.scheme}::{self.value}"


def profile_document_type(profile: str, credit_note: bool) -> DocumentTypeId:
    """The Peppol document type of a profile's invoice or credit note, from the profile facts
    (:data:`gateway.mapping.profiles.PROFILE_SPECS`); a profile Peppol does not carry is a
    :class:`FieldError`."""
    spec = profile_spec(profile)
    value = spec.document_type(credit_note)
    if value is None:
        raise FieldError(f"profile {profile!r} has no Peppol document type", field="profile")
    return DocumentTypeId(value, spec.peppol_doctype_scheme)


PINT_SG_INVOICE = profile_document_type("pint-sg", credit_note=False)
PINT_SG_CREDIT_NOTE = profile_document_type("pint-sg", credit_note=True)
BIS3_INVOICE = profile_document_type("bis3", credit_note=False)
BIS3_CREDIT_NOTE = profile_document_type("bis3", credit_note=True)
BIS3_CII_INVOICE = profile_document_type("bis3-cii", credit_note=False)
"""Peppol BIS Billing 3 CII (``CrossIndustryInvoice##…billing:3.0::D16B``, code lists v9.7): one
document type for invoices and credit notes alike (a CII credit note is a CrossIndustryInvoice
with type code 381)."""
PINT_PROCESS = ProcessId(PROFILE_SPECS["pint-sg"].process_id or "")
BIS3_PROCESS = ProcessId(PROFILE_SPECS["bis3"].process_id or "")


def syntax_version(root_namespace: str) -> str:
    """The syntax version of a payload by its root namespace (:data:`SYNTAX_VERSIONS`; any
    UBL 2 namespace: ``2.1``): the document type's last ``::`` part and the SBDH
    ``TypeVersion``. :class:`FieldError` for a namespace whose Peppol version is not known."""
    known = SYNTAX_VERSIONS.get(root_namespace)
    if known is not None:
        return known
    if root_namespace.startswith(UBL_NAMESPACE_PREFIX) and root_namespace.endswith("-2"):
        return UBL_SYNTAX_VERSION
    raise FieldError(
        f"no Peppol syntax version is known for the root namespace {root_namespace!r} "
        "(UBL 2.1, CII D16B, TSR 1.0 and EUSR 1.1 are)",
        field="root namespace",
        rule="peppol.doctype-syntax-version",
    )


def document_type_for(
    root_namespace: str, local_name: str, customization_id: str
) -> DocumentTypeId:
    """The document type identifier of a document from its root and ``CustomizationID``:
    ``ROOTNS::ROOT##CUSTOMIZATION::VERSION``, the version per :func:`syntax_version`.

    PINT customizations use the wildcard scheme (PINT SG BIS §5.1.2); others ``busdox-docid-qns``.
    """
    scheme = DOCTYPE_SCHEME_WILDCARD if ":pint:" in customization_id else DOCTYPE_SCHEME_QNS
    version = syntax_version(root_namespace)
    return DocumentTypeId(f"{root_namespace}::{local_name}##{customization_id}::{version}", scheme)


def process_for(profile_id: str) -> ProcessId:
    """The process identifier of a document's ``ProfileID``."""
    return ProcessId(profile_id.strip())
