"""Fields are found where ``find`` / ``findall`` would find them, however blocks repeat."""

from __future__ import annotations

from pathlib import Path

from lxml import etree

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


def test_repeated_blocks_read_as_find_reads_them() -> None:
    raw = read_einvoice(etree.fromstring(TANGLED))
    assert raw.tax_total.text == "1.30"
    assert raw.drawer == "first block, no totals"
    assert raw.seller.name.text == "later"
    assert [line.name.text for line in raw.lines] == ["a", "b"]
