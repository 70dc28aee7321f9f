"""Readable pages: every sample renders with both languages' labels; text is escaped; the
report is grouped; official UBL / CII examples render through the reader; the registry."""

from __future__ import annotations

import html
import re
import socket
from decimal import Decimal
from pathlib import Path

import pytest

from gateway.errors import InputError
from gateway.ingest import parse
from gateway.readable import RenderSource, registered_kinds, render_html, renderer_for
from gateway.readable.labels import LABELS, label, label_markup
from gateway.readable.pdf import render_pdf
from gateway.readable.report import readable_report
from tests.readable.page_text import page_text

SAMPLES = Path(__file__).resolve().parents[2] / "gateway/samples"
SAMPLE_FILES = sorted(p for p in SAMPLES.iterdir() if p.suffix in {".xml", ".json", ".ofd"})
REPORT = {
    "profile": "pint-sg",
    "valid": False,
    "findings": [
        {
            "rule_id": "BR-CO-10",
            "flag": "fatal",
            "location": "/Invoice[1]",
            "text": "sum",
            "source": "cen-ubl",
        },
        {
            "rule_id": "PEPPOL-EN16931-R004",
            "flag": "warning",
            "location": "/Invoice[1]/a",
            "text": "<b>bold</b> & <script>x()</script>",
            "source": "peppol",
        },
        {"rule_id": "X", "flag": "odd", "location": "", "text": "unknown flag", "source": ""},
    ],
    "artefacts": ["cen/1.3.13:ubl.xslt"],
}


@pytest.mark.parametrize("path", SAMPLE_FILES, ids=lambda p: p.name)
def test_every_sample_renders_with_both_languages(path: Path) -> None:
    data = path.read_bytes()
    page = render_html(RenderSource(data=data))
    parsed = parse(data, "auto")
    for key in ("number", "issue_date", "seller", "buyer", "tax_breakdown", "totals", "original"):
        assert label_markup(key) in page, key
    assert html.escape(parsed.invoice.number) in page
    assert html.escape(parsed.invoice.seller.name, quote=False) in page
    assert f"{parsed.invoice.totals.tax_inclusive:,.2f} {parsed.invoice.currency}" in page
    assert "<script" not in page
    assert '<span lang="en">Amount due</span>' in page, "the English half is marked English"


def test_labels_are_chinese_then_english() -> None:
    assert label("number") == "发票号码 / Invoice number"
    assert label_markup("number") == '发票号码 / <span lang="en">Invoice number</span>'
    for chinese, english in LABELS.values():
        assert re.search(r"[\u4e00-\u9fff]", chinese), chinese
        assert english.isascii(), english


def test_document_text_is_escaped() -> None:
    xml = (SAMPLES / "export-zero-rate.xml").read_text("utf-8")
    hostile = "&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;"
    data = xml.replace("*金属制品*精密齿轮", "*金属制品*" + hostile).encode()
    page = render_html(RenderSource(data=data, report=REPORT, facts={"receiver": "<i>r</i>"}))
    assert "<script" not in page and "<img" not in page and "<i>r" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; &lt;script&gt;x()&lt;/script&gt;" in page


def test_report_is_grouped_by_severity() -> None:
    report = readable_report(REPORT)
    assert report is not None
    assert [(g.flag, [f.rule_id for f in g.findings]) for g in report.groups] == [
        ("fatal", ["BR-CO-10"]),
        ("warning", ["PEPPOL-EN16931-R004"]),
        ("information", ["X"]),
    ]
    assert not report.valid and report.total == 3
    page = render_html(RenderSource(data=(SAMPLES / "red-letter.xml").read_bytes(), report=REPORT))
    fatal = page.index("BR-CO-10")
    warning = page.index("PEPPOL-EN16931-R004")
    assert fatal < warning
    assert "/Invoice[1]/a" in page and "cen/1.3.13:ubl.xslt" in page


@pytest.mark.parametrize(
    "damaged",
    [None, [], {"findings": "x"}, {"findings": [1, None, {"flag": 3}]}, {"artefacts": {}}],
)
def test_a_damaged_report_still_renders(damaged: object) -> None:
    source = RenderSource(data=(SAMPLES / "red-letter.xml").read_bytes(), report=damaged)  # type: ignore[arg-type]
    assert "校验报告 / Validation report" in page_text(render_html(source))


def test_official_ubl_and_cii_render_through_the_reader(reference: Path) -> None:
    examples = [
        reference
        / "openpeppol-pint-sg-1.4.1/trn-invoice/example/PINT-SG INV example 02 - full valid invoice 1.xml",
        reference / "openpeppol-peppol-bis-invoice-3/rules/examples/base-creditnote-correction.xml",
        *sorted((reference / "connectingeurope-einvoicing-en16931/cii").rglob("*.xml"))[:1],
    ]
    for path in examples:
        page = render_html(RenderSource(data=path.read_bytes()))
        assert "应付金额 / Amount due" in page_text(page), path.name
    credit = render_html(RenderSource(data=examples[1].read_bytes()))
    assert "红字发票 (贷项通知) / Credit note" in page_text(credit)


