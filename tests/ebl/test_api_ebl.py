"""The eBL as a document kind of the HTTP API: ``POST /v1/documents?kind=ebl`` on a live
server with a real worker; the flow ``ebl-out`` converts it (state ``converted``) and every
output is served; a bad eBL is rejected naming its path; an unknown kind is a 422."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from gateway.api import api_runner, create_app
from gateway.cli import main
from gateway.jobs import Worker
from gateway.service import Services, open_services
from gateway.settings import (
    AdapterConfig,
    PipelineSettings,
    Settings,
    SigningSettings,
    StoreSettings,
)
from gateway.signing.ecdsa_sd import verify_base_proof
from gateway.signing.jsonld_loader import static_loader
from gateway.signing.openattestation import verify_document
from gateway.store import Store, open_store
from tests.api.conftest import ApiClient

REGULAR = "EBL_v3.0.3.transport-document.GET.200.regular.json"
JSON = {"Content-Type": "application/json"}
VC_DID = "did:web:carrier.example"


@pytest.fixture
async def live(
    tmp_path: Path, artefacts_home: Path
) -> AsyncIterator[tuple[ApiClient, Store, Services]]:
    url = f"sqlite:///{tmp_path}/gateway.db"
    assert main(["keys", "did-web", "carrier.example", str(tmp_path / "vc")]) == 0
    settings = Settings(
        data_dir=tmp_path / "home",
        store=StoreSettings(url),
        signing=SigningSettings(vc_key=tmp_path / "vc" / "vc-key.pem", vc_did=VC_DID),
        pipeline=PipelineSettings(artefacts=artefacts_home, sign=False, stage_processes=0),
        adapters={"local": AdapterConfig(name="local", type="folder", options={"path": "out"})},
    )
    store = await open_store(url)
    services = await open_services(settings, store=store)
    runner = api_runner(create_app(services))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    tenant = await store.create_tenant("carrier")
    key, _ = await store.issue_api_key(tenant.id)
    session = aiohttp.ClientSession()
    try:
        yield ApiClient(session, f"http://127.0.0.1:{port}", key), store, services
    finally:
        await session.close()
        await runner.cleanup()
        await services.close()


async def _follow(client: ApiClient, document_id: str) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for _ in range(3000):  # the first document waits for the validator's warm-up
        status, _, raw = await client.request("GET", f"/v1/documents/{document_id}")
        assert status == 200
        body = json.loads(raw)
        if body["status"] in {"converted", "rejected", "failed", "dead"}:
            return body
        await asyncio.sleep(0.05)
    raise AssertionError(f"stayed {body.get('status')}: {body}")


async def test_ebl_through_the_api(
    live: tuple[ApiClient, Store, Services],
    ebl_inputs: dict[str, bytes],
    artefacts_home: Path,
    tmp_path: Path,
) -> None:
    client, store, services = live
    worker = Worker(store, services.kinds, poll_seconds=0.05, concurrency=1)
    running = asyncio.create_task(worker.run())
    try:
        status, _, raw = await client.request(
            "POST", "/v1/documents?kind=ebl", data=ebl_inputs[REGULAR], headers=JSON
        )
        assert status == 202, raw
        body = await _follow(client, json.loads(raw)["id"])
        assert body["status"] == "converted", body["history"]
        kinds = {o["kind"] for o in body["outputs"]}
        assert {"dcsa", "ubl", "uncefact", "tradetrust-oa", "tradetrust-vc", "html"} <= kinds
        status, headers, vc = await client.request(
            "GET", f"/v1/documents/{body['id']}/output?kind=tradetrust-vc"
        )
        # VC Data Model 2.0 §6.3: a credential's media type is application/vc (IANA)
        assert status == 200 and headers["Content-Type"].split(";")[0] == "application/vc"
        assert headers["Content-Disposition"].endswith('-tradetrust-vc.json"')
        did_doc = json.loads((tmp_path / "vc" / "did.json").read_text())
        assert verify_base_proof(json.loads(vc), did_doc, static_loader(artefacts_home)) == []
        status, headers, oa = await client.request(
            "GET", f"/v1/documents/{body['id']}/output?kind=tradetrust-oa"
        )
        assert status == 200 and verify_document(json.loads(oa)).valid
        status, headers, page = await client.request(
            "GET", f"/v1/documents/{body['id']}/output?kind=html"
        )
        assert status == 200 and headers["Content-Type"].startswith("text/html")
        assert b"62CD536BA8D34C469AFD" in page

        bad = json.loads(ebl_inputs[REGULAR])
        bad["transportDocumentTypeCode"] = "XYZ"
        status, _, raw = await client.request(
            "POST", "/v1/documents?kind=ebl", data=json.dumps(bad).encode(), headers=JSON
        )
        rejected = await _follow(client, json.loads(raw)["id"])
        assert rejected["status"] == "rejected"
        assert "/transportDocumentTypeCode" in json.dumps(rejected["history"][-1])

        status, _, raw = await client.request(
            "POST", "/v1/documents?kind=pdf", data=ebl_inputs[REGULAR], headers=JSON
        )
        assert status == 422, raw
    finally:
        worker.stop()
        await running


async def test_a_sea_waybill_gets_the_targets_that_carry_one(
    live: tuple[ApiClient, Store, Services], ebl_inputs: dict[str, bytes]
) -> None:
    """Without ``targets`` a waybill is converted to what can carry it; asking for a target
    that is a bill of lading only fails, naming the document type."""
    client, store, services = live
    waybill = json.loads(ebl_inputs[REGULAR])
    waybill.update(transportDocumentTypeCode="SWB", isToOrder=False)
    waybill["documentParties"]["consignee"] = {
        "partyName": "Lingang Trading Pte Ltd",
        "identifyingCodes": [{"codeListProvider": "ZZZ", "partyCode": "LINGANG-SG-1"}],
    }
    data = json.dumps(waybill).encode()
    worker = Worker(store, services.kinds, poll_seconds=0.05, concurrency=1)
    running = asyncio.create_task(worker.run())
    try:
        status, _, raw = await client.request(
            "POST", "/v1/documents?kind=ebl", data=data, headers=JSON
        )
        assert status == 202, raw
        body = await _follow(client, json.loads(raw)["id"])
        assert body["status"] == "converted", body["history"]
        kinds = {o["kind"] for o in body["outputs"]}
        assert {"dcsa", "ubl", "html"} <= kinds
        assert not kinds & {"uncefact", "tradetrust-oa", "tradetrust-vc"}

        status, _, raw = await client.request(
            "POST", "/v1/documents?kind=ebl&targets=uncefact", data=data, headers=JSON
        )
        assert status == 202, raw
        refused = await _follow(client, json.loads(raw)["id"])
        assert refused["status"] in {"rejected", "failed"}, refused["history"]
        assert "ebl.bill-of-lading-only" in json.dumps(refused["history"])
    finally:
        worker.stop()
        await running


@pytest.mark.parametrize(
    "body",
    [
        {"issuanceManifestSignedContent": "x.y.z"},
        {"issuanceManifestSignedContent": "x.y.z", "document": "not an object"},
    ],
)
async def test_the_view_of_an_unreadable_issuance_request_is_a_problem(
    live: tuple[ApiClient, Store, Services], body: dict[str, Any]
) -> None:
    """An issuance request without its ``document`` (the schema check refuses it in the
    worker; its page can be asked for before and after) raised KeyError in the eBL reader:
    ``…/view`` answered 500. It is a 4xx problem naming ``/document``."""
    client, _, _ = live
    status, _, raw = await client.request(
        "POST", "/v1/documents?kind=ebl", data=json.dumps(body).encode(), headers=JSON
    )
    assert status == 202, raw
    status, _, raw = await client.request("GET", f"/v1/documents/{json.loads(raw)['id']}/view")
    assert 400 <= status < 500, raw[:300]
    assert [e["field"] for e in json.loads(raw)["errors"]] == ["/document"], raw[:300]
