"""File names that would show other than they are: refused at the door, naming the character.

A file name reaches the console's lists and pages and the API's answers. One holding a
direction override (``invoice\\u202egpj.exe.xml`` shows as ``invoicelmx.exe.jpg``), an
isolate or a C1 control character was stored and shown (Unicode TR #36 2.1, bidirectional
text spoofing); the ledger already refuses these in an officer's name.
"""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest

from tests.api.conftest import LiveApi

SPOOFING = [
    "invoice\u202egpj.exe.xml",
    "invoice\u202dx.xml",
    "a\u2066b\u2069.xml",
    "a\u0085b.xml",
    "a\u009bb.xml",
]


def _refused(status: int, raw: bytes, name: str) -> None:
    assert status == 422, (status, raw[:300])
    problem = json.loads(raw)
    assert [(e["field"], e["rule"]) for e in problem["errors"]] == [("filename", "format")]
    bad = next(c for c in name if ord(c) in range(0x80, 0xA0) or ord(c) >= 0x202A)
    assert f"U+{ord(bad):04X}" in problem["detail"]


@pytest.mark.parametrize("name", SPOOFING, ids=[repr(n) for n in SPOOFING])
async def test_a_spoofing_file_name_in_the_query_is_refused(
    live: LiveApi, fapiao_xml: bytes, name: str
) -> None:
    status, _, raw = await live.a.request(
        "POST",
        f"/v1/documents?filename={quote(name)}",
        data=fapiao_xml,
        headers={"Content-Type": "application/xml"},
    )
    _refused(status, raw, name)
    status, _, raw = await live.a.request("GET", "/v1/documents")
    assert status == 200 and json.loads(raw)["items"] == []


def _form(fapiao_xml: bytes, disposition: bytes) -> bytes:
    """A multipart body whose document part has ``disposition`` as written (browsers write a
    file name as raw UTF-8; RFC 7578 4.2 allows ``filename*`` too)."""
    return (
        b'--B\r\nContent-Disposition: form-data; name="document"; '
        + disposition
        + b"\r\nContent-Type: application/xml\r\n\r\n"
        + fapiao_xml
        + b"\r\n--B--\r\n"
    )


@pytest.mark.parametrize("name", SPOOFING[:2], ids=[repr(n) for n in SPOOFING[:2]])
@pytest.mark.parametrize("form", ["raw-utf-8", "rfc-5987"])
async def test_a_spoofing_file_name_of_a_form_part_is_refused(
    live: LiveApi, fapiao_xml: bytes, name: str, form: str
) -> None:
    if form == "raw-utf-8":
        disposition = b'filename="' + name.encode() + b'"'
    else:
        disposition = b"filename*=UTF-8''" + quote(name).encode()
    status, _, raw = await live.a.request(
        "POST",
        "/v1/documents",
        data=_form(fapiao_xml, disposition),
        headers={"Content-Type": "multipart/form-data; boundary=B"},
    )
    _refused(status, raw, name)


async def test_names_in_any_script_still_pass(live: LiveApi, fapiao_xml: bytes) -> None:
    """Only what changes how a name shows is refused: Chinese, Arabic and Hebrew names (and
    the invisible direction marks LRM/RLM) are names."""
    for name in ["发票-2026.xml", "فاتورة.xml", "חשבונית.xml", "a\u200fb.xml"]:
        status, _, raw = await live.a.request(
            "POST",
            f"/v1/documents?filename={quote(name)}",
            data=fapiao_xml,
            headers={"Content-Type": "application/xml"},
        )
        assert status == 202, (name, raw[:200])
