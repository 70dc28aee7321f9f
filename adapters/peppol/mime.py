"""MIME ``multipart/related`` as AS4 uses it (SOAP part first, then attachments).

Our own small codec over bytes: binary attachments pass untouched (no line-ending or charset
rewriting), the boundary comes from the Content-Type, and limits (part count, header size)
guard against hostile input.
"""

from __future__ import annotations

import binascii
import mmap
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from gateway.errors import InputError

SOAP_CONTENT_TYPE = "application/soap+xml"
MAX_PARTS = 16
MAX_HEADER_BYTES = 64 * 1024
"""The longest header block of one MIME part."""
_HEADER_END = re.compile(rb"\r?\n\r?\n")
_BOUNDARY = re.compile(r"[0-9A-Za-z'()+_,./:=? -]*[0-9A-Za-z'()+_,./:=?-]")
"""A boundary of RFC 2046 5.1.1's ``bchars``, not ending in a space (its limit of 70 is not
enforced: the header's own length bounds it, and a longer one from a peer is still read)."""
_PARAM = re.compile(r';\s*([A-Za-z0-9_.-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)')


@dataclass(frozen=True, slots=True)
class Part:
    """One MIME part: its headers (lower-case names) and body."""

    headers: Mapping[str, str]
    body: bytes

    @property
    def content_id(self) -> str:
        """The ``Content-ID`` without angle brackets."""
        return self.headers.get("content-id", "").strip().strip("<>")

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")


@dataclass(frozen=True, slots=True)
class Multipart:
    """The SOAP part and the attachments (by Content-ID)."""

    soap: bytes
    attachments: Mapping[str, Part] = field(default_factory=dict)


def content_type_params(value: str) -> tuple[str, dict[str, str]]:
    """``type/subtype`` (lower-case) and its parameters (names lower-case, quotes removed)."""
    main = value.split(";", 1)[0].strip().lower()
    params = {name.lower(): raw.strip().strip('"') for name, raw in _PARAM.findall(value)}
    return main, params


def build_multipart(soap: bytes, parts: Sequence[tuple[str, str, bytes]]) -> tuple[bytes, str]:
    """The body and Content-Type of a ``multipart/related`` message: the SOAP envelope, then
    each ``(content_id, content_type, octets)``."""
    boundary = f"----=_Part_{uuid.uuid4().hex}"
    chunks = [
        f"--{boundary}\r\nContent-Type: {SOAP_CONTENT_TYPE};charset=UTF-8\r\n"
        "Content-Transfer-Encoding: binary\r\n\r\n".encode(),
        soap,
    ]
    for content_id, content_type, octets in parts:
        chunks.append(
            f"\r\n--{boundary}\r\nContent-Type: {content_type}\r\n"
            f"Content-Transfer-Encoding: binary\r\nContent-ID: <{content_id}>\r\n\r\n".encode()
        )
        chunks.append(octets)
    chunks.append(f"\r\n--{boundary}--\r\n".encode())
    content_type = f'multipart/related; boundary="{boundary}"; type="{SOAP_CONTENT_TYPE}"'
    return b"".join(chunks), content_type


def _headers(raw: bytes) -> dict[str, str]:
    headers: dict[str, str] = {}
    for line in raw.decode("latin-1").splitlines():
        if not line.strip():
            continue
        if line[0] in " \t" and headers:
            last = next(reversed(headers))
            headers[last] += " " + line.strip()
            continue
        name, sep, value = line.partition(":")
        if not sep:
            raise InputError(f"malformed MIME header line {line[:60]!r}", rule="as4.mime.header")
        headers[name.strip().lower()] = value.strip()
    return headers


Octets = bytes | memoryview
"""Attachment octets: bytes, or a zero-copy view into the received body (or its spool file)."""
Body = bytes | bytearray | mmap.mmap
"""A received body: in memory, or a memory-mapped spool file."""


