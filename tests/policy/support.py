"""Fapiao for the gate tests (built with the mapping-fidelity helpers) and one call that
parses, maps and runs the gate."""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Mapping
from typing import Any

from gateway.ingest import parse
from gateway.ingest.uscc import _ID_CHECK, _ID_WEIGHTS
from gateway.mapping import map_parsed
from gateway.policy import DEFAULT_POLICY, GateResult, Policy, run_gate
from gateway.samples.writers import SampleInvoice, einvoice_xml
from tests.mapping.fidelity import directory, fapiao

KEY = b"k" * 32
NOW = dt.datetime(2026, 9, 1, 10, 0, tzinfo=dt.UTC)


def resident_id(first17: str = "11010119900307123") -> str:
    """A valid GB 11643 ID-card number (fictitious)."""
    total = sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS, strict=True))
    return first17 + _ID_CHECK[total % 11]


PERSON = "张三（个人）"
PERSON_ID = resident_id()
PERSON_PHONE = "13812345678"


def company(**overrides: Any) -> SampleInvoice:
    """A company buyer in Singapore, no contact person."""
    return fapiao(**overrides)


def with_contact(name: str = "Tan Mei Ling", **overrides: Any) -> SampleInvoice:
    """A company buyer whose fapiao names a contact person (经办人)."""
    inv = fapiao(**overrides)
    inv.extra_elements = [("EInvoiceData/BuyerInformation/BuyerHandlingName", name)]
    return inv


def personal(**overrides: Any) -> SampleInvoice:
    """A personal buyer (自然人, ``（个人）``) with ID-card number and phone."""
    return fapiao(
        buyer_name=PERSON, buyer_id=PERSON_ID, buyer_tel=PERSON_PHONE,
        buyer_addr="新加坡乌节路1号", **overrides,
    )  # fmt: skip


PERSON_PARTNER: dict[str, Any] = {"buyer_name": PERSON}


def gate(
    inv: SampleInvoice | bytes,
    *,
    profile: str = "pint-sg",
    policy: Policy = DEFAULT_POLICY,
    partner: Mapping[str, Any] | None = None,
    exporter: Mapping[str, Any] | None = None,
) -> GateResult:
    raw = einvoice_xml(copy.deepcopy(inv)) if isinstance(inv, SampleInvoice) else inv
    parsed = parse(raw)
    if isinstance(inv, SampleInvoice) and inv.buyer_name == PERSON:
        partner = {**PERSON_PARTNER, **(partner or {})}
    mapped = map_parsed(parsed, directory(partner, exporter), profile=profile)
    return run_gate(parsed, mapped, policy, KEY, now=NOW)
