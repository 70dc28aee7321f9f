"""One call from source bytes to a rendered document: parse → :func:`map_parsed` → render.

``lingang convert`` calls :func:`convert`; validation is left to the caller (it needs the
installed artefacts). It sits above both the mapping and the renderers (``gateway.render``
reads the profile facts from ``gateway.mapping.profiles``), so neither imports the other's
way back up.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from gateway.mapping.document import map_parsed
from gateway.model import Invoice
from gateway.partners import PartnerDirectory
from gateway.render import render_tree, serialise

if TYPE_CHECKING:
    from lxml import etree

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
    tree: etree._Element | None = None
    """The rendered document as built, ``xml`` its serialisation: validate it with
    ``Validator.validate(xml, profile, tree=tree)`` and the document is not parsed again."""


def convert(
    data: bytes,
    profile: str | None,
    directory: PartnerDirectory,
    *,
    format: str = "auto",
    metadata: Mapping[str, Any] | None = None,
    strict: bool = False,
) -> ConvertResult:
    """Convert one fapiao (XML, OFD, JSON) to ``profile`` (default: the partner's)."""
    from gateway.ingest import parse

    parsed = parse(data, format=format)
    return convert_parsed(parsed, profile, directory, metadata=metadata, strict=strict)


def convert_parsed(
    parsed: ParsedInvoice,
    profile: str | None,
    directory: PartnerDirectory,
    *,
    metadata: Mapping[str, Any] | None = None,
    strict: bool = False,
    default_profile: str | None = None,
) -> ConvertResult:
    """:func:`convert` for an already parsed fapiao."""
    mapped = map_parsed(
        parsed,
        directory,
        profile=profile,
        default_profile=default_profile,
        metadata=metadata,
        strict=strict,
    )
    tree = render_tree(mapped.invoice, mapped.profile)
    return ConvertResult(
        xml=serialise(tree),
        invoice=mapped.invoice,
        parsed=parsed,
        profile=mapped.profile,
        warnings=mapped.warnings,
        tree=tree,
    )
