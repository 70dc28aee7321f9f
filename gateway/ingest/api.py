"""Detect a fapiao's format and parse it: the entry points of the ingest stage."""

from __future__ import annotations

from collections.abc import Callable

from gateway.errors import UnknownFormatError, UnsafeInputError
from gateway.ingest.bundle import ZIP_MAGIC, bundle_member, ofds_beside
from gateway.ingest.fapiao_xml import parse_fapiao_xml
from gateway.ingest.not_fapiao import EBL_NOT_FAPIAO, UBL_BILL_OF_LADING
from gateway.ingest.renditions import compare_renditions
from gateway.ingest.textenc import head_text, xml_root_name
from gateway.ingest.types import DEFAULT_LIMITS, IngestLimits, ParsedInvoice

FORMATS = ("fapiao-xml", "fapiao-ofd", "fapiao-json")
"""User-facing ``--format`` names (besides ``auto``); ``fapiao-ofd`` covers both OFD kinds."""
SOURCE_FORMATS = ("fapiao-xml", "fapiao-ofd", "fapiao-ofd-legacy", "fapiao-json")


def detect(data: bytes, *, limits: IngestLimits = DEFAULT_LIMITS) -> str:
    """The source format of ``data`` (one of :data:`SOURCE_FORMATS`), or UnknownFormatError.

    A zip is opened (under ``limits``) to tell a legacy OFD from a 数电 one.
    """
    if data.startswith(ZIP_MAGIC):
        from gateway.ingest.ofd import detect_ofd

        member = bundle_member(data, limits)
        return detect_ofd(data, limits) if member is None else detect(member[1], limits=limits)
    if data.startswith(b"%PDF"):
        raise UnknownFormatError(
            "a PDF fapiao carries no structured data; submit its XML or OFD", rule="detect.pdf"
        )
    head = head_text(data)
    if head.startswith(("{", "[")):
        return "fapiao-json"
    if head.startswith("<"):
        name, _prefix = xml_root_name(head)
        if name == "!DOCTYPE":
            raise UnsafeInputError("XML with a DOCTYPE is refused", rule="xml.no-dtd")
        if name == "EInvoice":
            return "fapiao-xml"
        if name == "xbrl":
            raise UnknownFormatError(
                "a MoF accounting XBRL record (入账信息) is not an invoice", rule="detect.xbrl"
            )
        if name == "eInvoice":
            raise UnknownFormatError(
                "a legacy original_invoice.xml is read inside its OFD; submit the OFD",
                rule="detect.legacy-xml",
            )
        if name == UBL_BILL_OF_LADING:
            raise UnknownFormatError(
                EBL_NOT_FAPIAO.format(what="a UBL BillOfLading"), rule="detect.ebl"
            )
        raise UnknownFormatError(f"XML root <{name}> is not a fapiao", rule="detect.xml-root")
    raise UnknownFormatError(
        "not a fapiao: expected 数电票 XML, OFD (zip) or platform JSON", rule="detect.unknown"
    )


def _parser(source_format: str) -> Callable[[bytes, IngestLimits], ParsedInvoice]:
    if source_format == "fapiao-xml":
        return parse_fapiao_xml
    if source_format in ("fapiao-ofd", "fapiao-ofd-legacy"):
        from gateway.ingest.ofd import parse_ofd

        return parse_ofd
    from gateway.ingest.platform_json import parse_platform_json

    return parse_platform_json


def parse(
    data: bytes,
    format: str = "auto",
    *,
    filename: str | None = None,
    limits: IngestLimits = DEFAULT_LIMITS,
) -> ParsedInvoice:
    """Parse one fapiao. ``format`` is ``auto``, one of :data:`FORMATS`, or what :func:`detect`
    returned (``fapiao-ofd-legacy`` included).

    Raises a :class:`~gateway.errors.InputError` subclass naming the field or rule on bad input.
    ``filename`` is only used in messages.
    """
    what = f"{filename}: " if filename else ""
    if len(data) > limits.max_input_bytes:
        raise UnsafeInputError(
            f"{what}input is {len(data)} bytes, more than the limit of {limits.max_input_bytes}",
            rule="input.max-bytes",
        )
    if not data.strip():
        raise UnknownFormatError(f"{what}input is empty", rule="input.empty")
    if format == "auto":
        chosen = detect(data, limits=limits)
    elif format in SOURCE_FORMATS:  # detect()'s answer is accepted as it stands
        chosen = format
    else:
        raise UnknownFormatError(
            f"unknown format {format!r}; choose auto or one of {', '.join(FORMATS)}",
            rule="format.unknown",
        )
    if data.startswith(ZIP_MAGIC) and (member := bundle_member(data, limits)) is not None:
        parsed = _parser(chosen)(member[1], limits)
        compare_renditions(parsed, member[0], ofds_beside(data, member[0], limits), limits)
        parsed.original = data
        parsed.facts.extra["bundle_member"] = member[0]
        return parsed
    return _parser(chosen)(data, limits)
