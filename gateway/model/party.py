"""Parties, their identifiers, addresses and contacts (EN 16931 BG-4 … BG-12).

A party carries a list of typed identifiers rather than one field per scheme, because the same
Chinese exporter is known by its USCC at home, by a GLN / LEI / DUNS / SG UEN on Peppol, and by
the GB 11714 organisation code (ICD 0131) inside the USCC.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class IdScheme(StrEnum):
    """Identifier schemes a party identifier may use.

    Values are ISO 6523 ICD codes where one exists (the Peppol EAS / ICD lists), otherwise a
    project-local name for schemes without an ICD.
    """

    USCC = "USCC"
    """统一社会信用代码, GB 32100-2015, 18 characters. No ICD exists for the whole code."""
    CN_ORG_CODE = "0131"
    """China National Organization Code (GB 11714), 9 characters = USCC positions 9-17."""
    CN_TAXPAYER = "CN_TAXPAYER"
    """Legacy 15-20 character taxpayer identification number (not a USCC)."""
    CN_RESIDENT_ID = "CN_RESIDENT_ID"
    """Chinese resident identity card number (GB 11643), for natural-person buyers."""
    SG_UEN = "0195"
    """Singapore UEN (Peppol participant scheme 0195, value ``SGUEN`` + UEN in endpoints)."""
    GLN = "0088"
    DUNS = "0060"
    LEI = "0199"
    GS1 = "0209"
    VAT = "VAT"
    """A VAT / GST registration number including its ISO 3166 prefix (BT-31 / BT-48)."""


@dataclass(slots=True, frozen=True)
class Identifier:
    """One identifier of a party: a value and the scheme it belongs to."""

    value: str
    scheme: str | None = None
    """An :class:`IdScheme` value or another ISO 6523 ICD / EAS code; ``None`` when unknown."""


@dataclass(slots=True, frozen=True)
class Endpoint:
    """Electronic address (BT-34 / BT-49): EAS scheme and value, e.g. ``0195`` / ``SGUEN…``."""

    scheme: str
    value: str

    @classmethod
    def parse(cls, text: str) -> Endpoint:
        """Read ``scheme:value`` as written in partner directories."""
        scheme, sep, value = text.partition(":")
        if not sep or not scheme.strip() or not value.strip():
            raise ValueError(f"endpoint {text!r} is not of the form 'scheme:value'")
        return cls(scheme.strip(), value.strip())

    def __str__(self) -> str:
        return f"{self.scheme}:{self.value}"


@dataclass(slots=True)
class Address:
    """Postal address (BG-5 seller, BG-8 buyer, BG-12 payee/tax rep., BG-15 deliver-to)."""

    street: str | None = None
    """BT-35 / BT-50 / BT-75 address line 1."""
    additional_street: str | None = None
    """BT-36 / BT-51 / BT-76 address line 2."""
    line3: str | None = None
    """BT-162 / BT-163 / BT-165 address line 3."""
    city: str | None = None
    """BT-37 / BT-52 / BT-77 city."""
    postcode: str | None = None
    """BT-38 / BT-53 / BT-78 post code."""
    subdivision: str | None = None
    """BT-39 / BT-54 / BT-79 country subdivision."""
    country: str | None = None
    """BT-40 / BT-55 / BT-80 country code, ISO 3166-1 alpha-2."""


@dataclass(slots=True)
class Contact:
    """Contact (BG-6 seller, BG-9 buyer)."""

    name: str | None = None
    """BT-41 / BT-56 contact point."""
    telephone: str | None = None
    """BT-42 / BT-57 telephone."""
    email: str | None = None
    """BT-43 / BT-58 e-mail."""


@dataclass(slots=True)
class Party:
    """A seller (BG-4), buyer (BG-7), payee (BG-10) or tax representative (BG-11)."""

    name: str
    """BT-27 seller name / BT-44 buyer name / BT-59 payee name / BT-62 tax representative."""
    trading_name: str | None = None
    """BT-28 / BT-45 trading name."""
    identifiers: list[Identifier] = field(default_factory=list)
    """BT-29 / BT-46 / BT-60 party identifiers, each with its scheme."""
    legal_registration: Identifier | None = None
    """BT-30 / BT-47 / BT-61 legal registration identifier (scheme = ICD, BT-30-1)."""
    vat_id: str | None = None
    """BT-31 / BT-48 / BT-63 VAT identifier, with its country prefix (e.g. ``CN91…``)."""
    tax_registration_id: str | None = None
    """BT-32 seller tax registration identifier (e.g. an SG GST number for PINT SG)."""
    legal_info: str | None = None
    """BT-33 seller additional legal information."""
    endpoint: Endpoint | None = None
    """BT-34 / BT-49 electronic address."""
    address: Address | None = None
    """BG-5 / BG-8 / BG-12 postal address."""
    contact: Contact | None = None
    """BG-6 / BG-9 contact."""
    is_natural_person: bool = False
    """True for 自然人 buyers (name ending in ``（个人）`` or an ID-card number)."""

    def identifier(self, scheme: str) -> Identifier | None:
        """The first identifier of the given scheme, if the party has one."""
        for ident in self.identifiers:
            if ident.scheme == scheme:
                return ident
        return None
