"""The mapping facts a client sends with a document: checked at the door, kept with it."""

from __future__ import annotations

import json

import pytest

from tests.api.conftest import LiveApi

XML = {"Content-Type": "application/xml"}


async def test_mapping_facts_travel_with_the_submission(api: LiveApi, fapiao_xml: bytes) -> None:
    query = (
        "exchange_rate=7.1234&currency=USD&buyer_reference=PO%2042&order_reference=4500012345"
        "&preceding_invoice_date=2026-09-20"
    )
    status, _, raw = await api.a.request(
        "POST", f"/v1/documents?{query}", data=fapiao_xml, headers=XML
    )
    assert status == 202, raw
    stored = await api.store.get_submission_any_tenant(json.loads(raw)["id"])
    assert stored is not None
    assert stored.metadata == {
        "exchange_rate": "7.1234",
        "currency": "USD",
        "buyer_reference": "PO 42",
        "order_reference": "4500012345",
        "preceding_invoice_date": "2026-09-20",
    }


@pytest.mark.parametrize(
    "query",
    [
        "exchange_rate=0",
        "exchange_rate=-7",
        "exchange_rate=7,1",
        "currency=usd",
        "buyer_reference=%20",
        "preceding_invoice_date=2026-02-30",
        "preceding_invoice_date=20260920",
    ],
)
async def test_malformed_mapping_facts_are_422_naming_the_field(
    api: LiveApi, fapiao_xml: bytes, query: str
) -> None:
    status, headers, raw = await api.a.request(
        "POST", f"/v1/documents?{query}", data=fapiao_xml, headers=XML
    )
    assert status == 422, raw
    assert headers["Content-Type"].startswith("application/problem+json")
    (issue,) = json.loads(raw)["errors"]
    assert issue["field"] == query.split("=")[0]
