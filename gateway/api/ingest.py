"""Read a ``POST /v1/documents`` request into one :class:`Upload`, or refuse it with a problem.

Two shapes are accepted:

* a raw body — fapiao XML (``application/xml``, ``text/xml``), OFD (``application/ofd``,
  ``application/zip``, ``application/octet-stream``) or platform JSON (``application/json``)
  — with metadata in the query string (``profile``, ``recipient``, ``filename``, ``resend``
  ...);
* ``multipart/form-data`` with one ``document`` file part and the metadata as form fields
  and/or one ``metadata`` JSON part.

The idempotency key comes from the ``Idempotency-Key`` header or the ``idempotency_key``
field (they must agree when both are given). Every body is bounded by
:attr:`ApiOptions.max_body_bytes` (413 beyond it), multipart parts included. A hostile or
unreadable XML or zip document is refused here too (:mod:`gateway.api.door`).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import BodyPartReader, web
from aiohttp.http_exceptions import HttpProcessingError

from gateway.api.door import check_document
from gateway.api.problems import FieldIssue, Problem
from gateway.bounded_body import read_bounded
from gateway.flows.ebl_convert import EblTarget
from gateway.mapping.profiles import PROFILE_SPECS

RAW_TYPES = frozenset(
    {
        "application/xml",
        "text/xml",
        "application/ofd",
        "application/zip",
        "application/octet-stream",
        "application/json",
    }
)
MULTIPART = "multipart/form-data"
ACCEPTED = (
    "application/xml (数电票 XML, a UBL BillOfLading), application/json (platform JSON, a "
    "DCSA eBL), application/ofd or application/zip (OFD), or multipart/form-data with a "
    "'document' file part"
)
"""What a 415 tells the client to send instead."""
ACCEPT_HEADER = ", ".join(sorted(RAW_TYPES | {MULTIPART}))
"""The media types ``POST /v1/documents`` takes, for a 415's ``Accept`` field (RFC 9110
15.5.16: a 415 caused by the media type can say in ``Accept`` which would have been
accepted)."""
_MEDIA_TYPE = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+/[!#$%&'*+.^_`|~0-9A-Za-z-]+")
"""``type/subtype`` as RFC 9110 §8.3.1 writes them (tokens); aiohttp reads anything else
as ``application/octet-stream``, which would accept a header that names no media type."""
_NOT_IN_TEXT = r"\x00-\x1f\x7f\ud800-\udfff\ufffe\uffff"
_REFERENCE = re.compile(f"[^{_NOT_IN_TEXT}]*[^\\s{_NOT_IN_TEXT}][^{_NOT_IN_TEXT}]*")
"""A reference: text with something besides blanks, no control characters, nothing XML or
UTF-8 cannot carry (a lone surrogate from a JSON ``\\ud800`` escape)."""
MAPPING_FIELDS: dict[str, re.Pattern[str]] = {
    "exchange_rate": re.compile(r"[1-9][0-9]{0,11}(\.[0-9]{1,12})?|0\.[0-9]{0,11}[1-9][0-9]{0,11}"),
    "currency": re.compile(r"[A-Z]{3}"),
    "buyer_reference": _REFERENCE,
    "order_reference": _REFERENCE,
    "contract_reference": _REFERENCE,
    "project_reference": _REFERENCE,
    "preceding_invoice_date": re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}"),
}
"""Facts for the mapping a client may send with a document (``gateway.mapping.METADATA_KEYS``:
this invoice's exchange rate and currency, the buyer's references, the date of the invoice a
credit note credits), each with its form."""
DOCUMENT_FIELDS: dict[str, re.Pattern[str]] = {
    "kind": re.compile(r"invoice|ebl"),
    "targets": re.compile(r"[a-z-]{1,20}(,[a-z-]{1,20}){0,7}"),
    "resend": re.compile(r"true|false"),
}
"""What the document is (``kind``: ``invoice``, the default, or ``ebl``), for an eBL the
formats to convert it to (``targets``, comma-separated; see ``gateway.flows.ebl_out``), and
for a fapiao whether it is sent again on purpose (``resend=true``: a fapiao the tenant sent
already is otherwise refused, ``already-sent``; see ``gateway.store.sent_documents``)."""
EBL_TARGETS = tuple(target.value for target in EblTarget)
"""The names ``targets`` may list; whether ``tradetrust-vc`` is offered depends on the
configuration (a VC issuer key), which the flow checks."""
MAX_MAPPING_FIELD = 200
_TEXT_FORM = (
    "text with something besides blanks and no control characters, at most "
    f"{MAX_MAPPING_FIELD} characters"
)
FORMS: dict[str, str] = {
    "exchange_rate": (
        "a positive decimal number with a dot (up to 12 places): CNY per one unit of the "
        "invoice currency, e.g. 7.1234"
    ),
    "currency": "an ISO 4217 code in capitals, e.g. USD",
    "buyer_reference": _TEXT_FORM,
    "order_reference": _TEXT_FORM,
    "contract_reference": _TEXT_FORM,
    "project_reference": _TEXT_FORM,
    "preceding_invoice_date": "a date written YYYY-MM-DD",
    "kind": "invoice or ebl",
    "targets": f"comma-separated formats, each one of {', '.join(EBL_TARGETS)}",
    "resend": "true or false",
}
"""What each metadata field's form is, in words, for the 422 that refuses one."""
METADATA_FIELDS = ("profile", "recipient", "idempotency_key", *MAPPING_FIELDS, *DOCUMENT_FIELDS)
RECEIVER = "receiver"
"""The metadata key the pipeline reads the receiver endpoint from (``recipient`` in the API)."""
MAX_FIELD_BYTES = 64 * 1024

