"""Character encodings of incoming XML and JSON, checked before any parser sees the bytes.

A wrong encoding becomes one clear :class:`InputError` naming the encoding and the byte offset,
instead of a parser message deep inside the document.
"""

from __future__ import annotations

import codecs
import re

from gateway.errors import InputError

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_ROOT_TAG = re.compile(r"<([A-Za-z_][\w.\-]*:)?([A-Za-z_][\w.\-]*)")
_DECLARED = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._\-]+)["']""")


def sniff(data: bytes) -> str | None:
    """The encoding given by a byte-order mark or by UTF-16/32 zero-byte patterns, if any."""
    for bom, name in _BOMS:
        if data.startswith(bom):
            return name
    head = data[:4]
    if len(head) == 4:
        if head[1:] == b"\x00\x00\x00":
            return "utf-32-le"
        if head[:3] == b"\x00\x00\x00":
            return "utf-32-be"
        if head[1] == 0 and head[3] == 0:
            return "utf-16-le"
        if head[0] == 0 and head[2] == 0:
            return "utf-16-be"
    return None


def _strict_decode(data: bytes, encoding: str, what: str, how: str, rule: str) -> str:
    try:
        codecs.lookup(encoding)
    except LookupError as exc:
        raise InputError(f"{what} {how} unknown encoding {encoding!r}", rule=rule) from exc
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        bad = data[exc.start : exc.start + 1].hex()
        hint = " (GBK/GB18030 text declared as UTF-8?)" if encoding.startswith("utf-8") else ""
        raise InputError(
            f"{what} {how} {encoding} but byte 0x{bad} at offset {exc.start} is not valid "
            f"{encoding}{hint}",
            rule=rule,
        ) from exc


def check_xml_encoding(data: bytes, what: str) -> str:
    """Check that ``data`` decodes in the encoding it announces; return that encoding."""
    sniffed = sniff(data)
    if sniffed is not None:
        _strict_decode(data, sniffed, what, "is", "xml.encoding")
        return sniffed
    found = _DECLARED.match(data[:256])
    encoding = found.group(1).decode("ascii").lower() if found else "utf-8"
    how = "declares" if found else "has no encoding declaration, so must be"
    _strict_decode(data, encoding, what, how, "xml.encoding")
    return encoding


GBK_LABELS = frozenset(
    {"gb2312", "gb_2312", "gb_2312-80", "csgb2312", "euc-cn", "x-gbk", "chinese"}
)
"""Labels the WHATWG Encoding Standard (§ "Legacy multi-byte Chinese (simplified)
encodings") reads as GBK: Chinese systems commonly label GBK text ``GB2312``, and names with
characters outside GB2312 (喆, 堃, 镕 …) then make it invalid GB2312. GBK is a superset of
GB2312 (EUC-CN): text that is valid GB2312 reads the same as GBK."""


def readable_xml(data: bytes, what: str, max_bytes: int) -> tuple[bytes, str | None]:
    """``data`` checked (:func:`check_xml_encoding`) as bytes the XML parser reads, and a note.

    A document labelled ``GB2312`` (or another :data:`GBK_LABELS` label) that is GBK but not
    GB2312 is read as GBK: the parser gets it transcoded to UTF-8 (same text, declaration
    changed), and the note says so. Beyond ``max_bytes`` the bytes are returned unchanged
    for the parser's own size limit to refuse, so the limits apply to the bytes received.
    """
    if len(data) > max_bytes:
        return data, None
    try:
        check_xml_encoding(data, what)
        return data, None
    except InputError as exc:
        found = _DECLARED.match(data[:256])
        declared = found.group(1).decode("ascii").lower() if found else ""
        if found is None or declared not in GBK_LABELS or sniff(data) is not None:
            raise
        try:
            text = data.decode("gbk")
        except UnicodeDecodeError:
            raise InputError(f"{exc.message} (nor GBK, its superset)", rule=exc.rule) from exc
    start, end = found.span(1)
    if not data[:end].isascii():
        raise InputError(f"{what} has a malformed XML declaration", rule="xml.encoding")
    utf8 = (text[:start] + "UTF-8" + text[end:]).encode("utf-8")
    note = (
        f"{what} declares {declared} but holds characters outside GB2312: read as GBK, its "
        "superset (as the WHATWG Encoding Standard reads that label); an embedded copy of it "
        "is that text in UTF-8"
    )
    return utf8, note


def decode_json_text(data: bytes, what: str = "JSON") -> str:
    """JSON text per RFC 8259: UTF-8 (a BOM tolerated), or UTF-16/32 recognised by its pattern."""
    sniffed = sniff(data)
    encoding = sniffed or "utf-8"
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        bad = data[exc.start : exc.start + 1].hex()
        raise InputError(
            f"{what} must be UTF-8 (RFC 8259) but byte 0x{bad} at offset {exc.start} is not "
            f"valid {encoding} (GBK-encoded export?)",
            rule="json.encoding",
        ) from exc
    return text.lstrip("\ufeff")


def head_text(data: bytes) -> str:
    """The first 4 KiB as text (encoding sniffed, lossy), leading BOM and blanks stripped."""
    encoding = sniff(data) or "utf-8"
    return data[:4096].decode(encoding, errors="replace").lstrip("\ufeff \t\r\n")


def xml_root_name(head: str) -> tuple[str | None, str]:
    """(local name, prefix) of the root element in ``head``; ``!DOCTYPE`` when a DTD comes first."""
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
