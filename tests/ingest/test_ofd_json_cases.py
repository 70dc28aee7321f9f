"""OFD quirks (FORMAT.md §9, §13.15) and platform JSON shapes (§11), built here."""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest

from gateway.errors import FieldError, InputError
from gateway.ingest import detect, parse
from gateway.model import TaxCase
from gateway.samples import catalogue
from gateway.samples.build_ofd import OfdOptions, ofd_package
from gateway.samples.writers import (
    SELLER_USCC,
    SampleInvoice,
    SampleLine,
    einvoice_xml,
    platform_json,
    zip_bytes,
)
from gateway.validation import Validator
from tests.ingest.leqi import differential_upload
from tests.mapping.fidelity import BUYER, convert

INV = catalogue.OFD_SERVICES


def _codes(data: bytes) -> set[str]:
    return {w.code for w in parse(data).warnings}


def test_gross_printed_only_as_yen_is_recomputed() -> None:
    parsed = parse(ofd_package(INV, OfdOptions(gross_only_yen=True)))
    assert parsed.invoice.totals.tax_inclusive == Decimal("49820.00")
    assert {w.code for w in parsed.warnings} == {"fapiao.gross-recomputed"}


def test_gross_recomputed_against_the_amount_in_words_is_refused_when_they_differ() -> None:
    """FORMAT.md §13.15: a gross printed only as ``¥`` is recomputed as net + tax *and
    cross-checked with the amount in words*. When the two differ, the net or the tax was
    not read as printed; the recomputed gross went out with a warning. Refused now, naming
    the amount in words, which is then the only printed gross."""
    same = replace(INV, words="肆万玖仟捌佰贰拾圆整")
    agreeing = parse(ofd_package(same, OfdOptions(gross_only_yen=True, words_tag=True)))
    assert agreeing.invoice.totals.tax_inclusive == Decimal("49820.00")
    (recomputed,) = agreeing.warnings
    assert recomputed.code == "fapiao.gross-recomputed" and "amount in words" in recomputed.message
    words = replace(INV, words="肆万玖仟捌佰贰拾壹圆整")  # 49821.00, one yuan more
    with pytest.raises(FieldError) as caught:
        parse(ofd_package(words, OfdOptions(gross_only_yen=True, words_tag=True)))
    assert caught.value.rule == "fapiao.gross-words"
    assert caught.value.field is not None and "gross_words" in caught.value.field
    assert "49820.00" in caught.value.message and "49821.00" in caught.value.message


@pytest.mark.parametrize("cut", [None, 1, 5, 9])
def test_item_names_split_over_text_objects(cut: int | None) -> None:
    parsed = parse(ofd_package(INV, OfdOptions(split_names_at=cut)))
    assert [ln.item.name for ln in parsed.invoice.lines] == [ln.name for ln in INV.lines]
    assert [ln.net_amount for ln in parsed.invoice.lines] == [
        Decimal("40000.00"),
        Decimal("7000.00"),
    ]


def test_flat_columns_skip_the_discount_row() -> None:
    """Quantity, price and unit are printed for the two priced lines only, not for the
    discount row after the first: they belong to those two lines in order (they were dropped
    from every line, and the folded discount then broke the line arithmetic)."""
    first, second = INV.lines
    discount = SampleLine(first.name, "-3000.00", "6%", "-180.00")
    inv = replace(INV, lines=[first, discount, second], net="44000.00", tax="2640.00",
                  gross="46640.00")  # fmt: skip
    parsed = parse(ofd_package(inv, OfdOptions(partial_columns=True)))
    assert "ofd.line-columns" not in {w.code for w in parsed.warnings}
    got = [(ln.quantity, ln.price, ln.net_amount, ln.quantity_given)
           for ln in parsed.invoice.lines]  # fmt: skip
    assert got == [
        (Decimal(1), Decimal("40000.00"), Decimal("40000.00"), True),
        (Decimal(1), Decimal("-3000.00"), Decimal("-3000.00"), False),
        (Decimal(2), Decimal("3500.00"), Decimal("7000.00"), True),
    ]
    assert parsed.invoice.lines[1].is_discount
    printed_units = [
        [a.value for a in ln.item.attributes if a.name.startswith("Unit")]
        for ln in parsed.invoice.lines
    ]
    assert printed_units == [["项"], [], ["次"]]


_PREPAID = SampleLine("*预付卡销售*充值卡", "1000.00", "不征税", None, unit="张", quantity="1",
                      price="1000.00")  # fmt: skip


