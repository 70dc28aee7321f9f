"""特定业务 (special business) blocks: what has an EN 16931 home, and what must not leave.

* 建筑服务 ``ConstructionServices``: the site (``OccurredSite``) is where the service is
  delivered (BG-15 deliver-to address); the project name is the project reference (BT-11).
* 不动产销售 ``RealEstateSales``: the property address is the deliver-to address; the property
  certificate number identifies the invoiced object (BT-18).
* 不动产经营租赁 ``RealEstateLease``: the property address is the deliver-to address and the
  lease term (``TheLeaseTermBeginsAndEnds``) the invoicing period (BT-73 / BT-74).
* Every other field, and every other block (货物运输 ``FreightService``, 通行费 ``Toll``,
  代收车船税, 机动车, 二手车 …), has no EN 16931 business term: it is not mapped, and a
  warning names the block and its fields (they stay in the original fapiao).
* 旅客运输 ``PassengerTransportation`` and 医疗服务 ``MedicalService-Outpatient`` /
  ``MedicalServices-Inpatient`` carry personal data (travellers' and patients' names and ID
  numbers, FORMAT.md §13.8): nothing of them is mapped, and they are removed from the copy of
  the original embedded in the invoice (BT-125). Whether such a fapiao may leave at all is the
  export gate's decision.
* Fields the mapper drops as personal data (a buyer's resident identity card number printed as
  ``BuyerIdNum``) are left empty in the embedded copy too, and a resident identity card number
  written into the remark (``Remark``; the legacy XML's ``Note``) or a 附加要素 is blanked there
  (:mod:`gateway.mapping.resident_ids`), as it is in the note (BT-22).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from lxml import etree

from gateway.mapping.resident_ids import blank_resident_ids, holds_resident_id
from gateway.model import Address, Delivery, Period
from gateway.xmlsafe import parse_xml

PERSONAL_BLOCKS = (
    "PassengerTransportation",
    "MedicalService-Outpatient",
    "MedicalServices-Inpatient",
)
"""SpecificInformation blocks that hold personal data and never leave with the invoice."""
FREE_TEXT_BLOCKS = ("AdditionalInformation", "Note")
"""Elements of free text where an ID-card number may be written: the remark and the 附加要素
(``EInvoice``), the remark (legacy ``eInvoice``)."""

CARRIED_FIELDS = {
    "ConstructionServices": frozenset({"OccurredSite", "ItemName"}),
    "RealEstateSales": frozenset({"RealEstateAddress", "RealEstateWarrantNumber"}),
    "RealEstateLease": frozenset(
        {"RealEstateAddress", "RealEstateWarrantNumber", "TheLeaseTermBeginsAndEnds"}
    ),
}
"""The fields of a 特定业务 block that have a place in the invoice (the list above)."""

_DATE = re.compile(
    r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?|(\d{4})(\d{2})(\d{2})"
)


@dataclass(slots=True)
class SpecialFacts:
    """What the special blocks contribute to the invoice."""

    delivery: Delivery | None = None
    period: Period | None = None
    project: str | None = None
    object_id: str | None = None
    warnings: list[str] = field(default_factory=list)


def _dates(text: str) -> list[dt.date]:
    out = []
    for found in _DATE.finditer(text):
        parts = found.groups()
        year, month, day = (parts[0], parts[1], parts[2]) if parts[0] else parts[3:]
        try:
            out.append(dt.date(int(year), int(month), int(day)))
        except (TypeError, ValueError):
            continue
    return out


def read_special(blocks: list[tuple[str, dict[str, str]]]) -> SpecialFacts:
    """Delivery place, invoicing period, project and object from the special blocks."""
    out = SpecialFacts()
    dropped: dict[str, list[str]] = {}
    for name, fields in blocks:
        if name in PERSONAL_BLOCKS:
            out.warnings.append(
                f"special block {name} holds personal data: not mapped, and removed from the "
                "embedded original"
            )
            continue
        carried = CARRIED_FIELDS.get(name, frozenset())
        names = dropped.setdefault(name, [])
        names += [f for f in fields if f not in carried and f not in names]
        site = None
        if name == "ConstructionServices":
            site = fields.get("OccurredSite")
            out.project = out.project or fields.get("ItemName")
        elif name in ("RealEstateSales", "RealEstateLease"):
            site = fields.get("RealEstateAddress")
            out.object_id = out.object_id or fields.get("RealEstateWarrantNumber")
        if name == "RealEstateLease" and (term := fields.get("TheLeaseTermBeginsAndEnds")):
            found = _dates(term)
            if len(found) >= 2 and found[0] <= found[1]:
                out.period = Period(found[0], found[1])
            else:
                out.warnings.append(f"lease term {term!r} not readable as two dates: not mapped")
        if site and out.delivery is None:
            out.delivery = Delivery(address=Address(street=site, country="CN"))
    out.warnings += [
        f"special block {name}: {', '.join(names)} not carried (no EN 16931 business term for "
        "them); they stay in the original fapiao"
        for name, names in dropped.items()
        if names
    ]
    return out


def strip_personal_blocks(
    original: bytes, personal_values: Iterable[str] = ()
) -> tuple[bytes, list[str]]:
    """The fapiao XML without its personal-data blocks, with every element whose text is one
    of ``personal_values`` (data the mapper did not forward, such as a buyer's resident
    identity card number in ``BuyerIdNum``) left empty and every resident identity card number
    in the remark or a 附加要素 blanked; and what was done, one phrase per element, saying
    whether it was removed or blanked: ``PassengerTransportation removed``, ``BuyerIdNum
    blanked``, ``ID-card number blanked in Remark``."""
    values = {v.strip() for v in personal_values if v and v.strip()}
    if (
        not any(name.encode() in original for name in PERSONAL_BLOCKS)
        and not any(v.encode() in original for v in values)
        and not holds_resident_id(original.decode("utf-8", "replace"))
    ):
        return original, []
    root = parse_xml(original, what="fapiao XML")
    removed: list[str] = []
    for block in [e for e in root.iter() if _local(e) in PERSONAL_BLOCKS]:
        parent = block.getparent()
        if parent is not None:
            parent.remove(block)
            removed.append(f"{_local(block)} removed")
    for element in root.iter():  # what is left: a removed block's fields are not reported
        if _local(element) and len(element) == 0 and (element.text or "").strip() in values:
            element.text = ""
            removed.append(f"{_local(element)} blanked")
    for block in [e for e in root.iter() if _local(e) in FREE_TEXT_BLOCKS]:
        removed += _blank_ids_within(block)
    if not removed:
        return original, []
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8"), removed


def _local(element: etree._Element) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def _blank_ids_within(block: etree._Element) -> list[str]:
    """Blank the resident ID numbers in the text of ``block`` and of everything inside it;
    a phrase per element whose text changed (``ID-card number blanked in Remark``, ``… in
    Additional/InformationValue``)."""
    blanked: list[str] = []
    for element in block.iter():
        changed = False
        if element.text:
            element.text, count = blank_resident_ids(element.text)
            changed = count > 0
        if element is not block and element.tail:
            element.tail, count = blank_resident_ids(element.tail)
            changed = changed or count > 0
        if changed:
            blanked.append(f"ID-card number blanked in {_where(element, block)}")
    return blanked


def _where(element: etree._Element, block: etree._Element) -> str:
    """``element``'s name, after its parent's when that is inside ``block`` (the 附加要素's
    ``Additional/InformationValue``; the remark is ``Remark``, the legacy one ``Note``)."""
    name = _local(element) or _local(block)
    parent = element.getparent()
    if element is block or parent is None or parent is block:
        return name
    return f"{_local(parent)}/{name}"
