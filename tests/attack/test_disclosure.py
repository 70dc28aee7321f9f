"""Tenants see stable, readable delivery reasons; hosts, ports and server paths stay inside.

Item 9 of the hardening issue: ``deliveries[].last_error`` showed aiohttp's
``ConnectionKey(host=…, port=…)`` and receipts showed the server's file paths.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path

import aiohttp

from adapters.base import Envelope
from adapters.folder.adapter import FolderAdapter
from gateway.api.disclosure import REJECTED_REASON, TRANSPORT_REASON
from gateway.store import JobSpec, Receipt, StateChange
from tests.api.conftest import LiveApi


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _connection_error_text() -> str:
    """What the outbox records for an unreachable receiver: ``Type: message``."""
    url = f"https://127.0.0.1:{_closed_port()}/inbox"
    try:
        async with aiohttp.ClientSession() as session, session.post(url, data=b"x"):
            pass
    except aiohttp.ClientError as exc:
        return f"{type(exc).__name__}: {exc}"
    raise AssertionError("a closed port accepted a connection")


async def test_delivery_errors_and_receipts_hide_internals(
    live: LiveApi, fapiao_xml: bytes, tmp_path: Path
) -> None:
    status, _, raw = await live.a.request(
        "POST", "/v1/documents", data=fapiao_xml, headers={"Content-Type": "application/xml"}
    )
    sid = json.loads(raw)["id"]
    error = await _connection_error_text()
    assert "ConnectionKey" in error or "127.0.0.1" in error
    remote = await live.store.enqueue_job(sid, JobSpec("deliver", "hk", "https://127.0.0.1/inbox"))
    rejected = await live.store.enqueue_job(sid, JobSpec("deliver", "sg", "0195:SGUEN201234567A"))
    local = await live.store.enqueue_job(sid, JobSpec("deliver", "local", "out"))
    await live.store.claim_jobs("w1", limit=10)
    await live.store.fail_job(
        remote.id,
        "w1",
        error,
        retryable=True,
        retry_after=None,
        event=StateChange("dead-letter", error, {"job": remote.id, "adapter": "hk"}),
    )
    await live.store.fail_job(
        rejected.id,
        "w1",
        "PermanentDeliveryError: 10.0.0.7 answered 400 for /srv/in: PEPPOL-EN16931-R001",
        retryable=False,
        retry_after=None,
    )
    folder = FolderAdapter("local", tmp_path / "out")
    written = await folder.deliver(Envelope(message_id="msg-1", body=fapiao_xml))
    await live.store.complete_job(
        local.id, "w1", Receipt(kind="folder", detail=dict(written.details))
    )

    status, _, raw = await live.a.request("GET", f"/v1/documents/{sid}")
    assert status == 200
    text = raw.decode()
    for internal in ("ConnectionKey", "127.0.0.1", "10.0.0.7", "/srv", str(tmp_path)):
        assert internal not in text, internal
    body = json.loads(raw)
    errors = {d["adapter"]: d["last_error"] for d in body["deliveries"]}
    assert errors == {
        "hk": TRANSPORT_REASON,
        "sg": f"{REJECTED_REASON} (PEPPOL-EN16931-R001)",
        "local": None,
    }
    assert body["history"][-1]["reason"] == TRANSPORT_REASON
    assert body["receipts"][0]["detail"] == {"sha256": written.details["sha256"]}
