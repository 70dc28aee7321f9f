"""The seller's bank name (UBL FinancialInstitutionBranch/cbc:Name) only where the rules let it
be: BIS 3 runs the EN 16931 UBL rules, which warn on it (UBL-CR-429); PINT and PINT SG do not."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.validation import Validator
from tests.mapping.fidelity import convert, fapiao

BRANCH_NAME = "cac:PaymentMeans/cac:PayeeFinancialAccount/cac:FinancialInstitutionBranch/cbc:Name"


@pytest.fixture(scope="module")
def validator(artefacts_home: Path) -> Validator:
    return Validator.default(artefacts_home)


def test_bis3_names_no_bank_and_has_no_ubl_cr_429(validator: Validator) -> None:
    out = convert(fapiao(), "bis3", validator)
    assert out.fatal == []
    assert out.text(BRANCH_NAME) is None
    assert out.text("cac:PaymentMeans/cac:PayeeFinancialAccount/cbc:ID") == "31001234567890000001"
    report = validator.validate(out.xml, "bis3")
    assert "UBL-CR-429" not in {f.rule_id for f in report.findings}
    assert out.warned("中国示例银行上海临港支行", "UBL-CR-429")


@pytest.mark.parametrize("profile", ["pint", "pint-sg"])
def test_pint_keeps_the_bank_name(validator: Validator, profile: str) -> None:
    out = convert(fapiao(), profile, validator)
    assert out.fatal == []
    assert out.text(BRANCH_NAME) == "中国示例银行上海临港支行"
    report = validator.validate(out.xml, profile)
    assert not [f for f in report.findings if f.flag != "information"]
