"""eBLs in the console: the upload form takes a DCSA JSON eBL (kind detected, no field to
fill), the ``ebl-out`` flow converts it, and the document page lists its conversions and
what the eBL registry holds (state, possessor, the title chain), on SQLite and PostgreSQL;
the readable view is the eBL page with the chain; script in a party name stays text."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from gateway.api.console.screens.upload import detected_kind
from gateway.store import Store
from gateway.store.ebl import EblRegistry
from gateway.testing.pint import issue_and_transfer
from tests.console.conftest import SAMPLES, LiveConsole, csrf_of, signed_in, start_console
from tests.readable.page_text import page_text

EXAMPLE = "ebl/dcsa/examples/EBL_v3.0.3.transport-document.GET.200.regular.json"
ENVELOPE = "ebl/dcsa/examples/EBL_PINT_v3.0.0.pint-envelope.POST.request.regular.json"
_STATE = re.compile(r'id="doc-state" data-state="([a-z-]+)"')
FINAL = {"converted", "rejected", "failed", "dead"}


@pytest.fixture
async def ebl_console(
    store_url: str, tmp_path: Path, artefacts_home: Path
) -> AsyncIterator[LiveConsole]:
    async for live in start_console(tmp_path, store_url, artefacts=artefacts_home):
        yield live


def test_the_kind_is_detected(reference: Path) -> None:
    assert detected_kind((reference / EXAMPLE).read_bytes()) == "ebl"
    assert detected_kind((reference / ENVELOPE).read_bytes()) == "ebl"
    for sample in ("export-zero-rate.xml", "platform-export.json", "services.ofd"):
        assert detected_kind((SAMPLES / sample).read_bytes()) == "invoice", sample
    assert detected_kind(b"{not json") == "invoice"


def hostile_ebl(reference: Path) -> dict[str, Any]:
    """The DCSA example with script markup as the shipper's name."""
    document: dict[str, Any] = json.loads((reference / EXAMPLE).read_text("utf-8"))
    document["documentParties"]["shipper"]["partyName"] = "<script>alert(1)</script>"
    return document


async def register_chain(
    store: Store, document: dict[str, Any], monkeypatch: pytest.MonkeyPatch | None = None
) -> None:
    """What the eBL registry would hold after WAVE issued ``document`` and transferred it to
    BOLE's BUYER-1 (two signed chain entries). With ``monkeypatch`` the console's tenants are
    taken as operators of the eBL platform (this console runs no ``dcsa_pint`` adapter), who
    alone see the registry (``tests/api/test_api_ebls.py`` proves who does)."""
    await EblRegistry.of(store).issue(issue_and_transfer(document))
    if monkeypatch is not None:
        from gateway.api.console.screens import document as screen

        monkeypatch.setattr(
            screen, "reads_registry", lambda request, tenant_id: lambda record: True
        )


async def upload(session: aiohttp.ClientSession, base: str, name: str, data: bytes) -> str:
    """Upload through the console's form; the document id it redirects to."""
    async with session.get(base + "/console/upload") as response:
        token = csrf_of(await response.text())
    form = aiohttp.FormData()
    form.add_field("csrf", token)
    form.add_field("document", data, filename=name, content_type="application/json")
    async with session.post(base + "/console/upload", data=form, allow_redirects=False) as response:
        assert response.status == 303, await response.text()
        return response.headers["Location"].rsplit("/", 1)[1]


async def settled(session: aiohttp.ClientSession, base: str, doc: str) -> str:
    """The document page once the flow has finished with it."""
    page = ""
    for _ in range(1200):  # the first eBL waits for the validator's warm-up
        async with session.get(f"{base}/console/documents/{doc}") as response:
            page = await response.text()
        match = _STATE.search(page)
        if match and match[1] in FINAL:
            return page
        await asyncio.sleep(0.1)
    raise AssertionError(f"the eBL did not settle: {_STATE.search(page)}")


async def test_an_uploaded_ebl_shows_its_conversions_and_chain(
    ebl_console: LiveConsole, reference: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    live = ebl_console
    document = hostile_ebl(reference)
    number = document["transportDocumentReference"]
    await register_chain(live.store, document, monkeypatch)
    session = await signed_in(live, live.key_a)
    async with session:
        doc = await upload(session, live.base, "bl.json", json.dumps(document).encode())
        page = await settled(session, live.base, doc)
        async with session.get(f"{live.base}/console/documents/{doc}/view") as response:
            assert response.status == 200
            view = await response.text()
    assert 'data-state="converted"' in page, page
    for kind in ("dcsa", "ubl", "uncefact", "tradetrust-oa", "html"):
        assert f"/outputs/{kind}" in page, kind
    assert 'id="doc-kind"' in page and number in page
    assert 'id="chain"' in page and "<code>TRANSFER</code>" in page and "BUYER-1 Ltd" in page
    assert 'data-state="transferred">已转让至其他平台<' in page and "BOLE:BOLE/BUYER-1" in page
    assert "权利转让链 / Title chain" in page_text(view) and "BUYER-1 Ltd" in view
    for html in (page, view):
        assert "<script>alert" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in view


async def test_an_uploaded_ebl_is_queued_for_the_ebl_flow(
    quiet: LiveConsole, reference: Path
) -> None:
    """Without workers: the stored submission says ``kind=ebl`` and its job names the
    ``ebl-out`` flow."""
    session = await signed_in(quiet, quiet.key_a)
    async with session:
        doc = await upload(session, quiet.base, "bl.json", (reference / EXAMPLE).read_bytes())
    submission = await quiet.store.get_submission(quiet.tenant_a.id, doc)
    assert submission is not None and submission.metadata.get("kind") == "ebl"
    jobs = await quiet.store.list_jobs(submission_id=doc)
    assert [j.payload_ref for j in jobs] == ["ebl-out"]
