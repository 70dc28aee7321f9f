"""Locate the fields of a 数电票 XML (root ``EInvoice``, no namespace; FORMAT.md §2).

Every value is looked up by its full path from the root, never by position or bare name:
``Amount``, ``ItemName``, ``Remark`` and others occur in several blocks (FORMAT.md §13.3).
"""

from __future__ import annotations

from lxml import etree

from gateway.errors import FieldError
from gateway.ingest.record import RawFapiao, RawLine, RawParty, Src

ROOT = "EInvoice"
DATA = "EInvoiceData"
SELLER = f"{DATA}/SellerInformation"
BUYER = f"{DATA}/BuyerInformation"
BASIC = f"{DATA}/BasicInformation"
LINE = f"{DATA}/IssuItemInformation"
SPECIFIC = f"{DATA}/SpecificInformation"
LABELS = "Header/InherentLabel"


class _Paths:
    """``root.findall(path)`` and ``root.find(path)`` for the plain paths read here
    (``A/B/C``), each found once: the children of the elements at a path are looked at once
    and grouped by name, in document order, so the paths below it are dictionary look-ups."""

    __slots__ = ("_children", "_found")

    def __init__(self, root: etree._Element) -> None:
        self._found: dict[str, list[etree._Element]] = {"": [root]}
        self._children: dict[str, dict[str, list[etree._Element]]] = {}

    def all(self, path: str) -> list[etree._Element]:
        """The elements at ``path``, in the order ``findall`` gives them."""
        found = self._found.get(path)
        if found is None:
            parent, _, name = path.rpartition("/")
            children = self._children.get(parent)
            if children is None:
                children = self._children[parent] = {}
                for element in self.all(parent):
                    for child in element:
                        if isinstance(child.tag, str):
                            children.setdefault(child.tag, []).append(child)
            found = self._found[path] = children.get(name, [])
        return found

    def first(self, path: str) -> etree._Element | None:
        """The element ``find`` gives for ``path``, or ``None``."""
        found = self.all(path)
        return found[0] if found else None


SINGLE_BLOCKS = (
    "Header",
    LABELS,
    DATA,
    SELLER,
    BUYER,
    BASIC,
    SPECIFIC,
    f"{SPECIFIC}/RedEInvoice",
    f"{SPECIFIC}/DifferentialTaxation",
    "TaxSupervisionInfo",
)
"""Blocks a fapiao has once (FORMAT.md §2): a second one would mix two invoices' lines or
facts (one file is one invoice, §13.18)."""


def refuse_repeated(path: str, found: list[etree._Element]) -> None:
    """Refuse a field given several times with different values (:class:`FieldError` naming
    it): which one states the fact cannot be told, and taking the first would be a silent
    guess (as a JSON key given twice is refused). The same value repeated is left to the
    schema's finding."""
    values = list(dict.fromkeys(_element_text(e).strip() for e in found))
    if len(values) < 2:
        return
    shown = ", ".join(repr(v if len(v) <= 40 else v[:37] + "...") for v in values[:3])
    raise FieldError(
        f"{path} is given {len(found)} times with different values ({shown}): which one the "
        "fapiao states cannot be told",
        field=path,
        rule="fapiao.repeated",
    )


def _check_single_blocks(root: _Paths) -> None:
    """Refuse a repeated :data:`SINGLE_BLOCKS` block, naming it."""
    for path in SINGLE_BLOCKS:
        found = root.all(path)
        if len(found) > 1:
            raise FieldError(
                f"{path} appears {len(found)} times: a fapiao XML holds one (one file is one "
                "invoice, FORMAT.md §13.18)",
                field=path,
                rule="fapiao.repeated",
            )


def _text(root: _Paths, path: str) -> str | None:
    """The text of the field at ``path``; one given several times with different values is
    refused (:func:`refuse_repeated`)."""
    found = root.all(path)
    if len(found) > 1:
        refuse_repeated(path, found)
    return _element_text(found[0]) if found else None


def _element_text(found: etree._Element) -> str:
    """The text of ``found``: its own text when it is a leaf, else all its text joined."""
    if len(found) == 0:
        return found.text or ""
    return "".join(t for t in found.itertext() if isinstance(t, str))


def _src(root: _Paths, path: str) -> Src:
    return Src(_text(root, path), path)


def _opt(root: _Paths, path: str) -> str | None:
    return _src(root, path).value


