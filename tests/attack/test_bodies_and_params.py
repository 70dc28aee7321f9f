"""Bodies that break while being read, and parameters at their extremes: 4xx problems, never 5xx.

Items 2 and 3 of the hardening issue: garbage under ``Content-Encoding: gzip``/``deflate``
raised an uncaught ``RequestPayloadError`` (500) on every document content type and on
``PUT /v1/partners``; a chunked body broken half-way did the same; ``before=`` at the ends of
the calendar raised ``OverflowError`` (500).
"""

from __future__ import annotations

import asyncio
import gzip
import json
import zlib

import pytest

from tests.api.conftest import LiveApi
from tests.attack.conftest import SECRET_DOCUMENT_TEXT, LogLines, raw, request_bytes

DOCUMENT = f"<EInvoice><Note>{SECRET_DOCUMENT_TEXT}</Note></EInvoice>".encode()
GARBAGE = b"\x1f\x8b\x08\x00" + DOCUMENT + b"\xff" * 64
"""A gzip magic number followed by plain text: no decoder accepts it."""

TARGETS = [
    ("POST", "/v1/documents", "application/xml"),
    ("POST", "/v1/documents", "text/xml"),
    ("POST", "/v1/documents", "application/json"),
    ("POST", "/v1/documents", "application/zip"),
    ("POST", "/v1/documents", "application/ofd"),
    ("POST", "/v1/documents", "application/octet-stream"),
    ("POST", "/v1/documents", "multipart/form-data; boundary=x"),
    ("PUT", "/v1/partners", "application/json"),
    ("PUT", "/v1/partners", "application/toml"),
]


def _encoded_request(key: str, method: str, path: str, media: str, encoding: str) -> bytes:
    return request_bytes(
        method,
        path,
        {
            "Authorization": f"Bearer {key}",
            "Content-Type": media,
            "Content-Encoding": encoding,
            "Content-Length": str(len(GARBAGE)),
        },
        GARBAGE,
    )


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
@pytest.mark.parametrize(("method", "path", "media"), TARGETS)
async def test_undecodable_bodies_are_4xx_problems(
    live: LiveApi, logs: LogLines, encoding: str, method: str, path: str, media: str
) -> None:
    response = await raw(live.base, _encoded_request(live.key_a, method, path, media, encoding))
    assert 400 <= response.status < 500, (response.status, response.body[:300])
    problem = response.problem()
    assert SECRET_DOCUMENT_TEXT not in response.body.decode("utf-8", "replace")
    assert problem["status"] in {400, 415}
    logs.assert_clean(live.key_a)


async def test_a_chunked_body_broken_half_way_is_a_400(live: LiveApi, logs: LogLines) -> None:
    head = request_bytes(
        "POST",
        "/v1/documents",
        {
            "Authorization": f"Bearer {live.key_a}",
            "Content-Type": "application/xml",
            "Transfer-Encoding": "chunked",
        },
    )
    first = f"{len(DOCUMENT):x}\r\n".encode() + DOCUMENT + b"\r\n"
    response = await raw(live.base, head + first, b"zz" + DOCUMENT + b"\r\n", pause=0.2)
    assert response.status == 400, response.body[:300]
    response.problem()
    logs.assert_clean(live.key_a)


async def test_well_encoded_bodies_still_work(live: LiveApi, fapiao_xml: bytes) -> None:
    for encoding, data in (
        ("gzip", gzip.compress(fapiao_xml)),
        ("deflate", zlib.compress(fapiao_xml)),
    ):
        status, _, body = await live.a.request(
            "POST",
            "/v1/documents",
            data=data,
            headers={"Content-Type": "application/xml", "Content-Encoding": encoding},
        )
        assert status == 202, body


@pytest.mark.parametrize(
    "before",
    [
        "9999-12-31T23:59:59-14:00",
        "0001-01-01T00:00:00+14:00",
        "9999-12-31T23:59:59.999999-23:59",
        "0001-01-01T00:00:00+23:59",
    ],
)
async def test_dates_at_the_ends_of_the_calendar(
    live: LiveApi, logs: LogLines, before: str
) -> None:
    status, headers, body = await live.a.request("GET", "/v1/documents", params={"before": before})
    assert status in {200, 422}, body
    if status == 422:
        assert headers["Content-Type"].startswith("application/problem+json")
        assert b"before" in body


@pytest.mark.parametrize(
    ("headers", "status", "field"),
    [
        ([("Content-Encoding", "x-evil")], 415, "Content-Encoding"),
        ([("Content-Encoding", "gzip, gzip")], 415, "Content-Encoding"),
        (
            [("Content-Encoding", "identity"), ("Content-Encoding", "compress")],
            415,
            "Content-Encoding",
        ),
    ],
)
async def test_a_body_in_a_coding_not_decoded_is_refused_not_stored(
    live: LiveApi, logs: LogLines, headers: list[tuple[str, str]], status: int, field: str
) -> None:
    """Once stored as it came (202): the bytes of an unknown coding are not the document."""
    request = request_bytes(
        "POST",
        "/v1/documents",
        [
            ("Authorization", f"Bearer {live.key_a}"),
            ("Content-Type", "application/xml"),
            *headers,
            ("Content-Length", str(len(DOCUMENT))),
        ],
        DOCUMENT,
    )
    response = await raw(live.base, request)
    assert response.status == status, response.body[:300]
    assert any(e.get("field") == field for e in response.problem()["errors"])  # type: ignore[union-attr]
    assert await live.store.list_submissions(live.tenant_a.id) == []
    logs.assert_clean(live.key_a)


