"""Renderers: canonical invoice → UBL 2.1 (PINT SG, BIS 3, PINT) or UN/CEFACT CII D16B."""

from __future__ import annotations

from gateway.errors import FieldError
from gateway.model import Invoice
from gateway.render.ubl import render_ubl

UBL_PROFILES = frozenset({"pint-sg", "bis3", "pint"})


def render(invoice: Invoice, profile: str | None = None) -> bytes:
    """The document for ``profile`` (default: the one the mapper prepared it for)."""
    target = profile or invoice.profile
    if target in UBL_PROFILES:
        if invoice.profile != target:
            invoice = _retarget(invoice, target)
        return render_ubl(invoice)
    if target == "cii":
        from gateway.render.cii import render_cii

        xml: bytes = render_cii(invoice)
        return xml
    raise FieldError(
        f"cannot render profile {target!r}: use one of pint-sg, bis3, pint, cii", field="profile"
    )


def _retarget(invoice: Invoice, profile: str) -> Invoice:
    from dataclasses import replace

    return replace(invoice, profile=profile)


__all__ = ["UBL_PROFILES", "render"]
