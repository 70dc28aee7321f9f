"""XML Schema validation with lxml; each schema is compiled once per process."""

from __future__ import annotations

import copy
import re
import threading
from pathlib import Path
from typing import Any

from lxml import etree

from gateway.errors import ArtefactError
from gateway.validation.report import Finding

_LOCK = threading.Lock()
_schemas: dict[Path, etree.XMLSchema] = {}


def compile_schema(path: Path) -> etree.XMLSchema:
    """The compiled schema at ``path`` (cached per process)."""
    with _LOCK:
        schema = _schemas.get(path)
        if schema is None:
            try:
                schema = etree.XMLSchema(etree.parse(str(path)))
            except (etree.XMLSchemaParseError, etree.XMLSyntaxError, OSError) as exc:
                raise ArtefactError(f"cannot compile official schema {path}: {exc}") from exc
            _schemas[path] = schema
        return schema


_DATE_TYPE_ERROR = re.compile(
    r"is not a valid value of the atomic type 'xs:(date|time|dateTime|gYear|gYearMonth|"
    r"gMonth|gMonthDay|gDay|duration)'"
)
_DATE_LEXICAL = re.compile(r"-?[0-9T:.Z+\-P]+")


def validate_xsd(schema: etree.XMLSchema, root: etree._Element) -> list[Finding]:
    """Schema errors of ``root`` as fatal findings (``rule_id`` ``XSD``).

    XML Schema collapses whitespace around date and time values (their ``whiteSpace`` facet
    is ``collapse``), but libxml2 does not, so ``<cbc:IssueDate> 2025-03-11 </cbc:IssueDate>``
    would fail (an official MLS example has exactly that). When such an error appears, the
    document is checked once more with the padding of date-like values removed, and that
    second run's errors are the answer.
    """
    with _LOCK:
        if schema.validate(root):
            return []
        errors: list[Any] = list(schema.error_log)  # type: ignore[call-overload]
        if any(_DATE_TYPE_ERROR.search(error.message) for error in errors):
            collapsed = _collapse_date_padding(root)
            schema.validate(collapsed)
            errors = list(schema.error_log)  # type: ignore[call-overload]
    return [
        Finding(
            rule_id="XSD",
            flag="fatal",
            location=f"line {error.line}" + (f" {error.path}" if error.path else ""),
            text=error.message,
            source="xsd",
        )
        for error in errors
    ]


def _collapse_date_padding(root: etree._Element) -> etree._Element:
    """A copy of ``root`` whose leaf values that look like dates or times lose their
    surrounding whitespace (what the schema's ``collapse`` facet does)."""
    twin = copy.deepcopy(root)
    for element in twin.iter():
        text = element.text
        if (
            isinstance(element.tag, str)
            and text is not None
            and len(element) == 0
            and text != text.strip()
            and _DATE_LEXICAL.fullmatch(text.strip())
        ):
            element.text = text.strip()
    return twin
