"""The export gate's yearly counts are each tenant's own, through the real HTTP API: a tenant
whose directory claims another tenant's exporter (the same seller USCC) neither pushes that
tenant over its threshold nor hides its own exports in that tenant's count; the ledger
records the tenant of every entry, and the report shows each tenant's figures."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from gateway.api import api_runner, create_app
from gateway.jobs import Worker
from gateway.samples.writers import SELLER_USCC, einvoice_xml
from gateway.service import Services, open_services
from gateway.store import open_store
from gateway.store.ledger import LedgerStore, china_year
from gateway.store.ledger_chain import verify_chain
from tests.api.conftest import ApiClient, gateway_settings
from tests.api.test_api_policy import cli
from tests.policy.support import with_contact

DIRECTORY = f"""[[partners]]
buyer_name = "Lion City Trading Pte. Ltd."
endpoint = "0195:SGUEN201612345D"
country = "SG"
city = "Singapore"

[[exporters]]
seller_id = "{SELLER_USCC}"
endpoint = "0199:5493001KJTIIGC8Y1R12"

[exporters.data_export]
exempt_below = {{limit}}
"""
"""Both tenants' directories name the same exporter; each sets its own threshold."""


class Tenants:
    def __init__(self, services: Services, a: ApiClient, b: ApiClient, ids: dict[str, str]):
        self.services, self.a, self.b, self.ids = services, a, b, ids

    async def drain(self) -> None:
        worker = Worker(self.services.store, self.services.kinds, worker_id="w", concurrency=50)
        while await worker.run_once():
            pass

    async def submit(self, client: ApiClient, contact: str, number: str) -> str:
        body = einvoice_xml(with_contact(contact, number=number))
        status, _, raw = await client.request(
            "POST", "/v1/documents", data=body, headers={"Content-Type": "application/xml"}
        )
        assert status == 202, raw
        return str(json.loads(raw)["id"])

    async def state(self, client: ApiClient, ident: str) -> str:
        status, _, raw = await client.request("GET", f"/v1/documents/{ident}")
        assert status == 200, raw
        return str(json.loads(raw)["status"])


@pytest.fixture
async def tenants(tmp_path: Path, store_url: str) -> AsyncIterator[Tenants]:
    url = store_url
    store = await open_store(url)
    services = await open_services(gateway_settings(tmp_path, url), store=store)
    runner = api_runner(create_app(services))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    base = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"  # type: ignore[union-attr]
    a = await store.create_tenant("a")
    b = await store.create_tenant("b")
    key_a, _ = await store.issue_api_key(a.id)
    key_b, _ = await store.issue_api_key(b.id)
    async with aiohttp.ClientSession() as session:
        yield Tenants(
            services,
            ApiClient(session, base, key_a),
            ApiClient(session, base, key_b),
            {"a": a.id, "b": b.id, "url": url},
        )
    await runner.cleanup()
    await services.close()


async def put_directory(client: ApiClient, limit: int) -> None:
    body = DIRECTORY.replace("{limit}", str(limit)).encode()
    status, _, raw = await client.request(
        "PUT", "/v1/partners", data=body, headers={"Content-Type": "application/toml"}
    )
    assert status == 200, raw


async def test_another_tenant_claiming_the_exporter_does_not_move_its_counts(
    tenants: Tenants,
) -> None:
    await put_directory(tenants.a, 100_000)  # claims B's exporter, with a generous threshold
    await put_directory(tenants.b, 3)  # B's own: held from the third individual this year
    for n, name in enumerate(("Tan", "Lim", "Ng", "Goh")):  # four individuals under B's USCC
        await tenants.submit(tenants.a, name, f"2631200000000010010{n}")
    await tenants.drain()
    first = await tenants.submit(tenants.b, "Wong", "26312000000000100201")
    second = await tenants.submit(tenants.b, "Chan", "26312000000000100202")
    await tenants.drain()
    # B's own count: 1, then 2 individuals; A's four never reached it (once: held at 5)
    assert await tenants.state(tenants.b, first) == "delivered"
    assert await tenants.state(tenants.b, second) == "delivered"
    third = await tenants.submit(tenants.b, "Lau", "26312000000000100203")
    await tenants.drain()
    assert await tenants.state(tenants.b, third) == "held"  # its own third individual
    ledger = LedgerStore(tenants.services.store.connector)
    entries = await ledger.entries()
    year = china_year(tenants.services.store.clock())
    counts = {row["tenant_id"]: row for row in await ledger.counts(year, SELLER_USCC)}
    assert (counts[tenants.ids["a"]]["personal"], counts[tenants.ids["b"]]["personal"]) == (4, 2)
    assert [e["tenant_id"] for e in entries] == [tenants.ids["a"]] * 4 + [tenants.ids["b"]] * 2
    assert verify_chain(*await ledger.chain_state()).ok
    code, text = await asyncio.to_thread(
        cli, "ledger", "report", "--year", str(year), "--tenant", tenants.ids["b"],
        "--database", tenants.ids["url"],
    )  # fmt: skip
    assert code == 0
    (figures,) = json.loads(text)["tenants"][tenants.ids["b"]].values()
    assert figures["individuals"] == 2 and figures["documents"] == 2


async def test_the_claimed_count_does_not_hide_the_claimants_exports(tenants: Tenants) -> None:
    """B exporting first leaves A's count at zero: A is judged by its own individuals."""
    await put_directory(tenants.b, 100_000)
    await put_directory(tenants.a, 2)
    for n, name in enumerate(("Tan", "Lim", "Ng")):
        await tenants.submit(tenants.b, name, f"2631200000000010030{n}")
    await tenants.drain()
    ok = await tenants.submit(tenants.a, "Wong", "26312000000000100401")
    await tenants.drain()
    held = await tenants.submit(tenants.a, "Chan", "26312000000000100402")
    await tenants.drain()
    assert await tenants.state(tenants.a, ok) == "delivered"
    assert await tenants.state(tenants.a, held) == "held"  # A's second: its own threshold
