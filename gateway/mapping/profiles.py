"""The four target profiles and the constants each one fixes."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.errors import FieldError


@dataclass(frozen=True, slots=True)
class ProfileSpec:
    """What a target profile fixes: identifiers, syntax, tax scheme, what it may carry."""

    name: str
    customization_id: str
    """BT-24 specification identifier."""
    process_id: str | None
    """BT-23 business process type."""
    syntax: str
    """``ubl`` or ``cii``."""
    tax_scheme: str
    """``VAT`` (UNCL5305 categories) or ``GST`` (IRAS categories, PINT SG)."""
    xml_attachment: bool
    """Whether BT-125 may carry ``application/xml`` (the original fapiao)."""
    uuid: bool = False
    """Whether the document carries a UUID (PINT SG BT-SG-003)."""
    issue_time: bool = False
    """Whether the document carries the issue time (PINT BT-168)."""


PROFILE_SPECS: dict[str, ProfileSpec] = {
    "pint-sg": ProfileSpec(
        "pint-sg",
        "urn:peppol:pint:billing-1@sg-1",
        "urn:peppol:bis:billing",
        "ubl",
        "GST",
        xml_attachment=True,
        uuid=True,
        issue_time=True,
    ),
    "bis3": ProfileSpec(
        "bis3",
        "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0",
        "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0",
        "ubl",
        "VAT",
        xml_attachment=False,
    ),
    "pint": ProfileSpec(
        "pint",
        "urn:peppol:pint:billing-1",
        "urn:peppol:bis:billing",
        "ubl",
        "VAT",
        xml_attachment=True,
        issue_time=True,
    ),
    "cii": ProfileSpec(
        "cii",
        "urn:cen.eu:en16931:2017",
        None,
        "cii",
        "VAT",
        xml_attachment=False,
    ),
}


def profile_spec(profile: str) -> ProfileSpec:
    """The spec of a profile name; an unknown name is a :class:`FieldError`."""
    try:
        return PROFILE_SPECS[profile]
    except KeyError:
        raise FieldError(
            f"unknown profile {profile!r}: use one of {sorted(PROFILE_SPECS)}", field="profile"
        ) from None
