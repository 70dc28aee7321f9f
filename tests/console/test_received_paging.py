"""The received documents list pages by (time of arrival, id), on SQLite and PostgreSQL:
documents that arrived at the same instant (one batch, two replicas, a coarse clock) are
all listed, none skipped at a page's end (the cursor was the time alone)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.console.conftest import LiveConsole, signed_in, start_console

_ROW = re.compile(r'href="/console/received/([0-9A-Za-z_-]+)"')
_NEXT = re.compile(r'id="next-page" href="([^"]+)"')


@pytest.fixture
async def inbox(store_url: str, tmp_path: Path) -> AsyncIterator[LiveConsole]:
    async for live in start_console(tmp_path, store_url, workers=0):
        yield live


async def test_documents_of_one_instant_are_all_listed(inbox: LiveConsole) -> None:
    instant = dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.UTC)
    clock, inbox.store.clock = inbox.store.clock, lambda: instant
    try:
        stored = set()
        for i in range(53):
            message, _ = await inbox.store.receive_inbound(
                channel="https",
                message_id=f"batch-{i}",
                data=b"<x/>",
                media_type="application/xml",
                tenant_id=inbox.tenant_a.id,
            )
            stored.add(message.id)
    finally:
        inbox.store.clock = clock
    seen: list[str] = []
    session = await signed_in(inbox, inbox.key_a)
    async with session:
        url = f"{inbox.base}/console/received"
        for _ in range(3):
            async with session.get(url) as response:
                page = await response.text()
            seen += _ROW.findall(page)
            link = _NEXT.search(page)
            if link is None:
                break
            url = f"{inbox.base}/console/received{link[1].replace('&amp;', '&')}"
    assert len(seen) == len(set(seen)) == 53
    assert set(seen) == stored
