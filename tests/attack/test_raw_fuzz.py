"""Random raw requests against the live API: never a 5xx, every error a problem, logs clean.

Hypothesis builds request heads and bodies byte by byte — methods, targets, header names and
values with control characters, framing headers that disagree, bodies in every content type —
all carrying the tenant's key and a document marker. Each answer must be below 500, a problem
document when it is an error, and no log line may hold the key or the marker.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.api import ApiOptions
from tests.api.conftest import LiveApi, start_api
from tests.attack.conftest import SECRET_DOCUMENT_TEXT, LogLines, raw

PATHS = [
    "/v1/documents",
    "/v1/partners",
    "/v1/documents/abc",
    "/healthz",
    "/x",
    "/v1/documents/a/retry",
]
METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "BREW", "G\x00ET"]
"""(No HEAD: its answer announces a body it does not send, which this raw reader would wait
for.)"""
LIMITS = ApiOptions(header_timeout=1.0, body_timeout=1.0, idle_timeout=1.0)
"""Short deadlines: a request whose framing promises more bytes than it sends gets its 408
at once instead of after a minute."""
MEDIA = [
    "application/xml",
    "application/json",
    "application/toml",
    "multipart/form-data; boundary=b",
    "application/zip",
    "text/plain",
    "",
]
header_text = st.text(st.characters(min_codepoint=0, max_codepoint=0x2FF), max_size=40)


@st.composite
def requests(draw: st.DrawFn, key: str) -> bytes:
    method = draw(st.sampled_from(METHODS))
    path = draw(st.sampled_from(PATHS)) + draw(
        st.sampled_from(
            ["", "?profile=x", "?before=9999-12-31T23:59:59-14:00", "?limit=-1", "?%ff=%00"]
        )
    )
    body = draw(
        st.sampled_from([b"", SECRET_DOCUMENT_TEXT.encode(), b"{" + SECRET_DOCUMENT_TEXT.encode()])
    )
    body += draw(st.binary(max_size=64))
    headers = [("Authorization", f"Bearer {key}")]
    media = draw(st.sampled_from(MEDIA))
    if media:
        headers.append(("Content-Type", media))
    framing = draw(st.sampled_from(["length", "wrong-length", "chunked", "broken-chunked", "none"]))
    if framing == "length":
        headers.append(("Content-Length", str(len(body))))
    elif framing == "wrong-length":
        headers.append(("Content-Length", str(len(body) + draw(st.integers(-5, 5)))))
    elif framing in {"chunked", "broken-chunked"}:
        headers.append(("Transfer-Encoding", "chunked"))
        size = f"{len(body):x}" if framing == "chunked" else draw(st.sampled_from(["zz", "-1", ""]))
        body = f"{size}\r\n".encode() + body + b"\r\n0\r\n\r\n"
    for _ in range(draw(st.integers(0, 3))):
        headers.append((draw(header_text) or "X", draw(header_text) + SECRET_DOCUMENT_TEXT))
    if draw(st.booleans()):
        headers.append(("Content-Encoding", draw(st.sampled_from(["gzip", "deflate", "br", "x"]))))
    head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    head += "".join(f"{name}: {value}\r\n" for name, value in headers)
    return head.encode("utf-8", "surrogatepass") + b"\r\n" + body


@pytest.fixture
async def live(tmp_path: Path, logs: LogLines) -> AsyncIterator[LiveApi]:
    async for api in start_api(tmp_path, f"sqlite:///{tmp_path}/fuzz.db", options=LIMITS):
        yield api


async def test_random_raw_requests(live: LiveApi, logs: LogLines) -> None:
    loop = asyncio.get_running_loop()
    answers: list[tuple[int, bool]] = []

    @settings(
        max_examples=100,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(request=requests(live.key_a))
    def exchange(request: bytes) -> None:
        future = asyncio.run_coroutine_threadsafe(raw(live.base, request, read_timeout=10), loop)
        response = future.result(timeout=30)
        assert response.status < 500, (request[:300], response.status, response.body[:300])
        if response.status >= 400:
            response.problem()
            assert SECRET_DOCUMENT_TEXT not in response.body.decode("utf-8", "replace")
            assert live.key_a not in response.body.decode("utf-8", "replace")
        answers.append((response.status, response.status >= 400))

    await loop.run_in_executor(None, exchange)
    assert any(error for _, error in answers)
    logs.assert_clean(live.key_a)
