"""Finding a document in the console's list by its number (a fapiao's 发票号码, as the
finance clerk has it from the buyer's query), on SQLite and PostgreSQL; a receiver or a
number that cannot match is said so instead of being dropped (the list then showed every
document under a filter box that still held the text)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.console.conftest import LiveConsole, signed_in, start_console

RECEIVER = "0195:SGUEN201612345D"


@pytest.fixture
async def listed(store_url: str, tmp_path: Path) -> AsyncIterator[LiveConsole]:
    async for live in start_console(tmp_path, store_url, workers=0):
        yield live


async def queued(live: LiveConsole, tenant_id: str, number: str) -> str:
    """A document the flow has queued with ``number`` for :data:`RECEIVER`."""
    submission, _ = await live.services.submissions.submit(
        tenant_id, b"<x/>", content_type="application/xml", filename=f"{number}.xml"
    )
    detail = {"number": number, "receiver": RECEIVER, "profile": "pint-sg"}
    await live.store.record_event(submission.id, "queued", detail=detail)
    return submission.id


async def test_a_document_is_found_by_its_number(listed: LiveConsole) -> None:
    wanted = await queued(listed, listed.tenant_a.id, "26312000000000400007")
    others = [await queued(listed, listed.tenant_a.id, f"2631200000000040001{i}") for i in range(3)]
    foreign = await queued(listed, listed.tenant_b.id, "26312000000000400007")
    session = await signed_in(listed, listed.key_a)
    async with session:
        url = f"{listed.base}/console/documents?number=+26312000000000400007+"
        async with session.get(url) as response:
            page = await response.text()
        url = f"{listed.base}/console/documents?number=26312000000000400007&state=delivered"
        async with session.get(url) as response:
            other_state = await response.text()
    assert wanted in page and 'name="number" value="26312000000000400007"' in page
    assert not any(doc in page for doc in (*others, foreign))
    assert wanted not in other_state


async def test_a_filter_that_cannot_match_says_so(listed: LiveConsole) -> None:
    doc = await queued(listed, listed.tenant_a.id, "26312000000000400008")
    session = await signed_in(listed, listed.key_a)
    async with session:
        session.cookie_jar.update_cookies({"lingang_lang": "en"})
        url = f"{listed.base}/console/documents?receiver=SGUEN201612345D"
        async with session.get(url) as response:
            assert response.status == 200
            page = await response.text()
        async with session.get(f"{listed.base}/console/documents?number={'9' * 101}") as response:
            too_long = await response.text()
    assert 'id="bad-receiver"' in page and "written scheme:value" in page
    assert doc not in page
    assert 'id="bad-number"' in too_long and doc not in too_long
