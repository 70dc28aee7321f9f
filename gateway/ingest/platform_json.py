"""STA 乐企 platform JSON (pinyin-abbreviation keys; FORMAT.md §11).

Covers the issuing/upload shape (``fpmxList``) and the verification (查验) response shape
(``hwxx``). A response envelope (``{"data": {...}}``, ``result``, ``body``) is unwrapped.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from gateway.errors import FieldError
from gateway.ingest.build import build
from gateway.ingest.record import RawFapiao, RawLine, RawParty, Src
from gateway.ingest.safejson import load_json
from gateway.ingest.types import IngestLimits, ParsedInvoice, ParseWarning
from gateway.ingest.values import number_or_none

_ENVELOPES = ("data", "result", "body", "fpxx")
_LINE_LISTS = ("fpmxList", "hwxx", "mxList")
_EXTRA_KEYS = ("tdys", "sgfplxDm", "cezslxDm", "ckywsyzcDm", "zzsjzjtDm", "fpkjfsDm",
               "skrxm", "fhrxm", "jsfs", "hzqrduuid", "zrrzjlxDm", "zrrgjDm", "cktslDm",
               "xfnsrlxdm", "qyDm")  # fmt: skip


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, dict | list):
        return None
    if isinstance(value, bool):
        return "Y" if value else "N"
    if isinstance(value, Decimal | int):
        return str(value)
    return str(value)


def _invoice_object(doc: Any) -> dict[str, Any]:
    if not isinstance(doc, dict):
        raise FieldError("platform JSON must be one invoice object", rule="json.shape")
    current: dict[str, Any] = doc
    for _ in range(3):
        if "fphm" in current or "xsfnsrsbh" in current:
            return current
        inner = next((current[k] for k in _ENVELOPES if isinstance(current.get(k), dict)), None)
        if inner is None:
            break
        current = inner
    raise FieldError(
        "platform JSON has no invoice: expected keys such as fphm, xsfnsrsbh, hjje",
        field="fphm",
        rule="json.shape",
    )


class _Obj:
    def __init__(self, obj: dict[str, Any], path: str) -> None:
        self.obj = obj
        self.path = path

    def src(self, *keys: str) -> Src:
        for key in keys:
            if key in self.obj and _text(self.obj[key]) not in (None, ""):
                return Src(_text(self.obj[key]), f"{self.path}{key}")
        return Src(None, f"{self.path}{keys[0]}")

    def value(self, *keys: str) -> str | None:
        return self.src(*keys).value


_INCLUDES_TAX = frozenset({"1", "Y", "TRUE"})
"""Values of 含税标志 ``hsbz`` (vendors: ``isIncludeTax``) saying the line's 金额 and 单价
include VAT."""


def _includes_tax(o: _Obj) -> bool:
    flag = o.value("hsbz", "isIncludeTax")
    return flag is not None and flag.upper() in _INCLUDES_TAX


def _net_of_tax(o: _Obj, path: str) -> tuple[Src, Src, Src | None]:
    """(amount, gross, price) of a line whose 金额 ``je`` and 单价 ``dj`` include VAT.

    The amount is je − se and the gross je; the price is ``None``, so the parser derives the
    net unit price from amount / quantity (an inclusive price is not BT-146). Without a tax amount the net
    cannot be known: refused.
    """
    je, se = o.src("je"), o.src("se")
    gross, tax = number_or_none(je.text), number_or_none(se.text)
    if gross is None or tax is None:
        raise FieldError(
            f"{path}: hsbz = 1 says je {je.text!r} includes VAT, but se {se.text!r} gives no "
            "tax amount to take out, so the net amount is unknown; send the line tax-exclusive "
            "(hsbz 0) or with its tax",
            field=se.path,
            rule="json.tax-inclusive",
        )
    net = Src(f"{gross - tax}", f"{je.path} − {se.path} (hsbz = 1)")
    return net, Src(je.text, je.path), None


def _line(obj: dict[str, Any], path: str) -> RawLine:
    o = _Obj(obj, f"{path}.")
    name = o.src("hwhyslwfwmc")
    if name.value is None:
        short, item = o.value("spfwjc"), o.src("xmmc", "spmc")
        name = Src(f"*{short}*{item.value}" if short and item.value else item.text, item.path)
    amount, gross = o.src("je"), o.src("hsje")
    price: Src | None = o.src("dj", "fpjydj")
    if _includes_tax(o):
        amount, gross, price = _net_of_tax(o, path)
    return RawLine(
        path=path,
        name=name,
        amount=amount,
        rate=o.src("slv"),
        tax=o.src("se"),
        spec=o.src("ggxh"),
        unit=o.src("dw"),
        quantity=o.src("sl", "fpjysl"),
        price=price,
        gross=gross,
        tax_code=o.src("sphfwssflhbbm", "spbm"),
        line_kind=o.value("fphxz"),
        policy_flag=o.value("yhzcbs"),
    )


def _lines(doc: dict[str, Any]) -> list[RawLine]:
    key = next((k for k in _LINE_LISTS if k in doc), _LINE_LISTS[0])
    items = doc.get(key) or []
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise FieldError(f"{key} must be a list of line objects", field=key, rule="json.shape")
    return [_line(item, f"{key}[{i}]") for i, item in enumerate(items, start=1)]


def _blue(o: _Obj) -> bool | None:
    flag = o.value("lzfpbz")
    if flag is not None:
        return {"0": True, "1": False}.get(flag)
    verified = o.value("sflzfp")
    return None if verified is None else verified.upper() in {"Y", "1", "TRUE"}


def read_platform(doc: dict[str, Any]) -> RawFapiao:
    """Locate the fields of one STA platform invoice object."""
    o = _Obj(doc, "")
    person = o.value("gmfzrrbz")
    labels = []
    if o.value("cezslxDm"):
        labels.append(("特定征税方式", "03"))
    kce = o.src("kce")
    return RawFapiao(
        number=o.src("fphm"),
        issued=o.src("kprq"),
        seller=RawParty(
            name=o.src("xsfmc"), tax_id=o.src("xsfnsrsbh"), address=o.src("xsfdz"),
            phone=o.src("xsfdh"), bank_name=o.src("xsfkhh"), bank_account=o.src("xsfzh"),
        ),
        buyer=RawParty(
            name=o.src("gmfmc"), tax_id=o.src("gmfnsrsbh"), address=o.src("gmfdz"),
            phone=o.src("gmfdh"), bank_name=o.src("gmfkhh"), bank_account=o.src("gmfzh"),
            handler=o.src("gmfjbr"),
            natural_person_flag=None if person is None else person.upper() == "Y",
        ),
        net_total=o.src("hjje"),
        tax_total=o.src("hjse"),
        gross_total=o.src("jshj"),
        gross_in_words=o.src("jshjdx"),
        lines=_lines(doc),
        blue=_blue(o),
        kind=o.value("fppz", "fppzDm"),
        labels=labels,
        drawer=o.value("kpr"),
        remark=o.src("bz"),
        red_original=o.src("dylzfphm", "kjhzfpdydlzfphm"),
        red_confirmation=o.src("hzqrxxdbh"),
        differential=(kce, o.src("jshj")) if kce.value else None,
        export_policy=o.value("ckywsyzcDm"),
        extra={k: v for k in _EXTRA_KEYS if (v := o.value(k))},
    )  # fmt: skip


def parse_platform_json(data: bytes, limits: IngestLimits) -> ParsedInvoice:
    """Parse one STA platform JSON invoice."""
    doc = _invoice_object(load_json(data, limits, for_xml=True))
    warnings: list[ParseWarning] = []
    invoice, facts = build(read_platform(doc), warnings, limits.max_lines)
    return ParsedInvoice(invoice, "fapiao-json", data, None, facts, warnings)
