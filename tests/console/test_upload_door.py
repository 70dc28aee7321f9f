"""The console's upload form refuses hostile XML and zip at the door, as ``POST /v1/documents``
does (both go through ``checked_upload``): the form is shown again with the reason, nothing is
stored."""

from __future__ import annotations

import aiohttp
import pytest

from tests.api.test_api_door import BILLION_LAUGHS, MALFORMED, _traversal_zip
from tests.console.conftest import LiveConsole, csrf_of, signed_in


@pytest.mark.parametrize(
    ("name", "data", "words"),
    [
        ("lol.xml", BILLION_LAUGHS, "DOCTYPE"),
        ("broken.xml", MALFORMED, "not well-formed"),
        ("evil.ofd", _traversal_zip(), "leaves the archive"),
        ("INV_" + "A" * 260 + ".xml", b"<EInvoice/>", "longer than 255 characters (268)"),
    ],
)
async def test_a_hostile_upload_is_refused_and_not_stored(
    quiet: LiveConsole, name: str, data: bytes, words: str
) -> None:
    session = await signed_in(quiet, quiet.key_a)
    async with session:
        async with session.get(quiet.base + "/console/upload") as response:
            token = csrf_of(await response.text())
        form = aiohttp.FormData()
        form.add_field("csrf", token)
        form.add_field("document", data, filename=name, content_type="application/octet-stream")
        async with session.post(
            quiet.base + "/console/upload", data=form, allow_redirects=False
        ) as response:
            assert response.status == 422
            page = await response.text()
    assert 'id="upload-refused"' in page and words in page
    assert await quiet.store.list_submissions(quiet.tenant_a.id) == []
