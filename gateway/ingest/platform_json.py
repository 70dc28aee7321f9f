"""Platform API JSON (FORMAT.md §11): the STA 乐企 pinyin keys, and Nuonuo's camelCase keys
for the same fields (:mod:`gateway.ingest.platform_nuonuo`).

Covers the 乐企 issuing/upload shape (``fpmxList``, with its 附加要素 ``fjysList``) and the
verification (查验) response shape (``hwxx``). A response envelope (``{"data": {...}}``,
``result``, ``body``; a one-invoice list under it, as Nuonuo answers) is unwrapped, and so is
the 乐企 answer ``{"Response": {"Data": {"cyjgxx": …}}}`` of a 查验 call
(:mod:`gateway.ingest.platform_answer`). The 乐企 upload request is a list of invoices (up to
100, FORMAT.md [S3] 数电票上传, its masked production example a list of one): a list holding
exactly one invoice is read as that invoice; more are refused, naming the count, as one
document is one invoice (FORMAT.md §13.18).
"""

from __future__ import annotations

from typing import Any

from gateway.errors import FieldError, UnknownFormatError
from gateway.ingest.build import build
from gateway.ingest.not_fapiao import EBL_NOT_FAPIAO, is_dcsa_ebl
from gateway.ingest.platform_answer import ANSWER, read_answer
from gateway.ingest.platform_fields import (
    JsonObject,
    includes_tax,
    net_of_tax,
    object_list,
)
from gateway.ingest.platform_nuonuo import MARKERS as NUONUO_MARKERS
from gateway.ingest.platform_nuonuo import read_nuonuo
from gateway.ingest.record import RawFapiao, RawLine, RawParty, Src
from gateway.ingest.safejson import load_json
from gateway.ingest.types import IngestLimits, ParsedInvoice, ParseWarning
from gateway.ingest.values import number_or_none

_ENVELOPES = ("data", "result", "body", "fpxx")
_LINE_LISTS = ("fpmxList", "hwxx", "mxList")
_EXTRA_KEYS = ("tdys", "sgfplxDm", "cezslxDm", "ckywsyzcDm", "zzsjzjtDm", "fpkjfsDm",
               "skrxm", "fhrxm", "jsfs", "hzqrduuid", "zrrzjlxDm", "zrrgjDm", "cktslDm",
               "xfnsrlxdm", "qyDm")  # fmt: skip
PINYIN_MARKERS = ("fphm", "xsfnsrsbh")
"""Keys that say an object is a 乐企 invoice (they win over Nuonuo's when both appear)."""


def _vocabulary(obj: dict[str, Any]) -> str | None:
    """``pinyin`` (乐企), ``nuonuo`` (camelCase) or ``None``: no invoice keys at all."""
    if any(key in obj for key in PINYIN_MARKERS):
        return "pinyin"
    if any(key in obj for key in NUONUO_MARKERS):
        return "nuonuo"
    return None


def _inner(current: dict[str, Any]) -> dict[str, Any] | None:
    """The object an envelope key holds: an object, or a list of exactly one object."""
    for key in _ENVELOPES:
        inner = current.get(key)
        if isinstance(inner, dict):
            return inner
        if isinstance(inner, list) and inner and all(isinstance(i, dict) for i in inner):
            if len(inner) > 1:
                raise FieldError(
                    f"platform JSON holds {len(inner)} invoices in {key}; send one invoice "
                    "per document",
                    field=key,
                    rule="json.shape",
                )
            only: dict[str, Any] = inner[0]
            return only
    return None


def _only_invoice(items: list[Any]) -> Any:
    """The one invoice object of a top-level list (the 乐企 upload request's shape)."""
    if not items or not all(isinstance(i, dict) for i in items):
        raise FieldError(
            "platform JSON must be one invoice object, or a list of one invoice object (the "
            "乐企 upload shape)",
            rule="json.shape",
        )
    if len(items) > 1:
        raise FieldError(
            f"platform JSON holds {len(items)} invoices in a list (a 乐企 upload of several); "
            "send one invoice per document",
            rule="json.shape",
        )
    return items[0]


