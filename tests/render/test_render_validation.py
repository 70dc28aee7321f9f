"""Every tax case, mapped and rendered for every profile, passes the official validators."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.mapping import map_invoice
from gateway.partners import PartnerDirectory
from gateway.render import render
from gateway.validation import Validator
from tests.mapping.factory import BUYER_NAME, SELLER_USCC, cases, partners_dict

PROFILES = ("pint-sg", "bis3", "pint", "cii")
CURRENCIES = {"cny": {}, "usd": {"currency": "USD", "exchange_rate": "7.1234"}}


@pytest.mark.slow
@pytest.mark.xdist_group("engc-validator")
@pytest.mark.parametrize("currency", sorted(CURRENCIES))
@pytest.mark.parametrize("profile", PROFILES)
def test_all_cases_have_zero_fatal_findings(
    artefacts_home: Path, profile: str, currency: str
) -> None:
    validator = Validator.default()
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
