"""`lingang serve` over TLS with client certificates (settings themselves: tests/test_settings.py)."""

from __future__ import annotations

import asyncio
import ssl
from pathlib import Path

import aiohttp
import pytest

from gateway.testing.cluster import GatewayProcess, free_port
from gateway.testing.tls import make_tls


@pytest.mark.slow
async def test_serve_with_mutual_tls(tmp_path: Path, artefacts_home: Path) -> None:
    tls = make_tls(tmp_path / "tls")
    port = free_port()
    config = tmp_path / "lingang.toml"
    config.write_text(
        f'data_dir = "{tmp_path}"\n[server]\nport = {port}\n'
        f'tls_cert = "{tls.server_cert}"\ntls_key = "{tls.server_key}"\nclient_ca = "{tls.ca}"\n'
        f'[pipeline]\nartefacts = "{artefacts_home}"\nsign = false\n'
        '[adapters.drop]\ntype = "folder"\npath = "out"\n',
        encoding="utf-8",
    )
    server = GatewayProcess(["serve", "--no-worker"], config, tmp_path / "serve.log")
    server.start()
    url = f"https://127.0.0.1:{port}/healthz"
    try:
        status = 0
        async with aiohttp.ClientSession() as session:
            for _ in range(200):
                try:
                    async with session.get(url, ssl=tls.client_context()) as response:
                        status = response.status
                        break
                except aiohttp.ClientConnectorError:
                    await asyncio.sleep(0.1)
            assert status == 200
            anonymous = ssl.create_default_context(cafile=str(tls.ca))
            with pytest.raises(aiohttp.ClientError):
                async with session.get(url, ssl=anonymous) as response:
                    await response.read()
    finally:
        code = server.terminate()
    assert code == 0