_PROFILE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:@/-]{0,127}")
_SCHEME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,31}")
_ENDPOINT_VALUE = re.compile(r"[\x21-\x7e]{1,200}")
_IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e]{1,255}")
_PARAMETER = re.compile(r"[A-Za-z0-9_.-]{1,64}")
MAX_FILENAME = 255
_FILENAME_BAD = re.compile(
    r"[\x00-\x1f\x7f-\x9f/\\\u202a-\u202e\u2066-\u2069\ud800-\udfff\ufffe\uffff]"
)
"""What a file name may not hold: control characters (C0 and C1), slashes, bidirectional
embeddings, overrides and isolates (``invoice\\u202egpj.exe`` shows as ``invoiceexe.jpg`` on
every page and in every list that names the file: Unicode TR #36 2.1, as the ledger refuses
them in an officer's name), lone surrogates and non-characters."""
_MALFORMED = (ValueError, LookupError, AssertionError, HttpProcessingError)
"""What aiohttp's multipart reader raises on a malformed body (UnicodeDecodeError and
binascii.Error are ValueErrors)."""


@dataclass
class Upload:
    """A document as received: bytes, media type, file name and submission metadata."""

    body: bytes
    content_type: str
    filename: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    idempotency_key: str | None = None


def unprocessable(message: str, field_name: str, rule: str) -> Problem:
    """A 422 naming one field and rule."""
    return Problem(422, "invalid-request", message, [FieldIssue(message, field_name, rule)])


def too_large(limit: int) -> Problem:
    """A 413 naming the limit."""
    detail = f"the request body exceeds the limit of {limit} bytes"
    return Problem(413, "too-large", detail, [FieldIssue(detail, "body", "max-body-bytes")])


