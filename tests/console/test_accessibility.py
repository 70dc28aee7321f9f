"""Accessibility basics on every console page, in Chinese and in English (WCAG 2.1): the
page's ``lang`` is the language shown and the language switch names its own (3.1.1, 3.1.2);
every form control has an accessible name, not only a placeholder (1.3.1, 3.3.2, 4.1.2);
every table column has a header (1.3.1); one ``h1`` per page."""

from __future__ import annotations

from typing import Any

from lxml import html

from tests.console.conftest import LiveConsole, signed_in
from tests.console.test_gate_holds import gated, held_by_the_gate  # noqa: F401

SCREENS = ("documents", "upload", "stuck", "partners", "health", "ledger", "received")
LANG = {"zh": "zh-Hans", "en": "en"}


def unnamed_controls(page: Any) -> list[str]:
    """The form controls a screen reader would announce without a name."""
    labelled = {label.get("for") for label in page.iter("label") if label.get("for")}
    found = []
    for control in page.iter("input", "select", "textarea"):
        if control.get("type") in {"hidden", "submit", "button"}:
            continue
        if (
            any(parent.tag == "label" for parent in control.iterancestors())
            or control.get("id") in labelled
            or control.get("aria-label")
            or control.get("aria-labelledby")
        ):
            continue
        found.append(f"{control.tag} name={control.get('name')}")
    return found


async def test_every_page_has_names_headers_and_its_language(gated: LiveConsole) -> None:  # noqa: F811
    doc = await held_by_the_gate(gated)
    officer, _ = await gated.store.issue_api_key(gated.tenant_a.id, role="officer")
    session = await signed_in(gated, officer)
    async with session:
        for language in ("zh", "en"):
            session.cookie_jar.update_cookies({"lingang_lang": language})
            for path in (*SCREENS, f"documents/{doc}"):
                async with session.get(f"{gated.base}/console/{path}") as response:
                    assert response.status == 200, path
                    page = html.fromstring(await response.text())
                where = f"{language} /console/{path}"
                assert page.get("lang") == LANG[language], where
                switch = page.get_element_by_id("language-switch")
                assert switch.get("lang") == LANG["en" if language == "zh" else "zh"], where
                assert unnamed_controls(page) == [], where
                empty = [th for th in page.iter("th") if not th.text_content().strip()]
                assert empty == [], where
                assert len(page.findall(".//h1")) == 1, where
                blank = [o for o in page.iter("option") if not o.text_content().strip()]
                assert blank == [], where
            if language == "zh":
                stuck = await (await session.get(f"{gated.base}/console/stuck")).text()
                assert '<label>合规审核人姓名 <input name="officer"' in stuck