REMARK_SEPARATOR = "；"
"""Between the texts of several ``Remark`` elements (a full-width semicolon: the remark's
readers split references at it)."""


def _remarks(root: _Paths) -> Src:
    """Every ``Remark``'s text, in document order, joined (some issuers write several)."""
    path = f"{DATA}/AdditionalInformation/Remark"
    texts = [t.strip() for e in root.all(path) if (t := _element_text(e)).strip()]
    return Src(REMARK_SEPARATOR.join(texts) if texts else _text(root, path), path)


def strip_namespaces(root: etree._Element) -> None:
    """Drop namespaces from element names in place (a namespaced EInvoice is read like a plain one)."""
    for element in root.iter():
        if isinstance(element.tag, str) and element.tag.startswith("{"):
            element.tag = etree.QName(element).localname


def _line(element: etree._Element, path: str) -> RawLine:
    """One line block; its children are looked at once, the first of each name kept (what
    ``element.find(name)`` would return, ten times over)."""
    children: dict[str, etree._Element] = {}
    for child in element:
        tag = child.tag
        if not isinstance(tag, str):
            continue
        if tag not in children:
            children[tag] = child
        else:
            refuse_repeated(f"{path}/{tag}", [children[tag], child])

    def src(name: str) -> Src:
        found = children.get(name)
        return Src(None if found is None else _element_text(found), f"{path}/{name}")

    return RawLine(
        path=path,
        name=src("ItemName"),
        amount=src("Amount"),
        rate=src("TaxRate"),
        tax=src("ComTaxAm"),
        spec=src("SpecMod"),
        unit=src("MeaUnits"),
        quantity=src("Quantity"),
        price=src("UnPrice"),
        gross=src("TotaltaxIncludedAmount"),
        tax_code=src("TaxClassificationCode"),
    )


def _party(root: _Paths, base: str, prefix: str) -> RawParty:
    return RawParty(
        name=_src(root, f"{base}/{prefix}Name"),
        tax_id=_src(root, f"{base}/{prefix}IdNum"),
        address=_src(root, f"{base}/{prefix}Addr"),
        phone=_src(root, f"{base}/{prefix}TelNum"),
        bank_name=_src(root, f"{base}/{prefix}BankName"),
        bank_account=_src(root, f"{base}/{prefix}BankAccNum"),
        handler=_src(root, f"{base}/{prefix}HandlingName") if prefix == "Buyer" else None,
    )


def _blue(root: _Paths) -> bool | None:
    code = _opt(root, f"{LABELS}/InIssuType/LabelCode")
    if code is None:
        return None
    return {"Y": True, "N": False}.get(code.upper())


def _labels(root: _Paths) -> list[tuple[str, str]]:
    out = []
    for label in root.all("Header/UndefinedLabel/Label"):
        label_type = (label.findtext("LabelType") or "").strip()
        code = (label.findtext("LabelCode") or "").strip()
        if label_type and code:
            out.append((label_type, code))
    return out


def _extra(root: _Paths) -> dict[str, str]:
    extra: dict[str, str] = {}
    for key, path in (
        ("ptbh", "ptbh"),
        ("eiid", "Header/EIid"),
        ("issue_time", "TaxSupervisionInfo/IssueTime"),
        ("authentication", "SellerAuthentication/AuthenticationMethods"),
        ("signature_algorithm", "TaxBureauSignature/SignatureAlgorithm"),
        ("signature_time", "TaxBureauSignature/SignatureTime"),
        ("invoice_type", f"{LABELS}/EInvoiceType/LabelCode"),
        ("amount_in_words", f"{BASIC}/TotalTax-includedAmountInChinese"),
    ):
        value = _opt(root, path)
        if value:
            extra[key] = value
    for index, block in enumerate(root.all(f"{DATA}/AdditionalInformation/Additional"), 1):
        name = (block.findtext("Information") or "").strip()
        value = (block.findtext("InformationValue") or "").strip()
        if name and value:
            extra[f"additional.{index}.{name}"] = value
    extra.update(_payment_records(root))
    specific = root.first(SPECIFIC)
    if specific is not None:
        kinds = [
            etree.QName(child).localname
            for child in specific
            if isinstance(child.tag, str)
            and etree.QName(child).localname not in {"DifferentialTaxation", "RedEInvoice"}
        ]
        if kinds:
            extra["specific_blocks"] = ",".join(kinds)
    return extra


