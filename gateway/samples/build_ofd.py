"""Write a fictitious 数电票 OFD: page text objects, custom tags pointing at them, CustomDatas.

Shaped like the STA/Suwell layout described in FORMAT.md §9: amounts printed as ``¥`` plus the
figure in two text objects, item names broken over two objects, one flat tag per column with
one ``ObjectRef`` per line.
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from gateway.samples.writers import SampleInvoice, zip_bytes

OFD_NS = "http://www.ofdspec.org/2016"
_Q = f"{{{OFD_NS}}}"


@dataclass(slots=True)
class OfdOptions:
    """Quirks to reproduce (FORMAT.md §13.15)."""

    split_names_at: int | None = 8
    """Break each item name into two text objects after this many characters."""
    gross_only_yen: bool = False
    """The gross-total tag points at the ``¥`` object only."""
    upper_case_dirs: bool = False
    """Document.xml names ``PAGES/…`` and ``TAGS/…`` while the zip holds ``Pages/`` / ``Tags/``."""
    customdata_net: str | None = None
    """Override CustomData 合计金额 (to test the cross-check)."""
    words_tag: bool = False
    """Tag the amount in words (价税合计大写) too, as EInvoice-shaped templates do."""
    partial_columns: bool = False
    """Write a column also when some lines have no value in it, with a text object for each
    line that has one (a discount row prints no quantity or unit price); otherwise such a
    column is left out."""


def _el(
    parent: etree._Element | None, name: str, text: str | None = None, **attrs: str
) -> etree._Element:
    element = (
        etree.Element(_Q + name, nsmap={"ofd": OFD_NS})
        if parent is None
        else etree.SubElement(parent, _Q + name)
    )
    for key, value in attrs.items():
        element.set(key, value)
    if text is not None:
        element.text = text
    return element


def _xml(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


class _Page:
    """Collects text objects and hands out their IDs."""

    def __init__(self) -> None:
        self.root = _el(None, "Page")
        self.layer = _el(_el(self.root, "Content"), "Layer", ID="1")
        self.next_id = 100

    def text(self, value: str) -> str:
        self.next_id += 1
        obj = _el(
            self.layer, "TextObject", ID=str(self.next_id), Boundary="0 0 50 5", Font="1", Size="3"
        )
        _el(obj, "TextCode", value, X="0", Y="3")
        return str(self.next_id)

    def amount(self, value: str) -> list[str]:
        return [self.text("¥"), self.text(value)]


def _date(issued: str) -> str:
    return f"{issued[0:4]}年{issued[5:7]}月{issued[8:10]}日"


def _tags(inv: SampleInvoice, page: _Page, options: OfdOptions) -> etree._Element:
    root = _el(None, "root", version="1.0")

    def tag(parent: etree._Element, name: str, ids: list[str]) -> None:
        element = _el(parent, name)
        for object_id in ids:
            _el(element, "ObjectRef", object_id, PageRef="1")

    tag(root, "InvoiceNo", [page.text(inv.number)])
    tag(root, "IssueDate", [page.text(_date(inv.issued))])
    buyer = _el(root, "Buyer")
    tag(buyer, "BuyerName", [page.text(inv.buyer_name)])
    if inv.buyer_id:
        tag(buyer, "BuyerTaxID", [page.text(inv.buyer_id)])
    seller = _el(root, "Seller")
    tag(seller, "SellerName", [page.text(inv.seller_name)])
    tag(seller, "SellerTaxID", [page.text(inv.seller_id)])
    tag(root, "TaxExclusiveTotalAmount", page.amount(inv.net))
    tag(root, "TaxTotalAmount", page.amount(inv.tax))
    gross_ids = page.amount(inv.gross or "")
    tag(root, "TaxInclusiveTotalAmount", gross_ids[:1] if options.gross_only_yen else gross_ids)
    if options.words_tag and inv.words:
        tag(root, "TotalTax-includedAmountInChinese", [page.text(inv.words)])
    tag(root, "InvoiceClerk", [page.text(inv.drawer)])
    names: list[str] = []
    for line in inv.lines:
        cut = options.split_names_at
        if cut and len(line.name) > cut:
            names += [page.text(line.name[:cut]), page.text(line.name[cut:])]
        else:
            names.append(page.text(line.name))
    tag(root, "Item", names)
    for name, attr in (
        ("Specification", "spec"), ("MeasurementDimension", "unit"), ("Price", "price"),
        ("Quantity", "quantity"), ("TaxScheme", "rate"), ("Amount", "amount"), ("TaxAmount", "tax"),
    ):  # fmt: skip
        values = [getattr(line, attr) for line in inv.lines]
        if all(v for v in values) or (options.partial_columns and any(values)):
            tag(root, name, [page.text(v) for v in values if v])
    if inv.remark:
        tag(root, "Note", [page.text(inv.remark)])
    return root


def _ofd_xml(inv: SampleInvoice, options: OfdOptions) -> bytes:
    root = _el(None, "OFD", DocType="OFD", Version="1.1")
    body = _el(root, "DocBody")
    info = _el(body, "DocInfo")
    _el(info, "DocID", "0" * 32)
    _el(info, "Creator", "Lingang Gateway sample writer")
    datas = _el(info, "CustomDatas")
    for name, value in (
        ("发票号码", inv.number), ("开票日期", _date(inv.issued)),
        ("购买方纳税人识别号", inv.buyer_id or ""), ("销售方纳税人识别号", inv.seller_id),
        ("合计金额", options.customdata_net or inv.net), ("合计税额", inv.tax),
    ):  # fmt: skip
        if value:
            _el(datas, "CustomData", value, Name=name)
    _el(body, "DocRoot", "Doc_0/Document.xml")
    return _xml(root)


def _document(options: OfdOptions) -> bytes:
    pages, tags = ("PAGES", "TAGS") if options.upper_case_dirs else ("Pages", "Tags")
    root = _el(None, "Document")
    common = _el(root, "CommonData")
    _el(common, "TemplatePage", ID="2", BaseLoc="Tpls/Tpl_0/Content.xml")
    _el(_el(root, "Pages"), "Page", ID="1", BaseLoc=f"{pages}/Page_0/Content.xml")
    _el(root, "CustomTags", f"{tags}/CustomTags.xml")
    return _xml(root)


def _template(kind: str | None) -> bytes:
    page = _Page()
    page.text("电子发票（增值税专用发票）" if kind == "01" else "电子发票（普通发票）")
    return _xml(page.root)


def ofd_package(inv: SampleInvoice, options: OfdOptions | None = None) -> bytes:
    """The OFD (zip bytes) of ``inv``."""
    options = options or OfdOptions()
    page = _Page()
    tags = _tags(inv, page, options)
    index = _el(None, "CustomTags")
    _el(_el(index, "CustomTag", TypeID="invoice"), "FileLoc", "CustomTag.xml")
    return zip_bytes(
        {
            "OFD.xml": _ofd_xml(inv, options),
            "Doc_0/Document.xml": _document(options),
            "Doc_0/Tpls/Tpl_0/Content.xml": _template(inv.kind),
            "Doc_0/Pages/Page_0/Content.xml": _xml(page.root),
            "Doc_0/Tags/CustomTags.xml": _xml(index),
            "Doc_0/Tags/CustomTag.xml": _xml(tags),
        }
    )
