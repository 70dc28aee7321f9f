"""A live API server on 127.0.0.1:0 over real services (SQLite file store, folder adapter).

The services come from :func:`gateway.service.open_services`. The fast ``api`` fixture has
validation and signing off (the operator's choice, so every document it processes is marked
``validated: false`` / ``signed: false``): submissions are stored and queued exactly as in
production, no worker processes them, so tests drive later states through the real store
(outputs, outbox claims, dead letters). ``full_api`` runs the whole stage table: the official
artefacts validate and a test PKI's key signs.
"""

from __future__ import annotations

import asyncio
import queue
import ssl
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import trustme
from aiohttp import web
from multidict import CIMultiDict

from gateway.api import ApiOptions, api_runner, create_app
from gateway.service import Services, open_services
from gateway.settings import (
    AdapterConfig,
    PipelineSettings,
    Settings,
    SigningSettings,
    StoreSettings,
)
from gateway.signing.testpki import TestPki, make_test_pki
from gateway.store import Store, Tenant, open_store


@dataclass
class ApiClient:
    """A client session against the live server, with one tenant's key (or none)."""

    session: aiohttp.ClientSession
    base: str
    key: str | None = None

    def headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        out = {"Authorization": f"Bearer {self.key}"} if self.key else {}
        out.update(extra or {})
        return out

    async def request(
        self, method: str, path: str, *, headers: dict[str, str] | None = None, **kw: Any
    ) -> tuple[int, CIMultiDict[str], bytes]:
        async with self.session.request(
            method, self.base + path, headers=self.headers(headers), **kw
        ) as response:
            return response.status, CIMultiDict(response.headers), await response.read()


@dataclass
class LiveApi:
    """The running server and what tests need around it."""

    base: str
    services: Services
    store: Store
    tenant_a: Tenant
    tenant_b: Tenant
    a: ApiClient
    b: ApiClient
    anonymous: ApiClient
    key_a: str
    key_b: str
    data_dir: Path


def gateway_settings(tmp_path: Path, store_url: str, full: FullStages | None = None) -> Settings:
    """Settings for a test gateway: one folder adapter; validation and signing off, or with
    ``full`` the official artefacts and a signing key (the production stage table)."""
    adapters = {"local": AdapterConfig(name="local", type="folder", options={"path": "out"})}
    if full is None:
        pipeline = PipelineSettings(validate=False, sign=False)
        return Settings(
            data_dir=tmp_path / "home",
            store=StoreSettings(store_url),
            pipeline=pipeline,
            adapters=adapters,
        )
    pki = full.pki
    return Settings(
        data_dir=tmp_path / "home",
        store=StoreSettings(store_url),
        signing=SigningSettings(
            key=pki.path("signer-ec.key.pem"),
            cert=pki.path("signer-ec.pem"),
            chain=(pki.path("chain.pem"),),
        ),
        pipeline=PipelineSettings(artefacts=full.artefacts),
        adapters=adapters,
    )


@dataclass(frozen=True)
class FullStages:
    """What the full stage table needs: installed official artefacts and a test PKI."""

    artefacts: Path
    pki: TestPki


async def start_api(
    tmp_path: Path,
    store_url: str,
    *,
    max_body_bytes: int | None = None,
    options: ApiOptions | None = None,
    full: FullStages | None = None,
    tls: trustme.CA | None = None,
    adjust: Callable[[Settings], Settings] | None = None,
) -> AsyncIterator[LiveApi]:
    """Open services over ``store_url``, serve the API (with ``options`` when given, else those
    of the settings; over TLS with a certificate of ``tls`` when given, the clients trusting
    it; the settings changed by ``adjust`` when given), yield it, then shut it all down."""
    settings = gateway_settings(tmp_path, store_url, full)
    if adjust is not None:
        settings = adjust(settings)
    if max_body_bytes is not None:
        settings = settings.with_section("limits", max_body_bytes=max_body_bytes)
    store = await open_store(store_url)
    services = await open_services(settings, store=store)
    runner = api_runner(create_app(services, options))
    await runner.setup()
    server_ssl = client_ssl = None
    if tls is not None:
        server_ssl = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.issue_cert("127.0.0.1").configure_cert(server_ssl)
        client_ssl = ssl.create_default_context()
        tls.configure_trust(client_ssl)
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=server_ssl)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    base = f"{'https' if tls else 'http'}://127.0.0.1:{port}"
    tenant_a = await store.create_tenant("tenant-a")
    tenant_b = await store.create_tenant("tenant-b")
    key_a, _ = await store.issue_api_key(tenant_a.id)
    key_b, _ = await store.issue_api_key(tenant_b.id)
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=client_ssl or True))
    try:
        yield LiveApi(
            base=base,
            services=services,
            store=store,
            tenant_a=tenant_a,
            tenant_b=tenant_b,
            a=ApiClient(session, base, key_a),
            b=ApiClient(session, base, key_b),
            anonymous=ApiClient(session, base),
            key_a=key_a,
            key_b=key_b,
            data_dir=settings.data_dir,
        )
    finally:
        await session.close()
        await runner.cleanup()
        await services.close()


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[LiveApi]:
    """The API over a SQLite file store in ``tmp_path``."""
    async for live in start_api(tmp_path, f"sqlite:///{tmp_path}/gateway.db"):
        yield live


@pytest.fixture
async def full_api(tmp_path: Path, artefacts_home: Path) -> AsyncIterator[LiveApi]:
    """The API over the whole stage table: real validation, real signing (test PKI)."""
    full = FullStages(artefacts_home, make_test_pki(tmp_path / "pki"))
    async for live in start_api(tmp_path, f"sqlite:///{tmp_path}/gateway.db", full=full):
        yield live


@pytest.fixture
def fapiao_xml(reference: Path) -> bytes:
    """A real 数电票 XML sample."""
    return (reference / "fapiao/samples/xml/invoice-precheck_official-gd-special.xml").read_bytes()


@contextmanager
def threaded_api(tmp_path: Path) -> Iterator[LiveApi]:
    """The live API on its own event loop in a thread, for synchronous clients (fuzzers).

    The yielded :class:`LiveApi` belongs to that loop: use only its ``base`` and keys from the
    calling thread, or :func:`asyncio.run_coroutine_threadsafe` with ``live.loop``.
    """
    ready: queue.Queue[LiveApi | BaseException] = queue.Queue()
    stop = threading.Event()

    async def serve() -> None:
        try:
            async for live in start_api(tmp_path, f"sqlite:///{tmp_path}/fuzz.db"):
                ready.put(live)
                while not stop.is_set():
                    await asyncio.sleep(0.05)
        except BaseException as exc:
            ready.put(exc)
            raise

    thread = threading.Thread(target=asyncio.run, args=(serve(),), daemon=True)
    thread.start()
    got = ready.get(timeout=60)
    if isinstance(got, BaseException):
        raise got
    try:
        yield got
    finally:
        stop.set()
        thread.join(timeout=30)
