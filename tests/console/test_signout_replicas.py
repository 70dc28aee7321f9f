"""Signing out of the console holds across replicas and restarts: two gateway instances on
one store (SQLite file, PostgreSQL) with one ``[console] session_secret``; a session signed
out on one is refused by the other and by an instance started afterwards, while another
session of the same key goes on working."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
from aiohttp import web

from gateway.api import api_runner, create_app
from gateway.service import open_services
from gateway.settings import Settings
from gateway.store import open_store
from tests.api.conftest import gateway_settings
from tests.console.conftest import csrf_of, try_signin

SECRET = "one secret every replica shares, 32+"


@asynccontextmanager
async def replica(settings: Settings) -> AsyncIterator[str]:
    """One gateway instance (its own services and listener) over the settings' store; its
    base URL."""
    store = await open_store(settings.store.url)
    services = await open_services(settings, store=store)
    runner = api_runner(create_app(services))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"  # type: ignore[union-attr]
    finally:
        await runner.cleanup()
        await services.close()


async def signed_in_cookie(base: str, key: str) -> str:
    """Sign in on ``base``; the session cookie's value."""
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        response = await try_signin(session, base, key)
        assert response.status == 303
        return next(c for c in session.cookie_jar if c.key == "lingang_session").value


async def status_with(base: str, cookie: str) -> int:
    """The status of the documents page for a client presenting ``cookie`` (200 signed in,
    303 to the sign-in form)."""
    async with (
        aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as client,
        client.get(
            f"{base}/console/documents",
            cookies={"lingang_session": cookie},
            allow_redirects=False,
        ) as response,
    ):
        return response.status


async def sign_out(base: str, cookie: str) -> None:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as client:
        client.cookie_jar.update_cookies({"lingang_session": cookie})
        async with client.get(f"{base}/console/documents") as response:
            token = csrf_of(await response.text())
        async with client.post(
            f"{base}/console/signout", data={"csrf": token}, allow_redirects=False
        ) as response:
            assert response.status == 303


async def test_a_sign_out_holds_on_every_replica_and_after_a_restart(
    tmp_path: Path, store_url: str
) -> None:
    settings = gateway_settings(tmp_path, store_url).with_section("console", session_secret=SECRET)
    store = await open_store(store_url)
    try:
        tenant = await store.create_tenant("Acme")
        key, _ = await store.issue_api_key(tenant.id)
    finally:
        await store.close()
    async with replica(settings) as first, replica(settings) as second:
        ended = await signed_in_cookie(first, key)
        kept = await signed_in_cookie(second, key)
        assert await status_with(second, ended) == 200  # one secret: any replica serves it
        await sign_out(first, ended)
        assert await status_with(first, ended) == 303
        assert await status_with(second, ended) == 303  # signed out on the other replica
        assert await status_with(first, kept) == 200  # another session of the same key
    async with replica(settings) as restarted:
        assert await status_with(restarted, ended) == 303
        assert await status_with(restarted, kept) == 200
        await sign_out(restarted, kept)
        assert await status_with(restarted, kept) == 303