async def read_upload(request: web.Request, limit: int) -> Upload:
    """Read and check the request; raise :class:`Problem` on anything wrong with it."""
    if request.content_length is not None and request.content_length > limit:
        raise too_large(limit)
    if "Content-Type" not in request.headers:
        detail = "say what the document is: a Content-Type header is required"
        issue = FieldIssue(detail, "Content-Type", "required")
        raise Problem(415, "unsupported-media-type", detail, [issue])
    if not _MEDIA_TYPE.fullmatch(request.headers["Content-Type"].partition(";")[0].strip()):
        detail = "the Content-Type header is not a media type (type/subtype)"
        issue = FieldIssue(detail, "Content-Type", "media-type")
        raise Problem(415, "unsupported-media-type", detail, [issue])
    media_type = request.content_type
    if media_type == MULTIPART:
        upload = await _read_multipart(request, limit)
    elif media_type in RAW_TYPES:
        upload = await _read_raw(request, media_type, limit)
    else:
        detail = f"unsupported content type {media_type!r}: send {ACCEPTED}"
        issue = FieldIssue(detail, "Content-Type", "media-type")
        raise Problem(415, "unsupported-media-type", detail, [issue], {"Accept": ACCEPT_HEADER})
    upload.idempotency_key = idempotency_key(request, upload.idempotency_key)
    return checked_upload(upload)


def checked_upload(upload: Upload) -> Upload:
    """The checks every upload passes once read (the console's upload form too): not empty,
    JSON that parses, metadata in form (``recipient`` kept as ``receiver``), a safe name, and
    no hostile or unreadable XML or zip (:func:`gateway.api.door.check_document`)."""
    if not upload.body:
        raise unprocessable("the document is empty", "document", "required")
    if upload.content_type == "application/json":
        _check_json(upload.body)
    upload.metadata = _normalise(upload.metadata)
    if upload.filename is not None:
        upload.filename = _check_filename(upload.filename)
    check_document(upload.body, upload.content_type)
    return upload


async def _read_raw(request: web.Request, media_type: str, limit: int) -> Upload:
    body = await _read_bounded(request, limit)
    metadata: dict[str, str] = {}
    for name in ("profile", "recipient", *MAPPING_FIELDS, *DOCUMENT_FIELDS):
        value = request.query.get(name)
        if value is not None:
            metadata[name] = value
    check_query(request, {"profile", "recipient", "filename", *MAPPING_FIELDS, *DOCUMENT_FIELDS})
    return Upload(body, media_type, request.query.get("filename"), metadata)


def check_query(request: web.Request, known: Iterable[str]) -> None:
    """Refuse a query parameter the operation does not take, or one given more than once
    (which value was meant?): 422 naming it."""
    unknown = set(request.query) - set(known)
    if unknown:
        name = sorted(unknown)[0]
        shown = name if _PARAMETER.fullmatch(name) else "given"
        raise unprocessable(f"unknown query parameter {shown!r}", name, "unknown-parameter")
    for name in request.query:
        if len(request.query.getall(name)) > 1:
            raise unprocessable(f"{name} is given more than once", name, "conflict")


UNPRINTABLE = "(unprintable)"
"""What an unknown member's name that is not a plain parameter name is shown as."""


def check_fields(body: dict[str, Any], known: Iterable[str]) -> None:
    """Refuse a JSON body with a member the operation does not take (a typo such as
    ``actoin`` must not silently fall back to a default): 422 naming every one."""
    known = tuple(known)
    unknown = sorted(set(body) - set(known))
    if unknown:
        shown = [name if _PARAMETER.fullmatch(name) else UNPRINTABLE for name in unknown]
        detail = (
            f"unknown field(s) {', '.join(map(repr, shown))}; known: {', '.join(sorted(known))}"
        )
        issues = [FieldIssue(f"unknown field {name!r}", name, "unknown-field") for name in shown]
        raise Problem(422, "invalid-request", detail, issues)


async def _read_bounded(request: web.Request, limit: int) -> bytes:
    body = await read_bounded(request.content, limit)
    if body is None:
        raise too_large(limit)
    return body


