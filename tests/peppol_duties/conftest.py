"""Fixtures of the Peppol duties tests: a TLS receiver on 127.0.0.1 that keeps what it got."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiohttp import web

from gateway.testing.tls import TlsFiles, make_tls


@dataclass
class Catcher:
    """An HTTPS endpoint that answers 200 with JSON and keeps every request."""

    url: str = ""
    requests: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    status: int = 200

    def profile(self, profile: str) -> list[tuple[dict[str, str], bytes]]:
        """The requests that carried a document of ``profile`` (the service also sends the
        monthly reports it schedules for the real current date)."""
        return [(h, b) for h, b in self.requests if h.get("X-Lingang-Profile") == profile]

    def month(self, month: str) -> list[tuple[dict[str, str], bytes]]:
        """The report requests of ``month`` (``YYYY-MM``)."""
        start = f"<StartDate>{month}-01</StartDate>".encode()
        return [(h, b) for h, b in self.requests if start in b]

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.requests.append((dict(request.headers), body))
        if self.status != 200:
            return web.Response(status=self.status, text="no")
        seen = [h.get("X-Lingang-Message-Id") for h, _ in self.requests]
        duplicate = seen.count(request.headers.get("X-Lingang-Message-Id")) > 1
        return web.json_response({"receipt_id": f"r{len(self.requests)}", "duplicate": duplicate})


@pytest.fixture
def tls(tmp_path: Path) -> TlsFiles:
    return make_tls(tmp_path / "tls")


@pytest.fixture
async def catcher(tls: TlsFiles) -> AsyncIterator[Catcher]:
    catcher = Catcher()
    app = web.Application()
    app.router.add_post("/inbox", catcher.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(
        runner, "127.0.0.1", 0, ssl_context=tls.server_context(require_client_cert=False)
    )
    await site.start()
    catcher.url = f"https://127.0.0.1:{runner.addresses[0][1]}/inbox"
    yield catcher
    await runner.cleanup()
