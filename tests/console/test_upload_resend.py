"""The console's upload form carries the "send again on purpose" box: ticked, the submission
is a deliberate resend (``resend=true``, as ``POST /v1/documents`` takes it); left alone, it
is not, and a fapiao sent already is refused by its processing (``already-sent``)."""

from __future__ import annotations

from pathlib import Path

import aiohttp

from tests.console.conftest import LiveConsole, csrf_of, signed_in

SAMPLE = Path(__file__).resolve().parents[2] / "gateway" / "samples" / "export-zero-rate.xml"


async def _upload(quiet: LiveConsole, resend: bool) -> None:
    session = await signed_in(quiet, quiet.key_a)
    async with session:
        async with session.get(quiet.base + "/console/upload") as response:
            page = await response.text()
        assert 'name="resend" value="true"' in page
        form = aiohttp.FormData()
        form.add_field("csrf", csrf_of(page))
        form.add_field(
            "document", SAMPLE.read_bytes(), filename=SAMPLE.name, content_type="text/xml"
        )
        if resend:
            form.add_field("resend", "true")
        async with session.post(
            quiet.base + "/console/upload", data=form, allow_redirects=False
        ) as response:
            assert response.status in (302, 303), await response.text()


async def test_the_box_makes_the_upload_a_deliberate_resend(quiet: LiveConsole) -> None:
    await _upload(quiet, resend=False)
    await _upload(quiet, resend=True)
    found = await quiet.store.list_submissions(quiet.tenant_a.id)
    stored = [await quiet.store.get_submission(quiet.tenant_a.id, s.id) for s in found]
    assert sorted(str(s.metadata.get("resend")) for s in stored if s is not None) == [
        "None",
        "true",
    ]