async def _read_multipart(request: web.Request, limit: int) -> Upload:
    try:
        reader = await request.multipart()
    except _MALFORMED as exc:
        raise unprocessable("the multipart body is malformed", "body", "multipart") from exc
    document: Upload | None = None
    metadata: dict[str, str] = {}
    budget = _Budget(limit)
    while True:
        try:
            part = await reader.next()
        except _MALFORMED as exc:
            raise unprocessable("the multipart body is malformed", "body", "multipart") from exc
        if part is None:
            break
        if not isinstance(part, BodyPartReader):
            raise unprocessable("nested multipart is not accepted", "body", "multipart")
        name = part.name or ""
        if name == "document":
            if document is not None:
                raise unprocessable("only one document part is accepted", "document", "single")
            data = await budget.read(part)
            media_type = part.headers.get("Content-Type", "application/octet-stream")
            document = Upload(data, media_type.split(";")[0].strip().lower(), part.filename)
        elif name == "metadata":
            _merge(metadata, _metadata_json(await budget.read(part, MAX_FIELD_BYTES)))
        elif name in METADATA_FIELDS:
            _merge(metadata, {name: _text(await budget.read(part, MAX_FIELD_BYTES), name)})
        else:
            raise unprocessable(f"unknown form field {name!r}", name or "body", "unknown-field")
    if document is None:
        raise unprocessable("a 'document' file part is required", "document", "required")
    if document.content_type not in RAW_TYPES:
        detail = (
            f"unsupported document content type {document.content_type!r}: give the "
            f"'document' part one of {', '.join(sorted(RAW_TYPES))}"
        )
        issue = FieldIssue(detail, "document", "media-type")
        raise Problem(415, "unsupported-media-type", detail, [issue], {"Accept": ACCEPT_HEADER})
    document.idempotency_key = metadata.pop("idempotency_key", None)
    document.metadata = metadata
    return document


class _Budget:
    """Bytes left of the body limit, shared by all parts of one multipart request."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.left = limit

    async def read(self, part: BodyPartReader, cap: int | None = None) -> bytes:
        chunks: list[bytes] = []
        size = 0
        try:
            while chunk := await part.read_chunk(64 * 1024):
                size += len(chunk)
                self.left -= len(chunk)
                if self.left < 0:
                    raise too_large(self.limit)
                if cap is not None and size > cap:
                    raise unprocessable(
                        f"form field exceeds {cap} bytes", part.name or "body", "max-field-bytes"
                    )
                chunks.append(chunk)
        except _MALFORMED as exc:
            raise unprocessable("the multipart body is malformed", "body", "multipart") from exc
        return b"".join(chunks)


def _check_json(body: bytes) -> None:
    """A JSON document must at least be JSON: refuse malformed text at once (422)."""
    try:
        json.loads(body)
    except (ValueError, RecursionError) as exc:
        message = "the document is not valid JSON"
        if body.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
            message += ": it is markup; send XML as application/xml"
        elif body.startswith(b"PK\x03\x04"):
            message += ": it is a zip; send an OFD as application/ofd"
        raise unprocessable(message, "document", "json") from exc


def _text(data: bytes, name: str) -> str:
    try:
        return data.decode("utf-8").strip()
    except UnicodeDecodeError as exc:
        raise unprocessable(f"{name} is not UTF-8 text", name, "utf-8") from exc


def _metadata_json(data: bytes) -> dict[str, str]:
    try:
        value: Any = json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise unprocessable("the metadata part is not valid JSON", "metadata", "json") from exc
    if not isinstance(value, dict):
        raise unprocessable("the metadata part must be a JSON object", "metadata", "json-object")
    out: dict[str, str] = {}
    for key, item in value.items():
        if key not in METADATA_FIELDS:
            raise unprocessable(
                f"unknown metadata field {key!r}", f"metadata.{key}", "unknown-field"
            )
        if not isinstance(item, str):
            raise unprocessable(f"{key} must be a string", f"metadata.{key}", "type")
        out[key] = item
    return out


def _merge(into: dict[str, str], new: dict[str, str]) -> None:
    for key, value in new.items():
        if key in into and into[key] != value:
            raise unprocessable(f"{key} is given twice with different values", key, "conflict")
        into[key] = value


def idempotency_key(request: web.Request, from_body: str | None = None) -> str | None:
    """The request's idempotency key: its one ``Idempotency-Key`` header or the body's
    ``idempotency_key`` (they must agree), 1 to 255 visible ASCII characters; else a 422."""
    if len(request.headers.getall("Idempotency-Key", [])) > 1:
        raise unprocessable(
            "the Idempotency-Key header is given more than once", "Idempotency-Key", "conflict"
        )
    header = request.headers.get("Idempotency-Key")
    if header is not None and from_body is not None and header != from_body:
        raise unprocessable(
            "the Idempotency-Key header and the idempotency_key field differ",
            "idempotency_key",
            "conflict",
        )
    key = header if header is not None else from_body
    if key is not None and not _IDEMPOTENCY_KEY.fullmatch(key):
        raise unprocessable(
            "an idempotency key is 1 to 255 visible ASCII characters",
            "Idempotency-Key",
            "format",
        )
    return key


def _normalise(metadata: dict[str, str]) -> dict[str, str]:
    """Check the metadata and store the recipient under the pipeline's key (``receiver``)."""
    out = dict(metadata)
    recipient = out.pop("recipient", None)
    if recipient is not None:
        out[RECEIVER] = recipient
    _check_metadata(out)
    return out


