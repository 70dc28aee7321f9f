"""The outbound invoice flow: a fapiao in, a Peppol / CII invoice out.

::

    ingest → detect → parse → map → policy → render → validate → sign → envelope

Each stage calls the module that owns the format knowledge (``gateway.ingest``,
``gateway.mapping``, ``gateway.render``, ``gateway.validation``, ``gateway.signing``); the
table is :data:`INVOICE_OUT`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gateway.errors import FieldError
from gateway.flows.common import Fingerprinted, IngestStage, keep_report, skip_validation
from gateway.flows.stage import Flow, Source, require
from gateway.flows.tools import Tools
from gateway.flows.transport import TransportFacts

if TYPE_CHECKING:
    from lxml import etree

    from gateway.ingest.types import ParsedInvoice
    from gateway.mapping import MappedDocument
    from gateway.model import Invoice
    from gateway.validation import ValidationReport

XML = "application/xml"
SIGNED = "signed"
"""The output kind of the document as it is delivered."""
SIGNING_OFF = "not signed: the operator turned signing off ([pipeline] sign = false)"
"""The reason every document carries in its history while signing is off."""
DETACHED_SIGNATURE_NAME = "document.xml"
"""The reference URI a detached signature names: the document it signs, as delivered."""


class RecipientMismatch(FieldError):
    """The client named a recipient other than the document's receiver.

    The document goes to the receiver its partner directory entry names; a ``recipient``
    that disagrees is refused (never a silent reroute)."""

    code = "recipient-mismatch"


@dataclass(slots=True)
class InvoiceOut(Fingerprinted):
    """The outbound invoice as it moves through the stages."""

    source_format: str | None = None
    parsed: ParsedInvoice | None = None
    mapped: MappedDocument | None = None
    gated: bool = False
    """The export gate has minimised the mapped document and recorded its decision."""
    rendered: bytes | None = None
    rendered_tree: etree._Element | None = None
    """The tree ``rendered`` was serialised from, until validation has read it (never sent
    across a process boundary: :class:`FlowOutcome` carries outputs, not the state)."""
    report: ValidationReport | None = None
    signed: bytes | None = None


@dataclass(frozen=True, slots=True)
class DetectStage:
    """Recognises the source format (or takes the one the client named)."""

    name: str = "detect"
    reads: tuple[str, ...] = ("source",)
    adds: tuple[str, ...] = ("source_format",)

    def run(self, state: InvoiceOut, tools: Tools) -> dict[str, Any]:
        from gateway.ingest import detect

        named = str(state.source.metadata.get("format") or "auto")
        state.source_format = detect(state.source.data) if named == "auto" else named
        state.facts["source_format"] = state.source_format
        return {"format": state.source_format, "named": named != "auto"}


@dataclass(frozen=True, slots=True)
class ParseStage:
    """Parses the fapiao into the canonical model (``gateway.ingest``); records its number
    and the seller's tax number as printed (facts ``number``, ``seller_id``: with its
    ``document_type``, what identifies the fapiao, see :mod:`gateway.store.sent_documents`)."""

    name: str = "parse"
    reads: tuple[str, ...] = ("source", "source_format")
    adds: tuple[str, ...] = ("parsed",)

    def run(self, state: InvoiceOut, tools: Tools) -> dict[str, Any]:
        from gateway.ingest import parse
        from gateway.mapping.parties import printed_seller_id

        parsed = parse(
            state.source.data,
            format=require(state.source_format, "source_format"),
            filename=state.source.filename,
        )
        state.parsed = parsed
        state.facts["number"] = str(parsed.invoice.number)
        state.facts["seller_id"] = printed_seller_id(parsed.invoice.seller) or ""
        return {"number": str(parsed.invoice.number), "warnings": [w.code for w in parsed.warnings]}


@dataclass(frozen=True, slots=True)
class MapStage:
    """Completes the invoice for its destination (``gateway.mapping.map_parsed``, the one
    mapping entry point) and checks a recipient the client named against the receiver."""

    name: str = "map"
    reads: tuple[str, ...] = ("parsed", "directory")
    adds: tuple[str, ...] = ("mapped",)

    def run(self, state: InvoiceOut, tools: Tools) -> dict[str, Any]:
        from gateway.errors import MissingFactError
        from gateway.mapping import map_parsed

        directory = state.directory if state.directory is not None else tools.partners
        if directory is None:
            raise MissingFactError(
                "no partner directory: upload one (PUT /v1/partners) or set [pipeline].partners",
                field="partners",
            )
        metadata = state.source.metadata
        mapped = map_parsed(
            require(state.parsed, "parsed"),
            directory,
            profile=str(metadata.get("profile") or "") or None,
            default_profile=tools.default_profile,
            metadata=metadata,
            strict=tools.strict,
            sent_invoice_dates=state.source.sent_invoice_dates,
        )
        receiver = receiver_of(mapped)
        named = str(metadata.get("receiver") or "")
        if named:
            refuse_other_recipient(named, receiver)
        state.mapped = mapped
        state.facts.update(profile=mapped.profile, receiver=receiver)
        state.facts.update(document_facts(mapped.invoice))
        if mapped.warnings:
            state.facts["warnings"] = list(mapped.warnings)
        if mapped.exporter is not None:
            state.facts["sender"] = str(mapped.exporter.endpoint)
        return {"profile": mapped.profile, "receiver": receiver, "warnings": len(mapped.warnings)}


def document_facts(invoice: Invoice) -> dict[str, str]:
    """The facts a later document may need from this one: its kind and issue date (a credit
    note's job dates the invoice it credits from them, see
    :meth:`gateway.store.Store.invoice_issue_dates`), and, on a credit note whose preceding
    invoice (BT-25) is undated, that invoice's number (``preceding_invoice``)."""
    facts = {
        "document_type": "credit_note" if invoice.is_credit_note else "invoice",
        "issue_date": invoice.issue_date.isoformat(),
    }
    undated = [p.number for p in invoice.preceding_invoices if p.issue_date is None]
    if invoice.is_credit_note and undated:
        facts["preceding_invoice"] = undated[0]
    return facts


