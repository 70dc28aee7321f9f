"""The inbound flow on official examples: UBL invoice and credit note and CII are validated
under their own profile, read into the canonical model and rendered readable; a hostile value
never reaches the page unescaped; documents that are not invoices are kept as received."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gateway.flows import DOCUMENT_IN, Source, Tools
from gateway.validation import Validator

CASES = {
    "ubl-invoice": ("openpeppol-peppol-bis-invoice-3/rules/examples/base-example.xml", "bis3"),
    "ubl-credit-note": (
        "openpeppol-peppol-bis-invoice-3/rules/examples/base-creditnote-correction.xml",
        "bis3",
    ),
    "cii": ("connectingeurope-einvoicing-en16931/cii/examples/CII_example1.xml", "cii"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_received_invoices_are_read_and_rendered(
    case: str, reference: Path, artefacts_home: Path
) -> None:
    rel, profile = CASES[case]
    body = (reference / rel).read_bytes()
    tools = Tools(validator=Validator.default(artefacts_home))
    outcome = DOCUMENT_IN.run(Source(body, "application/xml", document_id="in-1"), tools)
    assert outcome.ok, outcome.error
    assert outcome.facts["profile"] == profile
    canonical = json.loads(outcome.output("canonical").data)  # type: ignore[union-attr]
    page = outcome.output("readable").data.decode()  # type: ignore[union-attr]
    assert canonical["number"] == outcome.facts["document_number"]
    assert canonical["number"] in page and canonical["currency"] in page
    assert outcome.output("received").data == body  # type: ignore[union-attr]
    title = "Credit note" if case == "ubl-credit-note" else "Invoice"
    assert f'/ <span lang="en">{title}</span> {canonical["number"]}</h1>' in page


def test_hostile_values_are_escaped_in_the_readable_page(reference: Path) -> None:
    body = (reference / CASES["ubl-invoice"][0]).read_bytes()
    hostile = body.replace(
        b"<cbc:Name>Seller name</cbc:Name>",
        b"<cbc:Name>&lt;script&gt;alert(1)&lt;/script&gt;</cbc:Name>",
        1,
    )
    if hostile == body:
        hostile = body.replace(
            b"<cbc:RegistrationName>", b"<cbc:RegistrationName>&lt;script&gt;x&lt;/script&gt;", 1
        )
    assert hostile != body
    outcome = DOCUMENT_IN.run(Source(hostile, "application/xml"), Tools())
    page = outcome.output("readable").data.decode()  # type: ignore[union-attr]
    assert "<script>" not in page and "&lt;script&gt;" in page


def test_a_document_that_is_not_an_invoice_is_kept_as_it_is(reference: Path) -> None:
    mls = (
        reference / "openpeppol-mls-1.1.0/trn-mls/example/MessageLevelStatus_Example_AP.xml"
    ).read_bytes()
    outcome = DOCUMENT_IN.run(Source(mls, "application/xml"), Tools())
    assert outcome.ok and outcome.facts["profile"] == "peppol-mls"
    assert outcome.output("canonical") is None and outcome.output("readable") is None
    assert outcome.output("received").data == mls  # type: ignore[union-attr]
