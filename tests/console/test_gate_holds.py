"""Held documents as the real export gate holds them (a fapiao naming a contact person, past
the exporter's threshold), decided from the console by a compliance officer's session: the
lists show the held fapiao's number and receiver, and a decision the gate cannot take says
why on the page."""

from __future__ import annotations

import tomllib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from gateway.samples.writers import SELLER_USCC, einvoice_xml
from gateway.store.console import ConsoleStore, DocumentFilter
from gateway.store.partner_directory import replace_directory
from tests.console.conftest import PARTNERS, LiveConsole, csrf_of, signed_in, start_console
from tests.policy.support import with_contact

HELD_NUMBER = "26312000000000300001"
BUYER_ENDPOINT = "0195:SGUEN201612345D"
"""Lion City Trading Pte. Ltd. in ``tests/data/partners.toml`` (the buyer of the fapiao)."""


@pytest.fixture
async def gated(store_url: str, tmp_path: Path) -> AsyncIterator[LiveConsole]:
    """The console without workers over either store; tenant A's exporter holds any
    document that names an individual (``exempt_below = 1``)."""
    url = store_url
    async for live in start_console(tmp_path, url, workers=0):
        directory = tomllib.loads(PARTNERS.read_text("utf-8"))
        for exporter in directory["exporters"]:
            if exporter["seller_id"] == SELLER_USCC:
                exporter["data_export"] = {"exempt_below": 1, "assessment_from": 10}
        await replace_directory(live.store, live.tenant_a.id, directory)
        yield live


async def held_by_the_gate(live: LiveConsole, number: str = HELD_NUMBER) -> str:
    """Submit a fapiao naming a contact person and run its processing job: the gate holds
    it. Its id."""
    body = einvoice_xml(with_contact("Tan Mei Ling", number=number))
    submission, _ = await live.services.submissions.submit(
        live.tenant_a.id, body, content_type="application/xml", filename="tan.xml"
    )
    (job,) = await live.store.claim_jobs("w", kinds={"process"})
    kind = live.services.kinds.get("process")
    assert kind is not None
    await kind.run(job, "w")
    found = await live.store.get_submission(live.tenant_a.id, submission.id)
    assert found is not None and found.state == "held", found
    return submission.id


async def test_a_held_fapiao_is_listed_with_its_number_and_receiver(gated: LiveConsole) -> None:
    """The officer deciding a hold, and the clerk looking for a fapiao, find it by its
    number and receiver: the held event brings the document's facts as a queued one does
    (they were empty until the document was released)."""
    doc = await held_by_the_gate(gated)
    session = await signed_in(gated, gated.key_a)
    async with session:
        async with session.get(f"{gated.base}/console/documents?state=held") as response:
            listed = await response.text()
        query = f"state=held&receiver={BUYER_ENDPOINT}"
        async with session.get(f"{gated.base}/console/documents?{query}") as response:
            by_receiver = await response.text()
        async with session.get(f"{gated.base}/console/stuck") as response:
            stuck = await response.text()
        async with session.get(f"{gated.base}/console/documents/{doc}") as response:
            page = await response.text()
    for html in (listed, by_receiver):
        assert doc in html and HELD_NUMBER in html and BUYER_ENDPOINT in html
    held_row = stuck[stuck.index('id="held"') :]
    assert doc in held_row and BUYER_ENDPOINT in held_row
    assert f'<td class="number">{HELD_NUMBER}</td>' in held_row
    assert f"{HELD_NUMBER}" in page and "parse" in page  # its facts and its stage timings
    reads = ConsoleStore(gated.store.connector)
    (row,) = await reads.find_documents(gated.tenant_a.id, DocumentFilter(state="held"))
    assert (row.number, row.receiver, row.profile) == (HELD_NUMBER, BUYER_ENDPOINT, "pint-sg")


async def test_a_decision_the_gate_cannot_take_says_why(gated: LiveConsole) -> None:
    """A hold already refused (by this officer in another tab, or by a colleague) cannot be
    released: the page says so, as the API's 409 does, instead of 'Something went wrong'."""
    doc = await held_by_the_gate(gated)
    officer, _ = await gated.store.issue_api_key(gated.tenant_a.id, role="officer")
    session = await signed_in(gated, officer)
    async with session:
        session.cookie_jar.update_cookies({"lingang_lang": "en"})
        async with session.get(f"{gated.base}/console/stuck") as response:
            token = csrf_of(await response.text())
        refusal = {"csrf": token, "officer": "Li Wei", "reason": "no filing"}
        async with session.post(f"{gated.base}/console/stuck/{doc}/refuse", data=refusal):
            pass
        release = {"csrf": token, "officer": "Wang Fang", "basis": "standard contract"}
        async with session.post(
            f"{gated.base}/console/stuck/{doc}/release", data=release
        ) as response:
            status, page = response.status, await response.text()
    assert status == 409
    main = page[page.index("<main>") : page.index("</main>")]
    assert "Not done: it conflicts with the current state" in main
    assert f"document {doc} is refused, not held" in main, main


async def test_a_refused_document_is_named_in_chinese(gated: LiveConsole) -> None:
    """The zh view names every state in Chinese: an officer's refusal included (it showed
    as the stored word 'refused' in the list, its filter and the document's history)."""
    doc = await held_by_the_gate(gated)
    officer, _ = await gated.store.issue_api_key(gated.tenant_a.id, role="officer")
    session = await signed_in(gated, officer)
    async with session:
        async with session.get(f"{gated.base}/console/stuck") as response:
            token = csrf_of(await response.text())
        refusal = {"csrf": token, "officer": "Li Wei", "reason": "no filing"}
        async with session.post(f"{gated.base}/console/stuck/{doc}/refuse", data=refusal):
            pass
        async with session.get(f"{gated.base}/console/documents") as response:
            listed = await response.text()
        async with session.get(f"{gated.base}/console/documents/{doc}") as response:
            page = await response.text()
    assert 'data-state="refused">已拒绝出境<' in listed
    assert '<option value="refused" >已拒绝出境</option>' in listed
    assert 'data-state="refused">已拒绝出境<' in page
    for html in (listed, page):
        assert ">refused<" not in html


async def test_a_decision_without_a_name_says_what_is_missing(gated: LiveConsole) -> None:
    """An officer's name of spaces passes the browser's ``required`` and is nothing: the
    page said nothing at all (a plain reload). It now says what a decision needs, and the
    document stays held."""
    doc = await held_by_the_gate(gated)
    officer, _ = await gated.store.issue_api_key(gated.tenant_a.id, role="officer")
    session = await signed_in(gated, officer)
    async with session:
        async with session.get(f"{gated.base}/console/stuck") as response:
            token = csrf_of(await response.text())
        for action, text in (("release", "basis"), ("refuse", "reason")):
            form = {"csrf": token, "officer": "   ", text: "standard contract"}
            async with session.post(
                f"{gated.base}/console/stuck/{doc}/{action}", data=form
            ) as response:
                page = await response.text()
            assert response.url.query.get("notice") == "decision_incomplete", action
            assert 'class="note bad" id="notice">未作决定：须填写合规审核人姓名' in page
    found = await gated.store.get_submission(gated.tenant_a.id, doc)
    assert found is not None and found.state == "held"
