"""The inbound flow: a document a counterpart sent us, checked before it is handed on.

::

    ingest → identify → validate → keep

The mirror of the outbound flows. The transport layer (an adapter's receiving side) has
already authenticated the sender and stored the message durably; this flow fingerprints the
document, identifies its kind and profile from its own content, runs the official rules, and
keeps it (output ``received``) with its report for the local system to collect.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from gateway.errors import InputError, ValidationFailed
from gateway.flows.stage import Flow, FlowState, require
from gateway.flows.tools import Tools

RECEIVED = "received"
"""The output kind of an inbound document as it arrived."""


@dataclass(slots=True)
class DocumentIn(FlowState):
    """An inbound document as it moves through the stages."""

    sha256: str | None = None
    profile: str | None = None
    document_kind: str | None = None


@dataclass(frozen=True, slots=True)
class InboundIngestStage:
    """Checks the document is within the size limit and fingerprints it."""

    name: str = "ingest"
    reads: tuple[str, ...] = ("source",)
    adds: tuple[str, ...] = ("sha256",)

    def run(self, state: DocumentIn, tools: Tools) -> dict[str, Any]:
        data = state.source.data
        if not data:
            raise InputError("the message carries no document", field="body", rule="ingest.empty")
        if len(data) > tools.max_body_bytes:
            raise InputError(
                f"the document is {len(data)} bytes; the limit is {tools.max_body_bytes}",
                field="body",
                rule="ingest.max-bytes",
            )
        state.sha256 = hashlib.sha256(data).hexdigest()
        state.facts["sha256"] = state.sha256
        return {"bytes": len(data), "sha256": state.sha256}


@dataclass(frozen=True, slots=True)
class IdentifyStage:
    """Reads the document's kind and profile from its own root and CustomizationID."""

    name: str = "identify"
    reads: tuple[str, ...] = ("sha256",)
    adds: tuple[str, ...] = ("profile", "document_kind")

    def run(self, state: DocumentIn, tools: Tools) -> dict[str, Any]:
        from gateway.validation import detect_profile, document_type
        from gateway.xmlsafe import parse_xml

        root = parse_xml(state.source.data, what="inbound document")
        state.document_kind = document_type(root).name
        state.profile = detect_profile(root)
        state.facts.update(profile=state.profile, document_kind=state.document_kind)
        return {"profile": state.profile, "document_kind": state.document_kind}


@dataclass(frozen=True, slots=True)
class InboundValidateStage:
    """Runs the official rules of the document's own profile; a fatal finding rejects it
    (the report is kept so the sender can be told which rule)."""

    name: str = "validate"
    reads: tuple[str, ...] = ("profile",)
    adds: tuple[str, ...] = ()

    def run(self, state: DocumentIn, tools: Tools) -> dict[str, Any]:
        if tools.validator is None:
            state.facts["validated"] = False
            return {"skipped": True}
        report = tools.validator.validate(state.source.data, require(state.profile, "profile"))
        body = json.dumps(report.to_json(), ensure_ascii=False, sort_keys=True).encode()
        state.keep("report", "application/json", body)
        if report.fatal:
            rules = [f.rule_id for f in report.fatals()]
            raise ValidationFailed(
                f"{len(rules)} fatal finding(s): {', '.join(rules[:5])}", report=report
            )
        return {"fatal": 0, "warnings": len(report.warnings())}


@dataclass(frozen=True, slots=True)
class KeepStage:
    """Keeps the document exactly as received (output ``received``)."""

    name: str = "keep"
    reads: tuple[str, ...] = ("document_kind",)
    adds: tuple[str, ...] = ()

    def run(self, state: DocumentIn, tools: Tools) -> dict[str, Any]:
        state.keep(RECEIVED, state.source.content_type or "application/xml", state.source.data)
        return {"bytes": len(state.source.data)}


DOCUMENT_IN: Flow[DocumentIn] = Flow(
    name="document-in",
    direction="in",
    state_type=DocumentIn,
    stages=(InboundIngestStage(), IdentifyStage(), InboundValidateStage(), KeepStage()),
)
"""A UBL or CII business document received from a counterpart."""