@pytest.mark.parametrize("discounted", [False, True])
def test_a_not_subject_row_prints_no_tax_and_keeps_the_other_rows_taxes(
    artefacts_home: Path, discounted: bool
) -> None:
    """FORMAT.md §2.1: a 不征税 line's tax cell (ComTaxAm) is empty, so the flat tax column
    has one piece fewer than there are rows. It was taken as a column that does not line up
    and dropped for every line: the two 6 % lines lost their 2,820.00 of VAT and the
    conversion was refused for totals that do not add up. The pieces now fill the rows whose
    rate is not 不征税, in order (also next to a discount row, which prints a tax but no
    quantity), and the output passes the official rules."""
    first, second = INV.lines
    rows = [first, _PREPAID, second]
    net, tax = "48000.00", "2820.00"
    if discounted:
        rows.insert(1, SampleLine(first.name, "-3000.00", "6%", "-180.00"))
        net, tax = "45000.00", "2640.00"
    gross = f"{Decimal(net) + Decimal(tax):.2f}"
    inv = replace(INV, lines=rows, net=net, tax=tax, gross=gross, buyer_name=BUYER)
    data = ofd_package(inv, OfdOptions(partial_columns=True))
    parsed = parse(data)
    assert "ofd.line-columns" not in {w.code for w in parsed.warnings}
    got = [(ln.net_amount, ln.tax_amount, ln.tax_case) for ln in parsed.invoice.lines]
    expected = [(Decimal(r.amount), None if r.tax is None else Decimal(r.tax)) for r in rows]
    assert [(amount, tax) for amount, tax, _ in got] == expected
    assert [case for *_, case in got].count(TaxCase.NOT_SUBJECT) == 1
    validator = Validator.default(artefacts_home)
    for profile in ("pint-sg", "bis3"):
        out = convert(data, profile, validator)
        assert out.fatal == [], profile
        assert out.mapped.invoice.totals.tax_inclusive == Decimal(gross)


def test_case_mismatched_package_paths() -> None:
    parsed = parse(ofd_package(INV, OfdOptions(upper_case_dirs=True)))
    assert parsed.invoice.number == INV.number and parsed.warnings == []


def test_customdata_disagreeing_with_tags_is_warned() -> None:
    data = ofd_package(INV, OfdOptions(customdata_net="47000.01"))
    parsed = parse(data)
    assert parsed.invoice.totals.tax_exclusive == Decimal("47000.00")  # the tag wins
    warning = next(w for w in parsed.warnings if w.code == "ofd.customdata-mismatch")
    assert "合计金额" in warning.message


def test_ofd_with_embedded_einvoice_xml() -> None:
    xml = einvoice_xml(catalogue.EXPORT_ZERO_RATE)
    data = zip_bytes(
        {
            "OFD.xml": b'<ofd:OFD xmlns:ofd="http://www.ofdspec.org/2016"><ofd:DocBody>'
            b"<ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>",
            "Doc_0/Document.xml": b'<ofd:Document xmlns:ofd="http://www.ofdspec.org/2016">'
            b"<ofd:Attachments>Attachs/Attachments.xml</ofd:Attachments></ofd:Document>",
            "Doc_0/Attachs/Attachments.xml": b'<ofd:Attachments xmlns:ofd="http://www.ofdspec.org/2016">'
            b'<ofd:Attachment Name="invoice" Format="xml"><ofd:FileLoc>invoice.xml</ofd:FileLoc>'
            b"</ofd:Attachment></ofd:Attachments>",
            "Doc_0/Attachs/invoice.xml": xml,
        }
    )
    assert detect(data) == "fapiao-ofd"
    parsed = parse(data)
    assert parsed.source_format == "fapiao-ofd" and parsed.original_xml == xml
    assert parsed.invoice.number == catalogue.EXPORT_ZERO_RATE.number


def test_zip_without_any_invoice() -> None:
    with pytest.raises(InputError) as caught:
        parse(zip_bytes({"readme.txt": b"hello"}))
    assert caught.value.rule == "zip.no-invoice"


def _bundle(xml: SampleInvoice, ofd: SampleInvoice) -> bytes:
    stem = "dzfp_26312000000000000101_示例_20260914102133"
    return zip_bytes(
        {
            f"{stem}.xml": einvoice_xml(xml),
            f"{stem}.ofd": ofd_package(ofd),
            f"{stem}.pdf": b"%PDF-1.7",
        }
    )


