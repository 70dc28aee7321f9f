"""Property tests: generated transport documents keep every mapped field through
DCSA → canonical → DCSA and DCSA → UBL → DCSA, and every output stays schema-valid."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings

from gateway.model.transport_document import TransportDocument
from gateway.read.dcsa import read_transport_document
from gateway.read.ubl_bill_of_lading import read_bill_of_lading_xml
from gateway.render.dcsa import dump_json, render_dcsa
from gateway.render.ubl_bill_of_lading import render_bill_of_lading
from gateway.validation import Validator
from gateway.validation.dcsa_schema import DcsaKind, validate_dcsa
from tests.ebl.strategies import transport_documents

SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@SETTINGS
@given(doc=transport_documents())
def test_dcsa_round_trip(artefacts_home: Path, doc: TransportDocument) -> None:
    dcsa = json.loads(dump_json(render_dcsa(doc).data))
    assert validate_dcsa(dcsa, DcsaKind.TRANSPORT_DOCUMENT, artefacts_home) == []
    assert read_transport_document(dcsa) == doc


@SETTINGS
@given(doc=transport_documents())
def test_ubl_round_trip(artefacts_home: Path, doc: TransportDocument) -> None:
    ubl = render_bill_of_lading(doc)
    assert ubl.warnings == []
    report = Validator(artefacts_home).validate(ubl.xml)
    assert not report.fatal, report.to_text()
    back = read_bill_of_lading_xml(ubl.xml)
    assert back == doc
    dcsa = json.loads(dump_json(render_dcsa(back).data))
    assert read_transport_document(dcsa) == doc
