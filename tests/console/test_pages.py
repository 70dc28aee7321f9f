"""Console pages: every word a template uses exists in both languages; the document page
shows the stored validation report; unreadable documents answer 422, never 500."""

from __future__ import annotations

import datetime as dt
import json
import re
from importlib import resources
from pathlib import Path

import aiohttp

from gateway.api.console import find_screens
from gateway.api.console.i18n import STATES, TEXTS, TITLE_STATES
from tests.console.conftest import LiveConsole, csrf_of, signed_in
from tests.console.test_security import hostile_fapiao, submit

_WORD = re.compile(r"""\bt\(\s*["']([a-z_]+)["']\s*\)""")
REPORT = {
    "profile": "pint-sg",
    "valid": False,
    "findings": [
        {
            "rule_id": "BR-CO-15",
            "flag": "fatal",
            "location": "/Invoice/cac:LegalMonetaryTotal",
            "text": "Invoice total amount with VAT = ...",
            "source": "cen-ubl",
        },
        {
            "rule_id": "SG-R004",
            "flag": "warning",
            "location": "/Invoice",
            "text": "w",
            "source": "pint-sg",
        },
    ],
    "artefacts": [],
}


def test_every_word_in_the_templates_is_in_both_languages() -> None:
    find_screens()  # a screen adds its own words when imported (received: add_texts)
    folder = resources.files("gateway.api.console").joinpath("templates")
    used = set()
    for entry in folder.iterdir():
        used |= set(_WORD.findall(entry.read_text("utf-8")))
    assert used, "no words found"
    assert used <= set(TEXTS), sorted(used - set(TEXTS))
    from gateway.api.console.screens.received import SHOWN_FACTS  # shown as t(key)

    assert set(SHOWN_FACTS) <= set(TEXTS), sorted(set(SHOWN_FACTS) - set(TEXTS))
    for chinese, english in [*TEXTS.values(), *STATES.values(), *TITLE_STATES.values()]:
        assert chinese and english


async def test_the_document_page_shows_the_report(quiet: LiveConsole) -> None:
    doc = await submit(quiet, quiet.tenant_a.id, hostile_fapiao(), "r.xml")
    await quiet.store.put_output(doc, "report", "application/json", json.dumps(REPORT).encode())
    session = await signed_in(quiet, quiet.key_a)
    async with session:
        async with session.get(f"{quiet.base}/console/documents/{doc}") as response:
            page = await response.text()
        async with session.get(f"{quiet.base}/console/documents/{doc}/view") as response:
            view = await response.text()
    for html in (page, view):
        assert html.index("BR-CO-15") < html.index("SG-R004")
        assert "/Invoice/cac:LegalMonetaryTotal" in html


async def test_an_unreadable_document_is_a_422_not_a_500(quiet: LiveConsole) -> None:
    doc = await submit(quiet, quiet.tenant_a.id, b"\x00 not a document", "x.bin")
    session = await signed_in(quiet, quiet.key_a)
    async with session:
        async with session.get(f"{quiet.base}/console/documents/{doc}/view") as response:
            assert response.status == 422
        async with session.get(f"{quiet.base}/console/documents/{doc}") as response:
            assert response.status == 200
    async with (
        aiohttp.ClientSession() as client,
        client.get(
            f"{quiet.base}/v1/documents/{doc}/view",
            headers={"Authorization": f"Bearer {quiet.key_a}"},
        ) as response,
    ):
        assert response.status == 422
        problem = await response.json(content_type=None)
    assert problem["status"] == 422 and "no renderer" in problem["detail"]


async def test_english_everywhere_after_the_switch(quiet: LiveConsole) -> None:
    session = await signed_in(quiet, quiet.key_a)
    async with session:
        async with session.get(
            f"{quiet.base}/console/lang", params={"to": "en", "next": "/console/health"}
        ) as response:
            assert response.url.path == "/console/health"
        for screen in ("documents", "upload", "stuck", "partners", "health"):
            async with session.get(f"{quiet.base}/console/{screen}") as response:
                page = await response.text()
            menu = page[page.index("<header") : page.index("</header>")]
            assert not re.search(r"[\u4e00-\u9fff]", menu.replace("中文", "")), screen


async def test_times_name_their_zone(quiet: LiveConsole) -> None:
    """The console's times are UTC, the ledger's Beijing time (+08:00): each time says
    which, so a clerk in Shanghai does not read 21:30 UTC as 21:30 local, and the date
    filters and the health chart say that their days and hours are UTC."""
    doc = await submit(quiet, quiet.tenant_a.id, hostile_fapiao(), "t.xml")
    stored = await quiet.store.get_submission(quiet.tenant_a.id, doc)
    assert stored is not None
    shown = stored.created_at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")
    session = await signed_in(quiet, quiet.key_a)
    async with session:
        for language, day_label in (("zh", "自（UTC 日期）"), ("en", "From (UTC date)")):
            session.cookie_jar.update_cookies({"lingang_lang": language})
            async with session.get(f"{quiet.base}/console/documents") as response:
                listed = await response.text()
            async with session.get(f"{quiet.base}/console/documents/{doc}") as response:
                page = await response.text()
            async with session.get(f"{quiet.base}/console/health") as response:
                health = await response.text()
            assert f"{shown} UTC" in listed and f"{shown} UTC" in page
            assert re.search(rf"{re.escape(shown)}(?! UTC)", listed + page) is None
            assert day_label in listed
            assert "UTC" in health[health.index("<h2>", health.index('id="queues"')) :]


