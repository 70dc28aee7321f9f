"""Issue 10, items 6-9: references in the 备注, special business blocks, printed facts the
directory must not silently overwrite, and the original for every input format."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import pytest

from gateway.ingest.uscc import make_uscc
from gateway.samples.build_ofd import ofd_package
from gateway.samples.writers import einvoice_xml, platform_json
from gateway.validation import Validator
from tests.mapping.fidelity import convert, fapiao, machine_line

PROFILES = ["bis3", "pint-sg", "pint", "cii", "bis3-cii"]


@pytest.fixture(scope="module")
def validator(artefacts_home: Path) -> Validator:
    return Validator.default(artefacts_home)


# 6. references in the remark ------------------------------------------------------------------

REMARK = (
    "合同号：HT-2026-08 项目：临港一期 订单号：PO-7788 报关单号：223320260001234567 CIF Singapore"
)


@pytest.mark.parametrize("profile", PROFILES)
def test_remark_references_become_business_terms(validator: Validator, profile: str) -> None:
    out = convert(fapiao(remark=REMARK), profile, validator)
    inv = out.mapped.invoice
    assert out.fatal == []
    assert (inv.contract_ref, inv.project_ref, inv.order_ref) == (
        "HT-2026-08",
        "临港一期",
        "PO-7788",
    )
    assert "223320260001234567" in [a.id for a in inv.attachments]
    assert REMARK in inv.notes[0]
    assert b"223320260001234567" in out.xml and b"HT-2026-08" in out.xml


def test_red_letter_confirmation_number_is_a_supporting_document(validator: Validator) -> None:
    red = fapiao(
        [machine_line(amount="-1000.00", tax="-130.00", gross="-1130.00", quantity="-2")],
        blue="N",
        red_original="26312000000000100001",
        remark="红字发票信息确认单编号：31010526112200009999",
    )
    out = convert(red, "pint-sg", validator)
    assert out.fatal == []
    refs = {a.id: a.description for a in out.mapped.invoice.attachments}
    assert "31010526112200009999" in refs and "确认单" in (refs["31010526112200009999"] or "")


# 7. special business blocks -------------------------------------------------------------------

SITE = "上海市浦东新区临港新片区海港大道1550号"


@pytest.mark.parametrize("profile", PROFILES)
def test_construction_site_is_the_delivery_place(validator: Validator, profile: str) -> None:
    block = ("ConstructionServices", {"OccurredSite": SITE, "ItemName": "临港物流仓库二期"})
    out = convert(fapiao(special=[block]), profile, validator)
    inv = out.mapped.invoice
    assert out.fatal == []
    assert inv.delivery is not None and inv.delivery.address is not None
    assert (inv.delivery.address.street, inv.delivery.address.country) == (SITE, "CN")
    assert inv.project_ref == "临港物流仓库二期"
    assert SITE.encode() in out.xml


@pytest.mark.parametrize("profile", PROFILES)
def test_lease_term_is_the_invoicing_period(validator: Validator, profile: str) -> None:
    block = (
        "RealEstateLease",
        {
            "RealEstateWarrantNumber": "沪2026浦字第001234号",
            "RealEstateAddress": SITE,
            "TheLeaseTermBeginsAndEnds": "2026-01-01至2026-12-31",
        },
    )
    out = convert(fapiao(special=[block]), profile, validator)
    inv = out.mapped.invoice
    assert out.fatal == []
    assert inv.period is not None
    assert (str(inv.period.start), str(inv.period.end)) == ("2026-01-01", "2026-12-31")
    assert inv.delivery is not None and inv.delivery.address is not None
    assert b"2026-12-31" in out.xml or b"20261231" in out.xml


def test_special_fields_without_a_business_term_are_warned() -> None:
    """货物运输 (FreightService, twice) and the construction block's fields other than the site
    and project have no EN 16931 place: each block's are named once in a warning (they were
    dropped without a word); what is carried is not named."""
    freight = {"Departure": "上海", "Destination": "新加坡", "NameOfGoodsTransported": "机床"}
    blocks = [
        ("FreightService", freight),
        ("FreightService", {**freight, "TransportationMeansNo": "沪A12345"}),
        ("ConstructionServices", {"OccurredSite": SITE, "CrossRegionIdentifier": "否"}),
    ]
    out = convert(fapiao(special=blocks), "bis3", None)
    assert out.warned(
        "FreightService: Departure, Destination, NameOfGoodsTransported, TransportationMeansNo "
        "not carried"
    )
    assert out.warned("ConstructionServices: CrossRegionIdentifier not carried")
    assert not out.warned("OccurredSite")


@pytest.mark.parametrize("profile", PROFILES)
def test_payment_records_reach_the_note(validator: Validator, profile: str) -> None:
    """附加要素 payment records (支付渠道, 交易单号) travel in BT-22 as the 附加要素 do."""
    from tests.ingest.test_edge_cases import with_payment_records

    out = convert(with_payment_records(fapiao()), profile, validator)
    assert out.fatal == []
    wanted = "支付记录 (payments recorded on the fapiao): 支付渠道 01, 交易单号 4200001234202611200001; 交易单号 W99"
    assert any(wanted in note for note in out.mapped.invoice.notes)
    assert wanted.encode() in out.xml


@pytest.mark.parametrize("profile", ["pint", "pint-sg"])
def test_passenger_and_medical_blocks_never_travel(validator: Validator, profile: str) -> None:
    blocks = [
        ("PassengerTransportation", {"Traveler": "张三", "ValidIDNumber": "110101199003071234"}),
        ("MedicalService-Outpatient", {"PatientName": "李四", "PatientIdNumber": "X1234567"}),
    ]
    out = convert(fapiao(special=blocks), profile, validator)
    assert out.fatal == []
    (original,) = [a for a in out.mapped.invoice.attachments if a.content is not None]
    assert b"110101199003071234" not in original.content  # type: ignore[operator]
    assert "张三".encode() not in original.content  # type: ignore[operator]
    assert b"PassengerTransportation" not in original.content  # type: ignore[operator]
    assert b"MedicalService-Outpatient" not in original.content  # type: ignore[operator]
    assert "PassengerTransportation" in (original.description or "")
    assert out.warned("PassengerTransportation", "personal data")
    assert base64.b64encode("张三".encode()) not in out.xml


@pytest.mark.parametrize("profile", ["pint", "pint-sg"])
def test_a_resident_id_not_forwarded_is_blank_in_the_embedded_original(
    validator: Validator, profile: str
) -> None:
    """BT-46 left the ID-card number out with "not forwarded", but the embedded fapiao
    (BT-125) still carried it in BuyerIdNum."""
    person = "张三（个人）"
    inv = fapiao(buyer_id="11010519491231002X", buyer_name=person)
    out = convert(inv, profile, validator, partner={"buyer_name": person})
    assert out.fatal == []
    assert out.warned("resident identity card", "not forwarded")
    (original,) = [a for a in out.mapped.invoice.attachments if a.content is not None]
    content = original.content or b""
    assert b"11010519491231002X" not in content
    assert b"<BuyerIdNum></BuyerIdNum>" in content or b"<BuyerIdNum/>" in content
    assert person.encode() in content  # only what was dropped is blanked
    assert "BuyerIdNum" in (original.description or "")
    assert out.warned("embedded original", "BuyerIdNum", "personal data")


# 8. printed facts ------------------------------------------------------------------------------


@pytest.mark.parametrize("profile", ["bis3", "pint-sg", "cii"])
def test_printed_addresses_are_kept_and_conflicts_reported(
    validator: Validator, profile: str
) -> None:
    inv = fapiao(seller_addr="北京市海淀区中关村大街1号")
    out = convert(inv, profile, validator, exporter={"city": "Hangzhou", "postcode": "310000"})
    seller = out.mapped.invoice.seller
    assert out.fatal == []
    assert seller.address is not None
    assert seller.address.street == "北京市海淀区中关村大街1号"
    assert seller.address.city is None and seller.address.postcode is None
    assert out.warned("seller address", "Hangzhou")
    buyer = out.mapped.invoice.buyer.address
    assert buyer is not None
    assert buyer.street == "8 Marina View, #20-01, Asia Square Tower 1, Singapore 018960"
    assert (buyer.city, buyer.postcode, buyer.country) == ("Singapore", "018960", "SG")


def test_override_address_uses_the_directory_address_whole(validator: Validator) -> None:
    exporter = {
        "street": "Lingang Avenue 1",
        "city": "Shanghai",
        "postcode": "201306",
        "override_address": True,
    }
    out = convert(fapiao(), "bis3", validator, exporter=exporter)
    address = out.mapped.invoice.seller.address
    assert out.fatal == [] and address is not None
    assert (address.street, address.city, address.postcode) == (
        "Lingang Avenue 1",
        "Shanghai",
        "201306",
    )
    assert not out.warned("seller address")


@pytest.mark.parametrize("profile", PROFILES)
def test_the_buyers_printed_tax_id_is_carried(validator: Validator, profile: str) -> None:
    buyer_id = make_uscc("91310000MA1K00001")
    out = convert(fapiao(buyer_id=buyer_id), profile, validator)
    assert out.fatal == []
    assert [i.value for i in out.mapped.invoice.buyer.identifiers] == [buyer_id]
    assert buyer_id.encode() in out.xml


def test_an_id_card_number_is_not_forwarded() -> None:
    out = convert(fapiao(buyer_id="110101199003071233"), "pint", None)
    assert out.mapped.invoice.buyer.identifiers == []
    assert b"110101199003071233" not in out.xml.split(b"EmbeddedDocumentBinaryObject")[0]


# 9. the original for every input --------------------------------------------------------------


@pytest.mark.parametrize("profile", ["pint", "pint-sg"])
def test_xml_is_embedded_where_the_profile_accepts_xml(validator: Validator, profile: str) -> None:
    data = einvoice_xml(fapiao())
    out = convert(data, profile, validator)
    (att,) = out.mapped.invoice.attachments
    assert out.fatal == []
    assert (att.mime_code, att.content) == ("application/xml", data)


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("kind", ["ofd", "json"])
def test_ofd_and_json_originals_are_referenced(
    validator: Validator, profile: str, kind: str
) -> None:
    data = ofd_package(fapiao()) if kind == "ofd" else platform_json(fapiao())
    out = convert(data, profile, validator)
    assert out.fatal == []
    (att,) = [a for a in out.mapped.invoice.attachments if a.id.startswith("fapiao-")]
    assert att.description is not None
    assert hashlib.sha256(data).hexdigest() in att.description
    assert att.content is None
    assert out.warned("not embedded", kind.upper() if kind == "ofd" else "json")


def test_a_directory_city_the_printed_address_names_is_added_without_a_word() -> None:
    out = convert(fapiao(), "bis3", None, exporter={"city": "Shanghai"})
    address = out.mapped.invoice.seller.address
    assert address is not None
    assert (address.street, address.city) == ("上海市浦东新区临港新片区示例路88号", "Shanghai")
    assert not out.warned("seller address")
    same = convert(
        fapiao(),
        "bis3",
        None,
        exporter={"street": "上海市浦东新区临港新片区示例路88号", "postcode": "201306"},
    )
    assert same.mapped.invoice.seller.address is not None
    assert same.mapped.invoice.seller.address.postcode == "201306"
    assert not same.warned("seller address")


def test_every_remark_and_additional_element_reaches_the_note(validator: Validator) -> None:
    """Only the first of two <Remark>s reached BT-22, and no 附加要素 pair did."""
    raw = einvoice_xml(fapiao(remark="第一条备注 合同号：K-1"))
    more = (
        "<Remark>第二条备注：订单号：PO-2</Remark>"
        "<Additional><Information>项目编号</Information><InformationType>文本型"
        "</InformationType><InformationValue>PRJ-9</InformationValue></Additional>"
        "<Additional><Information>Incoterms</Information><InformationType>文本型"
        "</InformationType><InformationValue>FOB Shanghai</InformationValue></Additional>"
    ).encode()
    first = "<Remark>第一条备注 合同号：K-1</Remark>".encode()
    assert first in raw
    out = convert(raw.replace(first, first + more), "pint", validator)
    assert out.fatal == []
    (note,) = out.mapped.invoice.notes
    for text in ("第一条备注 合同号：K-1", "第二条备注：订单号：PO-2", "项目编号: PRJ-9",
                 "Incoterms: FOB Shanghai"):  # fmt: skip
        assert text in note
    assert out.mapped.invoice.contract_ref == "K-1"
    assert out.mapped.invoice.order_ref == "PO-2"
