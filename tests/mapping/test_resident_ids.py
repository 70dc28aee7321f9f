"""A resident identity card number written into the remark (备注) or a 附加要素 is blanked in
the note (BT-22) and in the embedded original, for every input format; an 18-digit number
whose GB 11643 check character (ISO 7064 MOD 11-2) or birth date is wrong is kept. Before,
only a ``BuyerIdNum`` equal to the number was blanked, and the remark travelled readable."""

from __future__ import annotations

import base64
import io
import zipfile
from pathlib import Path

import pytest

from gateway.ingest.uscc import _ID_CHECK, _ID_WEIGHTS
from gateway.mapping.resident_ids import blank_resident_ids, canonical_id, resident_ids_in
from gateway.samples.build_ofd import ofd_package
from gateway.samples.writers import einvoice_xml, platform_json, zip_bytes
from gateway.validation import Validator
from tests.mapping.fidelity import Converted, convert, fapiao

PROFILES = ["bis3", "pint-sg", "pint", "cii", "bis3-cii"]


def resident_id(first17: str) -> str:
    """``first17`` completed with its GB 11643 check character (fictitious numbers)."""
    total = sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS, strict=True))
    return first17 + _ID_CHECK[total % 11]


ID = resident_id("31011519880817402")
ID_X = "11010519491231002X"
WRONG_CHECK = ID[:17] + str((int(ID[17]) + 1) % 10) if ID[17].isdigit() else ID[:17] + "0"
CUSTOMS = "223320260001234567"  # 18 digits, no real date in positions 7-14
REMARK = f"购买方身份证号：{ID} 合同号：K-1 订单号：{WRONG_CHECK} 报关单号：{CUSTOMS}"
BLANKED = f"购买方身份证号： 合同号：K-1 订单号：{WRONG_CHECK} 报关单号：{CUSTOMS}"


@pytest.fixture(scope="module")
def validator(artefacts_home: Path) -> Validator:
    return Validator.default(artefacts_home)


# the recogniser ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        (f"身份证{ID}号", "身份证号"),
        (f"ID{ID_X}", "ID"),
        (f"id: {ID_X.lower()}.", "id: ."),  # a lower-case x check character
        ("身份证：１１０１０５１９４９１２３１００２Ｘ", "身份证："),  # full-width digits
        (f"{ID} {ID_X}", " "),
        (f"身份证 {ID[:6]} {ID[6:14]} {ID[14:]} 谢谢", "身份证  谢谢"),  # grouped 6-8-4
        (f"ID {ID[:6]}-{ID[6:10]}-{ID[10:14]}-{ID[14:]}.", "ID ."),  # grouped 6-4-4-4
        (f"证件{ID[:6]}\u3000{ID[6:14]}\u3000{ID[14:]}", "证件"),  # ideographic spaces
    ],
)
def test_resident_ids_are_blanked(text: str, kept: str) -> None:
    assert blank_resident_ids(text)[0] == kept


@pytest.mark.parametrize(
    "text",
    [
        WRONG_CHECK,  # check character wrong
        "110105194902300021",  # 30 February
        resident_id("11010518800101001"),  # born before 1900: no living ID holder
        CUSTOMS,
        f"26{ID}",  # inside a 20-digit invoice number
        f"{ID}7",  # 19 digits
        "合同号：HT-2026-08 订单号：PO-7788",
        f"{ID[:6]}  {ID[6:]}",  # two gaps: two numbers, not one written in groups
        f"{ID[:3]} {ID[3:]}",  # a gap where no group ends
        f"{ID[:6]}号{ID[6:]}",  # a character, not a gap
    ],
)
def test_ordinary_numbers_are_kept(text: str) -> None:
    assert blank_resident_ids(text) == (text, 0)


def test_a_number_written_in_groups_is_one_subject() -> None:
    """The gate counts subjects by the canonical number: grouped, full-width or plain, one."""
    text = f"{ID} 又 {ID[:6]} {ID[6:14]} {ID[14:]} 又 {ID[:6]}－{ID[6:10]}－{ID[10:14]}－{ID[14:]}"
    assert {canonical_id(found) for found in resident_ids_in(text)} == {ID}


# XML: note and embedded original ------------------------------------------------------------


def _embedded(out: Converted) -> bytes:
    (original,) = [a for a in out.mapped.invoice.attachments if a.content is not None]
    return original.content or b""


def _check_note(out: Converted, *gone: str) -> None:
    (note,) = out.mapped.invoice.notes
    for value in gone:
        assert value not in note
        assert value.encode() not in out.xml
    assert out.warned("resident identity card", "blanked in the note")