async def test_a_working_page_stops_refreshing(quiet: LiveConsole, tmp_path: Path) -> None:
    """A document on its way refreshes its page every 2 s, which restarts a screen reader
    and moves the focus (WCAG 2.2.1, failure F41): it said nothing about it and went on for
    as long as the document stayed queued (hours, with a receiver down). Now the page says
    it refreshes and offers to stop, and stops on its own 2 minutes after the last change."""
    import sqlite3

    doc = await submit(quiet, quiet.tenant_a.id, hostile_fapiao(), "w.xml")  # stays received
    refresh = '<meta http-equiv="refresh" content="2">'
    session = await signed_in(quiet, quiet.key_a)
    async with session:
        async with session.get(f"{quiet.base}/console/documents/{doc}") as response:
            fresh = await response.text()
        async with session.get(f"{quiet.base}/console/documents/{doc}?follow=0") as response:
            stopped = await response.text()
        an_hour_ago = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).isoformat()
        with sqlite3.connect(tmp_path / "gateway.db") as db:
            db.execute("UPDATE submissions SET updated_at = ? WHERE id = ?", (an_hour_ago, doc))
        async with session.get(f"{quiet.base}/console/documents/{doc}") as response:
            old = await response.text()
    assert refresh in fresh and 'id="stop-following" href="?follow=0"' not in fresh
    assert '<a href="?follow=0" id="stop-following">停止自动刷新</a>' in fresh
    assert 'data-state="received"' in stopped and refresh not in stopped
    assert 'data-state="received"' in old and refresh not in old
    assert 'id="following"' not in stopped + old


async def test_the_report_names_its_columns_and_severities(quiet: LiveConsole) -> None:
    """The console's findings table headed its location column with the group's severity
    as stored ('fatal', 'warning': English in the zh view, and no 'Location' header at
    all), and said valid or not only as ✓ / ✗. Now: a heading per severity in the page's
    language, Rule / Location / Message, and the verdict in words."""
    doc = await submit(quiet, quiet.tenant_a.id, hostile_fapiao(), "r.xml")
    await quiet.store.put_output(doc, "report", "application/json", json.dumps(REPORT).encode())
    session = await signed_in(quiet, quiet.key_a)
    async with session:
        pages = {}
        for language in ("zh", "en"):
            session.cookie_jar.update_cookies({"lingang_lang": language})
            async with session.get(f"{quiet.base}/console/documents/{doc}") as response:
                pages[language] = await response.text()
    zh, en = pages["zh"], pages["en"]
    header = "<thead><tr><th>{}</th><th>{}</th><th>{}</th></tr></thead>"
    assert zh.count(header.format("规则", "位置", "说明")) == 2
    assert en.count(header.format("Rule", "Location", "Message")) == 2
    assert "<h3>错误 (1)</h3>" in zh and "<h3>警告 (1)</h3>" in zh
    assert "<h3>Fatal (1)</h3>" in en and "<h3>Warning (1)</h3>" in en
    assert "✗ 无效" in zh and "✗ invalid" in en
    assert "<th>fatal</th>" not in zh + en and "<th>warning</th>" not in zh + en


async def test_the_gateways_fixed_reasons_read_in_chinese(live: LiveConsole) -> None:
    """Every document's history began with 'accepted for processing', and a dead delivery
    read 'the receiving side could not be reached ...', in English in the zh view. The
    gateway's fixed reasons now read in Chinese there (a rule's finding or an officer's
    basis stays as recorded), and as recorded in the en view."""
    import asyncio

    from gateway.api.disclosure import TRANSPORT_REASON
    from tests.console.conftest import SAMPLES

    body = (SAMPLES / "exempt-services.xml").read_bytes()
    doc = await submit(live, live.tenant_a.id, body, "x.xml")
    for _ in range(400):
        found = await live.store.get_submission(live.tenant_a.id, doc)
        if found is not None and found.state == "dead":
            break
        await asyncio.sleep(0.05)
    session = await signed_in(live, live.key_a)
    async with session:
        pages = {}
        for language in ("zh", "en"):
            session.cookie_jar.update_cookies({"lingang_lang": language})
            for path in (f"documents/{doc}", "stuck"):
                async with session.get(f"{live.base}/console/{path}") as response:
                    pages[language, path] = await response.text()
    history = pages["zh", f"documents/{doc}"]
    assert "<td>已接收，等待处理</td>" in history
    assert "已处理；已排队，经 broken 投递（partner:0195:SGUEN199912345A）" in history
    assert "<td>接收方无法连接，或答复了临时错误</td>" in history
    assert "接收方无法连接，或答复了临时错误" in pages["zh", "stuck"]
    for page in (history, pages["zh", "stuck"]):
        assert "accepted for processing" not in page and TRANSPORT_REASON not in page
    english = pages["en", f"documents/{doc}"]
    assert "<td>accepted for processing</td>" in english and TRANSPORT_REASON in english


async def test_a_checked_directory_counts_its_entries_in_english(quiet: LiveConsole) -> None:
    one = '[[partners]]\nbuyer_name = "A"\nendpoint = "0195:SGUEN200212345Z"\ncountry = "SG"\n'
    two = one + one.replace('"A"', '"B"')
    session = await signed_in(quiet, quiet.key_a)
    async with session:
        async with session.get(
            f"{quiet.base}/console/lang", params={"to": "en", "next": "/console/partners"}
        ) as response:
            token = csrf_of(await response.text())
        said = []
        for toml in (one, two):
            form = {"toml": toml, "action": "validate", "csrf": token}
            async with session.post(f"{quiet.base}/console/partners", data=form) as response:
                page = await response.text()
                assert response.status == 200, page
            said.append(re.search(r'id="partners-outcome">([^<]*)<', page))
    outcomes = [m.group(1) if m else "" for m in said]
    assert outcomes[0].endswith("(1 entry)") and outcomes[1].endswith("(2 entries)"), outcomes
