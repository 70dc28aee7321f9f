"""The outbound eBL flow: a bill of lading in, its conversions out.

::

    ingest → ebl-check → policy → ebl-convert → ebl-html

``ebl-check`` reads and checks the eBL (DCSA JSON or UBL BillOfLading: schema, eBL rules);
``policy`` classifies the eBL's fields for the export gate (:mod:`gateway.policy.ebl`: contact
persons and parties that are individuals are personal information, each with its reason) and
keeps the classification and the rules' decision as the fact ``ebl_policy``: the conversion
leaves nothing abroad (the outputs go back to the client), so nothing is counted or written in
the export ledger here; that happens when the eBL leaves over DCSA PINT
(:meth:`gateway.store.ebl.EblRegistry.begin_transfer`). ``ebl-convert`` renders each target
named in the submission's metadata ``targets`` (comma-separated; default every one offered:
``tradetrust-vc`` only with a VC issuer key), validates each against its schema and keeps it
as an output of that name (``ubl`` signed when a signing key is configured; ``tradetrust-vc``
always, ecdsa-sd-2023), with the warnings
as output ``warnings``; ``ebl-html`` keeps a readable page (output ``html``). The flow sets
no transport facts: an eBL's delivery (DCSA PINT) is a flow of its own.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from gateway.errors import ConfigError, FieldError
from gateway.flows.common import Fingerprinted, IngestStage
from gateway.flows.ebl_convert import (
    BILLS_OF_LADING_ONLY,
    CheckedEbl,
    EblTarget,
    check_ebl,
    convert_document,
)
from gateway.flows.stage import Flow, require
from gateway.flows.tools import Tools
from gateway.model.transport_document import TransportDocument
from gateway.readable.kinds.ebl import render_transport_document

DEFAULT_TARGETS = (EblTarget.DCSA, EblTarget.UBL, EblTarget.UNCEFACT, EblTarget.TRADETRUST_OA)
"""Made when the submission names none; plus ``tradetrust-vc`` when a VC issuer is set."""


@dataclass(slots=True)
class EblOut(Fingerprinted):
    """An eBL as it moves through the stages."""

    ebl: CheckedEbl | None = None


def _home(tools: Tools) -> Any:
    if tools.validator is None:
        raise ConfigError("eBL conversion needs the official artefacts (validation is off)")
    return tools.validator.home


def _targets(metadata: Any, tools: Tools, doc: TransportDocument) -> list[EblTarget]:
    """The targets the client named, else every one offered that fits the document (a sea
    waybill has no place in the targets that are bills of lading only)."""
    offered = [*DEFAULT_TARGETS, *([EblTarget.TRADETRUST_VC] if tools.vc_issuer else [])]
    text = str(metadata.get("targets") or "")
    if not text:
        fitting = doc.type_code == "BOL"
        return [t for t in offered if fitting or t not in BILLS_OF_LADING_ONLY]
    try:
        chosen = [EblTarget(t.strip()) for t in text.split(",") if t.strip()]
    except ValueError:
        chosen = []
    if not chosen or any(t not in offered for t in chosen):
        choices = ", ".join(t.value for t in offered)
        why = "" if tools.vc_issuer else " (tradetrust-vc needs [signing] vc_key and vc_did)"
        raise FieldError(
            f"targets {text!r}: each must be one of {choices}{why}",
            field="targets",
            rule="ebl.targets",
        )
    return chosen


@dataclass(frozen=True, slots=True)
class EblCheckStage:
    """Reads and checks the eBL; a fatal finding rejects it, naming the path."""

    name: str = "ebl-check"
    reads: tuple[str, ...] = ("sha256",)
    adds: tuple[str, ...] = ("ebl",)

    def run(self, state: EblOut, tools: Tools) -> dict[str, Any]:
        checked = check_ebl(state.source.data, _home(tools))
        state.ebl = checked
        doc = checked.document
        facts = {
            "format": checked.input_kind,
            "document_number": doc.display_reference,
            "bill_kind": doc.kind.value,
            "type_code": doc.type_code,
        }
        state.facts.update(facts)
        return facts


@dataclass(frozen=True, slots=True)
class EblPolicyStage:
    """The export gate's classification of the eBL (see the module docstring)."""

    name: str = "policy"
    reads: tuple[str, ...] = ("ebl",)
    adds: tuple[str, ...] = ()

    def run(self, state: EblOut, tools: Tools) -> dict[str, Any]:
        import datetime as dt

        from gateway.partners.data_export import DataExport
        from gateway.policy import CHINA, DEFAULT_POLICY
        from gateway.policy.ebl import gate_ebl
        from gateway.render.dcsa import render_dcsa

        policy = tools.policy.current() if tools.policy is not None else DEFAULT_POLICY
        document = render_dcsa(require(state.ebl, "ebl").document).data
        classification, decision, subjects = gate_ebl(
            document, policy, tools.subject_key, exporter="", destination="",
            data_export=DataExport(), day=dt.datetime.now(CHINA).date(),
        )  # fmt: skip
        state.facts["ebl_policy"] = {
            "classification": classification.to_json(),
            "decision": decision.to_json(),
        }
        return {
            "categories": sorted(c.value for c in classification.categories),
            "subjects": len(subjects),
            "outcome": decision.outcome,
        }


@dataclass(frozen=True, slots=True)
class EblConvertStage:
    """Renders and validates each target; keeps each and the warnings."""

    name: str = "ebl-convert"
    reads: tuple[str, ...] = ("ebl",)
    adds: tuple[str, ...] = ()

    def run(self, state: EblOut, tools: Tools) -> dict[str, Any]:
        checked = require(state.ebl, "ebl")
        warnings: dict[str, list[str]] = {}
        for target in _targets(state.source.metadata, tools, checked.document):
            sign = tools.signer.sign if tools.signer and target is EblTarget.UBL else None
            result = convert_document(
                checked,
                target,
                _home(tools),
                issuer=tools.tradetrust_issuer,
                sign_xml=sign,
                vc_issuer=tools.vc_issuer,
            )
            state.keep(target.value, result.media_type, result.output)
            warnings[target.value] = result.warnings
        body = json.dumps(warnings, ensure_ascii=False, indent=2).encode()
        state.keep("warnings", "application/json", body)
        return {"targets": sorted(warnings), "warnings": sum(len(w) for w in warnings.values())}


@dataclass(frozen=True, slots=True)
class EblHtmlStage:
    """Keeps a readable HTML page of the eBL (the readable registry's eBL renderer: the same
    page as ``lingang render`` and the console's view, without the registry's chain)."""

    name: str = "ebl-html"
    reads: tuple[str, ...] = ("ebl",)
    adds: tuple[str, ...] = ()

    def run(self, state: EblOut, tools: Tools) -> dict[str, Any]:
        checked = require(state.ebl, "ebl")
        html = render_transport_document(checked.document, input_kind=checked.input_kind)
        page = html.encode("utf-8")
        state.keep("html", "text/html; charset=utf-8", page)
        return {"bytes": len(page)}


EBL_OUT: Flow[EblOut] = Flow(
    "ebl-out",
    "out",
    EblOut,
    (IngestStage("the eBL"), EblCheckStage(), EblPolicyStage(), EblConvertStage(), EblHtmlStage()),
    delivers=False,
)
