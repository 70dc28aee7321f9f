"""The legacy VAT e-invoice XML (``original_invoice.xml`` inside an OFD; FORMAT.md §10).

Root ``eInvoice`` unqualified, children in ``http://www.edrm.org.cn/schema/e-invoice/2019``
(prefix ``fp``). Invoice identity is 发票代码 + 发票号码 concatenated (the STA's own convention
when a red invoice reverses a legacy one). Address and phone share one field, as do bank name
and account; they are split at a trailing run of digits.

A line's ``FreeTaxMark`` (零税率标识, FORMAT.md §6 ``LSLBS``: 1 免税, 2 不征税; some producers
write it, §10) decides an exempt or not-subject line whatever its rate prints, as Nuonuo's
``zeroRateFlag`` does; 0 (export) and 3 (ordinary zero rate) are left to the rate and the
buyer.
"""

from __future__ import annotations

import re

from lxml import etree

from gateway.errors import FieldError
from gateway.ingest.einvoice_xml import refuse_repeated
from gateway.ingest.platform_nuonuo import ZERO_RATE_POLICY
from gateway.ingest.record import RawFapiao, RawLine, RawParty, Src

LEGACY_ROOT = "eInvoice"
_TRAILING_PHONE = re.compile(r"^(.*?)[\s,;:：]*(\+?\d[\d\- ]{5,}\d)$")
_TRAILING_ACCOUNT = re.compile(r"^(.*?)[\s,;:：]*(\d[\d\- ]{5,}\d)$")


def _local(element: etree._Element) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def _kid(element: etree._Element | None, name: str) -> etree._Element | None:
    if element is None:
        return None
    return next((c for c in element if _local(c) == name), None)


def _split(text: str | None, pattern: re.Pattern[str]) -> tuple[str | None, str | None]:
    if not text or not text.strip():
        return None, None
    found = pattern.match(text.strip())
    if found is None:
        return text.strip(), None
    return (found.group(1).strip() or None), found.group(2).replace(" ", "")


class _Reader:
    def __init__(self, root: etree._Element, part: str) -> None:
        self.root = root
        self.part = part

    def src(self, *names: str, within: etree._Element | None = None, path: str = "") -> Src:
        """The text at ``names`` below ``within`` (default: the root); a block on the way
        given twice, or the field given twice with different values, is refused
        (:func:`~gateway.ingest.einvoice_xml.refuse_repeated`)."""
        element: etree._Element | None = self.root if within is None else within
        where = f"{self.part}:{path or '/'.join(names)}"
        for step, name in enumerate(names, start=1):
            found = [c for c in element if _local(c) == name] if element is not None else []
            if len(found) > 1 and step < len(names):
                raise FieldError(
                    f"{where}: {name} appears {len(found)} times; a legacy invoice XML holds "
                    "it once",
                    field=where,
                    rule="fapiao.repeated",
                )
            if len(found) > 1:
                refuse_repeated(where, found)
            element = found[0] if found else None
        text = (
            None
            if element is None
            else "".join(t for t in element.itertext() if isinstance(t, str))
        )
        return Src(text, f"{self.part}:{path or '/'.join(names)}")

    def party(self, block: str, prefix: str) -> tuple[RawParty, dict[str, str]]:
        addr_tel = self.src(block, f"{prefix}AddrTel")
        bank = self.src(block, f"{prefix}FinancialAccount")
        address, phone = _split(addr_tel.value, _TRAILING_PHONE)
        bank_name, account = _split(bank.value, _TRAILING_ACCOUNT)
        party = RawParty(
            name=self.src(block, f"{prefix}Name"),
            tax_id=self.src(block, f"{prefix}TaxID"),
            address=Src(address, addr_tel.path),
            phone=Src(phone, addr_tel.path),
            bank_name=Src(bank_name, bank.path),
            bank_account=Src(account, bank.path),
        )
        extra = {}
        if addr_tel.value:
            extra[f"{prefix.lower()}_addr_tel"] = addr_tel.value
        if bank.value:
            extra[f"{prefix.lower()}_financial_account"] = bank.value
        return party, extra

    def lines(self) -> list[RawLine]:
        goods = _kid(self.root, "GoodsInfos")
        out = []
        items = [g for g in (goods if goods is not None else []) if _local(g) == "GoodsInfo"]
        for index, item in enumerate(items, start=1):
            path = f"GoodsInfos/GoodsInfo[{index}]"

            def field(name: str, item: etree._Element = item, path: str = path) -> Src:
                return self.src(name, within=item, path=f"{path}/{name}")

            out.append(
                RawLine(
                    path=f"{self.part}:{path}",
                    name=field("Item"),
                    amount=field("Amount"),
                    rate=field("TaxScheme"),
                    tax=field("TaxAmount"),
                    spec=field("Specification"),
                    unit=field("MeasurementDimension"),
                    quantity=field("Quantity"),
                    price=field("Price"),
                    policy_flag=ZERO_RATE_POLICY.get(field("FreeTaxMark").value or ""),
                )
            )
        return out


def read_legacy(root: etree._Element, part: str) -> RawFapiao:
    """Locate the fields of a legacy ``eInvoice`` tree; ``part`` names it in paths."""
    reader = _Reader(root, part)
    code = reader.src("InvoiceCode").value or ""
    number = reader.src("InvoiceNo")
    seller, seller_extra = reader.party("Seller", "Seller")
    buyer, buyer_extra = reader.party("Buyer", "Buyer")
    type_code = reader.src("TypeCode").value
    graph = reader.src("GraphCode").value
    extra = {**seller_extra, **buyer_extra}
    for key, name in (
        ("invoice_code", "InvoiceCode"),
        ("invoice_no", "InvoiceNo"),
        ("check_code", "InvoiceCheckCode"),
        ("machine_no", "MachineNo"),
        ("payee", "Payee"),
        ("checker", "Checker"),
        ("qr", "GraphCode"),
    ):
        value = reader.src(name).value
        if value:
            extra[key] = value
    kind = None
    if graph and len(graph.split(",")) > 2:
        kind = graph.split(",")[1].strip() or None
    return RawFapiao(
        number=Src(code + number.value if number.value else None, number.path),
        issued=reader.src("IssueDate"),
        seller=seller,
        buyer=buyer,
        net_total=reader.src("TaxExclusiveTotalAmount"),
        tax_total=reader.src("TaxTotalAmount"),
        gross_total=reader.src("TaxInclusiveTotalAmount"),
        lines=reader.lines(),
        blue={"0": True, "1": False}.get(type_code or ""),
        kind=kind,
        drawer=reader.src("InvoiceClerk").value,
        remark=reader.src("Note"),
        extra=extra,
    )