def test_the_profile_output_is_preferred_to_the_source(reference: Path) -> None:
    ubl = (
        reference
        / "openpeppol-pint-sg-1.4.1/trn-invoice/example/PINT-SG INV example 02 - full valid invoice 1.xml"
    ).read_bytes()
    fapiao = (SAMPLES / "export-zero-rate.xml").read_bytes()
    page = render_html(RenderSource(data=fapiao, outputs={"signed": ubl}))
    from gateway.read import read_invoice

    assert html.escape(read_invoice(ubl).number) in page
    assert "26312000000000000101" in page  # the original fapiao's number, under "original"


def test_unknown_documents_are_refused_clearly() -> None:
    with pytest.raises(InputError) as caught:
        render_html(RenderSource(data=b"%PDF-1.7 not a document we know"))
    assert caught.value.code == "no-renderer"
    with pytest.raises(InputError) as named:
        renderer_for(RenderSource(data=b"", kind="nope"))
    assert "invoice" in named.value.message
    assert "invoice" in registered_kinds()


def test_pdf_fetches_nothing() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.settimeout(0.3)
        port = listener.getsockname()[1]
        page = render_html(RenderSource(data=(SAMPLES / "services.ofd").read_bytes()))
        page = page.replace(
            "</body>",
            f'<img src="http://127.0.0.1:{port}/x.png"><img src="file:///etc/passwd"></body>',
        )
        pdf = render_pdf(page)
        with pytest.raises(TimeoutError):
            listener.accept()
    assert pdf.startswith(b"%PDF")


def _converted_page(sample: str, profile: str, metadata: dict[str, str] | None = None) -> str:
    from gateway.convert import convert
    from gateway.partners import PartnerDirectory

    data = (SAMPLES / sample).read_bytes()
    directory = PartnerDirectory.load(Path(__file__).resolve().parents[1] / "data/partners.toml")
    result = convert(data, profile, directory, metadata=metadata)
    return page_text(render_html(RenderSource(data=data, outputs={"rendered": result.xml})))


def test_a_foreign_currency_invoice_states_each_tax_in_its_own_currency() -> None:
    """BT-117 is in the document currency (EN 16931 BG-23), only BT-111 in the tax currency
    (BT-6): 13 % VAT of 57,000 CNY at 7.1 CNY per USD is 1,043.66 USD, not 1,043.66 CNY,
    and the VAT the fapiao prints in CNY (BT-111) is on the page too."""
    text = _converted_page(
        "multi-rate-discount.xml", "bis3", {"currency": "USD", "exchange_rate": "7.1"}
    )
    assert "S 13 % 8,028.17 USD 1,043.66 USD" in text
    assert "1,043.66 CNY" not in text
    assert "税额合计 (计税币种) / Total VAT in tax currency 8,490.00 CNY" in text


def test_a_line_shows_its_allowance_so_quantity_times_price_adds_up() -> None:
    """5 × 12,000.00 less the folded 折扣 of 3,000.00 is the line's 57,000.00 (BT-131 =
    BT-129 × BT-146 − BT-136): the discount is on the line, not hidden."""
    text = _converted_page("multi-rate-discount.xml", "bis3")
    assert "折扣 / Allowance (Discount): −3,000.00 CNY 5 C62 12,000.00 CNY 57,000.00 CNY" in text


def test_a_credit_note_names_the_invoice_it_credits() -> None:
    """A red-letter fapiao's credit note shows the blue invoice it reverses (BT-25)."""
    text = _converted_page("red-letter.xml", "pint-sg")
    assert "原发票号码 / Preceding invoice 26312000000000000102" in text
    assert "法定登记号 / Legal registration identifier MA1FL8K22 (0131)" in text


def test_a_price_per_base_quantity_says_so(reference: Path) -> None:
    """BIS 3's Allowance example prices line 2 at 200 EUR per 2 units (BT-149): 10 × 200 / 2
    is its 1,000.00; "200.00 EUR" alone would read as a unit price ten times too dear."""
    example = reference / "openpeppol-peppol-bis-invoice-3/rules/examples/Allowance-example.xml"
    text = page_text(render_html(RenderSource(data=example.read_bytes())))
    assert "10 C62 200.00 EUR / 2 C62 1,000.00 EUR" in text


def test_amounts_show_their_currencys_decimals() -> None:
    """ISO 4217: a yen or won amount has no decimals; it showed as 31,989.00 JPY."""
    from gateway.readable.format import amount

    assert amount(Decimal("31989"), "JPY") == "31,989 JPY"
    assert amount(Decimal("288080"), "KRW") == "288,080 KRW"
    assert amount(Decimal("10615.5"), "JPY") == "10,615.5 JPY"  # a unit price keeps its own
    assert amount(Decimal("212.2"), "USD") == "212.20 USD"
    assert amount(Decimal("5")) == "5.00"
