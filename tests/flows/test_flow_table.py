"""The flow machinery: tables checked when built, stages timed, outcomes across processes."""

from __future__ import annotations

import pickle
import re
from pathlib import Path

import pytest

from gateway import flows
from gateway.errors import FieldError, ValidationFailed, from_wire
from gateway.flows import FLOWS, INVOICE_OUT, FlowOutcome, Source, Tools, TransportFacts
from gateway.flows.stage import Flow, FlowTableError
from tests.jobs.stand_ins import Raise, Seal, TextDoc, Upper, text_flow


def test_a_stage_may_not_read_what_no_earlier_stage_adds() -> None:
    with pytest.raises(FlowTableError, match="reads \\['rendered'\\]"):
        Flow("bad", "out", TextDoc, (Seal(), Upper()))


def test_a_stage_may_not_add_what_the_state_does_not_declare() -> None:
    with pytest.raises(FlowTableError, match="does not declare"):
        Flow("bad", "out", TextDoc, (Upper(adds=("nonsense",)),))


def test_the_shipped_tables() -> None:
    assert INVOICE_OUT.stage_names == [
        "ingest", "detect", "parse", "map", "policy", "render", "validate", "sign", "envelope",
    ]  # fmt: skip
    assert {name: flow.direction for name, flow in FLOWS.items()} == {
        "invoice-out": "out",
        "document-in": "in",
        "ebl-out": "out",
        "peppol-out": "out",
    }
    assert FLOWS["document-in"].stage_names == [
        "ingest", "identify", "validate", "read", "render", "keep",
    ]  # fmt: skip


def test_the_documented_tables_are_the_shipped_ones() -> None:
    """The flows package's table (what README and DESIGN's pipeline point to) names every
    flow's stages in the order they run: the export gate's ``policy`` stage among them."""
    documented: dict[str, list[str]] = {}
    current = ""
    for line in (flows.__doc__ or "").splitlines():
        name = re.match(r"``([a-z-]+)``\s+(?:in|out)\s+(.*)", line)
        if name:
            current = name[1]
            documented[current] = []
            text = name[2]
        elif current and line.startswith(" " * 30) and line.strip():
            text = line.strip()
        else:
            current = ""
            continue
        documented[current] += [s.strip() for s in text.split("(")[0].split("→") if s.strip()]
    assert documented == {name: flow.stage_names for name, flow in FLOWS.items()}


def test_run_times_every_stage_and_stops_at_the_first_error() -> None:
    ok = text_flow().run(Source(b"<a/>"), Tools())
    assert ok.ok and [t["stage"] for t in ok.timings] == ["render", "sign"]
    assert ok.transport is not None and ok.output("signed") is not None
    failed = text_flow(Upper(), Raise(FieldError("bad", field="x")), Seal()).run(
        Source(b"<a/>"), Tools()
    )
    assert failed.failed_stage == "check" and isinstance(failed.error, FieldError)
    assert [t["ok"] for t in failed.timings] == [True, False]
    assert failed.transport is None and failed.output("rendered") is not None


def test_an_outcome_crosses_a_process_boundary_as_plain_data() -> None:
    outcome = text_flow(Upper(), Raise(ValidationFailed("BR-01 broken")), Seal()).run(
        Source(b"<a/>"), Tools()
    )
    wire = pickle.loads(pickle.dumps(outcome.to_wire()))
    back = FlowOutcome.from_wire(wire)
    assert isinstance(back.error, ValidationFailed) and back.error.message == "BR-01 broken"
    assert back.outputs == outcome.outputs and back.timings == outcome.timings
    done = text_flow().run(Source(b"<a/>"), Tools())
    assert done.transport is not None
    assert FlowOutcome.from_wire(done.to_wire()).transport == done.transport
    assert TransportFacts.from_json(done.transport.to_json()) == done.transport
    assert from_wire(FieldError("x", field="f").to_wire()).field == "f"


def test_without_a_validator_the_inbound_flow_marks_the_document_unvalidated(
    reference: Path,
) -> None:
    """Validation off (no validator in the tools) is never silent: the fact and the stage's
    summary say so, with the reason."""
    from gateway.flows import DOCUMENT_IN
    from gateway.flows.common import VALIDATION_OFF

    data = (
        reference / "openpeppol-peppol-bis-invoice-3/rules/examples/base-example.xml"
    ).read_bytes()
    outcome = DOCUMENT_IN.run(Source(data, "application/xml"), Tools())
    assert outcome.ok, outcome.error
    assert outcome.facts["validated"] is False
    (validate,) = [t for t in outcome.timings if t["stage"] == "validate"]
    assert validate["skipped"] is True and validate["reason"] == VALIDATION_OFF


def test_validation_reads_the_rendered_tree_once_and_lets_it_go() -> None:
    """The validate stage hands the validator the tree the render stage built (no second
    parse of the same bytes) and drops it: the state keeps bytes, not the tree."""
    from types import SimpleNamespace
    from typing import Any

    from lxml import etree

    from gateway.flows.invoice_out import InvoiceOut, ValidateStage
    from gateway.validation import ValidationReport

    seen: list[tuple[bytes, str | None, Any]] = []

    class Recording:
        def validate(self, xml: bytes, profile: str | None = None, *, tree: Any = None) -> Any:
            seen.append((xml, profile, tree))
            return ValidationReport(profile or "", "Invoice")

    tree = etree.fromstring(b"<Invoice/>")
    state = InvoiceOut(source=Source(b"<x/>"), rendered=b"<Invoice/>", rendered_tree=tree)
    state.mapped = SimpleNamespace(profile="bis3")  # type: ignore[assignment]
    ValidateStage().run(state, Tools(validator=Recording()))  # type: ignore[arg-type]
    assert seen == [(b"<Invoice/>", "bis3", tree)]
    assert state.rendered_tree is None and state.report is not None
