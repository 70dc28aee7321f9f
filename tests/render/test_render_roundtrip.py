"""canonical → UBL → canonical is lossless for the mapped fields; output is deterministic."""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path

import pytest
from lxml import etree

from gateway.errors import FieldError, UnknownFormatError, UnsafeInputError
from gateway.mapping import map_invoice
from gateway.model import (
    Contact,
    Delivery,
    Invoice,
    ItemAttribute,
    PaymentInstructions,
    Period,
)
from gateway.model.party import Address
from gateway.partners import PartnerDirectory
from gateway.read import read_cii, read_invoice, read_ubl
from gateway.render import render
from tests.mapping.factory import BUYER_NAME, SELLER_USCC, cases, partners_dict, ubl_view

UBL_PROFILES = ("pint-sg", "bis3", "pint")


def _mapped(source: Invoice, profile: str, **partner: object) -> Invoice:
    directory = PartnerDirectory.from_dict(partners_dict(**partner))
    return map_invoice(
        source,
        directory.find_partner(BUYER_NAME, None),
        directory.find_exporter(SELLER_USCC),
        profile,
        original_xml="<EInvoice>原始</EInvoice>".encode(),
    )


def _enrich(source: Invoice) -> Invoice:
    """Add the optional terms a fapiao rarely has, so they are covered by the round trip."""
    inv = copy.deepcopy(source)
    inv.payment = PaymentInstructions(
        account_id="6222020200112233445", account_name="Lingang Demo Ltd", provider_id="BKCHCNBJ300"
    )
    inv.seller.contact = Contact(name="Li Lei", telephone="+86 21 5555 0000", email="ar@example.cn")
    inv.period = Period(dt.date(2026, 11, 1), dt.date(2026, 11, 30))
    inv.delivery = Delivery(
        party_name="Acme Warehouse",
        date=dt.date(2026, 11, 18),
        address=Address(street="5 Jurong Port Rd", city="Singapore", country="SG"),
    )
    inv.order_ref = "PO-4711"
    inv.contract_ref = "LG-2026-001"
    inv.lines[0].item.attributes.append(ItemAttribute("规格型号", "X1 Carbon"))
    inv.lines[0].item.description = "14-inch notebook"
    inv.lines[0].order_line_ref = "10"
    return inv


@pytest.mark.parametrize("profile", UBL_PROFILES)
@pytest.mark.parametrize("name", sorted(cases()))
def test_round_trip_is_lossless(profile: str, name: str) -> None:
    mapped = _mapped(_enrich(cases()[name]), profile)
    assert read_ubl(render(mapped, profile)) == ubl_view(mapped)


@pytest.mark.parametrize("profile", UBL_PROFILES)
def test_round_trip_in_foreign_currency(profile: str) -> None:
    mapped = _mapped(cases()["standard"], profile, currency="USD", exchange_rate="7.1234")
    back = read_ubl(render(mapped, profile))
    assert back == ubl_view(mapped)
    assert back.currency == "USD"


def test_rendering_is_deterministic_and_credit_notes_use_creditnote() -> None:
    mapped = _mapped(cases()["red"], "pint-sg")
    first, second = render(mapped, "pint-sg"), render(mapped, "pint-sg")
    assert first == second
    root = etree.fromstring(first)
    assert etree.QName(root).localname == "CreditNote"
    assert first.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")


def _official(reference: Path) -> list[tuple[Path, str]]:
    sg = reference / "openpeppol-pint-sg-1.4.1" / "trn-invoice" / "example"
    bis = reference / "openpeppol-peppol-bis-invoice-3" / "rules" / "examples"
    return [(p, "pint-sg") for p in sorted(sg.glob("*.xml"))] + [
        (p, "bis3") for p in sorted(bis.glob("*.xml"))
    ]


def test_official_examples_read_render_read_losslessly(reference: Path) -> None:
    examples = _official(reference)
    assert len(examples) > 20
    for path, profile in examples:
        inv = read_ubl(path.read_bytes())
        assert inv.lines, path.name
        assert read_ubl(render(inv, profile)) == inv, path.name
    folder = reference / "openpeppol-pint-sg-1.4.1" / "trn-invoice" / "example"
    cn = read_ubl((folder / "PINT-SG CN example 01 - Credit Note.xml").read_bytes())
    assert cn.is_credit_note and cn.profile == "pint-sg"
    fx = read_ubl((folder / "PINT-SG INV example 06 - Foreign currency.xml").read_bytes())
    assert fx.tax_currency == "SGD" and fx.totals.tax_in_accounting_currency is not None
    assert {a.type_code for a in fx.attachments} >= {"sgdtotal-incl-gst", "sgdtotal-excl-gst"}


def test_reader_rejects_other_documents_and_bad_values() -> None:
    with pytest.raises(UnknownFormatError):
        read_ubl(b"<EInvoice/>")
    mapped = _mapped(cases()["standard"], "bis3")
    xml = render(mapped, "bis3").replace(b">1000.00<", b">10x0.00<", 1)
    with pytest.raises(FieldError):
        read_ubl(xml)
    with pytest.raises(UnsafeInputError):
        read_ubl(b'<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>')


def test_render_refuses_another_profile_and_unknown_ones() -> None:
    mapped = _mapped(cases()["standard"], "bis3")
    with pytest.raises(FieldError, match="mapped for 'bis3'"):
        render(mapped, "pint-sg")
    with pytest.raises(FieldError, match="cannot render"):
        render(mapped, "xrechnung")
    unmapped = copy.deepcopy(mapped)
    unmapped.profile = None
    assert b"CrossIndustryInvoice" in render(unmapped, "cii")


@pytest.mark.parametrize("currency", [{}, {"currency": "USD", "exchange_rate": "7.1234"}])
def test_cii_round_trip_is_lossless(currency: dict[str, str]) -> None:
    for name, source in cases().items():
        mapped = _mapped(_enrich(source), "cii", **currency)
        assert read_cii(render(mapped, "cii")) == ubl_view(mapped), name


def test_read_invoice_dispatches_on_the_root(reference: Path) -> None:
    mapped = _mapped(cases()["standard"], "pint")
    assert read_invoice(render(mapped, "pint")).profile == "pint"
    cii = reference / "connectingeurope-einvoicing-en16931" / "cii" / "examples"
    for path in sorted(cii.glob("*.xml")):
        inv = read_invoice(path.read_bytes())
        assert inv.lines and inv.vat_breakdown, path.name
    with pytest.raises(UnknownFormatError):
        read_invoice(b"<EInvoice/>")
    with pytest.raises(UnknownFormatError):
        read_cii(render(mapped, "pint"))


@pytest.mark.parametrize("bad", [b"1E+999999", b"NaN", b"Infinity", b"1" * 60, b"12,50", b"-"])
def test_reader_accepts_only_plain_decimals(bad: bytes) -> None:
    xml = render(_mapped(cases()["standard"], "bis3"), "bis3")
    with pytest.raises(FieldError):
        read_ubl(xml.replace(b">1000.00<", b">" + bad + b"<", 1))
    cii = render(_mapped(cases()["standard"], "cii"), "cii")
    with pytest.raises(FieldError):
        read_cii(cii.replace(b">1000.00<", b">" + bad + b"<", 1))


def test_reader_rejects_corrupt_attachments() -> None:
    xml = render(_mapped(cases()["standard"], "pint"), "pint")
    start = xml.index(b'filename="fapiao-')
    body = xml.index(b">", start) + 1
    with pytest.raises(FieldError, match="base64"):
        read_ubl(xml[:body] + b"!!!" + xml[body:])
