"""The project's own 数电票 XML schema, used to explain a fapiao XML to a person.

``schemas/fapiao-einvoice.xsd`` is compiled once per process (lxml). Its findings name the
element (as a path from the root) and what was expected there. On a file the parser can read
they become warnings (code ``xsd``); when parsing fails they are added to the error message.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from functools import cache
from typing import Any, cast

from lxml import etree

from gateway.errors import ArtefactError
from gateway.ingest.types import ParseWarning
from gateway.resources import schema_file

SCHEMA_NAME = "fapiao-einvoice.xsd"
MAX_FINDINGS = 25
_lock = threading.Lock()
_INDEX = re.compile(r"\[1\]")


XS = "{http://www.w3.org/2001/XMLSchema}"
_TYPE_IN_MESSAGE = re.compile(r"type '(?:xs:)?(\w+)'")
_ELEMENT_IN_MESSAGE = re.compile(r"^Element '([\w\-]+)'")


@cache
def _schema_document() -> etree._ElementTree:
    try:
        return etree.parse(str(schema_file(SCHEMA_NAME)))
    except (OSError, etree.XMLSyntaxError) as exc:
        raise ArtefactError(f"project schema {SCHEMA_NAME} cannot be read: {exc}") from exc


@cache
def einvoice_schema() -> etree.XMLSchema:
    """The compiled schema (cached)."""
    try:
        return etree.XMLSchema(_schema_document())
    except etree.XMLSchemaParseError as exc:
        raise ArtefactError(f"project schema {SCHEMA_NAME} cannot be compiled: {exc}") from exc


@cache
def _expectations() -> tuple[dict[str, str], dict[str, str]]:
    """(simple type → its documentation, element name → its type's documentation)."""
    root = _schema_document().getroot()
    types = {
        str(t.get("name")): " ".join(t.findtext(f"{XS}annotation/{XS}documentation", "").split())
        for t in root.iter(f"{XS}simpleType")
        if t.get("name")
    }
    elements: dict[str, str] = {}
    for element in root.iter(f"{XS}element"):
        name, type_name = element.get("name"), element.get("type")
        if name and type_name in types and types[type_name]:
            elements.setdefault(name, types[type_name])
    return types, elements


def _expected(message: str) -> str:
    """What the schema expected, in words, for a value finding (empty when not a value one)."""
    types, elements = _expectations()
    found = _TYPE_IN_MESSAGE.search(message)
    if found and types.get(found.group(1)):
        return f" Expected {types[found.group(1)]}."
    element = _ELEMENT_IN_MESSAGE.match(message)
    if element and "facet" in message and elements.get(element.group(1)):
        return f" Expected {elements[element.group(1)]}."
    return ""


def _field(path: str | None) -> str | None:
    """``/EInvoice/EInvoiceData/BasicInformation/TotalTaxAm`` → ``EInvoiceData/BasicInformation/TotalTaxAm``."""
    if not path:
        return None
    parts = path.strip("/").split("/")
    if parts and parts[0].startswith("EInvoice") and not parts[0].startswith("EInvoiceData"):
        parts = parts[1:]
    return _INDEX.sub("", "/".join(parts)) or "EInvoice"


def schema_findings(root: etree._Element) -> list[ParseWarning]:
    """Every schema violation of a parsed ``EInvoice`` tree (at most :data:`MAX_FINDINGS`)."""
    schema = einvoice_schema()
    with _lock:  # an lxml XMLSchema object is not safe to share between threads
        ok = schema.validate(root)
        entries = [] if ok else list(cast(Iterable[Any], schema.error_log))
    findings = []
    for entry in entries[:MAX_FINDINGS]:
        message = entry.message.replace("{http://www.w3.org/2001/XMLSchema}", "xs:")
        message += _expected(message)
        findings.append(ParseWarning("xsd", f"line {entry.line}: {message}", _field(entry.path)))
    if len(entries) > MAX_FINDINGS:
        findings.append(ParseWarning("xsd", f"{len(entries) - MAX_FINDINGS} more schema findings"))
    return findings


def explain(findings: list[ParseWarning], field: str | None) -> str:
    """A sentence from the schema findings that best explains a failure at ``field``."""
    if not findings:
        return ""
    related = [f for f in findings if field and f.field and (f.field in field or field in f.field)]
    chosen = (related or findings)[0]
    return f"; schema {SCHEMA_NAME} says: {chosen.message}"