def credited_invoice(source: Source) -> str | None:
    """The number (BT-25) of the invoice the credit note in ``source`` credits, as the
    red-letter fapiao itself prints it (``RedEInvoice/OriginalInvoiceCode`` or its remark,
    FORMAT.md §7), read like :class:`ParseStage` reads it; ``None`` for an invoice, a credit
    note naming none, or a fapiao that cannot be read (the flow rejects that one with the
    reason).

    The job reads it before the flow runs, so that it can look up the date the flow cannot
    (BT-26, see :meth:`gateway.store.Store.invoice_issue_dates`) and run the flow once."""
    invoice = _readable_invoice(source)
    if invoice is None or not invoice.is_credit_note or not invoice.preceding_invoices:
        return None
    return invoice.preceding_invoices[0].number


def stored_document_facts(source: Source) -> dict[str, str]:
    """The kind and issue date :func:`document_facts` records, read from the fapiao in
    ``source`` as :class:`ParseStage` reads it and classed as the mapping classes it (a
    red-letter fapiao or negative totals make a credit note); ``{}`` when it is no fapiao
    this flow can read.

    For documents processed, or held and released, before the flow recorded these facts:
    the credit note's job and the release find them in the stored document instead."""
    from gateway.mapping.lines import is_red

    invoice = _readable_invoice(source)
    if invoice is None:
        return {}
    return {
        "document_type": "credit_note" if is_red(invoice) else "invoice",
        "issue_date": invoice.issue_date.isoformat(),
    }


