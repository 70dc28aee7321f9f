"""The gate lists a resident ID number written into the remark (备注) or a 附加要素 among the
personal data the fapiao held: sensitive, as a personal buyer's ``BuyerIdNum`` is, and not
leaving, since the mapping blanks it in the note and the embedded original. Before, the
classification did not name it at all. Should one still be in the outgoing document, it
leaves and its holder is counted as a sensitive subject."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

import pytest

from gateway.ingest import parse
from gateway.mapping import map_parsed
from gateway.policy import DEFAULT_POLICY, Category, Finding, run_gate
from gateway.policy.classify import classify
from gateway.samples.writers import einvoice_xml, platform_json
from tests.mapping.fidelity import directory
from tests.policy.support import (
    KEY,
    NOW,
    PERSON,
    PERSON_ID,
    company,
    gate,
    personal,
    resident_id,
)

OTHER_ID = resident_id("31011519880817402")
FULL_WIDTH = "".join(chr(ord(c) + 0xFEE0) for c in OTHER_ID)
REMARK = f"经办人身份证号：{OTHER_ID} 合同号：K-1"


def _written(findings: Iterable[Finding]) -> list[Finding]:
    """The findings of numbers written into free text (the remark, a 附加要素)."""
    return [f for f in findings if f.path.endswith(".id") and not f.path.startswith("buyer.")]


@pytest.mark.parametrize("profile", ["pint-sg", "pint", "bis3"])
def test_an_id_in_the_remark_is_listed_as_held_sensitive_not_leaving(profile: str) -> None:
    result = gate(company(remark=REMARK), profile=profile)
    (finding,) = _written(result.classification.findings)
    assert finding.path == "remark.id"
    assert finding.category is Category.SENSITIVE
    assert not finding.leaves
    assert finding.reason == "ID-card number (居民身份证号码) written into the remark (备注)"
    # what left is unchanged: trade data only, no individual counted, Art. 3
    assert result.classification.categories == {Category.BUSINESS}
    assert result.subjects == []
    assert result.decision.allowed and result.decision.article == "art-3"


def test_an_id_in_an_additional_element_names_the_element() -> None:
    inv = company(additional=[("项目编号", "文本型", "PRJ-9"), ("经办人证件", "文本型", OTHER_ID)])
    result = gate(inv)
    (finding,) = _written(result.classification.findings)
    assert finding.path == "additional[2].id"
    assert "附加要素 '经办人证件'" in finding.reason
    assert finding.category is Category.SENSITIVE and not finding.leaves
    assert result.classification.categories == {Category.BUSINESS}


def test_platform_json_remark_and_additional_element() -> None:
    data = platform_json(company(remark=f"证件 {FULL_WIDTH}",
                                 additional=[("证件", "文本型", OTHER_ID.lower())]))  # fmt: skip
    parsed = parse(data)
    mapped = map_parsed(parsed, directory(), profile="pint-sg")
    result = run_gate(parsed, mapped, DEFAULT_POLICY, KEY, now=NOW)
    found = {f.path: f for f in _written(result.classification.findings)}
    assert set(found) == {"remark.id", "additional[1].id"}
    assert not any(f.leaves for f in found.values())
    # one person, however the number was typed
    assert {f.subject for f in found.values()} == {f"id:{OTHER_ID}"}


def test_reported_like_the_buyers_id_card_number() -> None:
    """A personal buyer whose number is also in the remark: two findings, the same category,
    the same person, neither leaving; still the buyer's own invoice (Art. 5(1))."""
    result = gate(personal(remark=f"购买方证件：{PERSON_ID}"))
    paths = {f.path: f for f in result.classification.findings}
    buyer, written = paths["buyer.id"], paths["remark.id"]
    assert buyer.category is written.category is Category.SENSITIVE
    assert not buyer.leaves and not written.leaves
    assert buyer.subject == written.subject
    assert buyer.reason.startswith("ID-card number (居民身份证号码)")
    assert written.reason.startswith("ID-card number (居民身份证号码)")
    assert result.decision.article == "art-5-1" and len(result.subjects) == 1
    assert PERSON in result.mapped.invoice.buyer.name


def test_the_recorded_classification_and_the_ledger_categories() -> None:
    """The history's classification lists the number as not leaving; the categories the ledger
    entry takes (what left) stay ``business``, so the yearly report counts no sensitive data."""
    facts = gate(company(remark=REMARK)).facts("recipient")
    classification = facts["classification"]
    assert classification["categories"] == ["business"]
    assert classification["subjects"] == 0
    assert {"path": "remark.id", "category": "sensitive", "leaves": False,
            "reason": "ID-card number (居民身份证号码) written into the remark (备注)"} in classification["fields"]  # fmt: skip
    assert OTHER_ID not in repr(facts)


def test_an_id_still_in_the_outgoing_invoice_leaves_and_is_counted() -> None:
    parsed = parse(einvoice_xml(company(remark=REMARK)))
    mapped = map_parsed(parsed, directory(), profile="bis3")
    assert OTHER_ID not in " ".join(mapped.invoice.notes)
    leaking = dataclasses.replace(mapped.invoice, notes=[REMARK])
    classification = classify(parsed, leaking)
    (finding,) = _written(classification.findings)
    assert finding.leaves
    assert classification.sensitive
    assert classification.subjects() == {f"id:{OTHER_ID}": True}


@pytest.mark.parametrize("text", [
    "订单号：223320260001234567",  # 18 digits, no birth date
    f"发票号码：26{OTHER_ID}",  # inside a 20-digit number
    "",
])  # fmt: skip
def test_no_id_no_finding(text: str) -> None:
    result = gate(company(remark=text))
    assert _written(result.classification.findings) == []