def split_message(
    content_type: str, body: Body
) -> tuple[bytes, dict[str, tuple[Mapping[str, str], memoryview]]]:
    """Split an AS4 HTTP body without copying its attachments: the SOAP envelope (bytes) and
    each attachment's headers and a :class:`memoryview` of its octets, by Content-ID.

    ``body`` may be a memory-mapped spool file, so a large message is never held in memory
    as a whole; the views keep ``body`` exported until they are released."""
    main, params = content_type_params(content_type)
    if main == SOAP_CONTENT_TYPE:
        return bytes(body), {}
    if main != "multipart/related":
        raise InputError(
            f"content type {main!r} is not an AS4 message", rule="as4.mime.content-type"
        )
    boundary = params.get("boundary")
    if not boundary:
        raise InputError("multipart/related without a boundary", rule="as4.mime.boundary")
    if not _BOUNDARY.fullmatch(boundary):
        raise InputError(
            "the multipart boundary holds a character RFC 2046 5.1.1 does not allow in one",
            rule="as4.mime.boundary",
        )
    delimiter = b"--" + boundary.encode("ascii")
    starts: list[int] = []
    at = body.find(delimiter)
    while at != -1:
        starts.append(at)
        if len(starts) - 1 > MAX_PARTS:
            raise InputError(f"more than {MAX_PARTS} MIME parts", rule="as4.mime.parts")
        at = body.find(delimiter, at + len(delimiter))
    if len(starts) < 2:
        raise InputError("multipart body has no parts", rule="as4.mime.parts")
    view = memoryview(body)
    parts: list[tuple[dict[str, str], memoryview]] = []
    for index, start in enumerate(starts):
        begin = start + len(delimiter)
        if body[begin : begin + 2] == b"--":
            break
        end = starts[index + 1] if index + 1 < len(starts) else len(body)
        if body[begin : begin + 2] == b"\r\n":
            begin += 2
        elif body[begin : begin + 1] == b"\n":
            begin += 1
        split = _HEADER_END.search(bytes(view[begin : min(end, begin + MAX_HEADER_BYTES)]))
        if split is None:
            raise InputError("a MIME part has no header end", rule="as4.mime.header")
        content = begin + split.end()
        if end - content >= 2 and body[end - 2 : end] == b"\r\n":
            end -= 2
        elif end - content >= 1 and body[end - 1 : end] == b"\n":
            end -= 1
        parts.append((_headers(bytes(view[begin : begin + split.start()])), view[content:end]))
    else:
        raise InputError("multipart body has no closing boundary", rule="as4.mime.closing")
    if not parts:
        raise InputError("multipart body has no parts", rule="as4.mime.parts")
    (soap_headers, soap), *rest = parts
    if content_type_params(soap_headers.get("content-type", ""))[0] != SOAP_CONTENT_TYPE:
        raise InputError("the first MIME part is not the SOAP envelope", rule="as4.mime.soap-first")
    attachments: dict[str, tuple[Mapping[str, str], memoryview]] = {}
    for headers, octets in rest:
        content_id = Part(headers, b"").content_id
        if not content_id or content_id in attachments:
            raise InputError(
                "an attachment has no or a repeated Content-ID", rule="as4.mime.content-id"
            )
        attachments[content_id] = (headers, _decoded(headers, octets))
    return bytes(_decoded(soap_headers, soap)), attachments


_IDENTITY_ENCODINGS = frozenset({"", "binary", "8bit", "7bit"})


def _decoded(headers: Mapping[str, str], octets: memoryview) -> memoryview:
    """A part's octets with its ``Content-Transfer-Encoding`` undone (RFC 2045 §6): the
    identity encodings as they are (no copy), ``base64`` and ``quoted-printable`` decoded;
    another is an :class:`InputError` (``as4.mime.transfer-encoding``). The SwA attachment
    transforms sign and encrypt the decoded content."""
    encoding = headers.get("content-transfer-encoding", "").strip().lower()
    if encoding in _IDENTITY_ENCODINGS:
        return octets
    try:
        if encoding == "base64":
            return memoryview(binascii.a2b_base64(bytes(octets)))
        if encoding == "quoted-printable":
            return memoryview(binascii.a2b_qp(bytes(octets)))
    except binascii.Error as exc:
        raise InputError(
            f"a MIME part is not valid {encoding}: {exc}", rule="as4.mime.transfer-encoding"
        ) from exc
    raise InputError(
        f"Content-Transfer-Encoding {encoding[:40]!r} is not one of binary, 8bit, 7bit, base64 "
        "and quoted-printable",
        rule="as4.mime.transfer-encoding",
    )


def parse_message(content_type: str, body: bytes) -> Multipart:
    """Split an AS4 HTTP body: a bare SOAP envelope or ``multipart/related`` (each part's
    octets copied once; :func:`split_message` gives views instead)."""
    soap, attachments = split_message(content_type, body)
    return Multipart(
        soap=soap,
        attachments={
            cid: Part(headers, bytes(octets)) for cid, (headers, octets) in attachments.items()
        },
    )


def split_http_dump(data: bytes) -> tuple[dict[str, str], bytes]:
    """HTTP headers and body of a message dump (headers, blank line, body)."""
    match = re.search(rb"\r?\n\r?\n", data)
    if match is None:
        raise InputError("no blank line after the HTTP headers", rule="as4.http.headers")
    return _headers(data[: match.start()]), data[match.end() :]
