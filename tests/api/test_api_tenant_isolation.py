"""Two tenants with the same data, over TLS on both stores: tenant A can neither read, list,
download, retry, release nor refuse tenant B's records, nor learn that they exist.

Both tenants submit the same fapiao (same number, buyer and seller) under the same
idempotency key, with the same partner directory; the export gate holds both. For every route
that names a record, B's record through A's keys is answered exactly as an id nobody has
(status, problem type, detail and fields, B's id replaced by the unknown one).
"""

from __future__ import annotations

import json
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import trustme
from aiohttp import web

from gateway.api import api_runner, create_app
from gateway.jobs import Worker
from gateway.samples.writers import einvoice_xml
from gateway.service import Services, open_services
from gateway.store import open_store
from tests.api.conftest import ApiClient, gateway_settings
from tests.api.test_api_policy import PARTNERS, POLICY
from tests.policy.support import with_contact

NOBODYS = "Zz0000000000000000000000"
"""An id of the form the gateway gives, which names nothing."""
SAME_KEY = "inv-2026-0001"
"""The idempotency key both tenants use."""
DECISION = {"officer": "Officer Wang", "basis": "zone approval LG-2026-0042"}


@dataclass
class Pair:
    """Tenants ``a`` and ``b``, each with a submitting and an officer's key."""

    services: Services
    clients: dict[str, ApiClient]
    names: dict[str, str]
    ids: dict[str, str]
    tls: ssl.SSLContext
    """What the clients trust (the test CA)."""

    async def drain(self) -> None:
        worker = Worker(self.services.store, self.services.kinds, worker_id="w", concurrency=50)
        while await worker.run_once():
            pass

    async def submit(self, who: str, body: bytes, key: str = SAME_KEY) -> tuple[int, str]:
        status, _, raw = await self.clients[who].request(
            "POST",
            "/v1/documents",
            data=body,
            headers={"Content-Type": "application/xml", "Idempotency-Key": key},
        )
        assert status in (200, 202), raw
        return status, str(json.loads(raw)["id"])


@pytest.fixture
async def pair(tmp_path: Path, store_url: str) -> AsyncIterator[Pair]:
    """The API over TLS on ``store_url`` with the export policy that holds a contact
    person's data to Singapore, tenants ``a`` and ``b`` with the same directory."""
    (tmp_path / "policy.toml").write_text(POLICY, encoding="utf-8")
    settings = gateway_settings(tmp_path, store_url).with_section(
        "policy", file=tmp_path / "policy.toml"
    )
    store = await open_store(store_url)
    services = await open_services(settings, store=store)
    runner = api_runner(create_app(services))
    await runner.setup()
    ca = trustme.CA()
    server_ssl = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_ssl)
    client_ssl = ssl.create_default_context()
    ca.configure_trust(client_ssl)
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=server_ssl)
    await site.start()
    base = f"https://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"  # type: ignore[union-attr]
    keys: dict[str, str] = {}
    names: dict[str, str] = {}
    for name in ("a", "b"):
        tenant = await store.create_tenant(f"Trading firm {name.upper()}")
        names[name] = tenant.id
        keys[name], _ = await store.issue_api_key(tenant.id)
        keys[f"officer_{name}"], _ = await store.issue_api_key(tenant.id, role="officer")
    connector = aiohttp.TCPConnector(ssl=client_ssl)
    async with aiohttp.ClientSession(connector=connector) as session:
        clients = {name: ApiClient(session, base, key) for name, key in keys.items()}
        made = Pair(services, clients, names, {}, client_ssl)
        for name in ("a", "b"):
            status, _, raw = await clients[name].request(
                "PUT",
                "/v1/partners",
                data=PARTNERS.encode(),
                headers={"Content-Type": "application/toml"},
            )
            assert status == 200, raw
        for name in ("a", "b"):
            status, made.ids[name] = await made.submit(name, einvoice_xml(with_contact()))
            assert status == 202
        await made.drain()
        yield made
    await runner.cleanup()
    await services.close()


def _answer(status: int, raw: bytes, ident: str) -> tuple[int, Any]:
    """A response as compared: status and body, with the id asked for written ``ID``."""
    text = raw.decode("utf-8", "replace").replace(ident, "ID")
    try:
        return status, json.loads(text)
    except ValueError:
        return status, text


