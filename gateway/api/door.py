"""The hostile-input checks a document passes at the door, before anything is stored.

The worker's ingest would refuse these documents anyway, but only after a 202: a DTD, an
entity (XXE, billion laughs), XML that is not well-formed or nests too deep, a zip that is
corrupt, holds too many entries or none at all, declares sizes or compression ratios beyond
the limits or names paths outside itself. Here they are refused at once with the rule the worker would have
given, under the worker's own limits (:data:`gateway.ingest.types.DEFAULT_LIMITS`).

The cost stays low: one bounded parse of an XML body (the tree is dropped at once) and, for a
zip, only its central directory — nothing is decompressed. Everything about the content (a
root that is no fapiao, a mapping error) is still found by the worker, asynchronously.
"""

from __future__ import annotations

from lxml import etree

from gateway.api.problems import FieldIssue, Problem
from gateway.errors import InputError
from gateway.ingest.bundle import ZIP_MAGIC, no_invoice, visible_names
from gateway.ingest.safezip import SafeZip
from gateway.ingest.textenc import head_text, readable_xml
from gateway.ingest.types import DEFAULT_LIMITS, IngestLimits
from gateway.xmlsafe import parse_xml

ZIP_TYPES = frozenset({"application/ofd", "application/zip"})
SIZE_RULES = frozenset({"input.max-bytes", "xml.max-bytes"})
"""Rules about the size of the body itself: answered 413, every other refusal 422."""


def check_document(body: bytes, content_type: str, limits: IngestLimits = DEFAULT_LIMITS) -> None:
    """Refuse a hostile or unreadable XML or zip body with a problem naming the rule.

    What the body is, the bytes say first, as the worker decides (a zip's signature, markup
    after a BOM or white space), so fapiao XML sent as ``application/ofd`` is checked as the
    XML it is and JSON sent as ``application/xml`` is left to the worker, which reads it as
    the JSON it is; the declared type decides only a body that is neither markup nor a zip
    signature (declared ``application/ofd`` or ``application/zip``: a corrupt OFD)."""
    looks_xml = head_text(body).startswith("<")
    is_zip = body.startswith(ZIP_MAGIC) or (content_type in ZIP_TYPES and not looks_xml)
    is_xml = not is_zip and looks_xml
    if not (is_zip or is_xml):
        return
    try:
        if len(body) > limits.max_input_bytes:
            raise InputError(
                f"the document is {len(body)} bytes, more than the limit of "
                f"{limits.max_input_bytes}",
                rule="input.max-bytes",
            )
        if is_zip:
            _check_zip(body, limits)
        else:
            _check_xml(body, limits)
    except InputError as exc:
        raise _refusal(exc) from exc


def _check_xml(body: bytes, limits: IngestLimits) -> None:
    """One bounded parse under the ingest's XML limits; the tree is not kept."""
    readable, _ = readable_xml(body, "the XML document", limits.xml.max_bytes)
    parse_xml(readable, limits=limits.xml, what="the XML document")


def _check_zip(body: bytes, limits: IngestLimits) -> None:
    """The zip's directory under the ingest's limits; a zip with no file in it is refused
    with the rule the worker's bundle reader gives (nothing in it can be an invoice)."""
    names = visible_names(SafeZip(body, limits, "the OFD/zip document"))
    if not names:
        raise no_invoice(names)


def _refusal(exc: InputError) -> Problem:
    rule = exc.rule or "document"
    status = 413 if rule in SIZE_RULES else 422
    code = "too-large" if status == 413 else "invalid-request"
    extra: dict[str, object] = {}
    cause = exc.__cause__
    if isinstance(cause, etree.XMLSyntaxError) and cause.lineno:
        extra["line"] = cause.lineno
    return Problem(
        status, code, exc.message, [FieldIssue(exc.message, "document", rule)], extra=extra
    )
