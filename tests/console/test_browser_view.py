"""The readable view's frame in a real browser (Debian's chromium): when a document has no
readable rendering (a file that is no fapiao, refused by the flow), the frame says so and
why, instead of the browser's blocked-frame icon (the failure page forbade all framing)."""

from __future__ import annotations

from pathlib import Path

from tests.console.browser import browser_context
from tests.console.conftest import LiveConsole


async def test_a_failed_readable_view_says_why_in_its_frame(
    quiet: LiveConsole, tmp_path: Path
) -> None:
    submission, _ = await quiet.services.submissions.submit(
        quiet.tenant_a.id, b"\x00 not a document", content_type="application/xml", filename="x.bin"
    )
    async with browser_context(tmp_path / "profile") as context:
        page = context.pages[0] if context.pages else await context.new_page()
        await page.goto(quiet.base + "/console/signin")
        await page.fill("#api_key", quiet.key_a)
        await page.click("#signin")
        await page.goto(f"{quiet.base}/console/documents/{submission.id}")
        frame = page.frame_locator("#readable")
        await frame.locator("#view-failed").wait_for(timeout=10_000)
        assert await frame.locator("h1").text_content() == "无法生成可读视图"
        assert "no renderer" in (await frame.locator("#view-failed").text_content() or "")
        await page.screenshot(path=str(tmp_path / "view-failed.png"), full_page=True)