ROUTES = [
    ("a", "GET", "/v1/documents/{id}", None),
    ("a", "GET", "/v1/documents/{id}/output", None),
    ("a", "GET", "/v1/documents/{id}/output?kind=report", None),
    ("a", "GET", "/v1/documents/{id}/output?kind=original", None),
    ("a", "GET", "/v1/documents/{id}/view", None),
    ("a", "POST", "/v1/documents/{id}/retry", None),
    ("a", "POST", "/v1/holds/{id}/release", DECISION),
    ("a", "POST", "/v1/holds/{id}/refuse", {"officer": "Officer Wang", "reason": "no"}),
    ("officer_a", "POST", "/v1/holds/{id}/release", DECISION),
    ("officer_a", "POST", "/v1/holds/{id}/release", {}),
    ("officer_a", "POST", "/v1/holds/{id}/refuse", {"officer": "Officer Wang", "reason": "no"}),
    ("officer_a", "GET", "/v1/documents/{id}", None),
]


@pytest.mark.parametrize(("who", "method", "path", "body"), ROUTES)
async def test_another_tenants_record_is_answered_as_one_nobody_has(
    pair: Pair, who: str, method: str, path: str, body: dict[str, str] | None
) -> None:
    client = pair.clients[who]
    theirs, nobodys = pair.ids["b"], NOBODYS
    kw: dict[str, Any] = {} if body is None else {"json": body}
    status, _, raw = await client.request(method, path.format(id=theirs), **kw)
    asked_theirs = _answer(status, raw, theirs)
    status, _, raw = await client.request(method, path.format(id=nobodys), **kw)
    asked_nobodys = _answer(status, raw, nobodys)
    assert asked_theirs == asked_nobodys
    assert asked_theirs[0] in (403, 404)
    status, _, raw = await pair.clients["b"].request("GET", f"/v1/documents/{theirs}")
    assert status == 200 and json.loads(raw)["status"] == "held"  # untouched


async def test_lists_reports_and_keys_are_each_tenants_own(pair: Pair) -> None:
    assert pair.ids["a"] != pair.ids["b"]
    for name, other in (("a", "b"), ("b", "a")):
        client = pair.clients[f"officer_{name}"]
        for path in ("/v1/documents", "/v1/holds", "/v1/holds?state=held"):
            status, _, raw = await client.request("GET", path)
            assert status == 200, raw
            found = [item["id"] for item in json.loads(raw)["items"]]
            assert found == [pair.ids[name]], path
            assert pair.ids[other].encode() not in raw
        # the same key again is the tenant's own first submission, never the other's
        status, ident = await pair.submit(name, einvoice_xml(with_contact()))
        assert (status, ident) == (200, pair.ids[name])
        status, _, raw = await client.request("GET", "/v1/partners")
        assert status == 200 and pair.names[other].encode() not in raw


async def test_operator_endpoints_name_no_tenant(pair: Pair) -> None:
    anonymous = ApiClient(pair.clients["a"].session, pair.clients["a"].base)
    for path in ("/healthz", "/readyz", "/livez", "/metrics", "/openapi.json"):
        status, _, raw = await anonymous.request("GET", path)
        assert status == 200, (path, raw)
        for name, tenant_id in pair.names.items():
            assert tenant_id.encode() not in raw, path
            assert f"Trading firm {name.upper()}".encode() not in raw, path
            assert pair.ids[name].encode() not in raw, path


async def _console(pair: Pair, who: str) -> tuple[aiohttp.ClientSession, str]:
    """A console session of ``who``'s key over the pair's TLS connection, and its CSRF
    token."""
    from tests.console.conftest import csrf_of, try_signin

    client = pair.clients[who]
    connector = aiohttp.TCPConnector(ssl=pair.tls)
    session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True), connector=connector)
    response = await try_signin(session, client.base, str(client.key))
    assert response.status == 303, response.status
    async with session.get(client.base + "/console/upload") as page:
        token = csrf_of(await page.text())
    return session, token


CONSOLE_ROUTES = [
    ("a", "GET", "/console/documents/{id}", False),
    ("a", "GET", "/console/documents/{id}/view", False),
    ("a", "GET", "/console/documents/{id}/outputs/report", False),
    ("a", "GET", "/console/documents/{id}/outputs/original", False),
    ("a", "POST", "/console/documents/{id}/retry", True),
    ("a", "POST", "/console/stuck/{id}/release", True),
    ("officer_a", "POST", "/console/stuck/{id}/release", True),
    ("officer_a", "POST", "/console/stuck/{id}/refuse", True),
]


