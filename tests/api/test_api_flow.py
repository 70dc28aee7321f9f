"""End to end through the API with a real worker: upload a directory, submit a real fapiao,
follow it to ``delivered`` (folder adapter), read its history, outputs and receipt; then a
document the pipeline rejects shows the failed stage and reason in its history."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from gateway.jobs import Worker
from tests.api.conftest import ApiClient, LiveApi
from tests.api.test_api_documents import XML

DIRECTORY = """
[[partners]]
buyer_name = "示例商贸有限公司"
endpoint = "0088:4035811991021"
country = "HK"
profile = "pint"

[[exporters]]
seller_id = "91440000000000000X"
endpoint = "0088:4035811991014"
"""

FINAL = {"delivered", "rejected", "failed", "dead"}


async def follow(client: ApiClient, document_id: str, *, rounds: int = 400) -> dict[str, Any]:
    """Poll the status until a final state (bounded by rounds, not by wall-clock time)."""
    body: dict[str, Any] = {}
    for _ in range(rounds):
        status, _, raw = await client.request("GET", f"/v1/documents/{document_id}")
        assert status == 200
        body = json.loads(raw)
        if body["status"] in FINAL:
            return body
        await asyncio.sleep(0.05)
    raise AssertionError(f"document stayed {body.get('status')}: {body.get('history')}")


async def test_submit_process_deliver_and_read_back(api: LiveApi, fapiao_xml: bytes) -> None:
    status, _, raw = await api.a.request(
        "PUT", "/v1/partners", data=DIRECTORY.encode(), headers={"Content-Type": "application/toml"}
    )
    assert status == 200, raw
    worker = Worker(api.store, api.services.kinds, poll_seconds=0.05, concurrency=2)
    running = asyncio.create_task(worker.run())
    try:
        status, _, raw = await api.a.request(
            "POST", "/v1/documents", data=fapiao_xml, headers={**XML, "Idempotency-Key": "e2e"}
        )
        assert status == 202
        document_id = json.loads(raw)["id"]
        body = await follow(api.a, document_id)
        assert body["status"] == "delivered", body["history"]
        states = [event["state"] for event in body["history"]]
        assert states[0] == "received" and states[-1] == "delivered"
        processed = next(e for e in body["history"] if e["state"] == "queued")
        assert {t["stage"] for t in processed["timings"]} >= {"parse", "map", "render"}
        assert [d["state"] for d in body["deliveries"]] == ["done"]
        assert len(body["receipts"]) == 1
        kinds = {o["kind"] for o in body["outputs"]}
        status, _, output = await api.a.request(
            "GET", f"/v1/documents/{document_id}/output?kind={sorted(kinds)[0]}"
        )
        assert status == 200 and output

        status, _, raw = await api.a.request(
            "POST", "/v1/documents", data=b"<NotAFapiao/>", headers=XML
        )
        rejected = await follow(api.a, json.loads(raw)["id"])
        assert rejected["status"] == "rejected"
        last = rejected["history"][-1]
        assert last["reason"]
        assert any(t["ok"] is False for t in last["timings"])

        status, _, raw = await api.b.request("GET", f"/v1/documents/{document_id}")
        assert status == 404
    finally:
        worker.stop()
        await running


async def test_a_recipient_that_is_not_the_receiver_is_refused_at_the_door(
    api: LiveApi, fapiao_xml: bytes
) -> None:
    status, _, raw = await api.a.request(
        "PUT", "/v1/partners", data=DIRECTORY.encode(), headers={"Content-Type": "application/toml"}
    )
    assert status == 200, raw
    status, headers, raw = await api.a.request(
        "POST", "/v1/documents?recipient=0195:SGUEN999999999X", data=fapiao_xml, headers=XML
    )
    assert status == 422, raw
    assert headers["Content-Type"].startswith("application/problem+json")
    problem = json.loads(raw)
    assert problem["errors"][0]["field"] == "recipient"
    assert problem["errors"][0]["rule"] == "recipient.matches-receiver"
    assert await api.store.list_submissions(api.tenant_a.id) == []  # nothing stored
