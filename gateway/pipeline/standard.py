"""The standard stage table for invoices:

    ingest → detect → parse → map → render → validate → sign → envelope

Each stage is a small class calling the module that owns the format knowledge
(``gateway.ingest``, ``gateway.mapping``, ``gateway.render``, ``gateway.validation``,
``gateway.signing``); the orchestrator only runs the table.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from gateway.errors import InputError, MissingFactError, ValidationFailed
from gateway.pipeline.stages import Stage, StageContext, Toolbox

XML = "application/xml"


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
class DetectStage:
    """Recognises the source format (or takes the one the client named)."""

    name: str = "detect"

    def run(self, context: StageContext) -> dict[str, Any]:
        from gateway.ingest import detect

        named = str(context.metadata.get("format") or "auto")
        context.source_format = detect(context.submission.data) if named == "auto" else named
        context.facts["source_format"] = context.source_format
        return {"format": context.source_format, "named": named != "auto"}


@dataclass(slots=True)
class ParseStage:
    """Parses the source into the canonical model (``gateway.ingest``)."""

    name: str = "parse"

    def run(self, context: StageContext) -> dict[str, Any]:
        from gateway.ingest import parse

        parsed = parse(
            context.submission.data,
            format=context.source_format or "auto",
            filename=context.submission.filename,
        )
        context.parsed = parsed
        context.facts["number"] = str(parsed.invoice.number)
        return {"number": str(parsed.invoice.number), "warnings": [w.code for w in parsed.warnings]}


@dataclass(slots=True)
class MapStage:
    """Completes the invoice for its destination from the partner directory (``gateway.mapping``).

    Profile: the submission's ``profile`` metadata, else the partner's preferred one, else
    the configured default.
    """

    name: str = "map"

    def run(self, context: StageContext) -> dict[str, Any]:
        from gateway.mapping import map_with_warnings, profile_spec
        from gateway.mapping.parties import printed_buyer_id, printed_seller_id

        directory = context.directory
        if directory is None:
            raise MissingFactError(
                "no partner directory: upload one (PUT /v1/partners) or set [pipeline].partners",
                field="partners",
            )
        source = context.parsed.invoice
        buyer_id = printed_buyer_id(source.buyer)
        partner = directory.find_partner(source.buyer.name, buyer_id)
        profile = str(
            context.metadata.get("profile") or partner.profile or context.toolbox.default_profile
        )
        profile_spec(profile)
        exporter = directory.find_exporter(printed_seller_id(source.seller))
        mapped = map_with_warnings(context.parsed, partner, exporter, profile)
        context.document = mapped.invoice
        context.profile = profile
        if partner.endpoint is not None:
            context.facts["receiver"] = str(partner.endpoint)
        if buyer_id:
            context.facts["buyer_id"] = buyer_id
        context.facts["profile"] = profile
        return {
            "profile": profile,
            "receiver": context.facts.get("receiver", ""),
            "warnings": len(mapped.warnings),
        }


@dataclass(slots=True)
class RenderStage:
    """Writes the target syntax (UBL or CII) for the chosen profile (``gateway.render``).

    The rendered document is kept as an output only when validation rejects it; otherwise
    the signed output (the same document plus its signature) is what is kept and sent."""

    name: str = "render"

    def run(self, context: StageContext) -> dict[str, Any]:
        from gateway.render import render

        context.rendered = render(context.document, context.profile)
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
        if report.fatal:
            context.keep("rendered", XML, context.rendered)
            rules = [f.rule_id for f in report.fatals()]
            raise ValidationFailed(
                f"{len(rules)} fatal finding(s): {', '.join(rules[:5])}", report=report
            )
        return {"fatal": 0, "warnings": len(report.warnings())}


DETACHED_SIGNATURE_PROFILES = frozenset({"bis3", "pint", "pint-sg", "cii"})
"""Profiles whose documents travel unsigned, with a detached XAdES signature kept beside them.

Peppol BIS 3 (PEPPOL-EN16931-R008) and PINT (ibr-079) forbid empty elements anywhere in the
document, and an XML signature is made of them (``ds:DigestMethod``, ``ds:Transform`` …): an
enveloped signature would make a valid invoice invalid at the receiver. Peppol signs the
transport (AS4) instead. CII has no place for a signature in its schema. For these profiles the
document is delivered exactly as validated, and a detached XAdES B-B signature over its bytes is
kept as the output ``signature`` (the HTTPS route also sends a detached signature header)."""

DETACHED_SIGNATURE_NAME = "document.xml"
"""The reference URI a detached signature names: the document it signs, as delivered."""


@dataclass(slots=True)
class SignStage:
    """XAdES-signs the rendered document (``gateway.signing``); passes it on unsigned when no
    key is configured. Invoice profiles get a detached signature (see
    :data:`DETACHED_SIGNATURE_PROFILES`); other XML an enveloped one."""

    name: str = "sign"

    def run(self, context: StageContext) -> dict[str, Any]:
        assert context.rendered is not None
        signer = context.toolbox.signer
        if signer is None:
            context.signed = context.rendered
            return {"signed": False}
        if context.profile in DETACHED_SIGNATURE_PROFILES:
            signature = signer.sign_detached(
                context.rendered, name=DETACHED_SIGNATURE_NAME, mime_type=XML
            )
            context.keep("signature", XML, bytes(signature))
            context.signed = context.rendered
            return {"signed": "detached", "bytes": len(signature)}
        context.signed = bytes(signer.sign(context.rendered))
        return {"signed": "enveloped", "bytes": len(context.signed)}


@dataclass(slots=True)
class EnvelopeStage:
    """For now the envelope is the outgoing document itself plus transport headers; it is kept
    as the output ``signed`` (the document as delivered, signed enveloped or detached)."""

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
        DetectStage(),
        ParseStage(),
        MapStage(),
        RenderStage(),
        ValidateStage(),
        SignStage(),
        EnvelopeStage(),
    ]