@pytest.mark.parametrize(("who", "method", "path", "form"), CONSOLE_ROUTES)
async def test_the_console_answers_another_tenants_record_as_one_nobody_has(
    pair: Pair, who: str, method: str, path: str, form: bool
) -> None:
    session, token = await _console(pair, who)
    base = pair.clients[who].base
    data = {"csrf": token, "officer": "Officer Wang", "basis": "b", "reason": "r"}
    answers = []
    async with session:
        for ident in (pair.ids["b"], NOBODYS):
            kw: dict[str, Any] = {"data": data} if form else {}
            async with session.request(
                method, base + path.format(id=ident), allow_redirects=False, **kw
            ) as response:
                answers.append(_answer(response.status, await response.read(), ident))
    assert answers[0] == answers[1]
    assert answers[0][0] in (403, 404)
    status, _, raw = await pair.clients["b"].request("GET", f"/v1/documents/{pair.ids['b']}")
    assert status == 200 and json.loads(raw)["status"] == "held"


async def test_released_documents_leave_each_in_its_own_tenants_ledger(pair: Pair) -> None:
    for name in ("a", "b"):
        path = f"/v1/holds/{pair.ids[name]}/release"
        status, _, raw = await pair.clients[f"officer_{name}"].request("POST", path, json=DECISION)
        assert status == 202, raw
    await pair.drain()
    year = ""
    for name, other in (("a", "b"), ("b", "a")):
        client = pair.clients[name]
        status, _, raw = await client.request("GET", f"/v1/documents/{pair.ids[name]}")
        assert status == 200 and json.loads(raw)["status"] == "delivered", raw
        assert pair.ids[other].encode() not in raw
        year = json.loads(raw)["created_at"][:4]
        status, _, raw = await client.request("GET", f"/v1/ledger/report?year={year}")
        assert status == 200, raw
        (exporter,) = json.loads(raw)["exporters"].values()
        assert (exporter["documents"], exporter["individuals"]) == (1, 1), exporter
        session, _ = await _console(pair, name)
        async with session:
            for page in ("ledger/entries.csv", "ledger/report.json", "documents", "stuck"):
                url = f"{client.base}/console/{page}?year={year}"
                async with session.get(url) as response:
                    text = await response.text()
                    assert response.status == 200, page
                    assert pair.ids[other] not in text, page
                    assert pair.names[other] not in text, page


async def test_a_tenants_own_adapter_is_named_neither_to_the_public_nor_to_other_tenants(
    tmp_path: Path,
) -> None:
    """Adapters given to one tenant (``[routing.inbound_tenants]``: its own local system) are
    named after their firm. ``/healthz`` needs no key, so it shows such an adapter by a
    digest of its name; the console's health screen shows a tenant its own and the shared
    ones, never another firm's."""
    from dataclasses import replace

    from gateway.delivery import Routing
    from gateway.settings import AdapterConfig

    def own_systems(settings: Any) -> Any:
        adapters = dict(settings.adapters)
        for name in ("acme-erp", "globex-erp"):
            adapters[name] = AdapterConfig(name=name, type="folder", options={"path": name})
        routing = Routing(
            default="local", inbound_tenants={"acme": "acme-erp", "globex": "globex-erp"}
        )
        return replace(settings, adapters=adapters, routing=routing)

    from tests.api.conftest import start_api

    ca = trustme.CA()
    url = f"sqlite:///{tmp_path}/gateway.db"
    async for live in start_api(tmp_path, url, tls=ca, adjust=own_systems):
        status, _, raw = await live.anonymous.request("GET", "/healthz")
        assert status == 200, raw
        checks = json.loads(raw)["checks"]
        assert "adapter:local" in checks
        assert b"acme" not in raw and b"globex" not in raw
        assert len([name for name in checks if name.startswith("adapter:#")]) == 2
        keys = {}
        for tenant in ("acme", "globex"):
            await live.store.create_tenant(tenant.title(), tenant_id=tenant)
            keys[tenant], _ = await live.store.issue_api_key(tenant)
        pair = Pair(live.services, {}, {}, {}, _trusting(ca))
        for tenant, other in (("acme", "globex"), ("globex", "acme")):
            pair.clients[tenant] = ApiClient(live.a.session, live.base, keys[tenant])
            session, _ = await _console(pair, tenant)
            async with session, session.get(f"{live.base}/console/health") as response:
                page = await response.text()
            assert response.status == 200
            assert f"{tenant}-erp" in page and f"{other}-erp" not in page, tenant
            assert "local" in page


def _trusting(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return context