def _calendar_date(text: str) -> bool:
    """Whether ``YYYY-MM-DD`` names a day that exists (2026-02-30 does not)."""
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _check_metadata(metadata: dict[str, str]) -> None:
    profile = metadata.get("profile")
    if profile is not None and profile not in PROFILE_SPECS:
        shown = repr(profile) if _PROFILE.fullmatch(profile) else "given"
        raise unprocessable(
            f"profile {shown} is not one of {', '.join(PROFILE_SPECS)}", "profile", "enum"
        )
    for name, form in {**MAPPING_FIELDS, **DOCUMENT_FIELDS}.items():
        value = metadata.get(name)
        if value is not None and (len(value) > MAX_MAPPING_FIELD or not form.fullmatch(value)):
            raise unprocessable(f"{name} must be {FORMS[name]}", name, "format")
    dated = metadata.get("preceding_invoice_date")
    if dated is not None and not _calendar_date(dated):
        raise unprocessable(
            f"preceding_invoice_date {dated!r} is no calendar date",
            "preceding_invoice_date",
            "format",
        )
    if "targets" in metadata and metadata.get("kind") != "ebl":
        raise unprocessable("targets applies to an eBL (kind=ebl) only", "targets", "kind")
    if "resend" in metadata and metadata.get("kind", "invoice") != "invoice":
        raise unprocessable("resend applies to a fapiao (kind=invoice) only", "resend", "kind")
    named = metadata["targets"].split(",") if "targets" in metadata else []
    unknown = [name for name in named if name not in EBL_TARGETS]
    if unknown:
        raise unprocessable(
            f"targets: {unknown[0]!r} is not one of {', '.join(EBL_TARGETS)}", "targets", "enum"
        )
    recipient = metadata.get(RECEIVER)
    if recipient is not None:
        scheme, sep, value = recipient.partition(":")
        if not sep or not _SCHEME.fullmatch(scheme) or not _ENDPOINT_VALUE.fullmatch(value):
            raise unprocessable(
                "recipient must be an endpoint 'scheme:value' (e.g. 0195:SGUEN201234567A)",
                "recipient",
                "endpoint",
            )


def _check_filename(name: str) -> str:
    if len(name) > MAX_FILENAME:
        raise unprocessable(
            f"the file name is longer than {MAX_FILENAME} characters ({len(name)})",
            "filename",
            "format",
        )
    found = _FILENAME_BAD.search(name)
    if found is not None:
        raise unprocessable(
            f"the file name holds U+{ord(found.group()):04X}: no control character, "
            "direction override, slash or backslash",
            "filename",
            "format",
        )
    return name
