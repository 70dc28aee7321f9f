"""DCSA eBL 3.0.3 / PINT 3.0.0 documents against DCSA's JSON Schemas (public, reusable).

::

    from gateway.validation.dcsa_schema import DcsaKind, validate_dcsa

    findings = validate_dcsa(document, DcsaKind.TRANSPORT_DOCUMENT, home)
    # [] when valid; else Finding(rule_id="json-schema.enum", location="/transportDocumentTypeCode", …)

Each schema is compiled once per process (see :mod:`gateway.validation.json_schema`). The
schemas come from the artefact set ``dcsa-ebl/3.0.3`` (``lingang artefacts import``). DCSA
schemas allow unknown members (no ``additionalProperties: false``); so does this check.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Any

from gateway.validation.json_schema import SchemaRef, check
from gateway.validation.report import Finding

DCSA_SET = "dcsa-ebl"
DCSA_VERSION = "3.0.3"


class DcsaKind(StrEnum):
    """The DCSA root documents the gateway validates, by schema root name."""

    TRANSPORT_DOCUMENT = "TransportDocument"
    CREATE_SHIPPING_INSTRUCTIONS = "CreateShippingInstructions"
    ISSUANCE_REQUEST = "IssuanceRequest"
    SURRENDER_REQUEST = "SurrenderRequest"
    PINT_ENVELOPE = "EblEnvelope"


_FILES = {
    DcsaKind.TRANSPORT_DOCUMENT: "jsonschema/EBL_v3.0.3.TransportDocument.schema.json",
    DcsaKind.CREATE_SHIPPING_INSTRUCTIONS: (
        "jsonschema/EBL_v3.0.3.CreateShippingInstructions.schema.json"
    ),
    DcsaKind.ISSUANCE_REQUEST: "jsonschema/EBL_ISS_v3.0.3.IssuanceRequest.schema.json",
    DcsaKind.SURRENDER_REQUEST: "jsonschema/EBL_SUR_v3.0.3.SurrenderRequest.schema.json",
    DcsaKind.PINT_ENVELOPE: "jsonschema/EBL_PINT_v3.0.0.EblEnvelope.schema.json",
}


def schema_ref(kind: DcsaKind) -> SchemaRef:
    """Where the schema of ``kind`` is installed."""
    return SchemaRef(DCSA_SET, DCSA_VERSION, _FILES[kind])


def validate_dcsa(document: Any, kind: DcsaKind, home: Path) -> list[Finding]:
    """Schema findings of ``document`` (parsed JSON) as a DCSA ``kind``; empty when valid."""
    return check(document, schema_ref(kind), home)