@pytest.mark.parametrize(
    "sample", ["EXPORT_ZERO_RATE", "MULTI_RATE_DISCOUNT", "RED_LETTER", "EXEMPT", "OFD_SERVICES"]
)
def test_download_bundle_reads_the_xml_and_says_its_ofd_agrees(sample: str) -> None:
    inv = getattr(catalogue, sample)
    data = _bundle(inv, inv)
    assert detect(data) == "fapiao-xml"
    parsed = parse(data)
    assert parsed.source_format == "fapiao-xml" and parsed.original == data
    assert parsed.original_xml == einvoice_xml(inv)
    assert parsed.invoice.number == inv.number
    assert parsed.facts.extra["bundle_member"].endswith(".xml")
    (agree,) = [w for w in parsed.warnings if w.code.startswith("bundle.")]
    assert agree.code == "bundle.renditions-agree" and agree.field and agree.field.endswith(".ofd")
    assert "XML" in agree.message and "is used" in agree.message
    assert f"line {len(inv.lines)} amount" in agree.message and "gross total" in agree.message


def _moved_line_amount(inv: SampleInvoice) -> SampleInvoice:
    """Ten yuan moved from the second line to the first: every total unchanged."""
    first, second = inv.lines
    return replace(
        inv,
        lines=[
            replace(first, amount="40010.00", price="40010.00"),
            replace(second, amount="6990.00", price="3495.00"),
        ],
    )


@pytest.mark.parametrize(
    ("ofd", "field", "values"),
    [
        (catalogue.EXPORT_ZERO_RATE, "InvoiceNumber", (INV.number, "26312000000000000101")),
        (replace(INV, issued="2026-11-11 09:00:00"), "RequestTime", ("2026-11-10", "2026-11-11")),
        (replace(INV, tax="2830.00", gross="49830.00"), "TotalTaxAm", ("2820.00", "2830.00")),
        (replace(INV, seller_id="91310000MA1K4LXX3Q"), "SellerIdNum", (SELLER_USCC, "91310000MA1K4LXX3Q")),
        (replace(INV, lines=INV.lines[:1], net="40000.00", tax="2400.00", gross="42400.00"),
         "TotalAmWithoutTax", ("47000.00", "40000.00")),
        (_moved_line_amount(INV), "IssuItemInformation[1]/Amount", ("40000.00", "40010.00")),
    ],
)  # fmt: skip
def test_a_bundle_whose_ofd_shows_another_invoice_is_refused(
    ofd: SampleInvoice, field: str, values: tuple[str | None, str]
) -> None:
    """The bundle's XML was read and the OFD beside it ignored, whatever it showed: another
    invoice's OFD (a wrong pairing), or one with a changed figure. The two renditions of one
    fapiao (FORMAT.md §1, §13.18) are now compared on number, date, seller and buyer ids,
    totals, line count and line amounts; the first difference refuses the bundle naming the
    field and both values."""
    with pytest.raises(FieldError) as caught:
        parse(_bundle(INV, ofd))
    assert caught.value.rule == "bundle.mismatch"
    assert caught.value.field is not None and caught.value.field.endswith(f".ofd:{field}")
    assert all(v in caught.value.message for v in values if v)


def test_an_unreadable_ofd_beside_the_xml_is_reported_not_compared() -> None:
    stem = "dzfp_26312000000000000163"
    data = zip_bytes({f"{stem}.xml": einvoice_xml(INV), f"{stem}.ofd": b"not a zip"})
    parsed = parse(data)
    assert parsed.invoice.number == INV.number
    (unread,) = [w for w in parsed.warnings if w.code.startswith("bundle.")]
    assert unread.code == "bundle.ofd-unread" and f"{stem}.xml is used" in unread.message


def test_download_bundle_with_only_an_ofd() -> None:
    data = zip_bytes({"invoice.ofd": ofd_package(INV), "invoice.pdf": b"%PDF-1.7"})
    assert detect(data) == "fapiao-ofd"
    assert parse(data).invoice.number == INV.number


@pytest.mark.parametrize(
    ("members", "rule"),
    [
        (
            {"a.xml": einvoice_xml(INV), "b.xml": einvoice_xml(catalogue.EXEMPT)},
            "zip.many-invoices",
        ),
        ({"inner.ofd": zip_bytes({"x.xml": einvoice_xml(INV)})}, "zip.nested"),
    ],
)
def test_bundles_that_are_refused(members: dict[str, bytes], rule: str) -> None:
    with pytest.raises(InputError) as caught:
        parse(zip_bytes(members))
    assert caught.value.rule == rule


