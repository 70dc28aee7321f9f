"""Fapiao inputs built for the mapping-fidelity tests, and one call that maps, renders and
validates them with the installed official artefacts."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from gateway.ingest import parse
from gateway.mapping import MappedDocument, map_parsed
from gateway.partners import PartnerDirectory
from gateway.render import render
from gateway.samples.writers import (
    SELLER_NAME,
    SELLER_USCC,
    SampleInvoice,
    SampleLine,
    einvoice_xml,
)
from gateway.validation import Validator

BUYER = "Lion City Trading Pte. Ltd."
NS = {
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
}
PARTNER: dict[str, Any] = {
    "buyer_name": BUYER,
    "endpoint": "0195:SGUEN201612345D",
    "country": "SG",
    "street": "8 Marina View",
    "city": "Singapore",
    "postcode": "018960",
}
EXPORTER: dict[str, Any] = {
    "seller_id": SELLER_USCC,
    "endpoint": "0199:5493001KJTIIGC8Y1R12",
}


def machine_line(**overrides: str | None) -> SampleLine:
    """Two machines at 500.00 CNY, 13 % VAT."""
    line = SampleLine(
        name="*机械设备*数控机床",
        amount="1000.00",
        rate="0.13",
        tax="130.00",
        gross="1130.00",
        unit="台",
        quantity="2",
        price="500",
    )
    for key, value in overrides.items():
        setattr(line, key, value)
    return line


def fapiao(lines: list[SampleLine] | None = None, **overrides: Any) -> SampleInvoice:
    """A blue 普票 to the SG buyer with totals summed from ``lines``."""
    from decimal import Decimal

    lines = lines or [machine_line()]
    net = sum((Decimal(ln.amount) for ln in lines), Decimal(0))
    tax = sum((Decimal(ln.tax or "0") for ln in lines), Decimal(0))
    inv = SampleInvoice(
        number="26312000000000100001",
        issued="2026-11-20 10:15:00",
        lines=lines,
        net=f"{net:.2f}",
        tax=f"{tax:.2f}",
        gross=f"{net + tax:.2f}",
        buyer_name=BUYER,
    )
    for key, value in overrides.items():
        setattr(inv, key, value)
    return inv


def directory(
    partner: Mapping[str, Any] | None = None, exporter: Mapping[str, Any] | None = None
) -> PartnerDirectory:
    """The SG buyer and the exporter, with ``partner`` / ``exporter`` keys changed."""
    p = {**PARTNER, **(partner or {})}
    e = {**EXPORTER, **(exporter or {})}
    return PartnerDirectory.from_dict({"partners": [p], "exporters": [e]})


@dataclass(slots=True)
class Converted:
    """A mapped document, its rendering and its validation report."""

    mapped: MappedDocument
    xml: bytes
    fatal: list[tuple[str, str]] = field(default_factory=list)

    @property
    def root(self) -> etree._Element:
        return etree.fromstring(self.xml)

    def text(self, path: str) -> str | None:
        return self.root.findtext(path, namespaces=NS)

    def all(self, path: str) -> list[str]:
        return [e.text or "" for e in self.root.findall(path, namespaces=NS)]

    def warned(self, *words: str) -> bool:
        return any(all(w in text for w in words) for text in self.mapped.warnings)


def convert(
    data: bytes | SampleInvoice,
    profile: str,
    validator: Validator | None,
    *,
    partner: Mapping[str, Any] | None = None,
    exporter: Mapping[str, Any] | None = None,
    metadata: Mapping[str, Any] | None = None,
    strict: bool = False,
    sent_invoice_dates: Mapping[str, tuple[str, ...]] | None = None,
) -> Converted:
    """Parse → :func:`map_parsed` → render → validate (when a validator is given)."""
    raw = einvoice_xml(copy.deepcopy(data)) if isinstance(data, SampleInvoice) else data
    parsed = parse(raw)
    mapped = map_parsed(
        parsed,
        directory(partner, exporter),
        profile=profile,
        metadata=metadata,
        strict=strict,
        sent_invoice_dates=sent_invoice_dates,
    )
    xml = render(mapped.invoice, mapped.profile)
    fatal: list[tuple[str, str]] = []
    if validator is not None:
        report = validator.validate(xml, profile)
        fatal = [(f.rule_id, f.text[:160]) for f in report.fatals()]
    return Converted(mapped, xml, fatal)


__all__ = ["BUYER", "NS", "SELLER_NAME", "SELLER_USCC", "Converted", "convert", "fapiao"]
