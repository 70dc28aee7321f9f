"""The seller's staff written into the remark (``收款人:李蓉蓉; 复核人:周欣铭``, as the tax
platform's own OFD of a 2024 special invoice prints them) are natural persons, like the clerk
of ``Drawer``: classified as personal information and masked with the clerk wherever the
remark leaves (the invoice's note, BT-22, and the embedded original's ``Remark``). Before,
the names left in the note and were classified as nothing at all."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.ingest import parse
from gateway.mapping import map_parsed
from gateway.policy import DEFAULT_POLICY, Category, GateResult, Policy, run_gate
from gateway.policy.classify import outgoing_text
from gateway.policy.policyfile import Rule
from gateway.policy.remark_staff import mask_staff, staff_in
from gateway.render import render
from gateway.validation import Validator
from tests.mapping.fidelity import directory
from tests.policy.support import KEY, NOW, company, gate
from tests.policy.test_minimise_valid import decoded

STA_OFD = "fapiao/samples/ofd/ofdrw_20240531141733_sdp-special-2024.ofd"
REMARK = "合同号：K-1；收款人：王小明 复核人:赵六"


def staff(result: GateResult) -> list[tuple[str, bool]]:
    """``(reason, leaves)`` of the findings of staff named in the remark."""
    return [(f.reason, f.leaves) for f in result.classification.findings
            if f.path == "remark.staff"]  # fmt: skip


def test_the_tax_platforms_ofd_names_its_payee_and_checker_in_the_remark(reference: Path) -> None:
    parsed = parse((reference / STA_OFD).read_bytes())
    seller = next(i.value for i in parsed.invoice.seller.identifiers)
    partner = directory({"buyer_name": parsed.invoice.buyer.name}, {"seller_id": seller})
    mapped = map_parsed(parsed, partner, profile="pint-sg")
    result = run_gate(parsed, mapped, DEFAULT_POLICY, KEY, now=NOW)
    assert staff(result) == [
        ("name of the payee (收款人) written into the remark (备注), a natural person", False),
        ("name of the checker (复核人) written into the remark (备注), a natural person", False),
    ]
    text = outgoing_text(result.mapped.invoice)
    assert "李蓉蓉" not in text and "周欣铭" not in text
    assert "收款人:**蓉" in result.mapped.invoice.notes[0]
    assert "2 staff name(s) written into the remark masked in the note" in result.minimised
    assert result.classification.categories == {Category.BUSINESS}
    assert result.subjects == []


@pytest.fixture(scope="module")
def validator(artefacts_home: Path) -> Validator:
    return Validator.default(artefacts_home)


@pytest.mark.parametrize("profile", ["pint-sg", "pint", "bis3"])
def test_masked_in_the_note_and_the_embedded_original_and_still_valid(
    validator: Validator, profile: str
) -> None:
    result = gate(company(remark=REMARK), profile=profile)
    assert [leaves for _, leaves in staff(result)] == [False, False]
    xml = render(result.mapped.invoice, profile)
    assert [f.rule_id for f in validator.validate(xml, profile).fatals()] == []
    text = decoded(xml)
    assert "王小明" not in text and "赵六" not in text
    assert "收款人：**明" in text and "复核人:*六" in text and "合同号：K-1" in text
    if profile in ("pint-sg", "pint"):  # the original travels embedded
        assert "embedded original: 2 staff name(s) masked in Remark" in result.minimised


def test_a_rule_may_keep_them_and_then_they_leave_as_personal_data() -> None:
    keeps = Rule("sg-staff", "allow", destinations=frozenset({"SG"}), basis="guidance 1",
                 categories=frozenset({Category.PERSONAL}), keep=frozenset({"remark.staff"}))  # fmt: skip
    result = gate(company(remark=REMARK), policy=Policy("v1", positive=(keeps,)))
    assert [leaves for _, leaves in staff(result)] == [True, True]
    assert "收款人：王小明" in result.mapped.invoice.notes[0]
    assert result.classification.categories == {Category.BUSINESS, Category.PERSONAL}
    assert len(result.subjects) == 2
    assert result.decision.allowed and result.decision.rule == "sg-staff"


def test_not_masked_when_the_policy_leaves_the_clerk_alone() -> None:
    from dataclasses import replace

    policy = replace(DEFAULT_POLICY, minimisation=replace(DEFAULT_POLICY.minimisation,
                                                          mask_clerk=False))  # fmt: skip
    result = gate(company(remark=REMARK), policy=policy)
    assert "收款人：王小明" in result.mapped.invoice.notes[0]
    assert [leaves for _, leaves in staff(result)] == [True, True]


@pytest.mark.parametrize(
    ("text", "named", "masked"),
    [
        ("收款人:李蓉蓉;    复核人:周欣铭;", ["李蓉蓉", "周欣铭"], "收款人:**蓉;    复核人:**铭;"),
        ("开票人： 张三，收款人：Li Lei", ["张三", "Li Lei"], "开票人： *三，收款人：*****i"),
        ("收款人:**蓉", [], "收款人:**蓉"),
        ("收款人账号:6222021234567890123", [], "收款人账号:6222021234567890123"),
        ("收款人：", [], "收款人："),
    ],
)  # fmt: skip
def test_what_counts_as_a_named_staff_member(text: str, named: list[str], masked: str) -> None:
    assert [name for _, name in staff_in(text)] == named
    assert mask_staff(text, lambda name: "*" * (len(name) - 1) + name[-1])[0] == masked