def _readable_invoice(source: Source) -> Invoice | None:
    """The canonical invoice of the fapiao in ``source``, read as :class:`ParseStage` reads it
    (its ``format`` metadata, else detected), or ``None`` when it cannot be read."""
    from gateway.errors import LingangError
    from gateway.ingest import parse

    named = str(source.metadata.get("format") or "auto")
    try:
        return parse(source.data, format=named, filename=source.filename).invoice
    except LingangError:
        return None


@dataclass(frozen=True, slots=True)
class PolicyStage:
    """The cross-border data gate (``gateway.policy``): minimises the mapped document for its
    destination, classifies what leaves and decides by the export policy. The decision is
    a fact (``policy``), not a stop: a document the policy holds is still rendered, validated
    and signed, so that once a compliance officer releases it nothing has to be redone; the
    jobs layer holds it instead of queueing its delivery (nothing leaves without a decision)."""

    name: str = "policy"
    reads: tuple[str, ...] = ("parsed", "mapped")
    adds: tuple[str, ...] = ("gated",)

    def run(self, state: InvoiceOut, tools: Tools) -> dict[str, Any]:
        from gateway.policy import DEFAULT_POLICY, run_gate

        policy = tools.policy.current() if tools.policy is not None else DEFAULT_POLICY
        result = run_gate(
            require(state.parsed, "parsed"),
            require(state.mapped, "mapped"),
            policy,
            tools.subject_key,
        )
        state.mapped = result.mapped
        state.gated = True
        state.facts["policy"] = result.facts(str(state.facts.get("receiver", "")))
        decision = result.decision
        return {
            "outcome": decision.outcome,
            "article": decision.article,
            "categories": sorted(c.value for c in result.classification.categories),
            "subjects": len(result.subjects),
            "minimised": len(result.minimised),
            "policy_version": decision.policy_version,
        }


@dataclass(frozen=True, slots=True)
class RenderStage:
    """Writes the target syntax (UBL or CII) for the chosen profile (``gateway.render``)."""

    name: str = "render"
    reads: tuple[str, ...] = ("mapped",)
    adds: tuple[str, ...] = ("rendered", "rendered_tree")

    def run(self, state: InvoiceOut, tools: Tools) -> dict[str, Any]:
        from gateway.render import render_tree, serialise

        mapped = require(state.mapped, "mapped")
        state.rendered_tree = render_tree(mapped.invoice, mapped.profile)
        state.rendered = serialise(state.rendered_tree)
        return {"bytes": len(state.rendered)}


@dataclass(frozen=True, slots=True)
class ValidateStage:
    """Runs the official artefacts; a fatal finding stops the document (report kept). The
    XSD reads the tree the render stage built instead of parsing its bytes again."""

    name: str = "validate"
    reads: tuple[str, ...] = ("mapped", "rendered")
    adds: tuple[str, ...] = ("report",)

    def run(self, state: InvoiceOut, tools: Tools) -> dict[str, Any]:
        if tools.validator is None:
            return skip_validation(state)
        rendered = require(state.rendered, "rendered")
        profile = require(state.mapped, "mapped").profile
        tree, state.rendered_tree = state.rendered_tree, None
        report = tools.validator.validate(rendered, profile, tree=tree)
        state.report = report
        if report.fatal:
            state.keep("rendered", XML, rendered)
        return keep_report(state, report)


