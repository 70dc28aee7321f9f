"""Bodies that break while being read, and parameters at their extremes: 4xx problems, never 5xx.

Items 2 and 3 of the hardening issue: garbage under ``Content-Encoding: gzip``/``deflate``
raised an uncaught ``RequestPayloadError`` (500) on every document content type and on
``PUT /v1/partners``; a chunked body broken half-way did the same; ``before=`` at the ends of
the calendar raised ``OverflowError`` (500).
"""

from __future__ import annotations

import gzip
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
