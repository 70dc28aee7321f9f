"""A legacy VAT e-invoice (OFD) travels as its ``original_invoice.xml`` (BT-125): the gate
minimises it like a 数电票 original. The clerk (``InvoiceClerk``), payee (``Payee``) and
checker (``Checker``) are the seller's staff, natural persons: classified, and masked before
leaving; a personal buyer's phone, ID-card and account numbers are masked there too. The
result stays valid under the official rules."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from gateway.ingest import parse
from gateway.mapping import map_parsed
from gateway.policy import DEFAULT_POLICY, Category, GateResult, run_gate
from gateway.render import render
from gateway.validation import Validator
from tests.mapping.fidelity import directory
from tests.policy.support import KEY, NOW, PERSON_ID
from tests.policy.test_minimise_valid import decoded

LEGACY = "fapiao/samples/ofd/ofdrw_fapiao-shili_vat-e-ordinary-2020.ofd"
XML = "Doc_0/Attachs/original_invoice.xml"
STAFF = ("任盈盈", "张一诺", "张嘉诺")
"""The sample's clerk, payee and checker."""
SELLER = {"seller_id": "91500106MA2CE71F65"}


@pytest.fixture(scope="module")
def validator(artefacts_home: Path) -> Validator:
    return Validator.default(artefacts_home)


def legacy_ofd(reference: Path, *swaps: tuple[bytes, bytes]) -> bytes:
    """The reference legacy OFD, its ``original_invoice.xml`` with each ``(old, new)`` of
    ``swaps`` replaced."""
    package = zipfile.ZipFile(io.BytesIO((reference / LEGACY).read_bytes()))
    members = {name: package.read(name) for name in package.namelist()}
    xml = members[XML]
    for old, new in swaps:
        xml = xml.replace(old, new)
    members[XML] = xml
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as package_out:
        for name, data in members.items():
            package_out.writestr(name, data)
    return out.getvalue()


def run(data: bytes, buyer: str, profile: str = "pint-sg") -> GateResult:
    parsed = parse(data)
    mapped = map_parsed(parsed, directory({"buyer_name": buyer}, SELLER), profile=profile)
    return run_gate(parsed, mapped, DEFAULT_POLICY, KEY, now=NOW)


def embedded(result: GateResult) -> str:
    (original,) = [a for a in result.mapped.invoice.attachments if a.content]
    return (original.content or b"").decode()


@pytest.mark.parametrize("profile", ["pint-sg", "pint"])
def test_legacy_staff_are_masked_and_the_trade_data_is_art_3(
    reference: Path, validator: Validator, profile: str
) -> None:
    result = run(legacy_ofd(reference), "科游迈利有限公司", profile)
    text = embedded(result)
    for name in STAFF:
        assert name not in text, name
    assert "<fp:InvoiceClerk>**盈</fp:InvoiceClerk>" in text
    found = {f.path: f for f in result.classification.findings}
    for path in ("Drawer", "Payee", "Checker"):
        assert found[path].category is Category.PERSONAL and not found[path].leaves
    assert "embedded original: Payee masked" in result.minimised
    assert (result.decision.outcome, result.decision.article) == ("allowed", "art-3")
    assert result.subjects == []
    xml = render(result.mapped.invoice, profile)
    assert [f.rule_id for f in validator.validate(xml, profile).fatals()] == []
    assert not any(name in decoded(xml) for name in STAFF)


def test_legacy_staff_who_leave_are_counted(reference: Path) -> None:
    """Kept by the policy (``mask_clerk = false``), the three are three individuals."""
    from dataclasses import replace

    from gateway.policy.policyfile import Minimisation

    parsed = parse(legacy_ofd(reference))
    mapped = map_parsed(
        parsed, directory({"buyer_name": "科游迈利有限公司"}, SELLER), profile="pint-sg"
    )
    policy = replace(DEFAULT_POLICY, minimisation=Minimisation(mask_clerk=False))
    result = run_gate(parsed, mapped, policy, KEY, now=NOW)
    assert all(name in embedded(result) for name in STAFF)
    assert len(result.subjects) == 3 and result.decision.outcome == "volume"


def test_a_personal_buyers_numbers_are_masked_in_a_legacy_original(
    reference: Path, validator: Validator
) -> None:
    person = "张三（个人）"
    data = legacy_ofd(
        reference,
        ("<fp:BuyerName>科游迈利有限公司</fp:BuyerName>".encode(),
              f"<fp:BuyerName>{person}</fp:BuyerName>".encode()),
        (b"<fp:BuyerTaxID>9150010807MGZHI002</fp:BuyerTaxID>",
                f"<fp:BuyerTaxID>{PERSON_ID}</fp:BuyerTaxID>".encode()),
    )  # fmt: skip
    result = run(data, person)
    text = embedded(result)
    for secret in ("13392342520", "32445333322211", PERSON_ID, *STAFF):
        assert secret not in text, secret
    assert "北京海淀区西钓鱼台嘉园北门133****2520" in text
    assert "北京农商行324*******2211" in text
    assert (result.decision.outcome, result.decision.article) == ("allowed", "art-5-1")
    xml = render(result.mapped.invoice, "pint-sg")
    assert [f.rule_id for f in validator.validate(xml, "pint-sg").fatals()] == []
