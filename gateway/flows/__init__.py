"""Flows: one typed stage table per document kind and direction.

=================  =========  ===============================================================
flow               direction  table
=================  =========  ===============================================================
``invoice-out``    out        ingest → detect → parse → map → policy → render → validate →
                              sign → envelope
``document-in``    in         ingest → identify → validate → read → render → keep
``ebl-out``        out        ingest → ebl-check → policy → ebl-convert → ebl-html
``peppol-out``     out        ingest → identify → validate → address (reports, MLS)
=================  =========  ===============================================================

Flows are pure: they import no store and no adapter. The jobs layer runs them
(:mod:`gateway.jobs`), the delivery layer routes what they produce (:mod:`gateway.delivery`).
New kinds (eBL out, DCSA PINT in/out) add a module here and a line in :data:`FLOWS`; an
outbound one runs the export gate (``policy``, :mod:`gateway.policy`) between its mapping and
its rendering.
"""

from __future__ import annotations

from typing import Any

from gateway.errors import ConfigError
from gateway.flows.document_in import DOCUMENT_IN, DocumentIn
from gateway.flows.ebl_out import EBL_OUT, EblOut
from gateway.flows.invoice_out import INVOICE_OUT, InvoiceOut, RecipientMismatch, check_recipient
from gateway.flows.peppol_out import PEPPOL_OUT
from gateway.flows.stage import Flow, FlowOutcome, FlowState, Output, Source, Stage, run_flow
from gateway.flows.tools import Tools, ToolsSpec, load_tools
from gateway.flows.transport import TransportFacts

FLOWS: dict[str, Flow[Any]] = {
    flow.name: flow for flow in (INVOICE_OUT, DOCUMENT_IN, EBL_OUT, PEPPOL_OUT)
}
"""Every flow, by name."""


def flow_named(name: str) -> Flow[Any]:
    """The flow called ``name``; :class:`ConfigError` for an unknown one."""
    try:
        return FLOWS[name]
    except KeyError:
        raise ConfigError(f"no flow {name!r} (flows: {sorted(FLOWS)})", field="flow") from None


__all__ = [
    "DOCUMENT_IN",
    "EBL_OUT",
    "FLOWS",
    "INVOICE_OUT",
    "PEPPOL_OUT",
    "DocumentIn",
    "EblOut",
    "Flow",
    "FlowOutcome",
    "FlowState",
    "InvoiceOut",
    "Output",
    "RecipientMismatch",
    "Source",
    "Stage",
    "Tools",
    "ToolsSpec",
    "TransportFacts",
    "check_recipient",
    "flow_named",
    "load_tools",
    "run_flow",
]
