"""Fields are found where ``find`` / ``findall`` would find them, however blocks repeat."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from gateway.errors import FieldError
from gateway.ingest.einvoice_xml import _Paths, read_einvoice

SAMPLES = Path(__file__).resolve().parents[2] / "gateway" / "samples"

TANGLED = b"""<EInvoice>
  <Header><EIid>1</EIid><!-- a comment --><EIid>2</EIid></Header>
  <EInvoiceData>
    <BasicInformation><Drawer>first block, no totals</Drawer></BasicInformation>
    <BasicInformation><TotalTaxAm>1.30</TotalTaxAm><TotalTaxAm>9.99</TotalTaxAm></BasicInformation>
    <IssuItemInformation><ItemName>a</ItemName></IssuItemInformation>
    <Other/>
    <IssuItemInformation><ItemName>b</ItemName><ItemName>c</ItemName></IssuItemInformation>
    <SellerInformation/>
  </EInvoiceData>
  <EInvoiceData><BasicInformation><Drawer>second data block</Drawer></BasicInformation>
  <SellerInformation><SellerName>later</SellerName></SellerInformation></EInvoiceData>
</EInvoice>"""


def _plain_paths(root: etree._Element) -> set[str]:
    """Every plain path (``A/B/C``) from ``root`` to one of its elements, and ones to none."""
    paths = {"Missing", "Header/Missing", "EInvoiceData/Missing/ItemName"}
    for element in root.iter("*"):
        steps = []
        while element is not root:
            steps.append(element.tag)
            element = element.getparent()
        if steps:
            paths.add("/".join(reversed(steps)))
    return paths


def test_every_path_finds_what_find_and_findall_find() -> None:
    samples = [p.read_bytes() for p in sorted(SAMPLES.glob("*.xml"))]
    assert samples
    for data in [TANGLED, *samples]:
        root = etree.fromstring(data)
        paths = _Paths(root)
        for path in sorted(_plain_paths(root), key=len, reverse=True):
            assert paths.all(path) == root.findall(path), path
            assert paths.first(path) is root.find(path), path


def test_a_repeated_block_is_refused_naming_it() -> None:
    """Two ``EInvoiceData`` blocks were read as one: the first block's totals, the lines of
    both, the seller from the second (as ``find`` reads them). A fapiao XML holds each
    block once (FORMAT.md §2; one file is one invoice, §13.18): refused, naming the block."""
    with pytest.raises(FieldError) as caught:
        read_einvoice(etree.fromstring(TANGLED))
    assert (caught.value.field, caught.value.rule) == ("EInvoiceData", "fapiao.repeated")


TWICE = b"""<EInvoice><EInvoiceData><BasicInformation>
  <TotalTaxAm>1.30</TotalTaxAm><TotalTaxAm>%s</TotalTaxAm><Drawer>d</Drawer>
</BasicInformation><IssuItemInformation><ItemName>a</ItemName><Amount>10.00</Amount>
<Amount>%s</Amount></IssuItemInformation></EInvoiceData></EInvoice>"""


@pytest.mark.parametrize(
    ("tax", "amount", "field"),
    [
        (b"9.99", b"10.00", "EInvoiceData/BasicInformation/TotalTaxAm"),
        (b"1.30", b"100.00", "EInvoiceData/IssuItemInformation[1]/Amount"),
    ],
)
def test_a_field_given_twice_with_different_values_is_refused(
    tax: bytes, amount: bytes, field: str
) -> None:
    """The first of two different totals (or line amounts) was taken, with only the schema's
    finding to say so: refused, naming the field and both values, as a JSON key given twice
    is."""
    with pytest.raises(FieldError) as caught:
        read_einvoice(etree.fromstring(TWICE % (tax, amount)))
    assert (caught.value.field, caught.value.rule) == (field, "fapiao.repeated")
    assert "10.00" in caught.value.message or "9.99" in caught.value.message


def test_a_field_repeated_with_the_same_value_is_read() -> None:
    raw = read_einvoice(etree.fromstring(TWICE % (b" 1.30 ", b"10.00")))
    assert (raw.tax_total.text, raw.lines[0].amount.text) == ("1.30", "10.00")
