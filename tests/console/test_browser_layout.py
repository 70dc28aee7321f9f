"""Long values in a real browser (Debian's chromium): a file name of 200 Latin letters
without a break, a Chinese one as long, must not push the page wider than the window, and
a state stays one word on one line (a narrow column broke 已投递 into three lines)."""

from __future__ import annotations

from pathlib import Path

from tests.console.browser import browser_context
from tests.console.conftest import SAMPLES, LiveConsole

LATIN = "INV_" + "ABCDEFGHIJ" * 20 + ".xml"
CHINESE = "很长的文件名" * 30 + ".xml"


async def test_long_values_do_not_widen_the_page(quiet: LiveConsole, tmp_path: Path) -> None:
    body = (SAMPLES / "export-zero-rate.xml").read_bytes()
    ids = []
    for name in (LATIN, CHINESE):
        submission, _ = await quiet.services.submissions.submit(
            quiet.tenant_a.id, body, content_type="application/xml", filename=name
        )
        ids.append(submission.id)
    async with browser_context(tmp_path / "profile") as context:
        page = context.pages[0] if context.pages else await context.new_page()
        await page.goto(quiet.base + "/console/signin")
        await page.fill("#api_key", quiet.key_a)
        await page.click("#signin")
        for path in ("/console/documents", *(f"/console/documents/{i}" for i in ids)):
            await page.goto(quiet.base + path)
            await page.screenshot(path=str(tmp_path / f"{len(path)}.png"), full_page=True)
            wide, window = await page.evaluate(
                "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
            )
            assert wide <= window, (path, wide, window)
            broken = await page.evaluate(
                """[...document.querySelectorAll('span.state')]
                   .filter(b => b.getClientRects().length > 1)
                   .map(b => b.textContent)"""
            )
            assert broken == [], (path, broken)