def test_a_chain_of_nested_bundles_is_refused_at_its_first_link() -> None:
    """Each bundle of the chain holding the next: 1,200 links (130 KB) once raised
    RecursionError (every link was opened to decide whether the one above was nested)."""
    data = einvoice_xml(INV)
    for index in range(1200):
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
            archive.writestr("invoice.ofd" if index else "invoice.xml", data)
        data = buffer.getvalue()
    with pytest.raises(InputError) as caught:
        parse(data)
    assert caught.value.rule == "zip.nested"


def test_ofd_without_any_invoice_data() -> None:
    data = zip_bytes(
        {"OFD.xml": b'<ofd:OFD xmlns:ofd="http://www.ofdspec.org/2016"><ofd:DocBody/></ofd:OFD>'}
    )
    with pytest.raises(FieldError) as caught:
        parse(data)
    assert caught.value.rule == "ofd.no-data"


# platform JSON --------------------------------------------------------------------------------


def _doc() -> dict[str, object]:
    doc: dict[str, object] = json.loads(
        platform_json(catalogue.PLATFORM_EXPORT, export_policy="01")
    )
    return doc


def _dump(doc: object) -> bytes:
    return json.dumps(doc, ensure_ascii=False).encode()


def test_json_in_a_response_envelope() -> None:
    parsed = parse(_dump({"code": "0000", "msg": "ok", "data": _doc()}))
    assert parsed.source_format == "fapiao-json"
    assert parsed.invoice.number == catalogue.PLATFORM_EXPORT.number


def test_json_numbers_are_decimals_not_floats() -> None:
    text = _dump(_doc()).replace(b'"je": "28650.00"', b'"je": 28650.10')
    parsed = parse(text)
    assert parsed.invoice.lines[0].net_amount == Decimal("28650.10")
    assert "sta.line-sum-tolerance" in {w.code for w in parsed.warnings}


def test_json_numbers_in_exponent_form_are_read() -> None:
    """``2.865E4`` and ``3E2`` are JSON numbers (RFC 8259) like ``28650`` and ``300``: read as
    those (they became the texts ``2.865E+4`` / ``3E+2``, refused or ignored as no number)."""
    text = _dump(_doc()).replace(b'"je": "28650.00"', b'"je": 2.865E4')
    text = text.replace(b'"sl": "300"', b'"sl": 3E2')
    assert b"3E2" in text
    line = parse(text).invoice.lines[0]
    assert (line.net_amount, line.quantity) == (Decimal("28650"), Decimal("300"))


def test_json_red_letter_and_natural_person() -> None:
    doc = _doc()
    doc.update(lzfpbz="1", dylzfphm="26312000000000000101", hzqrxxdbh="31012026100800000099",
               gmfzrrbz="Y", gmfmc="王示例", hjje="-28650.00", jshj="-28650.00",
               ckywsyzcDm="")  # fmt: skip
    doc["fpmxList"] = [dict(doc["fpmxList"][0], je="-28650.00", hsje="-28650.00", sl="-300")]  # type: ignore[index]
    parsed = parse(_dump(doc))
    assert parsed.invoice.type_code == "381" and parsed.facts.is_red
    assert [p.number for p in parsed.invoice.preceding_invoices] == ["26312000000000000101"]
    assert parsed.invoice.buyer.is_natural_person
    assert parsed.invoice.lines[0].tax_case is TaxCase.ZERO_RATE


def test_json_policy_flags_and_discount_lines() -> None:
    doc = _doc()
    lines = doc["fpmxList"]
    assert isinstance(lines, list)
    lines[0].update(yhzcbs="03", slv="免税", se="***")
    lines[1].update(fphxz="01", je="-50.00", hsje="-50.00", sl="", dj="")
    doc.update(hjje="28600.00", jshj="28600.00")
    parsed = parse(_dump(doc))
    exempt, discount = parsed.invoice.lines
    assert exempt.tax_case is TaxCase.EXEMPT and exempt.vat_category == "E"
    assert discount.is_discount and not discount.quantity_given


def test_json_verification_shape() -> None:
    doc = {
        "fphm": "26312000000000000777", "kprq": "2026-11-02 11:12:13", "fppzDm": "82",
        "sflzfp": "Y", "xsfnsrsbh": "91310115MA1FL8K22H", "xsfmc": "上海临港示例精密机械有限公司",
        "gmfmc": "Lion City Trading Pte. Ltd.", "hjje": "100.00", "hjse": "6.00", "jshj": "106.00",
        "hwxx": [{"xh": 1, "hwhyslwfwmc": "*现代服务*咨询", "fpjysl": "1", "fpjydj": "100",
                  "je": "100.00", "slv": "0.06", "se": "6.00"}],
    }  # fmt: skip
    parsed = parse(_dump(doc))
    assert parsed.invoice.lines[0].price == 100 and parsed.facts.kind == "82"
    assert parsed.warnings == []


