"""Minimisation leaves the document valid under the official rules (XSD + Schematron of each
profile), and what it removes is not in the document that leaves."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from gateway.render import render
from gateway.validation import Validator
from tests.policy.support import PERSON_ID, PERSON_PHONE, gate, personal

BLOCKS = [
    ("PassengerTransportation", {"Traveler": "李四", "ValidIDNumber": "110101198001011234"}),
    ("MedicalService-Outpatient", {"PatientNumber": "MZ-778", "MedicalInsuranceID": "YB123456"}),
]


CARD = "6222021234567890123"
"""A personal buyer's bank-card number (sensitive)."""


@pytest.fixture(scope="module")
def validator(artefacts_home: Path) -> Validator:
    return Validator.default(artefacts_home)


def decoded(xml: bytes) -> str:
    """The document with its embedded attachments decoded (what a recipient can read)."""
    from lxml import etree

    text = xml.decode()
    for node in etree.fromstring(xml).iter("{*}EmbeddedDocumentBinaryObject"):
        text += base64.b64decode(node.text or "").decode("utf-8", "replace")
    return text


@pytest.mark.parametrize("profile", ["pint-sg", "pint", "bis3", "cii"])
def test_minimised_personal_buyer_invoice_stays_valid(validator: Validator, profile: str) -> None:
    inv = personal(special=BLOCKS)
    inv.extra_elements = [("EInvoiceData/BuyerInformation/BuyerBankAccNum", CARD)]
    result = gate(inv, profile=profile)
    xml = render(result.mapped.invoice, profile)
    report = validator.validate(xml, profile)
    assert [f.rule_id for f in report.fatals()] == []
    text = decoded(xml)
    for secret in (
        PERSON_PHONE,
        PERSON_ID,
        CARD,
        "李四",
        "110101198001011234",
        "YB123456",
        "王示例",
    ):
        assert secret not in text, secret
    if profile in ("pint-sg", "pint"):  # the original travels embedded (XML accepted)
        assert "138****5678" in text and "<PassengerTransportation" not in text
        assert any(a.startswith("embedded original:") for a in result.minimised)
    passenger = [f for f in result.classification.findings if "PassengerTransportation" in f.path]
    assert passenger and all(f.category.value == "sensitive" and not f.leaves for f in passenger)
    assert "passenger block" in passenger[0].reason
    card = next(f for f in result.classification.findings if f.path == "buyer.bank_account")
    assert card.category.value == "sensitive" and not card.leaves
    assert result.decision.article == "art-5-1"
