"""Realistic generated 数电票 XML (EInvoice) for benchmarks, and a matching partner directory.

Lines vary in number, goods, quantity, price and VAT rate; every amount is consistent the way
the tax system prints it (line tax rounded per line, totals summed, gross total in words).
"""

from __future__ import annotations

import random
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from xml.sax.saxutils import escape

SELLER_ID = "91310115MA1K4ABC4H"
SELLER_NAME = "上海临港示例科技有限公司"
BUYERS = {
    "bis3": ("Noordzee Handel B.V.", "NL", "0106:12345678", "Kade 1", "Rotterdam", "3011"),
    "pint-sg": (
        "Acme Trading Pte. Ltd.",
        "SG",
        "0195:SGUEN200212345Z",
        "1 Harbourfront Ave",
        "Singapore",
        "098632",
    ),
}
GOODS = (
    ("*电子计算机*笔记本电脑", "台", "1090511030000000000"),
    ("*纺织产品*棉布", "米", "1070102010000000000"),
    ("*机械设备*工业阀门", "个", "1090322020000000000"),
    ("*塑料制品*包装膜", "千克", "1070213990000000000"),
    ("*陶瓷制品*瓷砖", "件", "1080307010000000000"),
)
RATES = (Decimal("0.13"), Decimal("0.13"), Decimal("0.09"), Decimal("0.06"))
CENT = Decimal("0.01")
_DIGITS = "零壹贰叁肆伍陆柒捌玖"


def amount_in_words(value: Decimal) -> str:
    """A positive amount in Chinese financial numerals (``2.12`` → ``贰圆壹角贰分``)."""
    cents_total = int((value * 100).to_integral_value(ROUND_HALF_UP))
    yuan, cents = divmod(cents_total, 100)
    sections = []
    while yuan:
        yuan, section = divmod(yuan, 10_000)
        sections.append(section)
    words = ""
    for index in range(len(sections) - 1, -1, -1):
        section = sections[index]
        if section == 0:
            continue
        if words and section < 1000:
            words += "零"
        part, gap = "", False
        for power, unit in ((3, "仟"), (2, "佰"), (1, "拾"), (0, "")):
            digit = section // 10**power % 10
            if digit == 0:
                gap = bool(part)
                continue
            part += ("零" if gap else "") + _DIGITS[digit] + unit
            gap = False
        words += part + ("", "万", "亿")[index]
    words = (words or "零") + "圆"
    jiao, fen = divmod(cents, 10)
    if not cents:
        return words + "整"
    words += _DIGITS[jiao] + "角" if jiao else "零"
    return words + (_DIGITS[fen] + "分" if fen else "")


def _line(rng: random.Random) -> tuple[str, Decimal, Decimal, Decimal]:
    name, unit, code = rng.choice(GOODS)
    quantity = rng.randint(1, 60)
    price = Decimal(rng.randint(150, 250_000)) / 100
    rate = rng.choice(RATES)
    amount = (price * quantity).quantize(CENT)
    tax = (amount * rate).quantize(CENT, ROUND_HALF_UP)
    xml = (
        "<IssuItemInformation>"
        f"<ItemName>{escape(name)}</ItemName><SpecMod>M{rng.randint(1, 99)}</SpecMod>"
        f"<MeaUnits>{unit}</MeaUnits><Quantity>{quantity}</Quantity><UnPrice>{price}</UnPrice>"
        f"<Amount>{amount}</Amount><TaxRate>{rate:.6f}</TaxRate><ComTaxAm>{tax}</ComTaxAm>"
        f"<TotaltaxIncludedAmount>{amount + tax}</TotaltaxIncludedAmount>"
        f"<TaxClassificationCode>{code}</TaxClassificationCode>"
        "</IssuItemInformation>"
    )
    return xml, amount, tax, rate


def fapiao(index: int, profile: str, rng: random.Random, max_lines: int = 20) -> bytes:
    """One blue 数电票 (special VAT invoice) to the ``profile`` partner, 1..max_lines lines."""
    lines = [_line(rng) for _ in range(rng.randint(1, max_lines))]
    net = sum((amount for _, amount, _, _ in lines), Decimal(0))
    tax = sum((t for _, _, t, _ in lines), Decimal(0))
    number = f"2631{index:016d}"
    day = 1 + index % 28
    buyer = BUYERS[profile][0]
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<EInvoice><Header>'
        f"<EIid>{number}</EIid><EInvoiceTag>SWEI3100</EInvoiceTag><Version>0.2</Version>"
        "<InherentLabel><InIssuType><LabelCode>Y</LabelCode></InIssuType>"
        "<EInvoiceType><LabelCode>01</LabelCode></EInvoiceType>"
        "<GeneralOrSpecialVAT><LabelCode>01</LabelCode></GeneralOrSpecialVAT>"
        "<TaxpayerType><LabelCode>1</LabelCode></TaxpayerType></InherentLabel></Header>"
        "<EInvoiceData><SellerInformation>"
        f"<SellerIdNum>{SELLER_ID}</SellerIdNum><SellerName>{SELLER_NAME}</SellerName>"
        "<SellerAddr>上海市浦东新区临港大道1号</SellerAddr><SellerTelNum>021-00000000</SellerTelNum>"
        "</SellerInformation><BuyerInformation>"
        f"<BuyerName>{escape(buyer)}</BuyerName></BuyerInformation><BasicInformation>"
        f"<TotalAmWithoutTax>{net}</TotalAmWithoutTax><TotalTaxAm>{tax}</TotalTaxAm>"
        f"<TotalTax-includedAmount>{net + tax}</TotalTax-includedAmount>"
        f"<TotalTax-includedAmountInChinese>{amount_in_words(net + tax)}"
        "</TotalTax-includedAmountInChinese>"
        f"<Drawer>王五</Drawer><RequestTime>2026-11-{day:02d}</RequestTime></BasicInformation>"
        + "".join(xml for xml, _, _, _ in lines)
        + "<AdditionalInformation><Remark>Contract LG-2026-"
        f"{index:04d}</Remark></AdditionalInformation></EInvoiceData>"
        f"<TaxSupervisionInfo><InvoiceNumber>{number}</InvoiceNumber>"
        f"<IssueTime>2026-11-{day:02d} 10:08:05</IssueTime></TaxSupervisionInfo></EInvoice>"
    ).encode("utf-8")


def directory_data() -> dict[str, Any]:
    """Partner directory data (``PartnerDirectory.from_dict``) for the generated buyers."""
    partners = [
        {
            "buyer_name": name,
            "country": country,
            "endpoint": endpoint,
            "street": street,
            "city": city,
            "postcode": postcode,
            "profile": profile,
        }
        for profile, (name, country, endpoint, street, city, postcode) in BUYERS.items()
    ]
    return {
        "partners": partners,
        "exporters": [{"seller_id": SELLER_ID, "endpoint": "0199:5493001KJTIIGC8Y1R12"}],
    }
