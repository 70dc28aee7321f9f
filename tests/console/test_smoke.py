"""Quick end-to-end over HTTP (no browser): sign in, upload, delivered, every screen answers."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
import pytest

from tests.console.conftest import (
    DEAD_RECEIVER,
    SAMPLES,
    LiveConsole,
    csrf_of,
    signed_in,
    start_console,
)
from tests.readable.page_text import page_text


async def test_upload_reaches_delivered_and_screens_answer(live: LiveConsole) -> None:
    session = await signed_in(live, live.key_a)
    async with session:
        async with session.get(live.base + "/console/upload") as response:
            token = csrf_of(await response.text())
        form = aiohttp.FormData()
        form.add_field("csrf", token)
        form.add_field(
            "document",
            (SAMPLES / "export-zero-rate.xml").read_bytes(),
            filename="export-zero-rate.xml",
            content_type="text/xml",
        )
        async with session.post(live.base + "/console/upload", data=form) as response:
            assert response.status == 200, await response.text()
            doc_url = str(response.url)
        assert "/console/documents/" in doc_url
        for _ in range(100):
            async with session.get(doc_url) as response:
                page = await response.text()
            if 'id="doc-state" data-state="delivered"' in page:
                break
            await asyncio.sleep(0.1)
        assert 'id="doc-state" data-state="delivered"' in page, page
        async with session.get(doc_url + "/view") as response:
            assert response.status == 200
            view = await response.text()
        assert "发票号码 / Invoice number" in page_text(view)
        for screen in ("documents", "stuck", "partners", "health"):
            async with session.get(f"{live.base}/console/{screen}") as response:
                assert response.status == 200, (screen, await response.text())


@pytest.mark.postgres
async def test_the_console_on_postgresql(tmp_path: Path, pg_url: str) -> None:
    """The same walk over a PostgreSQL store: upload, delivered, filters, dead letters."""
    async for live in start_console(tmp_path, pg_url):
        session = await signed_in(live, live.key_a)
        async with session:
            async with session.get(live.base + "/console/upload") as response:
                token = csrf_of(await response.text())
            form = aiohttp.FormData()
            form.add_field("csrf", token)
            form.add_field(
                "document",
                (SAMPLES / "exempt-services.xml").read_bytes(),
                filename="exempt.xml",
                content_type="text/xml",
            )
            async with session.post(live.base + "/console/upload", data=form) as response:
                doc_url = str(response.url)
            for _ in range(100):
                async with session.get(doc_url) as response:
                    page = await response.text()
                if 'id="doc-state" data-state="dead"' in page:
                    break
                await asyncio.sleep(0.1)
            assert 'id="doc-state" data-state="dead"' in page
            doc = doc_url.rsplit("/", 1)[1]
            for query in ("?receiver=" + DEAD_RECEIVER, "?profile=pint-sg", "?state=dead"):
                async with session.get(live.base + "/console/documents" + query) as response:
                    assert doc in await response.text(), query
            async with session.get(live.base + "/console/documents?profile=bis3") as response:
                assert doc not in await response.text()
            async with session.get(live.base + "/console/stuck") as response:
                assert doc in await response.text()
            async with session.get(live.base + "/console/health") as response:
                assert response.status == 200
