"""The inbound flow: a document a counterpart sent us, checked before it is handed on.

::

    ingest → identify → validate → keep

The mirror of the outbound flows. The transport layer (an adapter's receiving side) has
already authenticated the sender and stored the message durably; this flow fingerprints the
document, identifies its kind and profile from its own content, runs the official rules, and
keeps it (output ``received``) with its report for the local system to collect.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gateway.flows.common import Fingerprinted, IngestStage, keep_report, skip_validation
from gateway.flows.stage import Flow, require
from gateway.flows.tools import Tools

RECEIVED = "received"
"""The output kind of an inbound document as it arrived."""


@dataclass(slots=True)
class DocumentIn(Fingerprinted):
    """An inbound document as it moves through the stages."""

    profile: str | None = None
    document_kind: str | None = None


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
            return skip_validation(state)
        report = tools.validator.validate(state.source.data, require(state.profile, "profile"))
        return keep_report(state, report)


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
    stages=(IngestStage(what="the document"), IdentifyStage(), InboundValidateStage(), KeepStage()),
)
"""A UBL or CII business document received from a counterpart."""
