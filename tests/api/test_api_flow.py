"""End to end through the API with a real worker: upload a directory, submit a real fapiao,
follow it to ``delivered`` (folder adapter), read its history, outputs and receipt; then a
document the pipeline rejects shows the failed stage and reason in its history.

The end-to-end test runs the whole stage table (``full_api``: the official artefacts validate,
a test PKI signs) and checks the delivered document independently: it passes the official
rules and its detached signature verifies over exactly those bytes. The fast variant (``api``:
validation and signing off) shows every document it processes marked unvalidated and unsigned.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from gateway.flows import INVOICE_OUT
from gateway.flows.common import VALIDATION_OFF
from gateway.flows.invoice_out import SIGNING_OFF
from gateway.jobs import Worker
from gateway.signing import Verifier
from gateway.validation import Validator
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


async def deliver_one(api: LiveApi, fapiao_xml: bytes, rounds: int = 400) -> dict[str, Any]:
    """Upload the directory, submit the fapiao, follow it to ``delivered`` with a real worker;
    then a document the pipeline rejects, and another tenant's view. The delivered document's
    status body is returned. ``rounds`` bounds the wait (the full stage table's first document
    waits behind the official rules' compilation, slow on a loaded machine)."""
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
        body = await follow(api.a, document_id, rounds=rounds)
        assert body["status"] == "delivered", body["history"]
        states = [event["state"] for event in body["history"]]
        assert states[0] == "received" and states[-1] == "delivered"
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
        return body
    finally:
        worker.stop()
        await running


def queued_detail(body: dict[str, Any]) -> dict[str, Any]:
    (queued,) = [e for e in body["history"] if e["state"] == "queued"]
    detail: dict[str, Any] = queued["detail"]
    return detail


async def test_end_to_end_runs_the_full_stage_table(
    full_api: LiveApi, fapiao_xml: bytes, artefacts_home: Path, tmp_path: Path
) -> None:
    """Validated with the official artefacts, signed, delivered; checked independently."""
    body = await deliver_one(full_api, fapiao_xml, rounds=6000)
    detail = queued_detail(body)
    stages = detail["stages"]
    assert [s["stage"] for s in stages] == INVOICE_OUT.stage_names
    assert all(s["ok"] and not s.get("skipped") for s in stages), stages
    assert detail["validated"] is True and detail["signed"] == "detached"
    assert body["validated"] is True and body["signed"] == "detached"
    assert body["validation"]["valid"] is True, body["validation"]
    assert {"signed", "signature", "report"} <= {o["kind"] for o in body["outputs"]}

    base = f"/v1/documents/{body['id']}/output"
    status, _, delivered = await full_api.a.request("GET", f"{base}?kind=signed")
    assert status == 200
    status, _, signature = await full_api.a.request("GET", f"{base}?kind=signature")
    assert status == 200
    report = Validator.default(artefacts_home).validate(delivered)
    assert not report.fatal, report.to_text()
    pki = tmp_path / "pki"
    verifier = Verifier(trust=[pki / "root.pem"], crls=sorted(pki.glob("*.crl.pem")), ocsp=False)
    assert verifier.verify_detached(signature, delivered).signed_xml == delivered
    written = sorted((full_api.data_dir / "out").rglob("*.xml"))
    assert [p.read_bytes() for p in written] == [delivered]


async def test_fast_variant_marks_documents_unvalidated_and_unsigned(
    api: LiveApi, fapiao_xml: bytes
) -> None:
    """Validation and signing off (the operator's choice): delivered, and marked so."""
    body = await deliver_one(api, fapiao_xml)
    detail = queued_detail(body)
    assert detail["validated"] is False and detail["signed"] is False
    stages = {s["stage"]: s for s in detail["stages"]}
    assert stages["validate"]["skipped"] is True
    assert stages["validate"]["reason"] == VALIDATION_OFF
    assert stages["sign"]["reason"] == SIGNING_OFF
    assert body["validated"] is False and body["signed"] is False
    assert body["validation"] is None


async def test_clients_cannot_turn_validation_or_signing_off(
    api: LiveApi, fapiao_xml: bytes
) -> None:
    for parameter in ("validate=false", "sign=false"):
        status, _, raw = await api.a.request(
            "POST", f"/v1/documents?{parameter}", data=fapiao_xml, headers=XML
        )
        assert status == 422, raw
        assert json.loads(raw)["errors"][0]["rule"] == "unknown-parameter"


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
