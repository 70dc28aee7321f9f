"""Detect a fapiao's format and parse it: the entry points of the ingest stage."""

from __future__ import annotations

import re
from collections.abc import Callable

from gateway.errors import UnknownFormatError, UnsafeInputError
from gateway.ingest.fapiao_xml import parse_fapiao_xml
from gateway.ingest.textenc import sniff
from gateway.ingest.types import DEFAULT_LIMITS, IngestLimits, ParsedInvoice

FORMATS = ("fapiao-xml", "fapiao-ofd", "fapiao-json")
"""User-facing ``--format`` names (besides ``auto``); ``fapiao-ofd`` covers both OFD kinds."""
SOURCE_FORMATS = ("fapiao-xml", "fapiao-ofd", "fapiao-ofd-legacy", "fapiao-json")

_ROOT_TAG = re.compile(r"<([A-Za-z_][\w.\-]*:)?([A-Za-z_][\w.\-]*)")
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")


def _head_text(data: bytes) -> str:
    encoding = sniff(data) or "utf-8"
    return data[:4096].decode(encoding, errors="replace").lstrip("\ufeff \t\r\n")


def _xml_root_name(head: str) -> tuple[str | None, str]:
    pos = 0
    while True:
        start = head.find("<", pos)
        if start < 0:
            return None, ""
        if head.startswith(("<?", "<!--"), start):
            end = head.find("?>" if head[start + 1] == "?" else "-->", start)
            if end < 0:
                return None, ""
            pos = end + 2
            continue
        if head.startswith("<!", start):
            return "!DOCTYPE", ""
        found = _ROOT_TAG.match(head, start)
        return (found.group(2), found.group(1) or "") if found else (None, "")


def detect(data: bytes, *, limits: IngestLimits = DEFAULT_LIMITS) -> str:
    """The source format of ``data`` (one of :data:`SOURCE_FORMATS`), or UnknownFormatError.

    A zip is opened (under ``limits``) to tell a legacy OFD from a 数电 one.
    """
    if data.startswith(_ZIP_MAGIC):
        from gateway.ingest.ofd import detect_ofd

        return detect_ofd(data, limits)
    if data.startswith(b"%PDF"):
        raise UnknownFormatError(
            "a PDF fapiao carries no structured data; submit its XML or OFD", rule="detect.pdf"
        )
    head = _head_text(data)
    if head.startswith(("{", "[")):
        return "fapiao-json"
    if head.startswith("<"):
        name, _prefix = _xml_root_name(head)
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
    return _parser(chosen)(data, limits)
