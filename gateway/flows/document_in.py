"""The inbound flow: a document a counterpart sent us, checked before it is handed on.

::

    ingest → identify → validate → read → render → keep

The mirror of the outbound flows. The transport layer (an adapter's receiving side) has
already authenticated the sender and stored the message durably; this flow fingerprints the
document, identifies its kind and profile from its own content, runs the official rules,
reads an invoice or credit note (UBL or CII) into the canonical model (output ``canonical``,
JSON) with a readable rendering of it (output ``readable``, HTML), and keeps the document
exactly as received (output ``received``) with its report for the local system.
"""

from __future__ import annotations

import json
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
    invoice: Any = None
    """The canonical :class:`~gateway.model.Invoice` of a received invoice or credit note."""


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


INVOICE_KINDS = ("Invoice", "CreditNote", "CrossIndustryInvoice")
CANONICAL = "canonical"
READABLE = "readable"


@dataclass(frozen=True, slots=True)
class ReadStage:
    """Reads a received invoice or credit note into the canonical model (output
    ``canonical``). The document already passed the official rules, so a part our reader
    cannot take is recorded as a fact rather than a rejection."""

    name: str = "read"
    reads: tuple[str, ...] = ("document_kind",)
    adds: tuple[str, ...] = ("invoice",)

    def run(self, state: DocumentIn, tools: Tools) -> dict[str, Any]:
        if state.document_kind not in INVOICE_KINDS:
            return {"skipped": True}
        from gateway.errors import LingangError
        from gateway.model.jsonable import to_jsonable
        from gateway.read import read_invoice

        try:
            invoice = read_invoice(state.source.data)
        except LingangError as exc:
            state.facts["canonical_error"] = exc.as_dict()
            return {"read": False, "error": exc.code}
        state.invoice = invoice
        body = json.dumps(to_jsonable(invoice), ensure_ascii=False, sort_keys=True).encode()
        state.keep(CANONICAL, "application/json", body)
        state.facts.update(
            document_number=invoice.number,
            seller=invoice.seller.name,
            buyer=invoice.buyer.name,
            currency=invoice.currency,
            payable=str(invoice.totals.payable),
        )
        return {"read": True, "lines": len(invoice.lines)}


@dataclass(frozen=True, slots=True)
class RenderReadableStage:
    """A readable HTML rendering of the invoice (output ``readable``): the readable
    registry's invoice page, the same as ``lingang render`` and the console's view."""

    name: str = "render"
    reads: tuple[str, ...] = ("invoice",)
    adds: tuple[str, ...] = ()

    def run(self, state: DocumentIn, tools: Tools) -> dict[str, Any]:
        if state.invoice is None:
            return {"skipped": True}
        from gateway.readable import RenderSource, render_html

        source = RenderSource(
            data=state.source.data, kind="invoice", facts={"profile": state.profile or ""}
        )
        page = render_html(source).encode("utf-8")
        state.keep(READABLE, "text/html; charset=utf-8", page)
        return {"bytes": len(page)}


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
    stages=(
        IngestStage(what="the document"),
        IdentifyStage(),
        InboundValidateStage(),
        ReadStage(),
        RenderReadableStage(),
        KeepStage(),
    ),
)
"""A UBL or CII business document received from a counterpart."""
