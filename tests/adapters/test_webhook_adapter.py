"""The webhook adapter against a real local system stand-in over TLS on 127.0.0.1: it passes
the adapter contract, signs every body so the receiver can verify it, and maps answers to
transient or permanent errors."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from adapters.base import AdapterContext
from adapters.testing import AdapterContract, make_envelope
from adapters.webhook import SIGNATURE_HEADER, WebhookAdapter, sign_body, verify_signature
from gateway.errors import ConfigError, PermanentDeliveryError, TransientDeliveryError
from gateway.testing.tls import TlsFiles

SECRET = b"a-shared-secret-of-32-bytes-long"


@dataclass
class LocalSystem:
    """What a local system does: verify, drop duplicates, keep documents."""

    url: str = ""
    documents: dict[str, dict[str, Any]] = field(default_factory=dict)
    refused: int = 0
    answer: int = 200

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        if not verify_signature(
            SECRET, request.headers.get(SIGNATURE_HEADER, ""), body, now=time.time()
        ):
            self.refused += 1
            return web.Response(status=401, text="bad signature")
        if self.answer != 200:
            return web.Response(status=self.answer, text="not now")
        message_id = request.headers["X-Lingang-Message-Id"]
        duplicate = message_id in self.documents
        self.documents.setdefault(message_id, json.loads(body))
        return web.json_response({"receipt_id": message_id, "duplicate": duplicate})


@pytest.fixture
async def local(tls: TlsFiles) -> AsyncIterator[LocalSystem]:
    system = LocalSystem()
    app = web.Application()
    app.router.add_route("*", "/hook", system.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(
        runner, "127.0.0.1", 0, ssl_context=tls.server_context(require_client_cert=False)
    )
    await site.start()
    system.url = f"https://127.0.0.1:{runner.addresses[0][1]}/hook"
    yield system
    await runner.cleanup()


def build(tmp_path: Path, options: dict[str, Any]) -> WebhookAdapter:
    (tmp_path / "webhook.secret").write_bytes(SECRET + b"\n")
    return WebhookAdapter.from_config("local", options, AdapterContext(data_dir=tmp_path))


class TestWebhookAdapter(AdapterContract):
    @pytest.fixture
    async def adapter(
        self, tmp_path: Path, tls: TlsFiles, local: LocalSystem
    ) -> AsyncIterator[WebhookAdapter]:
        self.local = local
        adapter = build(
            tmp_path, {"url": local.url, "ca": str(tls.ca), "secret_file": "webhook.secret"}
        )
        yield adapter
        await adapter.aclose()

    async def delivered_count(self, adapter: Any, message_id: str) -> int:
        return 1 if message_id in self.local.documents else 0


async def test_the_body_carries_the_document_and_the_canonical_json(
    tmp_path: Path, tls: TlsFiles, local: LocalSystem
) -> None:
    adapter = build(
        tmp_path, {"url": local.url, "ca": str(tls.ca), "secret_file": "webhook.secret"}
    )
    envelope = replace(
        make_envelope(),
        attachments={"canonical": b'{"number": "INV-1"}', "readable": b"<html/>"},
    )
    try:
        await adapter.deliver(envelope)
    finally:
        await adapter.aclose()
    got = local.documents[envelope.message_id]
    assert base64.b64decode(got["document"]["base64"]) == envelope.body
    assert got["canonical"] == {"number": "INV-1"}
    assert base64.b64decode(got["attachments"]["readable"]) == b"<html/>"
    assert got["receiver"] == envelope.receiver and got["profile"] == envelope.profile


def test_signature_format_and_checks() -> None:
    body = b'{"a": 1}'
    header = sign_body(SECRET, body, 1_800_000_000)
    assert header.startswith("t=1800000000,v1=") and len(header.split("v1=")[1]) == 64
    assert verify_signature(SECRET, header, body, now=1_800_000_100)
    assert not verify_signature(SECRET, header, body + b" ", now=1_800_000_100)
    assert not verify_signature(b"another-secret-entirely!", header, body, now=1_800_000_100)
    assert not verify_signature(SECRET, header, body, now=1_800_000_000 + 301)  # a replay
    assert not verify_signature(SECRET, "t=abc,v1=00", body, now=0)
    assert not verify_signature(SECRET, "", body, now=0)


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (500, TransientDeliveryError),
        (429, TransientDeliveryError),
        (409, TransientDeliveryError),  # the first post of this Idempotency-Key still runs
        (400, PermanentDeliveryError),
        (422, PermanentDeliveryError),  # the key was used with another body
    ],
)
async def test_answers_map_to_retry_or_not(
    tmp_path: Path, tls: TlsFiles, local: LocalSystem, status: int, error: type[Exception]
) -> None:
    local.answer = status
    adapter = build(
        tmp_path, {"url": local.url, "ca": str(tls.ca), "secret_file": "webhook.secret"}
    )
    try:
        with pytest.raises(error):
            await adapter.deliver(make_envelope())
    finally:
        await adapter.aclose()
    assert local.refused == 0


async def test_an_untrusted_server_is_a_transient_tls_failure(
    tmp_path: Path, local: LocalSystem
) -> None:
    adapter = build(tmp_path, {"url": local.url, "secret_file": "webhook.secret"})
    try:
        with pytest.raises(TransientDeliveryError):
            await adapter.deliver(make_envelope())
    finally:
        await adapter.aclose()
    assert not local.documents


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ({"url": "https://x.example/hook"}, "secret_file is required"),
        ({"url": "https://x.example/hook", "secret_file": "missing.secret"}, "cannot read"),
        ({"url": "https://x.example/hook", "secret_file": "short.secret"}, "shorter than 16"),
        ({"url": "http://x.example/hook", "secret_file": "webhook.secret"}, "must be https"),
        ({"url": "https://x", "secret_file": "webhook.secret", "colour": "red"}, "unknown options"),
    ],
)
def test_configuration_errors_name_the_option(
    tmp_path: Path, options: dict[str, Any], words: str
) -> None:
    (tmp_path / "short.secret").write_bytes(b"short")
    with pytest.raises(ConfigError, match=words):
        build(tmp_path, options)


def test_the_documented_signature_is_what_openssl_computes(tmp_path: Path) -> None:
    """An independent HMAC (the ``openssl`` command) over ``"<t>." + body`` with the shared
    secret gives the header's ``v1``: the format is exactly as documented."""
    import shutil
    import subprocess

    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl not installed")
    body = json.dumps({"document": "x", "n": 1}).encode()
    header = sign_body(SECRET, body, 1_800_000_000)
    signed = tmp_path / "signed"
    signed.write_bytes(b"1800000000." + body)
    out = subprocess.run(
        [openssl, "dgst", "-sha256", "-hmac", SECRET.decode(), str(signed)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert header == f"t=1800000000,v1={out.strip().rsplit(' ', 1)[-1]}"
