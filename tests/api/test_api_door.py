"""``POST /v1/documents`` refuses hostile or unreadable XML and zip at the door, before storing.

Each case is answered 4xx with the rule the worker's ingest would have given, and nothing is
stored; a good document is still 202 and content errors are still found by the worker.
"""

from __future__ import annotations

import io
import json
import struct
import zipfile
from typing import Any

import aiohttp
import pytest

from gateway.api.door import check_document
from gateway.api.problems import Problem
from gateway.ingest.types import IngestLimits
from gateway.samples import catalogue
from gateway.samples.build_ofd import ofd_package
from gateway.samples.writers import zip_bytes
from tests.api.conftest import LiveApi
from tests.api.test_api_documents import named, problem

MiB = 1024 * 1024

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol9 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<EInvoice>&lol9;</EInvoice>"""
XXE = b"""<?xml version="1.0"?>
<!DOCTYPE EInvoice [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<EInvoice><Header><EIid>&xxe;</EIid></Header></EInvoice>"""
DTD_ONLY = b'<!DOCTYPE EInvoice SYSTEM "http://example.invalid/e.dtd"><EInvoice/>'
MALFORMED = b"<EInvoice>\n<Header>\n</EInvoice>"
TOO_DEEP = b"<a>" * 200 + b"</a>" * 200


def _zeros_zip(name: str, size: int) -> bytes:
    """A small zip whose one entry unpacks to ``size`` zero bytes (a zip bomb)."""
    buffer = io.BytesIO()
    zero = bytes(MiB)
    with (
        zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive,
        archive.open(name, "w", force_zip64=True) as member,
    ):
        for _ in range(size // MiB):
            member.write(zero)
    return buffer.getvalue()


def _traversal_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("OFD.xml", b"<a/>")
        archive.writestr(zipfile.ZipInfo("../evil.xml"), b"data")
    return buffer.getvalue()


def _empty_name_zip() -> bytes:
    """A zip whose one entry has an empty name (zipfile cannot write one: the name is cut out
    of the local and central headers, the directory's offset and size moved to match)."""
    data = bytearray(zip_bytes({"x": b"<EInvoice/>"}))
    local = data.find(b"PK\x03\x04")
    struct.pack_into("<H", data, local + 26, 0)
    del data[local + 30]
    central = data.find(b"PK\x01\x02")
    struct.pack_into("<H", data, central + 28, 0)
    del data[central + 46]
    end = data.find(b"PK\x05\x06")
    size, offset = struct.unpack_from("<II", data, end + 12)
    struct.pack_into("<II", data, end + 12, size - 1, offset - 1)
    return bytes(data)


def _ratio_bomb() -> bytes:
    """An entry under the size limit whose compression ratio is far beyond 200:1."""
    return _zeros_zip("OFD.xml", 8 * MiB)


CASES: list[tuple[str, str, bytes, int, str]] = [
    ("billion-laughs", "application/xml", BILLION_LAUGHS, 422, "xml.no-dtd"),
    ("xxe", "text/xml", XXE, 422, "xml.no-dtd"),
    ("dtd", "application/xml", DTD_ONLY, 422, "xml.no-dtd"),
    ("malformed", "application/xml", MALFORMED, 422, "xml.well-formed"),
    ("malformed-generic", "application/octet-stream", b"\xef\xbb\xbf \n" + MALFORMED, 422,
     "xml.well-formed"),
    ("too-deep", "application/xml", TOO_DEEP, 422, "xml.max-depth"),
    ("not-utf8", "application/xml", "<EInvoice>发票</EInvoice>".encode("gbk"), 422,
     "xml.encoding"),
    ("corrupt-ofd", "application/ofd", b"PK\x03\x04" + b"\x00" * 64, 422, "zip.corrupt"),
    ("not-a-zip", "application/zip", b"hello", 422, "zip.corrupt"),
    ("zip-bomb", "application/octet-stream", _zeros_zip("OFD.xml", 64 * MiB), 422,
     "zip.max-member-bytes"),
    ("ratio-bomb", "application/zip", _ratio_bomb(), 422, "zip.max-ratio"),
    ("many-members", "application/zip", zip_bytes({f"f{i}.xml": b"<a/>" for i in range(300)}),
     422, "zip.max-members"),
    ("path-traversal", "application/ofd", _traversal_zip(), 422, "zip.path-traversal"),
    ("empty-zip", "application/zip", zip_bytes({}), 422, "zip.no-invoice"),
    # zipfile's is_dir() raised IndexError on it: a 500 here, a crash in the worker
    ("empty-entry-name", "application/zip", _empty_name_zip(), 422, "zip.entry-name"),
    ("only-hidden-files", "application/octet-stream",
     zip_bytes({".DS_Store": b"x", "__MACOSX/._a.xml": b"x"}), 422, "zip.no-invoice"),
]  # fmt: skip


async def _listed(api: LiveApi) -> list[Any]:
    status, _, raw = await api.a.request("GET", "/v1/documents")
    assert status == 200
    items: list[Any] = json.loads(raw)["items"]
    return items


@pytest.mark.parametrize(
    ("media", "body", "status", "rule"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
async def test_hostile_or_unreadable_documents_are_refused_at_the_door(
    api: LiveApi, media: str, body: bytes, status: int, rule: str
) -> None:
    answer, _, raw = await api.a.request(
        "POST",
        "/v1/documents",
        data=body,
        headers={"Content-Type": media, "Idempotency-Key": "door-1"},
    )
    assert answer == status, raw[:300]
    data = problem(raw, status)
    assert named(data, "document", rule), data
    assert await _listed(api) == []
    assert await api.store.list_submissions(api.tenant_a.id) == []


def test_a_document_over_the_ingest_limit_is_413() -> None:
    """The worker's input limit (16 MiB) is above the test server's body limit, so it is
    checked here with a smaller one."""
    limits = IngestLimits(max_input_bytes=1024)
    with pytest.raises(Problem) as caught:
        check_document(b"<a>" + b" " * 2048 + b"</a>", "application/xml", limits)
    assert caught.value.status == 413
    assert caught.value.errors[0].rule == "input.max-bytes"
    check_document(b"<a>" + b" " * 512 + b"</a>", "application/xml", limits)


async def test_a_refusal_names_the_line_the_parser_gives(api: LiveApi) -> None:
    answer, _, raw = await api.a.request(
        "POST", "/v1/documents", data=MALFORMED, headers={"Content-Type": "application/xml"}
    )
    data = problem(raw, answer)
    assert answer == 422 and data["line"] == 3
    assert "not well-formed" in data["detail"]


async def test_multipart_documents_are_checked_the_same_way(api: LiveApi) -> None:
    form = aiohttp.FormData()
    form.add_field("document", XXE, content_type="application/xml", filename="x.xml")
    answer, _, raw = await api.a.request("POST", "/v1/documents", data=form)
    assert answer == 422
    assert named(problem(raw, 422), "document", "xml.no-dtd")


async def test_good_documents_and_content_errors_still_pass_the_door(
    api: LiveApi, fapiao_xml: bytes
) -> None:
    """A good XML or OFD is acknowledged; a well-formed document whose content is wrong (no
    fapiao root, an OFD without OFD.xml) is still the worker's to reject, after a 202; a body
    whose declared type is not what its bytes are passes as the bytes say (the worker
    decides the format from them)."""
    bodies = [
        ("application/xml", fapiao_xml),
        ("application/octet-stream", b"\xef\xbb\xbf" + fapiao_xml),
        ("application/ofd", ofd_package(catalogue.OFD_SERVICES)),
        ("application/xml", b"<NotAFapiao/>"),
        ("application/zip", zip_bytes({"readme.txt": b"no OFD here"})),
        ("application/octet-stream", b"hello"),
        ("application/ofd", fapiao_xml),  # the bytes say what it is, as the worker reads them
        ("application/xml", b'{"fphm": "1"}'),
    ]
    for number, (media, body) in enumerate(bodies):
        headers = {"Content-Type": media, "Idempotency-Key": f"good-{number}"}
        answer, _, raw = await api.a.request("POST", "/v1/documents", data=body, headers=headers)
        assert answer == 202, (media, raw[:300])
        again, _, _ = await api.a.request("POST", "/v1/documents", data=body, headers=headers)
        assert again == 200
    assert len(await api.store.list_submissions(api.tenant_a.id)) == len(bodies)