def test_json_additional_elements_are_read_as_the_xml_reads_them() -> None:
    """附加要素 ``fjysList[]{fjysmc, fjyslx, fjysz}`` (it was ignored): the same facts as
    ``AdditionalInformation/Additional`` in the XML; pairs without a name or value are skipped
    there and here."""
    pairs = [("项目编号", "文本型", "PRJ-9"), ("", "文本型", "no name"), ("空值", "文本型", ""),
             ("Incoterms", "文本型", "FOB Shanghai")]  # fmt: skip
    inv = replace(catalogue.PLATFORM_EXPORT, additional=pairs)
    from_json = parse(platform_json(inv)).facts.extra
    from_xml = parse(einvoice_xml(inv)).facts.extra
    wanted = {"additional.1.项目编号": "PRJ-9", "additional.4.Incoterms": "FOB Shanghai"}
    assert {k: v for k, v in from_json.items() if k.startswith("additional.")} == wanted
    assert {k: v for k, v in from_xml.items() if k.startswith("additional.")} == wanted


@pytest.mark.parametrize("value", ["项目编号", {"fjysmc": "x"}, ["x"]])
def test_json_additional_elements_that_are_no_list_of_objects(value: object) -> None:
    doc = _doc()
    doc["fjysList"] = value
    with pytest.raises(FieldError) as caught:
        parse(_dump(doc))
    assert (caught.value.rule, caught.value.field) == ("json.shape", "fjysList")


def test_json_empty_additional_element_of_the_sta_example() -> None:
    """The STA's production example sends one all-empty item: nothing to keep, no error."""
    doc = _doc()
    doc["fjysList"] = [{"fjysmc": "", "fjyslx": "", "fjysz": ""}]
    extra = parse(_dump(doc)).facts.extra
    assert not any(k.startswith("additional.") for k in extra)


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        (b'{"fphm": "1", "fphm": "2"}', "json.duplicate-key"),
        (b'{"fphm": NaN}', "json.non-finite"),
        (b'{"fphm": Infinity}', "json.non-finite"),
        (b'{"fphm": "1",', "json.syntax"),
        (b"[1, 2]", "json.shape"),
        (b'{"hello": "world"}', "json.shape"),
        (b'{"fphm": 1' + b"0" * 5000 + b"}", "json.number"),
        # decimal.InvalidOperation from the parser once: no Decimal holds this exponent
        (b'{"fphm": 1e99999999999999999999}', "json.number"),
        # a 1 GB remark text once (the readers write JSON numbers out in full)
        (b'{"fphm": "1", "bz": 1E+999999999}', "json.number"),
        (b'{"fphm": "1", "hjje": 1E-999999999}', "json.number"),
    ],
)
def test_bad_json_is_a_typed_error(text: bytes, rule: str) -> None:
    with pytest.raises(InputError) as caught:
        parse(text, "fapiao-json")
    assert caught.value.rule == rule


@pytest.mark.parametrize("digits", [41, 4_299, 4_301, 50_000])
def test_an_integer_of_any_length_is_refused_naming_its_field(digits: int) -> None:
    """An integer of more than 4,300 digits was refused without a field ("Exceeds the
    limit (4300 digits) for integer string conversion", Python's own words): now every
    over-long number names where it is, like the shorter ones."""
    text = b'{"fphm": "1", "fpmxList": [{"je": 1' + b"0" * (digits - 1) + b"}]}"
    with pytest.raises(InputError) as caught:
        parse(text, "fapiao-json")
    assert (caught.value.rule, caught.value.field) == ("json.number", "fpmxList[0].je")
    assert len(caught.value.message) < 200


