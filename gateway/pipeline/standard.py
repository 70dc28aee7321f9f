"""The standard stage table for invoices: ingest → parse → map → render → validate → sign → envelope.

Each stage is a small class calling the module that owns the format knowledge (``ingest``,
``mapping``, ``validation``, ``signing``); the orchestrator only runs the table.
"""

from __future__ import annotations

import hashlib
import importlib
import json
from dataclasses import dataclass
from typing import Any

from gateway.errors import InputError, ValidationFailed
from gateway.pipeline.stages import Stage, StageContext, Toolbox

XML = "application/xml"


def _module(name: str) -> Any:
    """Import a sibling subsystem lazily (keeps process start-up light and seams loose)."""
    return importlib.import_module(name)


@dataclass(slots=True)
class IngestStage:
    """Checks the submission is something at all and fingerprints it."""

    max_bytes: int = 16 * 1024 * 1024
    name: str = "ingest"

    def run(self, context: StageContext) -> dict[str, Any]:
        data = context.submission.data
        if not data:
            raise InputError("the submission is empty", field="body", rule="ingest.empty")
        if len(data) > self.max_bytes:
            raise InputError(
                f"the submission is {len(data)} bytes; the limit is {self.max_bytes}",
                field="body",
                rule="ingest.max-bytes",
            )
        digest = hashlib.sha256(data).hexdigest()
        context.facts["sha256"] = digest
        return {"bytes": len(data), "sha256": digest}


@dataclass(slots=True)
class ParseStage:
    """Detects the source format and parses it into the canonical model (``gateway.ingest``)."""

    name: str = "parse"

    def run(self, context: StageContext) -> dict[str, Any]:
        fmt = str(context.metadata.get("format", "auto"))
        parsed = _module("gateway.ingest").parse(context.submission.data, format=fmt)
        context.parsed = parsed
        context.source_format = str(parsed.source_format)
        invoice = parsed.invoice
        context.facts.update(source_format=context.source_format, number=str(invoice.number))
        return {
            "format": context.source_format,
            "number": str(invoice.number),
            "warnings": [w.code for w in parsed.warnings],
        }


@dataclass(slots=True)
class MapStage:
    """Completes the invoice for its destination from the partner directory and metadata."""

    name: str = "map"

    def run(self, context: StageContext) -> dict[str, Any]:
        mapping = _module("gateway.mapping")
        result = mapping.map_invoice(
            context.parsed,
            directory=context.toolbox.partners,
            profile=context.metadata.get("profile"),
            metadata=context.metadata,
            default_profile=context.toolbox.default_profile,
        )
        context.document = result.invoice
        context.profile = str(result.profile)
        receiver = getattr(result, "receiver", None)
        if receiver:
            context.facts["receiver"] = str(receiver)
        context.facts["profile"] = context.profile
        return {"profile": context.profile, "receiver": context.facts.get("receiver", "")}


@dataclass(slots=True)
class RenderStage:
    """Writes the target syntax (UBL or CII) for the chosen profile (``gateway.render``)."""

    name: str = "render"

    def run(self, context: StageContext) -> dict[str, Any]:
        rendered = _module("gateway.render").render(context.document, context.profile)
        context.rendered = bytes(rendered)
        context.keep("rendered", XML, context.rendered)
        return {"bytes": len(context.rendered)}


@dataclass(slots=True)
class ValidateStage:
    """Runs the official artefacts; a fatal finding stops the document (report kept)."""

    name: str = "validate"

    def run(self, context: StageContext) -> dict[str, Any]:
        validator = context.toolbox.validator
        if validator is None:
            return {"skipped": True}
        assert context.rendered is not None
        report = validator.validate(context.rendered, context.profile)
        context.report = report
        body = json.dumps(report.to_json(), ensure_ascii=False, sort_keys=True).encode()
        context.keep("report", "application/json", body)
        fatals = [f.rule for f in report.fatals()]
        if report.fatal:
            raise ValidationFailed(
                f"{len(fatals)} fatal finding(s): {', '.join(fatals[:5])}", report=report
            )
        return {"fatal": 0, "warnings": len(report.warnings())}


@dataclass(slots=True)
class SignStage:
    """XAdES-signs the rendered document (``gateway.signing``); passes it on unsigned if no
    key is configured."""

    name: str = "sign"

    def run(self, context: StageContext) -> dict[str, Any]:
        assert context.rendered is not None
        signer = context.toolbox.signer
        if signer is None:
            context.signed = context.rendered
            return {"signed": False}
        context.signed = bytes(signer.sign(context.rendered))
        return {"signed": True, "bytes": len(context.signed)}


@dataclass(slots=True)
class EnvelopeStage:
    """For now the envelope is the signed document itself plus transport headers."""

    name: str = "envelope"

    def run(self, context: StageContext) -> dict[str, Any]:
        assert context.signed is not None
        context.headers["X-Lingang-Profile"] = context.profile
        context.keep("signed", XML, context.signed)
        return {"bytes": len(context.signed)}


def standard_stages(toolbox: Toolbox) -> list[Stage]:
    """The default invoice stage table, in order."""
    max_bytes = int(toolbox.options.get("max_body_bytes", 16 * 1024 * 1024))
    return [
        IngestStage(max_bytes=max_bytes),
        ParseStage(),
        MapStage(),
        RenderStage(),
        ValidateStage(),
        SignStage(),
        EnvelopeStage(),
    ]
