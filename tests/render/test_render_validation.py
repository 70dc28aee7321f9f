"""Every tax case, mapped and rendered for every profile, passes the official validators."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.mapping import map_invoice
from gateway.partners import PartnerDirectory
from gateway.read import read_ubl
from gateway.render import render
from gateway.validation import Validator
from tests.mapping.factory import BUYER_NAME, SELLER_USCC, cases, partners_dict

PROFILES = ("pint-sg", "bis3", "pint", "cii", "bis3-cii")
CURRENCIES = {
    "cny": {},
    "usd": {"currency": "USD", "exchange_rate": "7.1234"},
    "buyer-ids": {"legal_id": "0195:200212345Z", "vat_id": "SG200212345Z", "currency": "SGD",
                  "exchange_rate": "5.3"},
}  # fmt: skip


@pytest.mark.slow
@pytest.mark.xdist_group("engc-validator")
@pytest.mark.parametrize("currency", sorted(CURRENCIES))
@pytest.mark.parametrize("profile", PROFILES)
def test_all_cases_have_zero_fatal_findings(
    artefacts_home: Path, profile: str, currency: str
) -> None:
    validator = Validator.default(artefacts_home)
    directory = PartnerDirectory.from_dict(partners_dict(**CURRENCIES[currency]))
    partner = directory.find_partner(BUYER_NAME, None)
    exporter = directory.find_exporter(SELLER_USCC)
    failures = {}
    for name, source in cases().items():
        mapped = map_invoice(source, partner, exporter, profile, original_xml=b"<EInvoice/>")
        report = validator.validate(render(mapped, profile), profile)
        if report.fatal:
            failures[name] = [(f.rule_id, f.text[:120]) for f in report.fatals()]
    assert failures == {}


@pytest.mark.slow
@pytest.mark.xdist_group("engc-validator")
def test_official_examples_rerendered_stay_valid(reference: Path, artefacts_home: Path) -> None:
    """Inbound: official examples read into the model and rendered again pass their rules."""
    validator = Validator.default(artefacts_home)
    sg = reference / "openpeppol-pint-sg-1.4.1" / "trn-invoice" / "example"
    bis = reference / "openpeppol-peppol-bis-invoice-3" / "rules" / "examples"
    examples = [(p, "pint-sg") for p in sorted(sg.glob("*.xml"))]
    examples += [(p, "bis3") for p in sorted(bis.glob("*.xml"))]
    failures = {}
    for path, profile in examples:
        report = validator.validate(render(read_ubl(path.read_bytes()), profile), profile)
        if report.fatal:
            failures[path.name] = [f.rule_id for f in report.fatals()]
    assert failures == {}
