"""Issue 10, items 4, 5, 10, 11, 13, 14 and the mapping entry point: units, Peppol BIS 3 CII,
Chinese exemption reasons, negative VAT in PINT SG, strict inputs, endpoint schemes; profile
choice and the profile table."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from lxml import etree

from gateway.cli import main
from gateway.errors import FieldError, MissingFactError
from gateway.ingest import parse
from gateway.ingest.units import unit_code
from gateway.mapping import DETACHED_SIGNATURE_PROFILES, PROFILE_SPECS, map_parsed
from gateway.partners import PROFILES as PARTNER_PROFILES
from gateway.render import PROFILES as RENDER_PROFILES
from gateway.render import render
from gateway.samples.writers import SELLER2_USCC, einvoice_xml
from gateway.validation import Validator
from gateway.validation.profiles import PROFILE_TABLE, detect_profile
from tests.mapping.fidelity import NS, convert, directory, fapiao, machine_line

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def validator(artefacts_home: Path) -> Validator:
    return Validator.default(artefacts_home)


# 4. units ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("千克", "KGM"), ("公斤", "KGM"), ("KG", "KGM"), ("kg", "KGM"), ("吨", "TNE"),
        ("个", "H87"), ("件", "H87"), ("PCS", "H87"), ("箱", "XBX"), ("瓶", "XBO"),
        ("包", "XPK"), ("双", "PR"), ("对", "PR"), ("批", "LO"), ("毫升", "MLT"),
        ("升", "LTR"), ("千瓦时", "KWH"), ("度", "KWH"), ("米", "MTR"), ("平方米", "MTK"),
        ("立方米", "MTQ"), ("小时", "HUR"), ("天", "DAY"), ("月", "MON"), ("年", "ANN"),
        ("次", "E48"), ("趟", "E54"), ("人次", "E54"), ("台", "C62"), ("套", "SET"), ("ctn", "XCT"), ("m3", "MTQ"),
    ],
)  # fmt: skip
def test_unit_texts_map_to_rec20(text: str, code: str) -> None:
    assert unit_code(text) == (code, True)


@pytest.mark.parametrize("profile", ["bis3", "pint-sg", "cii"])
def test_units_travel_as_codes_with_the_printed_text(validator: Validator, profile: str) -> None:
    lines = [
        machine_line(unit="KG", quantity="250", price="4", amount="1000.00"),
        machine_line(unit="樽", quantity="2", price="500", amount="1000.00"),
    ]
    out = convert(fapiao(lines), profile, validator)
    assert out.fatal == []
    kg, unknown = out.mapped.invoice.lines
    assert (kg.unit_code, kg.quantity) == ("KGM", 250)
    assert unknown.unit_code == "C62"
    assert any(a.value == "樽" for a in unknown.item.attributes)
    assert out.warned("樽", "Rec 20")


# 5. Peppol BIS 3 CII --------------------------------------------------------------------------


def test_bis3_cii_is_the_peppol_cii_document(validator: Validator) -> None:
    out = convert(fapiao(), "bis3-cii", validator)
    assert out.fatal == []
    ctx = "rsm:ExchangedDocumentContext"
    guideline = out.text(f"{ctx}/ram:GuidelineSpecifiedDocumentContextParameter/ram:ID")
    process = out.text(f"{ctx}/ram:BusinessProcessSpecifiedDocumentContextParameter/ram:ID")
    spec = PROFILE_SPECS["bis3-cii"]
    assert guideline == spec.customization_id
    assert guideline.endswith("urn:fdc:peppol.eu:2017:poacc:billing:3.0")
    assert process == "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"
    assert detect_profile(out.root) == "bis3-cii"
    assert spec.document_type(False) == (
        "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100::CrossIndustryInvoice##"
        "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0::D16B"
    )
    plain = convert(fapiao(), "cii", validator)
    assert plain.fatal == [] and detect_profile(plain.root) == "cii"
    assert PROFILE_SPECS["cii"].document_type(False) is None


def test_profile_facts_agree_with_the_validation_table() -> None:
    """The validation package keeps its own table; every mapping profile must be detected as
    itself there, and the other profile lists are the same names."""
    assert set(PROFILE_SPECS) <= set(PROFILE_TABLE)
    assert set(PARTNER_PROFILES) == set(PROFILE_SPECS) == set(RENDER_PROFILES)
    assert {"bis3", "pint", "pint-sg", "cii", "bis3-cii"} == DETACHED_SIGNATURE_PROFILES


@pytest.mark.parametrize("profile", sorted(PROFILE_SPECS))
def test_every_profile_renders_as_what_validation_detects(profile: str) -> None:
    out = convert(fapiao(), profile, None)
    assert detect_profile(out.root) == profile


# 10. exemption reasons ------------------------------------------------------------------------


@pytest.mark.parametrize("profile", ["bis3", "cii", "bis3-cii", "pint"])
def test_export_reason_says_what_the_chinese_case_is(validator: Validator, profile: str) -> None:
    line = machine_line(rate="0", tax="0.00", gross="1000.00")
    labels = [("特定征税方式标签", "02", "零税率")]
    out = convert(fapiao([line], labels=labels), profile, validator)
    assert out.fatal == []
    assert b"VATEX-EU" not in out.xml
    assert "出口零税率".encode() in out.xml


# 11. negative VAT at one rate in PINT SG ------------------------------------------------------


def test_negative_vat_at_one_rate_converts_to_pint_sg(validator: Validator) -> None:
    lines = [
        machine_line(rate="0.06", amount="200.00", tax="12.00", gross="212.00", quantity="1",
                     price="200"),
        machine_line(rate="0.13", amount="-50.00", tax="-6.50", gross="-56.50", quantity=None,
                     price=None),
    ]  # fmt: skip
    out = convert(fapiao(lines), "pint-sg", validator)
    assert out.fatal == []
    inv = out.mapped.invoice
    assert inv.totals.payable == 155.5
    (group,) = inv.vat_breakdown
    assert group.taxable_amount == inv.totals.tax_exclusive == 155.5
    charges = sorted((c.is_charge, c.amount) for c in inv.allowances)
    assert (False, 6.5) in [(a, float(b)) for a, b in charges]


# 13. strict inputs -----------------------------------------------------------------------------


def _template(reference: Path) -> bytes:
    return (
        reference / "fapiao/samples/xml/sta-spec-v5.002_example-template_v0.35.xml"
    ).read_bytes()


def test_a_template_is_refused_in_strict_mode_and_flagged_without(reference: Path) -> None:
    parsed = parse(_template(reference))
    d = directory({"buyer_name": "购买方名称"}, {"seller_id": "销售方纳税人识别号"})
    loose = map_parsed(parsed, d, profile="pint")
    assert any(w.startswith("NOT CONFORMANT") and "销售方纳税人识别号" in w for w in loose.warnings)
    with pytest.raises(FieldError) as err:
        map_parsed(parsed, d, profile="pint", strict=True)
    assert err.value.rule == "strict.input" and "xsd" in str(err.value)


def test_cli_strict_exits_one_and_json_carries_the_warnings(
    reference: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    partners = REPO / "tests" / "data" / "partners.toml"
    source = tmp_path / "template.xml"
    source.write_bytes(_template(reference))
    args = ["convert", str(source), "--to", "cii", "--partners", str(partners), "--no-validate"]
    assert main([*args, "--strict"]) == 1
    assert "strict.input" in capsys.readouterr().err
    assert main([*args, "--json", "--meta", "buyer_reference=X-1"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["profile"] == "cii" and report["validation"] is None
    assert any("NOT CONFORMANT" in w for w in report["warnings"])
    assert "<ram:BuyerReference>X-1</ram:BuyerReference>" in report["document"]
    assert main([*args, "-o", str(tmp_path / "out.xml")]) == 0
    printed = capsys.readouterr()
    assert "warning: NOT CONFORMANT" in printed.err and printed.out == ""


# 14. endpoint schemes against countries --------------------------------------------------------


def test_a_chinese_seller_with_an_sg_uen_endpoint_is_questioned(validator: Validator) -> None:
    inv = fapiao(seller_id=SELLER2_USCC)
    out = convert(
        inv,
        "pint-sg",
        validator,
        exporter={"seller_id": SELLER2_USCC, "endpoint": "0195:SGUEN202312345H"},
    )
    assert out.fatal == []
    assert out.warned("seller endpoint 0195:SGUEN202312345H", "SG", "CN")
    hk = convert(fapiao(), "pint", None, partner={"country": "HK"})
    assert hk.warned("buyer endpoint", "0195", "HK")
    fine = convert(fapiao(), "pint", None)
    assert not fine.warned("endpoint")


@pytest.mark.parametrize(
    ("endpoint", "valid"),
    [
        ("0199:5493001KJTIIGC8Y1R12", True),
        ("0199:5493001KJTIIGC8Y1R13", False),
        ("0088:4035811991021", True),
        ("0088:4035811991022", False),
        ("0060:123456789", True),
        ("0060:12345", False),
    ],
)
def test_exporter_endpoint_values_are_checked_against_their_scheme(
    endpoint: str, valid: bool
) -> None:
    out = convert(fapiao(), "pint", None, exporter={"endpoint": endpoint})
    assert out.warned("seller endpoint", "is not") is not valid


def test_an_sg_uen_endpoint_must_look_like_one() -> None:
    out = convert(fapiao(), "pint", None, partner={"endpoint": "0195:201612345D"})
    assert out.warned("buyer endpoint 0195:201612345D", "SGUEN")


# the entry point ---------------------------------------------------------------------------------


def test_profile_choice_order() -> None:
    parsed = parse(einvoice_xml(fapiao()))
    preferring = directory({"profile": "pint"})
    assert map_parsed(parsed, preferring, profile="bis3", default_profile="cii").profile == "bis3"
    assert map_parsed(parsed, preferring, default_profile="cii").profile == "pint"
    plain = directory()
    chosen = map_parsed(parsed, plain, default_profile="cii")
    assert chosen.profile == "cii" and chosen.partner.buyer_name == chosen.invoice.buyer.name
    assert chosen.exporter is not None
    with pytest.raises(MissingFactError) as err:
        map_parsed(parsed, plain)
    assert err.value.field == "partners.profile"


def test_unknown_metadata_keys_are_ignored() -> None:
    parsed = parse(einvoice_xml(fapiao()))
    out = map_parsed(
        parsed, directory(), profile="pint", metadata={"filename": "x.xml", "profile": "pint"}
    )
    root = etree.fromstring(render(out.invoice))
    assert root.find("cbc:BuyerReference", NS) is None