@pytest.mark.parametrize("profile", PROFILES)
def test_xml_remark(validator: Validator, profile: str) -> None:
    out = convert(fapiao(remark=REMARK), profile, validator)
    assert out.fatal == []
    _check_note(out, ID)
    (note,) = out.mapped.invoice.notes
    assert BLANKED in note  # the rest of the remark, ordinary 18-digit numbers too
    assert out.mapped.invoice.contract_ref == "K-1"
    assert CUSTOMS in [a.id for a in out.mapped.invoice.attachments]
    if profile in ("pint", "pint-sg"):
        content = _embedded(out)
        assert ID.encode() not in content
        assert f"<Remark>{BLANKED}</Remark>".encode() in content
        assert base64.b64encode(ID.encode()) not in out.xml
        (original,) = [a for a in out.mapped.invoice.attachments if a.content is not None]
        description = original.description or ""
        assert "personal data taken out: ID-card number blanked in Remark" in description
        assert out.warned("embedded original: ID-card number blanked in Remark (personal data)")
        assert not out.warned("removed")


@pytest.mark.parametrize("profile", ["pint", "pint-sg", "bis3"])
def test_xml_additional_element(validator: Validator, profile: str) -> None:
    inv = fapiao(additional=[("经办人身份证", "文本型", ID), ("项目编号", "文本型", "PRJ-9")])
    out = convert(inv, profile, validator)
    assert out.fatal == []
    _check_note(out, ID)
    assert "项目编号: PRJ-9" in out.mapped.invoice.notes[0]
    if profile != "bis3":
        content = _embedded(out)
        assert ID.encode() not in content
        assert b"<InformationValue></InformationValue>" in content
        assert b"<InformationValue>PRJ-9</InformationValue>" in content
        assert out.warned(
            "embedded original: ID-card number blanked in Additional/InformationValue"
        )


def test_the_buyers_own_id_in_its_field_and_in_the_remark(validator: Validator) -> None:
    person = "张三（个人）"
    inv = fapiao(buyer_id=ID_X, buyer_name=person, remark=f"购买方证件：{ID_X}")
    out = convert(inv, "pint", validator, partner={"buyer_name": person})
    assert out.fatal == []
    content = _embedded(out)
    assert ID_X.encode() not in content and ID_X.encode() not in out.xml
    assert "<Remark>购买方证件：</Remark>".encode() in content


def test_a_remark_without_an_id_is_embedded_unchanged(validator: Validator) -> None:
    data = einvoice_xml(fapiao(remark=f"订单号：{WRONG_CHECK} 报关单号：{CUSTOMS}"))
    out = convert(data, "pint", validator)
    assert out.fatal == []
    assert _embedded(out) == data
    assert not out.warned("resident identity card")


# OFD and platform JSON: the note ------------------------------------------------------------


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("kind", ["ofd", "json-remark", "json-additional"])
def test_ofd_and_json(validator: Validator, profile: str, kind: str) -> None:
    if kind == "ofd":
        data = ofd_package(fapiao(remark=REMARK))
    elif kind == "json-remark":
        data = platform_json(fapiao(remark=REMARK))
    else:
        data = platform_json(fapiao(additional=[("购买方证件号码", "文本型", ID_X)]))
    out = convert(data, profile, validator)
    assert out.fatal == []
    _check_note(out, ID, ID_X)
    if kind != "json-additional":
        assert BLANKED in out.mapped.invoice.notes[0]


# legacy OFD: the embedded original_invoice.xml ------------------------------------------------

LEGACY = "ofdrw_fapiao-shili_vat-e-ordinary-2020.ofd"


@pytest.mark.parametrize("profile", ["pint", "pint-sg"])
def test_legacy_ofd_note(validator: Validator, reference: Path, profile: str) -> None:
    """The legacy invoice's remark is ``fp:Note`` in ``original_invoice.xml``."""
    package = zipfile.ZipFile(io.BytesIO((reference / "fapiao/samples/ofd" / LEGACY).read_bytes()))
    members = {name: package.read(name) for name in package.namelist()}
    xml = "Doc_0/Attachs/original_invoice.xml"
    members[xml] = members[xml].replace(
        b"<fp:Note></fp:Note>", f"<fp:Note>经办人身份证号：{ID}</fp:Note>".encode()
    )
    out = convert(
        zip_bytes(members),
        profile,
        validator,
        partner={"buyer_name": "科游迈利有限公司"},
        exporter={"seller_id": "91500106MA2CE71F65"},
    )
    assert out.fatal == []
    _check_note(out, ID)
    content = _embedded(out)
    assert ID.encode() not in content
    assert "<fp:Note>经办人身份证号：</fp:Note>".encode() in content
    assert out.warned("embedded original: ID-card number blanked in Note (personal data)")


def test_the_sample_ids_are_valid() -> None:
    assert blank_resident_ids(ID)[1] == 1 and blank_resident_ids(ID_X)[1] == 1
