"""A live gateway for console tests: API, console and in-process workers on 127.0.0.1:0.

Real services over a SQLite file (or PostgreSQL) store with validation and signing off, the
partner directory of ``tests/data/partners.toml`` for tenant A, a folder adapter that
delivers, and a ``broken`` HTTP adapter (a closed port on 127.0.0.1) that the receiver
``0195:SGUEN199912345A`` (the buyer of ``exempt-services.xml``) is routed to: its deliveries dead-letter at the first failure.
"""

from __future__ import annotations

import re
import socket
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from gateway.api import api_runner, create_app
from gateway.service import Services, open_services
from gateway.settings import (
    AdapterConfig,
    PipelineSettings,
    Routing,
    Settings,
    StoreSettings,
    WorkerSettings,
)
from gateway.store import Store, Tenant, open_store
from gateway.store.partner_directory import replace_directory

ROOT = Path(__file__).resolve().parents[2]
PARTNERS = ROOT / "tests/data/partners.toml"
SAMPLES = ROOT / "gateway/samples"
DEAD_RECEIVER = "0195:SGUEN199912345A"
"""Merlion Research Institute (gateway/samples/exempt-services.xml): routed to `broken`."""
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@dataclass
class LiveConsole:
    base: str
    services: Services
    store: Store
    tenant_a: Tenant
    tenant_b: Tenant
    key_a: str
    key_b: str


def closed_port() -> int:
    """A port on 127.0.0.1 nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def console_settings(tmp_path: Path, store_url: str, artefacts: Path | None = None) -> Settings:
    """Validation off, unless ``artefacts`` is given (the eBL flow needs the official
    schemas)."""
    pipeline = (
        PipelineSettings(validate=False, sign=False)
        if artefacts is None
        else PipelineSettings(artefacts=artefacts, sign=False, stage_processes=0)
    )
    return Settings(
        data_dir=tmp_path / "home",
        store=StoreSettings(store_url),
        pipeline=pipeline,
        worker=WorkerSettings(count=1, poll_seconds=0.05, max_attempts=1, retry_base_seconds=0.05),
        adapters={
            "local": AdapterConfig(name="local", type="folder", options={"path": "out"}),
            "broken": AdapterConfig(
                name="broken",
                type="https",
                options={
                    "url": f"http://127.0.0.1:{closed_port()}/inbox",
                    "insecure": True,
                    "connect_timeout": 1,
                    "timeout": 2,
                },
            ),
        },
        routing=Routing(default="local", partners={DEAD_RECEIVER: "broken"}),
    )


async def start_console(
    tmp_path: Path,
    store_url: str,
    *,
    workers: int = 1,
    ssl_context: ssl.SSLContext | None = None,
    artefacts: Path | None = None,
) -> AsyncIterator[LiveConsole]:
    import tomllib

    settings = console_settings(tmp_path, store_url, artefacts)
    store = await open_store(store_url)
    services = await open_services(settings, store=store)
    pool = services.worker_pool(workers)
    runner = api_runner(create_app(services))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=ssl_context)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    tenant_a = await store.create_tenant("Acme <b>Exports</b>")
    tenant_b = await store.create_tenant("tenant-b")
    key_a, _ = await store.issue_api_key(tenant_a.id)
    key_b, _ = await store.issue_api_key(tenant_b.id)
    await replace_directory(store, tenant_a.id, tomllib.loads(PARTNERS.read_text("utf-8")))
    if workers:
        pool.start()
    scheme = "https" if ssl_context else "http"
    try:
        yield LiveConsole(
            f"{scheme}://127.0.0.1:{port}", services, store, tenant_a, tenant_b, key_a, key_b
        )
    finally:
        if workers:
            await pool.stop()
        await runner.cleanup()
        await services.close()


@pytest.fixture
async def live(tmp_path: Path) -> AsyncIterator[LiveConsole]:
    async for running in start_console(tmp_path, f"sqlite:///{tmp_path}/gateway.db"):
        yield running


@pytest.fixture
async def quiet(tmp_path: Path) -> AsyncIterator[LiveConsole]:
    """The console without workers: documents stay as submitted."""
    async for running in start_console(tmp_path, f"sqlite:///{tmp_path}/gateway.db", workers=0):
        yield running


def csrf_of(page: str) -> str:
    """The CSRF token of the first form on a page."""
    match = _CSRF.search(page)
    assert match, "no CSRF token on the page"
    return match[1]


async def signed_in(
    live: LiveConsole, key: str, connector: aiohttp.BaseConnector | None = None
) -> aiohttp.ClientSession:
    """A client session signed in to the console with ``key``."""
    session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True), connector=connector)
    response = await try_signin(session, live.base, key)
    assert response.status == 303, response.status
    return session


async def try_signin(session: aiohttp.ClientSession, base: str, key: str) -> aiohttp.ClientResponse:
    """Fetch the sign-in form, post ``key`` with its CSRF token; the (read) response."""
    async with session.get(base + "/console/signin") as response:
        token = csrf_of(await response.text())
    async with session.post(
        base + "/console/signin", data={"csrf": token, "api_key": key}, allow_redirects=False
    ) as response:
        await response.read()
        return response
