"""One call from source bytes to a rendered document: parse → find partner → map → render.

The pipeline and ``lingang convert`` both call :func:`convert`; validation is left to the
caller (it needs the installed artefacts).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from gateway.errors import MissingFactError
from gateway.mapping.mapper import map_with_warnings
from gateway.mapping.parties import printed_buyer_id, printed_seller_id
from gateway.mapping.profiles import profile_spec
from gateway.model import Invoice
from gateway.partners import PartnerDirectory
from gateway.render import render

if TYPE_CHECKING:
    from gateway.ingest.types import ParsedInvoice


@dataclass(slots=True)
class ConvertResult:
    """The rendered document, the mapped invoice and the parse it came from."""

    xml: bytes
    invoice: Invoice
    parsed: ParsedInvoice
    profile: str
    warnings: list[str] = field(default_factory=list)
    """Parser and mapper warnings, as text."""


def convert(
    data: bytes,
    profile: str | None,
    directory: PartnerDirectory,
    *,
    format: str = "auto",
) -> ConvertResult:
    """Convert one fapiao (XML, OFD, JSON) to ``profile`` (default: the partner's)."""
    from gateway.ingest import parse

    parsed = parse(data, format=format)
    return convert_parsed(parsed, profile, directory)


def convert_parsed(
    parsed: ParsedInvoice, profile: str | None, directory: PartnerDirectory
) -> ConvertResult:
    """:func:`convert` for an already parsed fapiao."""
    source = parsed.invoice
    partner = directory.find_partner(source.buyer.name, printed_buyer_id(source.buyer))
    target = profile or partner.profile
    if target is None:
        raise MissingFactError(
            f"target profile for buyer {source.buyer.name!r}: pass --to or add `profile` to "
            "its [[partners]] entry",
            field="partners.profile",
        )
    profile_spec(target)
    exporter = directory.find_exporter(printed_seller_id(source.seller))
    mapped = map_with_warnings(parsed, partner, exporter, target)
    warnings = [_text(w) for w in parsed.warnings] + mapped.warnings
    return ConvertResult(
        xml=render(mapped.invoice, target),
        invoice=mapped.invoice,
        parsed=parsed,
        profile=target,
        warnings=warnings,
    )


def _text(warning: Any) -> str:
    message = getattr(warning, "message", None)
    code = getattr(warning, "code", None)
    return f"{code}: {message}" if code and message else str(warning)
