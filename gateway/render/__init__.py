"""Renderers: canonical invoice → UBL 2.1 (PINT SG, BIS 3, PINT) or UN/CEFACT CII D16B.

A renderer writes the invoice as mapped; it never re-maps. An invoice prepared by
:func:`gateway.mapping.map_invoice` for one profile is refused for another (map it again);
an invoice without a profile (e.g. read from a foreign document) renders as any profile.
"""

from __future__ import annotations

from dataclasses import replace

from gateway.errors import FieldError
from gateway.model import Invoice
from gateway.render.cii import render_cii
from gateway.render.ubl import render_ubl

UBL_PROFILES = frozenset({"pint-sg", "bis3", "pint"})
PROFILES = (*sorted(UBL_PROFILES), "cii")


def render(invoice: Invoice, profile: str | None = None) -> bytes:
    """The document for ``profile`` (default: the one the invoice was mapped for)."""
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
    return render_cii(invoice) if target == "cii" else render_ubl(invoice)


__all__ = ["PROFILES", "UBL_PROFILES", "render", "render_cii", "render_ubl"]
