"""Slow and idle clients cannot hold connections: deadlines, not gaps between bytes.

Item 5 of the hardening issue: a connection sending one byte every 10 s stayed open forever.
The listener here runs with short limits; each test trickles bytes more often than any
gap-based timeout would notice, and expects a 408 problem and a closed connection.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from gateway.api import ApiOptions
from tests.api.conftest import LiveApi, start_api
from tests.attack.conftest import LogLines, raw, request_bytes

LIMITS = ApiOptions(header_timeout=0.6, body_timeout=0.6, idle_timeout=0.6, max_connections=3)
TRICKLE = 0.1
"""Seconds between the bytes of a slow client (well under every limit)."""


@pytest.fixture
async def strict(tmp_path: Path, logs: LogLines) -> AsyncIterator[LiveApi]:
    async for api in start_api(tmp_path, f"sqlite:///{tmp_path}/slow.db", options=LIMITS):
        yield api


async def test_a_trickled_request_head_gets_a_408_and_is_closed(strict: LiveApi) -> None:
    head = request_bytes("GET", "/v1/documents", {"Authorization": f"Bearer {strict.key_a}"})
    bytes_one_by_one = [head[i : i + 1] for i in range(len(head))]
    response = await raw(strict.base, *bytes_one_by_one, pause=TRICKLE)
    assert response.status == 408
    assert response.problem()["type"] == "urn:lingang:problem:timeout"


async def test_a_trickled_body_gets_a_408(strict: LiveApi) -> None:
    body = b"<EInvoice>" + b"x" * 200 + b"</EInvoice>"
    head = request_bytes(
        "POST",
        "/v1/documents",
        {
            "Authorization": f"Bearer {strict.key_a}",
            "Content-Type": "application/xml",
            "Content-Length": str(len(body)),
        },
    )
    chunks = [body[i : i + 4] for i in range(0, len(body), 4)]
    response = await raw(strict.base, head, *chunks, pause=TRICKLE)
    assert response.status == 408
    response.problem()
    assert await strict.store.list_submissions(strict.tenant_a.id) == []


async def test_an_idle_connection_is_closed(strict: LiveApi) -> None:
    host, port = strict.base.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        writer.write(request_bytes("GET", "/healthz", {}))
        first = await asyncio.wait_for(reader.read(65536), 10)
        assert first.startswith(b"HTTP/1.1 200")
        rest = await asyncio.wait_for(reader.read(), 10)
        assert rest == b""
    finally:
        writer.close()


async def test_a_connection_never_used_is_closed(strict: LiveApi) -> None:
    response = await raw(strict.base, b"", read_timeout=10)
    assert response.status in {0, 408}


async def test_connections_beyond_the_cap_are_refused_with_503(strict: LiveApi) -> None:
    host, port = strict.base.removeprefix("http://").split(":")
    held = [await asyncio.open_connection(host, int(port)) for _ in range(LIMITS.max_connections)]
    try:
        response = await raw(strict.base, b"", read_timeout=10)
        assert response.status == 503
        assert response.problem()["type"] == "urn:lingang:problem:busy"
        assert response.headers["retry-after"] == "1"
    finally:
        for _, writer in held:
            writer.close()
