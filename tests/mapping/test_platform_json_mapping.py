"""Platform JSON through the mapping, validated with the official artefacts: Nuonuo's
camelCase JSON, a 乐企 查验 answer and the upload request's list of one convert like the 乐企
JSON, and 附加要素 sent as ``fjysList`` reach the note (BT-22) in every profile, as the XML's
``Additional`` blocks do."""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from pathlib import Path

import pytest

from gateway.samples.writers import einvoice_xml, nuonuo_json, platform_json
from gateway.validation import Validator
from tests.ingest.leqi import differential_upload, upload_request, verification_answer
from tests.mapping.fidelity import convert, fapiao, machine_line
from tests.policy.support import resident_id

PROFILES = ["bis3", "pint-sg", "pint", "cii", "bis3-cii"]
WRITTEN_ID = resident_id("31011519880817402")
PAIRS = [("项目编号", "文本型", "PRJ-9"), ("Incoterms", "文本型", "FOB Shanghai")]
NOTE = "附加要素 (additional elements): 项目编号: PRJ-9; Incoterms: FOB Shanghai"


@pytest.fixture(scope="module")
def validator(artefacts_home: Path) -> Validator:
    return Validator.default(artefacts_home)


@pytest.mark.parametrize("profile", PROFILES)
def test_nuonuo_json_converts_in_every_profile(validator: Validator, profile: str) -> None:
    inv = fapiao([machine_line(), machine_line(name="*机械设备*刀具", amount="200.00",
                                               tax="26.00", gross="226.00", quantity="4",
                                               price="50")])  # fmt: skip
    data = nuonuo_json(inv)
    out = convert(data, profile, validator)
    pinyin = convert(platform_json(inv), profile, None)
    assert out.fatal == []
    mapped, same = out.mapped.invoice, pinyin.mapped.invoice
    assert (mapped.number, mapped.issue_date, mapped.totals) == (
        same.number,
        same.issue_date,
        same.totals,
    )
    assert [ln.net_amount for ln in mapped.lines] == [ln.net_amount for ln in same.lines]
    (original,) = [a for a in mapped.attachments if a.id.startswith("fapiao-")]
    assert original.content is None  # JSON is embedded by no profile: referenced
    assert hashlib.sha256(data).hexdigest() in (original.description or "")


@pytest.mark.parametrize("profile", PROFILES)
def test_json_additional_elements_reach_the_note(validator: Validator, profile: str) -> None:
    out = convert(platform_json(fapiao(additional=PAIRS)), profile, validator)
    assert out.fatal == []
    (note,) = out.mapped.invoice.notes
    assert NOTE in note
    assert NOTE.encode() in out.xml


def test_json_and_xml_additional_elements_give_the_same_note(validator: Validator) -> None:
    inv = fapiao(remark="合同号：K-1", additional=PAIRS)
    from_json = convert(platform_json(inv), "pint", validator)
    from_xml = convert(einvoice_xml(inv), "pint", validator)
    assert from_json.fatal == [] and from_xml.fatal == []
    assert from_json.mapped.invoice.notes == from_xml.mapped.invoice.notes


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("shape", ["verification-answer", "upload-list"])
def test_leqi_answer_and_upload_list_convert_in_every_profile(
    validator: Validator, profile: str, shape: str
) -> None:
    """A 查验 answer (invoice packed in ``Response.Data.cyjgxx``) and the upload request's list
    of one convert like the bare 乐企 object; an ID-card number in the packed remark is blanked
    in the note as in every input."""
    inv = fapiao(remark=f"合同号：K-7 经办人身份证号：{WRITTEN_ID}")
    data = verification_answer(inv) if shape == "verification-answer" else upload_request(inv)
    out = convert(data, profile, validator)
    bare = convert(platform_json(inv), profile, None)
    assert out.fatal == []
    mapped, same = out.mapped.invoice, bare.mapped.invoice
    assert (mapped.number, mapped.issue_date, mapped.totals, mapped.contract_ref) == (
        same.number,
        same.issue_date,
        same.totals,
        "K-7",
    )
    assert [ln.net_amount for ln in mapped.lines] == [ln.net_amount for ln in same.lines]
    assert WRITTEN_ID not in " ".join(mapped.notes) and WRITTEN_ID.encode() not in out.xml
    (original,) = [a for a in mapped.attachments if a.id.startswith("fapiao-")]
    assert original.content is None  # JSON is embedded by no profile: referenced as received
    assert hashlib.sha256(data).hexdigest() in (original.description or "")


@pytest.mark.parametrize("profile", PROFILES)
def test_json_line_deduction_keeps_the_printed_vat(validator: Validator, profile: str) -> None:
    """A 乐企 差额征税 upload names its deduction on the line (``fpmxList[].kce``): the
    invoice states the printed 5.66 VAT and 10100.00 due, with no rounding amount (the line
    was read as a plain 6 % line: 605.66 VAT and −600.00 as "rounding")."""
    data = json.dumps(differential_upload(), ensure_ascii=False).encode()
    out = convert(data, profile, validator)
    assert out.fatal == []
    totals = out.mapped.invoice.totals
    assert (totals.payable, totals.rounding) == (Decimal("10100.00"), None)
    if profile != "pint-sg":
        assert totals.tax == Decimal("5.66")
