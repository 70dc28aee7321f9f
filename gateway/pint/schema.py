"""The official PINT envelope schema (DCSA, JSON Schema 2020-12), compiled once per file.

The schema file is the derived ``EBL_PINT_v3.0.0.EblEnvelope.schema.json`` of the DCSA
reference set (root ``EblEnvelope``; ``$defs`` hold ``TransportDocument``,
``EnvelopeManifest``, ``EnvelopeTransferChainEntry``, ``IssuanceManifest`` ...). The envelope
is validated against the root, each JWS payload against its own definition. Every error
names the JSON path and the schema rule.

Two engines, one verdict: ``jsonschema_rs`` (compiled) answers "valid?" quickly; whenever it
says no, the reference implementation ``jsonschema`` decides and names the error (so a
difference between the engines can only ever cost time, never change an outcome).
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import jsonschema
import jsonschema_rs
from jsonschema.exceptions import best_match

from gateway.errors import ConfigError
from gateway.pint.codes import PintRejection, ResponseCode

PAYLOADS = (
    "TransportDocument",
    "EnvelopeManifest",
    "EnvelopeTransferChainEntry",
    "IssuanceManifest",
    "EnvelopeTransferFinishedResponse",
)


class EnvelopeSchema:
    """Validators for the envelope and each signed payload of one schema file."""

    def __init__(self, schema: dict[str, Any]) -> None:
        cls = jsonschema.validators.validator_for(schema)
        cls.check_schema(schema)
        parts = {"EblEnvelope": schema} | {
            name: {
                "$schema": schema.get("$schema"),
                "$ref": f"#/$defs/{name}",
                "$defs": schema["$defs"],
            }
            for name in PAYLOADS
        }
        self._reference = {name: cls(part) for name, part in parts.items()}
        self._fast = {name: jsonschema_rs.validator_for(part) for name, part in parts.items()}

    def check_envelope(self, envelope: Any) -> None:
        """Refuse (``BENV``) an envelope the schema does not allow."""
        self._check("EblEnvelope", envelope)

    def check_payload(self, name: str, payload: Any) -> None:
        """Refuse (``BENV``) a JWS payload its definition (``EnvelopeManifest`` ...) does not allow."""
        self._check(name, payload)

    def _check(self, what: str, instance: Any) -> None:
        try:
            if self._fast[what].is_valid(instance):
                return
        except (ValueError, OverflowError):
            pass
        error = best_match(self._reference[what].iter_errors(instance))
        if error is not None:
            path = error.json_path
            raise PintRejection(
                f"{what} {path}: {error.message[:300]} (schema rule {error.validator})",
                response=ResponseCode.BENV,
                field=path,
            )


@functools.cache
def load_schema(path: Path) -> EnvelopeSchema:
    """The compiled schema of ``path`` (once per process)."""
    try:
        return EnvelopeSchema(json.loads(path.read_text("utf-8")))
    except (
        OSError,
        ValueError,
        KeyError,
        jsonschema.SchemaError,
        jsonschema_rs.ValidationError,
    ) as exc:
        raise ConfigError(
            f"cannot load the PINT envelope schema {path}: {exc}", field="envelope_schema"
        ) from exc
