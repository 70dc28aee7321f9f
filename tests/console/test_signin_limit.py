"""Failed console sign-ins are limited per client address and per API-key prefix (10 in 10
minutes, then 429 with Retry-After, even for the right key), over a real socket from several
loopback addresses; a success clears the count; the window slides."""

from __future__ import annotations

import secrets

import aiohttp

from gateway.api.console.throttle import PREFIX_CHARS, SignInThrottle
from tests.console.conftest import LiveConsole, try_signin


async def attempt(live: LiveConsole, key: str, source: str = "127.0.0.1") -> aiohttp.ClientResponse:
    """One sign-in from ``source`` (a loopback address) with a fresh form; the response."""
    connector = aiohttp.TCPConnector(local_addr=(source, 0), force_close=True)
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(connector=connector, cookie_jar=jar) as session:
        return await try_signin(session, live.base, key)


def wrong_key(prefix: str = "") -> str:
    key = prefix or "lgk_" + secrets.token_urlsafe(8)[:8]
    return key + secrets.token_urlsafe(32)


async def test_an_address_is_limited_after_ten_failures(quiet: LiveConsole) -> None:
    for _ in range(10):
        response = await attempt(quiet, wrong_key(), "127.0.0.2")
        assert response.status == 401
    limited = await attempt(quiet, wrong_key(), "127.0.0.2")
    assert limited.status == 429
    assert 1 <= int(limited.headers["Retry-After"]) <= 600
    right = await attempt(quiet, quiet.key_a, "127.0.0.2")
    assert right.status == 429, "the right key does not pass a lock-out"
    other = await attempt(quiet, quiet.key_a, "127.0.0.3")
    assert other.status == 303, "another address is not limited"


async def test_a_key_prefix_is_limited_across_addresses(quiet: LiveConsole) -> None:
    prefix = "lgk_" + "A" * (PREFIX_CHARS - 4)
    for n in range(10):
        response = await attempt(quiet, wrong_key(prefix), f"127.0.1.{n + 1}")
        assert response.status == 401
    limited = await attempt(quiet, wrong_key(prefix), "127.0.1.50")
    assert limited.status == 429 and "Retry-After" in limited.headers
    fresh = await attempt(quiet, wrong_key(), "127.0.1.50")
    assert fresh.status == 401, "another prefix from a new address is not limited"


async def test_a_success_clears_the_count(quiet: LiveConsole) -> None:
    for _ in range(9):
        assert (await attempt(quiet, wrong_key(), "127.0.2.1")).status == 401
    assert (await attempt(quiet, quiet.key_a, "127.0.2.1")).status == 303
    for _ in range(9):
        assert (await attempt(quiet, wrong_key(), "127.0.2.1")).status == 401


def test_the_window_slides() -> None:
    now = [1000.0]
    throttle = SignInThrottle(max_failures=3, window_seconds=60, clock=lambda: now[0])
    subjects = throttle.subjects("198.51.100.7", "lgk_abcdefgh-rest")
    for _ in range(3):
        assert throttle.retry_after(subjects) == 0
        throttle.failed(subjects)
        now[0] += 10
    assert throttle.retry_after(subjects) == 30
    now[0] += 30
    assert throttle.retry_after(subjects) == 0, "the oldest failure left the window"
    assert throttle.subjects(None, "") == ("addr:unknown",)