async def test_a_transfer_coding_other_than_chunked_is_501(live: LiveApi, logs: LogLines) -> None:
    head = request_bytes(
        "POST",
        "/v1/documents",
        {
            "Authorization": f"Bearer {live.key_a}",
            "Content-Type": "application/xml",
            "Transfer-Encoding": "gzip, chunked",
        },
    )
    chunk = f"{len(DOCUMENT):x}\r\n".encode() + DOCUMENT + b"\r\n0\r\n\r\n"
    response = await raw(live.base, head + chunk)
    assert response.status in {400, 501}, response.body[:300]
    response.problem()
    assert await live.store.list_submissions(live.tenant_a.id) == []


async def test_parameters_given_twice_or_unknown_are_422_naming_them(
    live: LiveApi, fapiao_xml: bytes
) -> None:
    """Which of two values was meant? Once the first won without a word."""
    xml = {"Content-Type": "application/xml"}
    for method, target, headers, field, rule in [
        ("POST", "/v1/documents?profile=pint&profile=bis3", xml, "profile", "conflict"),
        ("POST", "/v1/documents?targets=ubl", xml, "targets", "kind"),
        ("GET", "/v1/documents?foo=bar", {}, "foo", "unknown-parameter"),
        ("GET", "/v1/documents?limit=5&limit=6", {}, "limit", "conflict"),
        ("GET", "/v1/documents?limit=%2B5", {}, "limit", "integer"),
        ("GET", "/v1/documents?limit=1_0", {}, "limit", "integer"),
        ("GET", "/v1/documents?limit=%EF%BC%95", {}, "limit", "integer"),  # a fullwidth 5
        ("GET", "/v1/holds?state=held&state=refused", {}, "state", "conflict"),
        ("GET", "/v1/partners?x=1", {}, "x", "unknown-parameter"),
        ("GET", "/v1/policy?x=1", {}, "x", "unknown-parameter"),
        ("GET", "/v1/documents/x/view?x=1", {}, "x", "unknown-parameter"),
        ("POST", "/v1/documents/x/retry?x=1", {}, "x", "unknown-parameter"),
        ("PUT", "/v1/partners?x=1", {"Content-Type": "application/toml"}, "x", "unknown-parameter"),
    ]:
        status, _, body = await live.a.request(
            method, target, data=fapiao_xml if method == "POST" else None, headers=headers
        )
        assert status == 422, (target, body)
        errors = json.loads(body)["errors"]
        assert any(e["field"] == field and e["rule"] == rule for e in errors), (target, errors)
    request = request_bytes(
        "POST",
        "/v1/documents",
        [
            ("Authorization", f"Bearer {live.key_a}"),
            ("Content-Type", "application/xml"),
            ("Idempotency-Key", "one"),
            ("Idempotency-Key", "two"),
            ("Content-Length", str(len(fapiao_xml))),
        ],
        fapiao_xml,
    )
    response = await raw(live.base, request)
    assert response.status == 422, response.body[:300]
    assert await live.store.list_submissions(live.tenant_a.id) == []


async def test_an_http_1_0_request_with_a_transfer_coding_is_refused_and_closed(
    live: LiveApi, logs: LogLines
) -> None:
    """RFC 9112 6.1: an HTTP/1.0 message with Transfer-Encoding has faulty framing (a MUST),
    chunked or not, with or without a body: 400, the connection closed, nothing stored."""
    chunk = f"{len(DOCUMENT):x}\r\n".encode() + DOCUMENT + b"\r\n0\r\n\r\n"
    headers = {
        "Authorization": f"Bearer {live.key_a}",
        "Content-Type": "application/xml",
        "Transfer-Encoding": "chunked",
    }
    for method, body in (("POST", chunk), ("GET", b"0\r\n\r\n")):
        request = request_bytes(method, "/v1/documents", headers, body)
        request = request.replace(b" HTTP/1.1\r\n", b" HTTP/1.0\r\n", 1)
        response = await raw(live.base, request)
        assert response.status == 400, response.body[:300]
        problem = response.problem()
        assert problem["errors"][0]["field"] == "Transfer-Encoding"  # type: ignore[index]
    assert await live.store.list_submissions(live.tenant_a.id) == []
    logs.assert_clean(live.key_a)


@pytest.mark.parametrize(
    ("method", "path", "media"),
    [
        ("PUT", "/v1/partners", "application/json"),
        ("POST", "/v1/documents", "application/xml"),
        ("POST", "/v1/ebls", "application/json"),
    ],
)
async def test_a_coded_body_left_unread_is_not_decoded_after_the_answer(
    live: LiveApi, method: str, path: str, media: str
) -> None:
    """After answering, aiohttp reads what is left of an unread body for up to 10 s, and
    reading a gzip body inflates it: a 2 MB gzip body (within the directory's limit) left
    after its first 2 MB of output inflated to 2 GB on the event loop, and every request
    on the server waited about 2 s. Now the connection closes once the answer is written.
    Here the client holds back the body's last bytes: before, the server waited for them;
    now it closes right after its answer."""
    inflated = zlib.compressobj(1, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    body = b"".join(inflated.compress(b"\0" * (1 << 20)) for _ in range(20)) + inflated.flush()
    sent, held = body[:-8], body[-8:]
    head = request_bytes(
        method,
        path,
        {
            "Authorization": f"Bearer {live.key_a}",
            "Content-Type": media,
            "Content-Encoding": "gzip",
            "Content-Length": str(len(sent) + len(held)),
        },
    )
    host, port = live.base.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        writer.write(head + sent)
        await writer.drain()
        answer = b""
        async with asyncio.timeout(10):
            while b"\r\n\r\n" not in answer:
                answer += await reader.read(65536)
        assert 400 <= int(answer.split(b" ")[1]) < 500, answer[:200]
        async with asyncio.timeout(3):  # lingering would wait 10 s for the held bytes
            while await reader.read(65536):
                pass
    finally:
        writer.close()
