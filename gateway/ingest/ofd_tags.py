"""A 数电票 OFD without embedded XML: custom tags → page text objects, plus ``CustomDatas``.

Each tag leaf holds one or more ``ofd:ObjectRef PageRef="…">id<`` pointing at text objects on a
page; a value may span several objects (``¥`` + ``4449.00``; an item name broken over two
lines). Tags come in two vocabularies — the STA/Suwell one (``InvoiceNo``, ``Buyer/BuyerTaxID``,
``TaxExclusiveTotalAmount`` …) and an ``EInvoice``-shaped one (``TaxSupervisionInfo/…``,
``EInvoiceData/…``) — both mapped here. ``CustomDatas`` fill gaps and are cross-checked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal

from gateway.errors import FieldError
from gateway.ingest.ofd_package import OfdPackage, child, child_text, local
from gateway.ingest.record import RawFapiao, RawLine, RawParty, Src, none
from gateway.ingest.taxcase import KNOWN_RATES
from gateway.ingest.types import ParseWarning
from gateway.ingest.values import number_or_none, read_datetime

HEADER_FIELDS = {
    "InvoiceNo": "number", "InvoiceNumber": "number", "EIid": "number",
    "IssueDate": "issued", "RequestTime": "issued", "IssueTime": "issued_alt",
    "BuyerName": "buyer_name", "BuyerTaxID": "buyer_id", "BuyerIdNum": "buyer_id",
    "SellerName": "seller_name", "SellerTaxID": "seller_id", "SellerIdNum": "seller_id",
    "BuyerAddr": "buyer_addr", "SellerAddr": "seller_addr",
    "TaxExclusiveTotalAmount": "net", "TotalAmWithoutTax": "net",
    "TaxTotalAmount": "tax", "TotalTaxAm": "tax",
    "TaxInclusiveTotalAmount": "gross", "TotalTax-includedAmount": "gross",
    "TotalTax-includedAmountInChinese": "gross_words",
    "InvoiceClerk": "drawer", "Drawer": "drawer", "Note": "remark", "Remark": "remark",
}  # fmt: skip
LINE_FIELDS = {
    "Item": "name", "ItemName": "name", "TaxScheme": "rate", "TaxRate": "rate",
    "Amount": "amount", "TaxAmount": "tax", "ComTaxAm": "tax", "Price": "price",
    "UnPrice": "price", "Quantity": "quantity", "Specification": "spec", "SpecMod": "spec",
    "MeasurementDimension": "unit", "MeaUnits": "unit",
}  # fmt: skip
SKIP_BLOCKS = frozenset({"SpecificInformation", "AdditionalInformation"})
"""EInvoice-shaped blocks whose ``ItemName`` / ``Amount`` are not line fields (§13.3)."""
NOT_SUBJECT = "不征税"
"""The rate text of a line not subject to VAT, whose tax cell is left empty (FORMAT.md §2.1)."""
_CURRENCY_ONLY = re.compile(r"^[¥￥\s]*$")
_DATA_NAMES = {
    "number": "发票号码", "issued": "开票日期", "buyer_id": "购买方纳税人识别号",
    "seller_id": "销售方纳税人识别号", "buyer_name": "购买方名称", "seller_name": "销售方名称",
    "net": "合计金额", "tax": "合计税额", "gross": "价税合计",
}  # fmt: skip


@dataclass(slots=True)
class _Tagged:
    """Values found in the tag files: per field, one list of text pieces per occurrence."""

    header: dict[str, list[list[str]]] = field(default_factory=dict)
    lines: dict[str, list[list[str]]] = field(default_factory=dict)
    grouped_lines: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    """Line fields of EInvoice-shaped tags, per IssuItemInformation element (by its path)."""
    source: str = "CustomTag"


def _page_index(package: OfdPackage) -> dict[str, str]:
    """Page ID → page content part, from Document.xml ``Pages/Page``."""
    pages = child(package.document, "Pages")
    out: dict[str, str] = {}
    for page in pages if pages is not None else []:
        loc = page.get("BaseLoc")
        if local(page) == "Page" and loc and package.document_name:
            out[page.get("ID", "")] = package.resolve(package.document_name, loc)
    return out


def _text_objects(package: OfdPackage, part: str) -> dict[str, str]:
    """TextObject ID → its text (all TextCode pieces joined) on one page."""
    out: dict[str, str] = {}
    for element in package.xml(part).iter():
        if local(element) == "TextObject" and element.get("ID"):
            pieces = [c.text or "" for c in element if local(c) == "TextCode"]
            out[element.get("ID", "")] = "".join(pieces)
    return out


class _Texts:
    """Dereferences ObjectRefs, loading each page once."""

    def __init__(self, package: OfdPackage) -> None:
        self.package = package
        self.pages = _page_index(package)
        self.cache: dict[str, dict[str, str]] = {}

    def _page(self, part: str) -> dict[str, str]:
        if part not in self.cache:
            self.cache[part] = _text_objects(self.package, part) if self.package.has(part) else {}
        return self.cache[part]

    def lookup(self, page_ref: str | None, object_id: str) -> str | None:
        parts = [self.pages[page_ref]] if page_ref in self.pages else list(self.pages.values())
        for part in parts:
            text = self._page(part).get(object_id)
            if text is not None:
                return text
        return None


def _tag_files(package: OfdPackage) -> list[str]:
    where = child_text(package.document, "CustomTags")
    files: list[str] = []
    if where and package.document_name:
        index = package.resolve(package.document_name, where)
        if package.has(index):
            for tag in package.xml(index):
                loc = child_text(tag, "FileLoc")
                if local(tag) == "CustomTag" and loc:
                    files.append(package.resolve(index, loc))
    if not files:
        files = [
            n for n in package.zip.names()
            if re.search(r"(^|/)tags/customtag(?!s\.xml)[^/]*\.xml$", n.lower())
        ]  # fmt: skip
    return [f for f in files if package.has(f)]


def _collect(package: OfdPackage, texts: _Texts, part: str, tagged: _Tagged) -> None:
    root = package.xml(part)
    for element in root.iter():
        refs = [c for c in element if local(c) == "ObjectRef"]
        if not refs:
            continue
        ancestors = [local(a) for a in element.iterancestors()]
        if SKIP_BLOCKS.intersection(ancestors):
            continue
        pieces = []
        for ref in refs:
            text = texts.lookup(ref.get("PageRef"), (ref.text or "").strip())
            if text is not None:
                pieces.append(text)
        name = local(element)
        if "IssuItemInformation" in ancestors and name in LINE_FIELDS:
            item = next(a for a in element.iterancestors() if local(a) == "IssuItemInformation")
            group = tagged.grouped_lines.setdefault(root.getroottree().getpath(item), {})
            group.setdefault(LINE_FIELDS[name], pieces)
        elif name in LINE_FIELDS and not (name == "Amount" and "Buyer" in ancestors):
            tagged.lines.setdefault(LINE_FIELDS[name], []).append(pieces)
        elif name in HEADER_FIELDS:
            tagged.header.setdefault(HEADER_FIELDS[name], []).append(pieces)


def _join(pieces: list[str]) -> str | None:
    text = "".join(pieces).strip()
    return text or None


def _split_names(pieces: list[str]) -> list[str]:
    """Item names from text pieces: a name starts with ``*分类*``; a piece starting with ``*``
    begins a new name only once the previous one has its closing ``*``."""
    names: list[str] = []
    for piece in (p.strip() for p in pieces):
        if not names or (piece.startswith("*") and names[-1].count("*") >= 2):
            names.append(piece)
        else:
            names[-1] += piece
    return names


def _flat_lines(tagged: _Tagged, warnings: list[ParseWarning]) -> list[dict[str, str | None]]:
    """Line values from STA-style flat tags (one tag per column)."""
    occurrences = tagged.lines
    amounts = occurrences.get("amount", [])
    if not amounts:
        return []
    if len(amounts) > 1 and all(len(v) == len(amounts) for v in occurrences.values()):
        return [
            {key: _join(values[i]) for key, values in occurrences.items()}
            for i in range(len(amounts))
        ]
    numbers = [p for p in amounts[0] if not _CURRENCY_ONLY.match(p)]
    if len(numbers) <= 1:
        return [
            {key: _join([p for occ in values for p in occ]) for key, values in occurrences.items()}
        ]
    columns: dict[str, list[str]] = {}
    for key, values in occurrences.items():
        pieces = [p for occ in values for p in occ if not _CURRENCY_ONLY.match(p)]
        columns[key] = _split_names(pieces) if key == "name" else [p.strip() for p in pieces]
    lines: list[dict[str, str | None]] = [dict.fromkeys(columns) for _ in numbers]
    regular = [i for i, number in enumerate(numbers) if not number.strip().startswith("-")]
    short: list[str] = []
    for key in sorted(columns, key=lambda k: k != "rate"):
        column = columns[key]
        sparse = _taxed_rows(lines) if key == "tax" else regular
        rows = _column_rows(len(column), len(numbers), sparse)
        if rows is None:
            short.append(key)
            continue
        for i, value in zip(rows, column, strict=True):
            lines[i][key] = value
    short.sort()
    if short:
        warnings.append(
            ParseWarning(
                "ofd.line-columns",
                f"{len(numbers)} line amounts but other columns do not line up: {', '.join(short)}",
                tagged.source,
            )
        )
    return lines


def _taxed_rows(lines: list[dict[str, str | None]]) -> list[int]:
    """The rows that print a tax: all but those whose rate reads 不征税, whose tax cell is
    empty (FORMAT.md §2.1: ComTaxAm "empty for 不征税"). Needs the rate column read first."""
    return [i for i, line in enumerate(lines) if (line.get("rate") or "").strip() != NOT_SUBJECT]


def _column_rows(pieces: int, rows: int, sparse: list[int]) -> list[int] | None:
    """The rows a flat column's pieces belong to, in order; ``None`` when they do not line up.

    A column with one piece per row fills every row. Some rows print nothing in some columns:
    a discount row (negative amount, right after the line it discounts, FORMAT.md §6) prints
    no quantity, unit price or unit, and a 不征税 row no tax. A column with one piece per row
    that prints it (``sparse``) fills those rows in order and leaves the others empty.
    """
    if pieces == rows:
        return list(range(rows))
    if pieces == len(sparse) and 0 < pieces < rows:
        return sparse
    return None


def _raw_line(row: dict[str, str | None], index: int, source: str) -> RawLine:
    path = f"{source}:line[{index}]"

    def src(key: str) -> Src:
        return Src(row.get(key), f"{path}/{key}")

    return RawLine(
        path=path,
        name=src("name"),
        amount=src("amount"),
        rate=src("rate"),
        tax=src("tax"),
        spec=src("spec"),
        unit=src("unit"),
        quantity=src("quantity"),
        price=src("price"),
    )


def _kind_from_template(package: OfdPackage) -> str | None:
    """01 / 02 from the printed title (电子发票（增值税专用发票） / （普通发票）) on templates or pages."""
    for name in package.zip.names():
        lowered = name.lower()
        if lowered.endswith("content.xml") and ("/tpls/" in lowered or "/pages/" in lowered):
            texts = "".join(
                t.text or "" for t in package.xml(name).iter() if local(t) == "TextCode"
            )
            if "增值税专用发票" in texts or "专用发票" in texts:
                return "01"
            if "普通发票" in texts:
                return "02"
    return None


def same_value(key: str, value: str, data: str) -> bool:
    """Tag value and CustomData agree: same day for dates, same amount for numbers, else text."""
    if key == "issued":
        a, b = read_datetime(value), read_datetime(data)
        if a is not None and b is not None:
            return a[0] == b[0]
    x, y = number_or_none(value), number_or_none(data)
    if x is not None and y is not None:
        return x == y
    return value.strip() == data.strip()


def _cross_check(
    key: str, value: str | None, datas: dict[str, str], warnings: list[ParseWarning]
) -> str | None:
    """Prefer the tag value; fall back to CustomDatas; warn when both exist and differ."""
    label = _DATA_NAMES.get(key)
    data = datas.get(label) if label else None
    if value is None or not value.strip("¥￥ "):
        return data if data is not None else value
    if data is not None and not same_value(key, value, data):
        warnings.append(
            ParseWarning(
                "ofd.customdata-mismatch",
                f"tag value {value!r} differs from OFD.xml CustomData {label}={data!r}",
                f"OFD.xml:CustomData[{label}]",
            )
        )
    return value


def read_custom_tags(package: OfdPackage, warnings: list[ParseWarning]) -> RawFapiao:
    """Locate a 数电票 OFD's fields from its custom tags and CustomDatas."""
    texts = _Texts(package)
    tagged = _Tagged()
    files = _tag_files(package)
    for part in files:
        _collect(package, texts, part, tagged)
    tagged.source = files[0] if files else "OFD.xml"
    datas = package.custom_datas()
    if not files and not datas:
        raise FieldError(
            "OFD has neither an invoice XML attachment, nor custom tags, nor CustomDatas",
            field="Doc_0/Tags/CustomTags.xml",
            rule="ofd.no-data",
        )

    def header(key: str) -> Src:
        occurrences = tagged.header.get(key, [])
        value = _join(occurrences[0]) if occurrences else None
        return Src(_cross_check(key, value, datas, warnings), f"{tagged.source}:{key}")

    if datas.get("合计金额") and not tagged.header.get("net"):
        warnings.append(
            ParseWarning(
                "ofd.net-from-customdata", "net total taken from CustomData 合计金额 (net)"
            )
        )
    rows = [{k: _join(v) for k, v in group.items()} for group in tagged.grouped_lines.values()]
    rows = rows or _flat_lines(tagged, warnings)
    net, tax = header("net"), header("tax")
    if not rows:
        warnings.append(
            ParseWarning("ofd.no-lines", "OFD tags carry no line; one line made from the totals")
        )
        rows = [{"name": None, "amount": net.value, "tax": tax.value, "rate": None}]
    lines = [_raw_line(row, i, tagged.source) for i, row in enumerate(rows, start=1)]
    for line in lines:
        if line.rate.value is None:
            line.rate = Src(_guess_rate(line, warnings), line.rate.path)
    issued = header("issued")
    if issued.value is None:
        issued = header("issued_alt")
    extra = {f"customdata.{k}": v for k, v in datas.items() if k not in _DATA_NAMES.values()}
    return RawFapiao(
        number=header("number"),
        issued=issued,
        seller=RawParty(
            name=header("seller_name"), tax_id=header("seller_id"), address=header("seller_addr")
        ),
        buyer=RawParty(
            name=header("buyer_name"), tax_id=header("buyer_id"), address=header("buyer_addr")
        ),
        net_total=net,
        tax_total=tax,
        gross_total=header("gross"),
        gross_in_words=header("gross_words")
        if tagged.header.get("gross_words")
        else none("gross_words"),
        lines=lines,
        kind=_kind_from_template(package),
        drawer=header("drawer").value,
        remark=header("remark"),
        extra=extra,
    )


def _guess_rate(line: RawLine, warnings: list[ParseWarning]) -> str | None:
    """A missing rate from amount and tax, only when it lands on a known rate (warned)."""
    amount, tax = number_or_none(line.amount.text), number_or_none(line.tax.text)
    if amount is None or tax is None or amount == 0:
        return None
    for percent in (Decimal(0), *KNOWN_RATES):
        if abs(amount * percent / 100 - tax) <= Decimal("0.06"):
            warnings.append(
                ParseWarning(
                    "fapiao.rate-guess",
                    f"no rate printed; {percent}% derived from amount {amount} and tax {tax}",
                    line.rate.path,
                )
            )
            return f"{percent}%"
    return None