def _payment_records(root: _Paths) -> dict[str, str]:
    """附加要素 payment records ``Transaction/TransactionRecord{PaymentChannel 支付渠道,
    TransactionNumber 交易单号}`` as ``payment.<n>.channel`` / ``payment.<n>.transaction``
    facts. FORMAT.md §2.1 leaves the nesting open (inside ``Additional`` or beside it), so every
    record under ``AdditionalInformation`` is read, in document order."""
    out: dict[str, str] = {}
    index = 0
    for block in root.all(f"{DATA}/AdditionalInformation"):
        for record in block.iter("TransactionRecord"):
            channel = (record.findtext("PaymentChannel") or "").strip()
            number = (record.findtext("TransactionNumber") or "").strip()
            if not (channel or number):
                continue
            index += 1
            if channel:
                out[f"payment.{index}.channel"] = channel
            if number:
                out[f"payment.{index}.transaction"] = number
    return out


SPECIAL_SKIP = frozenset({"DifferentialTaxation", "RedEInvoice"})
"""SpecificInformation children read elsewhere (they are not 特定业务 blocks)."""


def _special(root: _Paths) -> list[tuple[str, dict[str, str]]]:
    """Each 特定业务 block with its leaf fields (texts stripped, empty ones left out)."""
    specific = root.first(SPECIFIC)
    if specific is None:
        return []
    blocks: list[tuple[str, dict[str, str]]] = []
    for child in specific:
        if not isinstance(child.tag, str):
            continue
        name = etree.QName(child).localname
        if name in SPECIAL_SKIP:
            continue
        fields = {
            etree.QName(leaf).localname: (leaf.text or "").strip()
            for leaf in child
            if isinstance(leaf.tag, str) and len(leaf) == 0 and (leaf.text or "").strip()
        }
        blocks.append((name, fields))
    return blocks


def read_einvoice(tree: etree._Element) -> RawFapiao:
    """Locate every field the canonical invoice needs in a parsed ``EInvoice`` tree."""
    root = _Paths(tree)
    _check_single_blocks(root)
    number = _src(root, "TaxSupervisionInfo/InvoiceNumber")
    eiid = _src(root, "Header/EIid")
    if number.value is None and eiid.value is not None:
        number = eiid
    issued = _src(root, f"{BASIC}/RequestTime")
    if issued.value is None:
        issued = _src(root, "TaxSupervisionInfo/IssueTime")
    lines = [_line(element, f"{LINE}[{i}]") for i, element in enumerate(root.all(LINE), start=1)]
    differential = None
    if root.first(f"{SPECIFIC}/DifferentialTaxation") is not None:
        differential = (
            _src(root, f"{SPECIFIC}/DifferentialTaxation/Deduction"),
            _src(root, f"{SPECIFIC}/DifferentialTaxation/SalesIncludingTax"),
        )
    return RawFapiao(
        number=number,
        issued=issued,
        generated=_src(root, "TaxSupervisionInfo/IssueTime"),
        seller=_party(root, SELLER, "Seller"),
        buyer=_party(root, BUYER, "Buyer"),
        net_total=_src(root, f"{BASIC}/TotalAmWithoutTax"),
        tax_total=_src(root, f"{BASIC}/TotalTaxAm"),
        gross_total=_src(root, f"{BASIC}/TotalTax-includedAmount"),
        gross_in_words=_src(root, f"{BASIC}/TotalTax-includedAmountInChinese"),
        lines=lines,
        blue=_blue(root),
        kind=_opt(root, f"{LABELS}/GeneralOrSpecialVAT/LabelCode"),
        taxpayer_type=_opt(root, f"{LABELS}/TaxpayerType/LabelCode"),
        labels=_labels(root),
        drawer=_opt(root, f"{BASIC}/Drawer"),
        remark=_remarks(root),
        red_original=_src(root, f"{SPECIFIC}/RedEInvoice/OriginalInvoiceCode"),
        red_confirmation=_src(root, f"{SPECIFIC}/RedEInvoice/CreditNoteNumber"),
        differential=differential,
        version=_opt(root, "Header/Version"),
        region_tag=_opt(root, "Header/EInvoiceTag"),
        tax_bureau_code=_opt(root, "TaxSupervisionInfo/TaxBureauCode"),
        tax_bureau_name=_opt(root, "TaxSupervisionInfo/TaxBureauName"),
        special=_special(root),
        twins=[(issued, _src(root, "TaxSupervisionInfo/IssueTime"))],
        extra=_extra(root),
    )
