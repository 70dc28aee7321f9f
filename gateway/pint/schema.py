"""The official PINT envelope schema (DCSA, JSON Schema 2020-12), compiled once per file.

The schema file is the derived ``EBL_PINT_v3.0.0.EblEnvelope.schema.json`` of the DCSA
reference set (root ``EblEnvelope``; ``$defs`` hold ``TransportDocument``,
``EnvelopeManifest``, ``EnvelopeTransferChainEntry``, ``IssuanceManifest`` ...). The envelope
is validated against the root, each JWS payload against its own definition. Every error
names the JSON path and the schema rule.

Compiled the one way the gateway compiles JSON Schemas
(:func:`gateway.validation.json_schema.compile_document`): ``jsonschema_rs`` answers "valid?"
quickly; whenever it says no, the reference implementation ``jsonschema`` decides and names
the error (a difference between the engines can only cost time, never change an outcome).
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import jsonschema

from gateway.errors import ConfigError
from gateway.pint.codes import PintRejection, ResponseCode
from gateway.validation import rfc3339
from gateway.validation.json_schema import compile_document

PAYLOADS = (
    "TransportDocument",
    "EnvelopeManifest",
    "EnvelopeTransferChainEntry",
    "IssuanceManifest",
    "EnvelopeTransferFinishedResponse",
)


class EnvelopeSchema:
    """Validators for the envelope and each signed payload of one schema file (compiled by
    :func:`gateway.validation.json_schema.compile_document`). Of the ``format`` keywords,
    RFC 3339 ``date-time`` (``actionDateTime``, ``fumigationDateTime`` …) and ``date`` are
    checked (:mod:`gateway.validation.rfc3339`); the others (``uri``, and DCSA's ``int32``,
    ``float``) are not."""

    def __init__(self, schema: dict[str, Any]) -> None:
        parts = {"EblEnvelope": schema} | {
            name: {
                "$schema": schema.get("$schema"),
                "$ref": f"#/$defs/{name}",
                "$defs": schema["$defs"],
            }
            for name in PAYLOADS
        }
        self._compiled = {
            name: compile_document(part, checkers=rfc3339.FORMATS) for name, part in parts.items()
        }

    def check_envelope(self, envelope: Any) -> None:
        """Refuse (``BENV``) an envelope the schema does not allow."""
        self._check("EblEnvelope", envelope)

    def check_payload(self, name: str, payload: Any, *, where: str = "") -> None:
        """Refuse (``BENV``) a JWS payload its definition (``EnvelopeManifest`` ...) does not
        allow; ``where`` (e.g. ``envelopeTransferChain[1]``) prefixes the field named."""
        self._check(name, payload, where)

    def _check(self, what: str, instance: Any, where: str = "") -> None:
        error = self._compiled[what].first_error(instance)
        if error is not None:
            path = error.json_path
            field = f"{where}{path.removeprefix('$')}" if where else path
            raise PintRejection(
                f"{what} {field}: {error.message[:300]} (schema rule {error.validator})",
                response=ResponseCode.BENV,
                field=field,
            )


@functools.cache
def load_schema(path: Path) -> EnvelopeSchema:
    """The compiled schema of ``path`` (once per process)."""
    try:
        return EnvelopeSchema(json.loads(path.read_text("utf-8")))
    except (OSError, ValueError, KeyError, jsonschema.SchemaError) as exc:
        raise ConfigError(
            f"cannot load the PINT envelope schema {path}: {exc}", field="envelope_schema"
        ) from exc
