"""The project's own samples (gateway/samples) parse to exactly what the catalogue printed."""

from __future__ import annotations

from decimal import Decimal

import pytest

from gateway.ingest import parse
from gateway.ingest.uscc import uscc_valid
from gateway.model import IdScheme, TaxCase
from gateway.samples import catalogue, sample_paths
from gateway.samples.writers import SampleInvoice

EXPECTED = {
    "export-zero-rate.xml": (catalogue.EXPORT_ZERO_RATE, "fapiao-xml"),
    "multi-rate-discount.xml": (catalogue.MULTI_RATE_DISCOUNT, "fapiao-xml"),
    "red-letter.xml": (catalogue.RED_LETTER, "fapiao-xml"),
    "exempt-services.xml": (catalogue.EXEMPT, "fapiao-xml"),
    "platform-export.json": (catalogue.PLATFORM_EXPORT, "fapiao-json"),
    "services.ofd": (catalogue.OFD_SERVICES, "fapiao-ofd"),
}


def test_shipped_files_are_the_catalogue() -> None:
    shipped = {p.name: p.read_bytes() for p in sample_paths()}
    assert shipped == catalogue.all_samples()
    assert set(shipped) == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_sample_parses_cleanly(name: str) -> None:
    sample, source_format = EXPECTED[name]
    data = next(p for p in sample_paths() if p.name == name).read_bytes()
    parsed = parse(data)
    inv = parsed.invoice
    assert parsed.source_format == source_format
    assert parsed.warnings == []
    assert uscc_valid(sample.seller_id)
    assert inv.number == sample.number and inv.buyer.name == sample.buyer_name
    assert inv.seller.identifier(IdScheme.USCC).value == sample.seller_id  # type: ignore[union-attr]
    assert [ln.net_amount for ln in inv.lines] == [Decimal(ln.amount) for ln in sample.lines]
    assert inv.totals.tax_exclusive == Decimal(sample.net)
    assert inv.totals.tax == Decimal(sample.tax)
    assert inv.totals.tax_inclusive == Decimal(sample.gross or "")
    assert sum(b.tax_amount for b in inv.vat_breakdown) == inv.totals.tax
    _assert_red(sample, parsed.invoice.type_code, [p.number for p in inv.preceding_invoices])


def _assert_red(sample: SampleInvoice, type_code: str, preceding: list[str]) -> None:
    if sample.blue == "N":
        assert type_code == "381" and preceding == [sample.red_original]
    else:
        assert type_code == "380" and preceding == []


def test_tax_cases_of_the_samples() -> None:
    by_name = {p.name: parse(p.read_bytes()) for p in sample_paths()}
    export = by_name["export-zero-rate.xml"]
    assert {ln.tax_case for ln in export.invoice.lines} == {TaxCase.ZERO_RATE_EXPORT}
    assert export.facts.special_tax_method == "02" and export.facts.is_export_hint
    multi = by_name["multi-rate-discount.xml"].invoice
    assert [ln.is_discount for ln in multi.lines] == [False, True, False]
    assert [(b.category, b.rate, b.taxable_amount, b.tax_amount) for b in multi.vat_breakdown] == [
        ("S", Decimal(13), Decimal("57000.00"), Decimal("7410.00")),
        ("S", Decimal(6), Decimal("18000.00"), Decimal("1080.00")),
    ]
    exempt = by_name["exempt-services.xml"].invoice.lines[0]
    assert (exempt.tax_case, exempt.vat_category, exempt.tax_amount) == (TaxCase.EXEMPT, "E", None)
    assert exempt.unit_code == "C62" and exempt.item.attributes[-1].value == "项"
    red = by_name["red-letter.xml"]
    assert red.facts.is_red and red.facts.red_confirmation_no == "31012026100800000017"
    assert red.invoice.lines[0].quantity == -1 and red.invoice.totals.payable == Decimal(
        "-13560.00"
    )
    platform = by_name["platform-export.json"].invoice
    assert {ln.vat_category for ln in platform.lines} == {"G"}
    assert by_name["services.ofd"].invoice.lines[0].item.name == "*现代服务*技术咨询服务"
