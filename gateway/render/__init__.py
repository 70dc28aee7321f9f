"""Renderers: canonical invoice → UBL 2.1 (PINT SG, BIS 3, PINT) or UN/CEFACT CII D16B
(EN 16931 CII, Peppol BIS 3 CII); the profile facts come from :mod:`gateway.mapping.profiles`.

A renderer writes the invoice as mapped; it never re-maps. An invoice prepared by
:func:`gateway.mapping.map_invoice` for one profile is refused for another (map it again);
an invoice without a profile (e.g. read from a foreign document) renders as any profile.
"""

from __future__ import annotations

from dataclasses import replace

from lxml import etree

from gateway.errors import FieldError
from gateway.mapping.profiles import CII_PROFILES, PROFILE_NAMES, UBL_PROFILES
from gateway.model import Invoice
from gateway.render._xml import serialise
from gateway.render.cii import cii_tree, render_cii
from gateway.render.ubl import render_ubl, ubl_tree

PROFILES = PROFILE_NAMES


def render(invoice: Invoice, profile: str | None = None) -> bytes:
    """The document for ``profile`` (default: the one the invoice was mapped for)."""
    return serialise(render_tree(invoice, profile))


def render_tree(invoice: Invoice, profile: str | None = None) -> etree._Element:
    """The root element of :func:`render`'s document, as built: a caller that also validates
    the document can hand this tree to the validator instead of parsing the bytes again."""
    target = profile or invoice.profile
    if target not in PROFILES:
        raise FieldError(
            f"cannot render profile {target!r}: use one of {', '.join(PROFILES)}", field="profile"
        )
    if invoice.profile is not None and invoice.profile != target:
        raise FieldError(
            f"invoice {invoice.number} was mapped for {invoice.profile!r}, not {target!r}: "
            "map it again for the target profile",
            field="profile",
        )
    if invoice.profile is None:
        invoice = replace(invoice, profile=target)
    return cii_tree(invoice) if target in CII_PROFILES else ubl_tree(invoice)


__all__ = [
    "CII_PROFILES",
    "PROFILES",
    "UBL_PROFILES",
    "render",
    "render_cii",
    "render_tree",
    "render_ubl",
    "serialise",
]
