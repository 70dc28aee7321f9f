"""The attack suite's tools: a live API on 127.0.0.1, raw sockets, and every log line captured.

Requests here are written byte by byte (``raw``): aiohttp's client would refuse to send most of
them. Every log record of every logger is formatted by the gateway's own JSON formatter (the
one ``lingang serve`` writes with), exceptions included, so a test can assert that no secret
and no document content reaches a log line.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from gateway.api.problems import PROBLEM_JSON
from gateway.cli._runtime import JsonFormatter
from tests.api.conftest import LiveApi, start_api

SECRET_DOCUMENT_TEXT = "机密货物描述-Lingang-Secret-Cargo-7731"
"""A marker put into attack bodies: it must never appear in a log line or an error body."""


@dataclass
class RawResponse:
    """What came back on a raw connection (``status`` 0: the server closed without a word)."""

    status: int
    headers: dict[str, str]
    body: bytes

    def problem(self) -> dict[str, object]:
        """The body as a problem document; fails the test when it is not one."""
        assert self.headers.get("content-type", "").startswith(PROBLEM_JSON), (
            self.status,
            self.headers,
            self.body[:300],
        )
        data = json.loads(self.body)
        assert isinstance(data, dict) and data["status"] == self.status
        return data


def parse_response(data: bytes) -> RawResponse:
    """The first HTTP/1.1 response in ``data``."""
    if not data:
        return RawResponse(0, {}, b"")
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = headers.get("content-length")
    body = rest[: int(length)] if length is not None else rest
    return RawResponse(status, headers, body)


async def raw(
    base: str, *chunks: bytes, pause: float = 0.0, read_timeout: float = 15.0
) -> RawResponse:
    """Send ``chunks`` on one fresh connection (``pause`` seconds apart) while reading the
    answer, until the server closes the connection or a whole response has arrived (sending
    stops once the server has answered)."""
    host, port = base.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    answer = asyncio.create_task(_read_one(reader, read_timeout))
    try:
        for index, chunk in enumerate(chunks):
            if index and pause:
                await asyncio.wait([answer], timeout=pause)
            if answer.done():
                break
            writer.write(chunk)
            try:
                await writer.drain()
            except ConnectionError:
                break
        return parse_response(await answer)
    finally:
        answer.cancel()
        writer.close()


async def _read_one(reader: asyncio.StreamReader, timeout: float) -> bytes:
    data = b""
    async with asyncio.timeout(timeout):
        while True:
            try:
                chunk = await reader.read(65536)
            except ConnectionError:
                return data
            if not chunk:
                return data
            data += chunk
            if _complete(data):
                return data


def _complete(data: bytes) -> bool:
    head, sep, rest = data.partition(b"\r\n\r\n")
    if not sep:
        return False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(rest) >= int(value.strip())
    return False


def request_bytes(
    method: str, target: str, headers: dict[str, str] | list[tuple[str, str]], body: bytes = b""
) -> bytes:
    """A request as bytes, headers exactly as given (UTF-8), ``Host`` first."""
    items = headers.items() if isinstance(headers, dict) else headers
    lines = [f"{method} {target} HTTP/1.1", "Host: 127.0.0.1"]
    lines += [f"{name}: {value}" for name, value in items]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


@dataclass
class LogLines:
    """Every log record, formatted as ``lingang serve`` writes it."""

    lines: list[str] = field(default_factory=list)

    def assert_clean(self, *secrets: str) -> None:
        """No line holds any of ``secrets`` (nor the document marker)."""
        for secret in (*secrets, SECRET_DOCUMENT_TEXT):
            for line in self.lines:
                assert secret not in line, f"{secret[:12]}… logged: {line[:400]}"
                assert json.dumps(secret)[1:-1] not in line, f"{secret[:12]}… logged: {line[:400]}"


class _Collector(logging.Handler):
    def __init__(self, into: LogLines) -> None:
        super().__init__(logging.DEBUG)
        self.into = into
        self.setFormatter(JsonFormatter())

    def emit(self, record: logging.LogRecord) -> None:
        self.into.lines.append(self.format(record))


@pytest.fixture
def logs() -> Iterator[LogLines]:
    """All log lines of the test, at every level, from every logger."""
    captured = LogLines()
    handler = _Collector(captured)
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield captured
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)


@pytest.fixture
def fapiao_xml(reference: Path) -> bytes:
    """A real 数电票 XML sample."""
    return (reference / "fapiao/samples/xml/invoice-precheck_official-gd-special.xml").read_bytes()


@pytest.fixture
async def live(tmp_path: Path, logs: LogLines) -> AsyncIterator[LiveApi]:
    """The API on a real socket over a SQLite file store, logs captured from the start."""
    async for api in start_api(tmp_path, f"sqlite:///{tmp_path}/attack.db"):
        yield api