def test_ofd_with_customdatas_only() -> None:
    datas = "".join(
        f'<ofd:CustomData Name="{k}">{v}</ofd:CustomData>'
        for k, v in {
            "发票号码": "26312000000000000555", "开票日期": "2026年11月10日",
            "销售方纳税人识别号": "91310115MA1FL8K22H", "合计金额": "100.00", "合计税额": "6.00",
        }.items()
    )  # fmt: skip
    ofd = (
        '<ofd:OFD xmlns:ofd="http://www.ofdspec.org/2016"><ofd:DocBody><ofd:DocInfo>'
        f"<ofd:CustomDatas>{datas}</ofd:CustomDatas></ofd:DocInfo></ofd:DocBody></ofd:OFD>"
    )
    parsed = parse(zip_bytes({"OFD.xml": ofd.encode()}))
    inv = parsed.invoice
    assert inv.number == "26312000000000000555" and str(inv.issue_date) == "2026-11-10"
    assert inv.totals.tax_exclusive == Decimal("100.00")  # 合计金额 is the net total
    assert inv.totals.tax_inclusive == Decimal("106.00")
    (line,) = inv.lines
    assert line.vat_rate == Decimal(6) and line.net_amount == Decimal("100.00")
    codes = {w.code for w in parsed.warnings}
    assert {"ofd.net-from-customdata", "ofd.no-lines", "fapiao.rate-guess",
            "fapiao.gross-recomputed"} <= codes  # fmt: skip


def test_json_line_deduction_is_differential_taxation() -> None:
    """The upload's line ``kce`` (it was read only at the invoice level, so the line was taken
    as a plain 6 % line and its printed 5.66 VAT as 605.66 gone astray)."""
    parsed = parse(_dump(differential_upload()))
    assert parsed.facts.differential == (Decimal("10000.00"), Decimal("10100.00"))
    assert parsed.invoice.lines[0].tax_case is TaxCase.DIFFERENTIAL
    assert not {w.code for w in parsed.warnings} & {
        "sta.line-tax-tolerance",
        "sta.total-tax-tolerance",
    }


def test_json_zero_deduction_is_no_differential_taxation() -> None:
    """The 查验 answer writes ``kce`` 0 on an ordinary invoice: a plain 6 % line, not 差额."""
    doc = {
        "fphm": "26312000000000000779", "kprq": "2026-11-02 11:12:13", "fppzDm": "82",
        "sflzfp": "Y", "xsfnsrsbh": "91310115MA1FL8K22H", "xsfmc": "上海临港示例精密机械有限公司",
        "gmfmc": "Lion City Trading Pte. Ltd.", "hjje": "100.00", "hjse": "6.00", "jshj": "106.00",
        "kce": "0.00",
        "hwxx": [{"xh": 1, "hwhyslwfwmc": "*现代服务*咨询", "fpjysl": "1", "fpjydj": "100",
                  "je": "100.00", "slv": "0.06", "se": "6.00", "kce": "0"}],
    }  # fmt: skip
    parsed = parse(_dump(doc))
    assert parsed.facts.differential is None
    assert parsed.invoice.lines[0].tax_case is TaxCase.STANDARD


@pytest.mark.parametrize(
    ("policy", "case"),
    [("01", TaxCase.ZERO_RATE_EXPORT), ("02", TaxCase.EXEMPT), ("", TaxCase.ZERO_RATE_EXPORT)],
)
def test_json_export_policy_decides_zero_rate_or_exempt(policy: str, case: TaxCase) -> None:
    """出口业务适用政策代码 ``ckywsyzcDm`` (FORMAT.md §8): 01 退税政策 is the export zero rate,
    02 免税政策 is exempt (E, BR-E-10's reason) even when the line prints rate 0 with no
    优惠政策标识 — it was read as the export zero rate (G)."""
    doc = _doc()
    doc["ckywsyzcDm"] = policy
    parsed = parse(_dump(doc))
    assert {line.tax_case for line in parsed.invoice.lines} == {case}


def test_ofd_page_text_in_full_width_digits_reads_as_ascii() -> None:
    """OFD page text written with full-width digits (４１９７．１７) gives the same invoice."""
    wide = str.maketrans("0123456789.", "０１２３４５６７８９．")

    def w(text: str | None) -> str | None:
        return text.translate(wide) if text else text

    lines = [
        replace(ln, amount=ln.amount.translate(wide), tax=w(ln.tax), price=w(ln.price))
        for ln in INV.lines
    ]
    inv = replace(INV, net=INV.net.translate(wide), tax=INV.tax.translate(wide), lines=lines)
    parsed, plain = parse(ofd_package(inv, OfdOptions())), parse(ofd_package(INV, OfdOptions()))
    assert parsed.invoice.totals == plain.invoice.totals
    assert [(ln.net_amount, ln.price) for ln in parsed.invoice.lines] == [
        (ln.net_amount, ln.price) for ln in plain.invoice.lines
    ]
