"""The console in a real browser (Debian's chromium, headless, through Playwright).

Sign in, upload a sample fapiao (drag and drop), watch it reach ``delivered``, open its
readable view, retry a dead letter, edit the partners, sign out. Then an eBL (with the
official schemas): drop a DCSA JSON eBL, watch it reach ``converted``, see its conversions
and title chain, open its readable view. A screenshot of every page is written under the
test's own tmp folder (``screenshots/``), never into the repository.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.console.browser import browser_context
from tests.console.conftest import SAMPLES, LiveConsole, start_console
from tests.console.test_ebl import hostile_ebl, register_chain

DEADLINE_SECONDS = 60
EBL_DEADLINE_SECONDS = 180
"""The first eBL waits for the validator's warm-up on a busy machine."""


async def shot(page: Any, folder: Path, name: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


async def wait_for_state(page: Any, state: str, seconds: int = DEADLINE_SECONDS) -> None:
    """Reload the document page until its state is ``state`` (it also refreshes itself)."""
    text = None
    for _ in range(seconds * 4):
        text = await page.locator("#doc-state").get_attribute("data-state")
        if text == state:
            return
        await asyncio.sleep(0.25)
        await page.reload()
    raise AssertionError(f"the document did not reach {state!r}, last {text!r}")


async def drop_file(page: Any, path: Path, media_type: str) -> None:
    """Drop ``path`` on the upload form's drop zone as a user dragging a file would."""
    data = list(path.read_bytes())
    transfer = await page.evaluate_handle(
        """([bytes, name, type]) => {
            const transfer = new DataTransfer();
            transfer.items.add(new File([new Uint8Array(bytes)], name, {type}));
            return transfer;
        }""",
        [data, path.name, media_type],
    )
    await page.dispatch_event("#dropzone", "drop", {"dataTransfer": transfer})


async def test_console_in_a_browser(live: LiveConsole, tmp_path: Path) -> None:
    shots = tmp_path / "screenshots"
    async with browser_context(tmp_path / "profile") as context:
        page = context.pages[0] if context.pages else await context.new_page()
        base = live.base + "/console"

        await page.goto(base + "/documents")
        assert page.url.endswith("/console/signin")
        await shot(page, shots, "01-signin")
        await page.fill("#api_key", "not-a-key")
        await page.click("#signin")
        assert await page.locator("#signin-error").is_visible()
        await page.fill("#api_key", live.key_a)
        await page.click("#signin")
        assert page.url.endswith("/console/documents")
        await shot(page, shots, "02-documents-empty")

        await page.click("#language-switch")
        assert await page.locator("h1").text_content() == "Documents"
        await page.click("#language-switch")
        assert await page.locator("h1").text_content() == "文档"

        await page.goto(base + "/upload")
        await drop_file(page, SAMPLES / "export-zero-rate.xml", "text/xml")
        assert await page.locator("#chosen").text_content() == "export-zero-rate.xml"
        await shot(page, shots, "03-upload")
        await page.click("#upload-submit")
        assert "/console/documents/" in page.url
        await wait_for_state(page, "delivered")
        assert await page.locator('#deliveries [data-state="done"]').count() == 1
        assert await page.locator("#doc-state").text_content() == "已投递"
        frame = page.frame_locator("#readable")
        assert await frame.get_by_text("价税合计 / Total with VAT").first.is_visible()
        await shot(page, shots, "04-document-delivered")
        document_url = page.url

        view = await context.new_page()
        await view.goto(document_url + "/view")
        assert await view.get_by_text("发票号码 / Invoice number").first.is_visible()
        assert await view.get_by_text("税额明细 / Tax breakdown").is_visible()
        await shot(view, shots, "05-readable-view")
        await view.close()

        await page.goto(base + "/upload")
        await page.set_input_files("#document", str(SAMPLES / "exempt-services.xml"))
        await page.click("#upload-submit")
        await wait_for_state(page, "dead")
        await page.goto(base + "/stuck")
        assert await page.locator("#dead-letters .retry-dead").count() == 1
        await shot(page, shots, "06-dead-letters")
        await page.click("#dead-letters .retry-dead")
        assert await page.locator("#notice").text_content() == "已重新排队。"
        await shot(page, shots, "07-retried")

        await page.goto(base + "/partners")
        text = await page.locator("#toml").input_value()
        assert "Harbour Gate Logistics Limited" in text
        broken = (
            text + '\n[[partners]]\nbuyer_name = "New Buyer"\nendpoint = "0195:X"\ncountry = "XX"\n'
        )
        await page.fill("#toml", broken)
        await page.click("#validate")
        assert await page.locator("#partners-refused").is_visible()
        await shot(page, shots, "08-partners-refused")
        fixed = text + (
            '\n[[partners]]\nbuyer_name = "New Buyer Pte. Ltd."\n'
            'endpoint = "0195:SGUEN202012345B"\ncountry = "SG"\ncity = "Singapore"\n'
        )
        await page.fill("#toml", fixed)
        await page.click("#save")
        assert "目录已保存" in (await page.locator("#partners-outcome").text_content() or "")
        await shot(page, shots, "09-partners-saved")
        stored = await live.store.list_directory(live.tenant_a.id, "partner")
        assert any(e.document.get("buyer_name") == "New Buyer Pte. Ltd." for e in stored)

        await page.goto(base + "/health")
        assert await page.locator("#throughput rect").count() == 12
        await shot(page, shots, "10-health")

        await page.goto(base + "/documents")
        assert await page.locator("#documents tbody tr").count() == 2
        await shot(page, shots, "11-documents")

        await page.click("#signout")
        assert page.url.endswith("/console/signin")
        await page.goto(base + "/documents")
        assert page.url.endswith("/console/signin")
        await shot(page, shots, "12-signed-out")

    assert len(list(shots.glob("*.png"))) == 12


async def test_script_in_a_document_is_text_in_the_browser(
    live: LiveConsole, tmp_path: Path
) -> None:
    from tests.console.test_security import HOSTILE_ITEM, HOSTILE_NAME, hostile_fapiao, submit

    doc = await submit(live, live.tenant_a.id, hostile_fapiao(), HOSTILE_NAME)
    async with browser_context(tmp_path / "profile") as context:
        page = context.pages[0] if context.pages else await context.new_page()
        dialogs: list[str] = []
        page.on("dialog", lambda dialog: dialogs.append(dialog.message))
        await page.goto(live.base + "/console/signin")
        await page.fill("#api_key", live.key_a)
        await page.click("#signin")
        await page.goto(f"{live.base}/console/documents/{doc}")
        frame = page.frame_locator("#readable")
        assert await frame.get_by_text(HOSTILE_ITEM).first.is_visible()
        assert await page.get_by_text(HOSTILE_NAME).first.is_visible()
        await page.goto(f"{live.base}/console/documents/{doc}/view")
        assert await page.get_by_text(HOSTILE_ITEM).first.is_visible()
        assert await page.evaluate("typeof window.pwned") == "undefined"
        assert await page.locator("script").count() == 0
        await page.goto(f"{live.base}/console/documents")
        assert await page.locator("#documents img").count() == 0
        await shot(page, tmp_path / "screenshots", "13-hostile-text")
    assert dialogs == []


@pytest.fixture
async def live_ebl(tmp_path: Path, artefacts_home: Path) -> AsyncIterator[LiveConsole]:
    """The console with the official schemas (the eBL flow needs them), on SQLite."""
    url = f"sqlite:///{tmp_path}/gateway.db"
    async for running in start_console(tmp_path, url, artefacts=artefacts_home):
        yield running


async def test_an_ebl_in_the_browser(
    live_ebl: LiveConsole, tmp_path: Path, reference: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    live = live_ebl
    document = hostile_ebl(reference)
    await register_chain(live.store, document, monkeypatch)
    ebl = tmp_path / "bill-of-lading.json"
    ebl.write_text(json.dumps(document), "utf-8")
    shots = tmp_path / "screenshots"
    async with browser_context(tmp_path / "profile") as context:
        page = context.pages[0] if context.pages else await context.new_page()
        dialogs: list[str] = []
        page.on("dialog", lambda dialog: dialogs.append(dialog.message))
        base = live.base + "/console"
        await page.goto(base + "/signin")
        await page.fill("#api_key", live.key_a)
        await page.click("#signin")

        await page.goto(base + "/upload")
        await drop_file(page, ebl, "application/json")
        assert await page.locator("#chosen").text_content() == ebl.name
        await shot(page, shots, "14-ebl-upload")
        await page.click("#upload-submit")
        assert "/console/documents/" in page.url
        await wait_for_state(page, "converted", EBL_DEADLINE_SECONDS)
        assert await page.locator("#doc-kind").text_content() == "电子提单"
        for kind in ("dcsa", "ubl", "uncefact", "tradetrust-oa"):
            assert await page.locator(f'#outputs a[href$="/outputs/{kind}"]').count() == 1
        chain = page.locator("#chain tbody tr")
        assert await chain.count() == 2
        assert "TRANSFER" in (await chain.nth(1).text_content() or "")
        frame = page.frame_locator("#readable")
        assert await frame.get_by_text("权利转让链 / Title chain").is_visible()
        await shot(page, shots, "15-ebl-document")
        document_url = page.url

        view = await context.new_page()
        view.on("dialog", lambda dialog: dialogs.append(dialog.message))
        await view.goto(document_url + "/view")
        assert await view.get_by_text("托运人 / Shipper").is_visible()
        assert await view.get_by_text("<script>alert(1)</script>").first.is_visible()
        assert await view.locator("#title-chain tbody tr").count() == 2
        assert await view.get_by_text("BUYER-1 Ltd").first.is_visible()
        assert await view.locator("script").count() == 0
        await shot(view, shots, "16-ebl-readable-view")
        await view.close()
    assert dialogs == []
    assert {p.name for p in shots.glob("*.png")} == {
        "14-ebl-upload.png",
        "15-ebl-document.png",
        "16-ebl-readable-view.png",
    }
