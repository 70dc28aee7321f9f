"""Debian's chromium driven by Playwright (PyPI), headless, with a fresh profile.

No browser is ever downloaded: Playwright launches ``/usr/bin/chromium`` (Debian package
``chromium``, installed by ``tests/run.sh``). Outside CI a machine without it skips the
browser tests; in CI (``CI=true``) they must run, so a missing browser fails them.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path(os.environ.get("LINGANG_TEST_CHROMIUM", "/usr/bin/chromium"))
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def require_browser() -> None:
    """Skip (outside CI) or fail (in CI) when Playwright or chromium is missing."""
    missing = []
    try:
        import playwright.async_api  # noqa: F401
    except ImportError:
        missing.append("the playwright package (pip install playwright)")
    if not CHROMIUM.exists():
        missing.append(f"{CHROMIUM} (apt-get install chromium)")
    if not missing:
        return
    message = "browser tests need " + " and ".join(missing)
    if os.environ.get("CI") == "true":
        pytest.fail(message + ": CI runs them, none may skip")
    pytest.skip(message)


@asynccontextmanager
async def browser_context(profile: Path) -> AsyncIterator[Any]:
    """A persistent context over a fresh user-data-dir ``profile``."""
    require_browser()
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        context = await playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=str(CHROMIUM),
            headless=True,
            args=ARGS,
            locale="zh-CN",
            viewport={"width": 1280, "height": 900},
        )
        try:
            yield context
        finally:
            await context.close()