def _invoice_object(doc: Any, limits: IngestLimits) -> tuple[dict[str, Any], str]:
    if isinstance(doc, list):
        doc = _only_invoice(doc)
    if isinstance(doc, dict) and ANSWER in doc and _vocabulary(doc) is None:
        doc = read_answer(doc, limits)
    if not isinstance(doc, dict):
        raise FieldError("platform JSON must be one invoice object", rule="json.shape")
    current: dict[str, Any] = doc
    for _ in range(3):
        vocabulary = _vocabulary(current)
        if vocabulary is not None:
            return current, vocabulary
        inner = _inner(current)
        if inner is None:
            break
        current = inner
    if is_dcsa_ebl(doc):
        raise UnknownFormatError(EBL_NOT_FAPIAO.format(what="a DCSA eBL"), rule="detect.ebl")
    raise FieldError(
        "platform JSON has no invoice: expected keys such as fphm, xsfnsrsbh, hjje",
        field="fphm",
        rule="json.shape",
    )


def _line(obj: dict[str, Any], path: str) -> RawLine:
    o = JsonObject(obj, f"{path}.")
    name = o.src("hwhyslwfwmc")
    if name.value is None:
        short, item = o.value("spfwjc"), o.src("xmmc", "spmc")
        name = Src(f"*{short}*{item.value}" if short and item.value else item.text, item.path)
    amount, gross = o.src("je"), o.src("hsje")
    price: Src | None = o.src("dj", "fpjydj")
    if includes_tax(o, "hsbz", "isIncludeTax"):
        amount, gross, price = net_of_tax(o, path, ("je", "se"), ("hsbz = 1", "hsbz 0"))
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
    items = object_list(doc, key, "line")
    return [_line(item, f"{key}[{i}]") for i, item in enumerate(items)]


def _additional(doc: dict[str, Any]) -> dict[str, str]:
    """附加要素 ``fjysList[]{fjysmc 名称, fjyslx 类型, fjysz 值}``, kept as the XML reader keeps
    ``AdditionalInformation/Additional``: ``additional.<n>.<name>`` facts (``n`` counted
    from 1, as that reader counts), pairs with a name and a value only. A path names the
    JSON item from 0 (``fjysList[0]``), as every JSON path here does (RFC 6901)."""
    extra: dict[str, str] = {}
    for index, item in enumerate(object_list(doc, "fjysList", "附加要素")):
        o = JsonObject(item, f"fjysList[{index}].")
        name, value = o.value("fjysmc"), o.value("fjysz")
        if name and value:
            extra[f"additional.{index + 1}.{name}"] = value
    return extra


def _blue(o: JsonObject) -> bool | None:
    flag = o.value("lzfpbz")
    if flag is not None:
        return {"0": True, "1": False}.get(flag)
    verified = o.value("sflzfp")
    return None if verified is None else verified.upper() in {"Y", "1", "TRUE"}


def _deduction(o: JsonObject, doc: dict[str, Any]) -> Src | None:
    """差额征税 扣除额: the invoice's ``kce`` (the 查验 answer), else a line's (``fpmxList[].kce``
    of the 乐企 upload, ``hwxx[].kce``; a differential invoice has one line). Zero or empty is
    no deduction: the 查验 answer writes ``kce`` 0 on every invoice."""
    found = [o.src("kce")]
    key = next((k for k in _LINE_LISTS if k in doc), _LINE_LISTS[0])
    found += [
        JsonObject(item, f"{key}[{i}].").src("kce")
        for i, item in enumerate(object_list(doc, key, "line"))
    ]
    for kce in found:
        if kce.value is not None and number_or_none(kce.text) != 0:
            return kce
    return None


def read_platform(doc: dict[str, Any]) -> RawFapiao:
    """Locate the fields of one STA platform invoice object."""
    o = JsonObject(doc, "")
    person = o.value("gmfzrrbz")
    labels = []
    if o.value("cezslxDm"):
        labels.append(("特定征税方式", "03"))
    kce = _deduction(o, doc)
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
        differential=(kce, o.src("jshj")) if kce is not None else None,
        export_policy=o.value("ckywsyzcDm"),
        extra={k: v for k in _EXTRA_KEYS if (v := o.value(k))} | _additional(doc),
    )  # fmt: skip


def parse_platform_json(data: bytes, limits: IngestLimits) -> ParsedInvoice:
    """Parse one platform JSON invoice (乐企 pinyin or Nuonuo camelCase keys)."""
    doc, vocabulary = _invoice_object(load_json(data, limits, for_xml=True), limits)
    raw = read_platform(doc) if vocabulary == "pinyin" else read_nuonuo(doc)
    warnings: list[ParseWarning] = []
    invoice, facts = build(raw, warnings, limits.max_lines)
    return ParsedInvoice(invoice, "fapiao-json", data, None, facts, warnings)