@dataclass(frozen=True, slots=True)
class SignStage:
    """XAdES-signs the rendered document (``gateway.signing``); passes it on unsigned, marked
    so in its history, only when the operator turned signing off (``[pipeline] sign = false``;
    with signing on, a process without a key refuses to start). Profiles whose rules forbid an enveloped signature
    (``ProfileSpec.detached_signature``) travel exactly as validated with a detached XAdES
    signature kept beside them (output ``signature``); other XML is signed enveloped."""

    name: str = "sign"
    reads: tuple[str, ...] = ("mapped", "rendered")
    adds: tuple[str, ...] = ("signed",)

    def run(self, state: InvoiceOut, tools: Tools) -> dict[str, Any]:
        from gateway.mapping import profile_spec

        rendered = require(state.rendered, "rendered")
        profile = require(state.mapped, "mapped").profile
        if tools.signer is None:
            state.signed = rendered
            state.facts["signed"] = False
            return {"signed": False, "reason": SIGNING_OFF}
        if profile_spec(profile).detached_signature:
            signature = tools.signer.sign_detached(
                rendered, name=DETACHED_SIGNATURE_NAME, mime_type=XML
            )
            state.keep("signature", XML, bytes(signature))
            state.signed = rendered
            state.facts["signed"] = "detached"
            return {"signed": "detached", "bytes": len(signature)}
        state.signed = bytes(tools.signer.sign(rendered))
        state.facts["signed"] = "enveloped"
        return {"signed": "enveloped", "bytes": len(state.signed)}


@dataclass(frozen=True, slots=True)
class EnvelopeStage:
    """Keeps the document as delivered (output ``signed``) and decides the envelope's
    facts: body, content type, profile, sender, receiver, headers."""

    name: str = "envelope"
    reads: tuple[str, ...] = ("mapped", "signed")
    adds: tuple[str, ...] = ("transport",)

    def run(self, state: InvoiceOut, tools: Tools) -> dict[str, Any]:
        signed = require(state.signed, "signed")
        mapped = require(state.mapped, "mapped")
        state.keep(SIGNED, XML, signed)
        kind = "credit-note" if mapped.invoice.is_credit_note else "invoice"
        attachments = tuple(o.kind for o in state.outputs if o.kind == "signature")
        state.transport = TransportFacts(
            body=SIGNED,
            content_type=XML,
            document_kind=kind,
            profile=mapped.profile,
            sender=str(state.facts.get("sender", "")),
            receiver=str(state.facts.get("receiver", "")),
            document_number=mapped.invoice.number,
            filename=f"{state.source.document_id or mapped.invoice.number}.xml",
            headers={"X-Lingang-Profile": mapped.profile},
            attachments=attachments,
        )
        return {"bytes": len(signed), "receiver": state.transport.receiver}


def check_recipient(data: bytes, named: str, directory: Any, tools: Tools) -> None:
    """Refuse a ``named`` recipient that is not the document's receiver, before anything is
    stored (:class:`RecipientMismatch`). What cannot be read or mapped is left to the flow,
    which rejects it with the reason."""
    from gateway.errors import LingangError
    from gateway.ingest import parse
    from gateway.mapping import map_parsed

    chosen = directory if directory is not None else tools.partners
    if chosen is None:
        return
    try:
        mapped = map_parsed(parse(data), chosen, default_profile=tools.default_profile)
    except LingangError:
        return
    refuse_other_recipient(named, receiver_of(mapped))


def receiver_of(mapped: MappedDocument) -> str:
    """The receiver's participant id (``scheme:value``) from the partner directory, or ``""``."""
    endpoint = mapped.partner.endpoint
    return str(endpoint) if endpoint is not None else ""


def refuse_other_recipient(named: str, receiver: str) -> None:
    """:class:`RecipientMismatch` unless the ``named`` recipient is the ``receiver``."""
    if named != receiver:
        raise RecipientMismatch(
            f"recipient {named!r} is not this document's receiver "
            f"({receiver or 'none in the partner directory'})",
            field="recipient",
            rule="recipient.matches-receiver",
        )


INVOICE_OUT: Flow[InvoiceOut] = Flow(
    name="invoice-out",
    direction="out",
    state_type=InvoiceOut,
    stages=(
        IngestStage(),
        DetectStage(),
        ParseStage(),
        MapStage(),
        PolicyStage(),
        RenderStage(),
        ValidateStage(),
        SignStage(),
        EnvelopeStage(),
    ),
)
"""Fapiao (XML, OFD, platform JSON) to a signed Peppol / CII invoice, ready to route."""
