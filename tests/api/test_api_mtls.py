"""Optional mTLS: with a client CA configured, the API answers only clients with a certificate
from that CA (the listener's TLS context comes from ``lingang serve``'s own helper)."""

from __future__ import annotations

import ssl
from pathlib import Path

import aiohttp
import pytest
import trustme
from aiohttp import web

from gateway.api import api_runner, create_app
from gateway.cli._runtime import server_ssl_context
from gateway.service import open_services
from gateway.store import open_store
from tests.api.conftest import gateway_settings


async def test_client_certificate_is_required_when_a_client_ca_is_set(tmp_path: Path) -> None:
    server_ca, client_ca = trustme.CA(), trustme.CA()
    server_cert = server_ca.issue_cert("127.0.0.1")
    server_cert.private_key_and_cert_chain_pem.write_to_path(str(tmp_path / "server.pem"))
    server_cert.private_key_pem.write_to_path(str(tmp_path / "server.key"))
    client_ca.cert_pem.write_to_path(str(tmp_path / "clients-ca.pem"))
    settings = gateway_settings(tmp_path, f"sqlite:///{tmp_path}/gateway.db").with_section(
        "server",
        tls_cert=tmp_path / "server.pem",
        tls_key=tmp_path / "server.key",
        client_ca=tmp_path / "clients-ca.pem",
    )
    context = server_ssl_context(settings)
    assert context is not None and context.verify_mode == ssl.CERT_REQUIRED

    services = await open_services(settings, store=await open_store(settings.store.url))
    runner = api_runner(create_app(services))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    url = f"https://127.0.0.1:{port}/healthz"
    try:
        anonymous = ssl.create_default_context()
        server_ca.configure_trust(anonymous)
        async with aiohttp.ClientSession() as session:
            with pytest.raises(aiohttp.ClientError):
                async with session.get(url, ssl=anonymous) as response:
                    await response.read()

            stranger_ca = trustme.CA()
            stranger = ssl.create_default_context()
            server_ca.configure_trust(stranger)
            stranger_ca.issue_cert("intruder@example.com").configure_cert(stranger)
            with pytest.raises(aiohttp.ClientError):
                async with session.get(url, ssl=stranger) as response:
                    await response.read()

            client = ssl.create_default_context()
            server_ca.configure_trust(client)
            client_ca.issue_cert("client@example.com").configure_cert(client)
            async with session.get(url, ssl=client) as response:
                assert response.status == 200
    finally:
        await runner.cleanup()
        await services.close()
