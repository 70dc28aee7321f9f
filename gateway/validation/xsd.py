"""XML Schema validation with lxml; each schema is compiled once per process."""

from __future__ import annotations

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


def validate_xsd(schema: etree.XMLSchema, root: etree._Element) -> list[Finding]:
    """Schema errors of ``root`` as fatal findings (``rule_id`` ``XSD``)."""
    with _LOCK:
        if schema.validate(root):
            return []
        errors: list[Any] = list(schema.error_log)  # type: ignore[call-overload]
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
