"""``/v1/ebls`` served for real: platform AEOT (carrier COSCO, party SHIPPER) over a given
store on TLS at 127.0.0.1, its partner IQAX (party BUYER) on a SQLite store of its own;
further replicas of AEOT over the same store (another process's view: its own pool, no
shared memory) and its partner's receiving endpoints on demand."""

from __future__ import annotations

import re
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from gateway.api import api_runner, create_app
from gateway.service import Services, open_services
from gateway.settings import Settings
from gateway.testing.cluster import free_port
from gateway.testing.pint import PlatformHome, platform, write_platform_homes
from gateway.testing.tls import TlsFiles, make_tls


@dataclass
class EblApi:
    """A served replica of AEOT: its base URL and services."""

    base: str
    services: Services


@dataclass
class EblPlatforms:
    """AEOT's home (its config), IQAX's home, the test PKI and a client that trusts it."""

    aeot: PlatformHome
    iqax: PlatformHome
    tls: TlsFiles
    session: aiohttp.ClientSession
    key: str = ""
    """The API key of tenant ``operator`` (who operates AEOT for every party)."""

    def auth(self, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}", **extra}

    async def call(
        self, api: EblApi, method: str, path: str, **kw: Any
    ) -> tuple[int, dict[str, str], Any]:
        headers = self.auth(**kw.pop("headers", {}))
        async with self.session.request(method, api.base + path, headers=headers, **kw) as r:
            body = await r.json() if r.content_type.endswith("json") else await r.text()
            return r.status, dict(r.headers), body

    @asynccontextmanager
    async def replica(self) -> AsyncIterator[EblApi]:
        """Another AEOT gateway over the same store, serving the API on TLS."""
        services = await open_services(Settings.load(self.aeot.config))
        runner = api_runner(create_app(services))
        await runner.setup()
        server_tls = self.tls.server_context(require_client_cert=False)
        site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=server_tls)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        try:
            yield EblApi(f"https://127.0.0.1:{port}", services)
        finally:
            await runner.cleanup()
            await services.close()


@asynccontextmanager
async def ebl_platforms(
    tmp_path: Path, reference: Path, store_url: str, *, options: str = ""
) -> AsyncIterator[EblPlatforms]:
    """AEOT's home over ``store_url`` (``tenants = ["operator"]`` and ``options``, TOML
    lines), IQAX's beside it, tenant ``operator`` and its key."""
    tls = make_tls(tmp_path / "tls")
    homes = write_platform_homes(
        tmp_path,
        [platform("AEOT", "ed25519", "SHIPPER", carrier=True), platform("IQAX", "p256", "BUYER")],
        reference_root=reference,
        tls=tls,
        ports=[free_port(), free_port()],
        store_urls=[store_url, f"sqlite:///{tmp_path / 'iqax.db'}"],
    )
    config = homes[0].config
    text = config.read_text()
    text = re.sub(
        r"(?m)^timeout = 10.0$", f'timeout = 10.0\ntenants = ["operator"]\n{options}', text, count=1
    )
    config.write_text(text)
    client_tls = ssl.create_default_context(cafile=str(tls.ca))
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=client_tls))
    platforms = EblPlatforms(homes[0], homes[1], tls, session)
    try:
        services = await open_services(Settings.load(config))
        try:
            await services.store.create_tenant("Carrier ops", tenant_id="operator")
            platforms.key = (await services.store.issue_api_key("operator"))[0]
        finally:
            await services.close()
        yield platforms
    finally:
        await session.close()
