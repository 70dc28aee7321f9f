"""Relaying a received PINT SG invoice: read → render keeps every business term of the
official examples (UUID, tax representative, object schemes …), not just what the reader knew."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal, InvalidOperation
from pathlib import Path

from lxml import etree

from gateway.read import read_ubl
from gateway.render import render

EXAMPLES = "openpeppol-pint-sg-1.4.1/trn-invoice/example"
IGNORED = frozenset({"UBLVersionID"})
"""Not a business term (the syntax version the UBL 2.1 schema fixes)."""

Leaf = tuple[str, str, tuple[tuple[str, str], ...]]


def _value(text: str) -> str:
    """Numbers compare by value (``90.00`` and ``90`` are the same price)."""
    try:
        return str(Decimal(text).normalize())
    except InvalidOperation:
        return text


def leaves(xml: bytes) -> Counter[Leaf]:
    """Every leaf element as (path, value, attributes)."""
    out: Counter[Leaf] = Counter()
    for el in etree.fromstring(xml).iter():
        if not isinstance(el.tag, str) or any(isinstance(c.tag, str) for c in el):
            continue
        if etree.QName(el).localname in IGNORED:
            continue
        path = "/".join(etree.QName(a).localname for a in reversed(list(el.iterancestors())))
        attrib = tuple(sorted((str(k), str(v)) for k, v in el.attrib.items()))
        out[(f"{path}/{etree.QName(el).localname}", _value((el.text or "").strip()), attrib)] += 1
    return out


def test_all_sixteen_pint_sg_examples_relay_without_loss(reference: Path) -> None:
    paths = sorted((reference / EXAMPLES).glob("*.xml"))
    assert len(paths) == 16
    lost: dict[str, list[Leaf]] = {}
    for path in paths:
        original = path.read_bytes()
        relayed = render(read_ubl(original), "pint-sg")
        missing = leaves(original) - leaves(relayed)
        added = leaves(relayed) - leaves(original)
        if missing or added:
            lost[path.name] = sorted(missing) + sorted(added)
    assert lost == {}


def test_relay_keeps_the_uuid_and_the_tax_representative(reference: Path) -> None:
    path = reference / EXAMPLES / "PINT-SG INV example 02 - full valid invoice 1.xml"
    inv = read_ubl(path.read_bytes())
    assert inv.uuid == "2523149b-cb40-4b32-9004-debca57b80ee"
    assert inv.tax_representative is not None
    assert inv.tax_representative.name == "TaxRepresentative name"
    assert inv.tax_representative.vat_id == "FR98746"
    out = etree.fromstring(render(inv, "pint-sg"))
    ns = {"cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"}
    assert out.findtext("cbc:UUID", namespaces=ns) == inv.uuid
