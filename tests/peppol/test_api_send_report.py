"""The send report reaches the document's history in the API (``GET /v1/documents/{id}``),
on SQLite and PostgreSQL:
delivered, refused by the receiving AP (``EBMS:0004`` / ``PEPPOL:NOT_SERVICED``: final) and
with the SMP down (retried), each with its lookup, timings and outcome, over the loopback
Peppol network (DNS SML, HTTPS SMP, AS4 access point)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from adapters.peppol.identifiers import PINT_PROCESS, PINT_SG_INVOICE, ParticipantId
from adapters.peppol.testing import As4TestReceiver, DnsTestServer, SmpEntry, SmpTestServer
from gateway.api import api_runner, create_app
from gateway.service import open_services
from gateway.settings import AdapterConfig, PipelineSettings, Routing, Settings, WorkerSettings
from gateway.signing.peppol_pki import PeppolTestPki
from gateway.testing.tls import TlsFiles
from tests.peppol.conftest import adapter_options
from tests.service.test_real_flow import PARTNERS, SAMPLES

BUYER = ParticipantId("0195:SGUEN199912345A")
"""The buyer of ``exempt-services.xml`` in the test partner directory (profile pint-sg)."""

Fetch = Callable[[str], Awaitable[dict[str, Any]]]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest) -> str | None:
    """``None``: the SQLite store in the data dir; else a fresh PostgreSQL database."""
    return None if request.param == "sqlite" else str(request.getfixturevalue("pg_url"))


@pytest.fixture
async def gateway(
    store_url: str | None,
    tmp_path: Path,
    pki: PeppolTestPki,
    tls: TlsFiles,
    dns_server: DnsTestServer,
    smp: SmpTestServer,
    receiver: As4TestReceiver,
) -> AsyncIterator[tuple[Callable[[], Awaitable[str]], Fetch]]:
    """A gateway with the peppol adapter, its API on 127.0.0.1 and one worker; yields
    ``submit()`` (the sample fapiao for the Singapore buyer) and ``fetch(id)``."""
    smp.register(BUYER, SmpEntry(PINT_SG_INVOICE, PINT_PROCESS, receiver.url, pki.receiver.cert))
    dns_server.register(BUYER, smp.url)
    settings = Settings.for_data_dir(
        tmp_path,
        pipeline=PipelineSettings(partners=PARTNERS, stage_processes=0, validate=False, sign=False),
        worker=WorkerSettings(poll_seconds=0.05, retry_base_seconds=60.0),
        adapters={
            "drop": AdapterConfig("drop", "folder", {"path": "out"}),
            "peppol": AdapterConfig("peppol", "peppol", adapter_options(pki, tls, dns_server)),
        },
        routing=Routing(default="drop"),
    )
    if store_url is not None:
        settings = settings.with_section("store", url=store_url)
    services = await open_services(settings)
    runner = api_runner(create_app(services))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    base = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"  # type: ignore[union-attr]
    tenant = await services.store.create_tenant("sg")
    key, _ = await services.store.issue_api_key(tenant.id)
    headers = {"Authorization": f"Bearer {key}"}
    pool = services.worker_pool(1)
    pool.start()
    session = aiohttp.ClientSession(headers=headers)

    async def submit() -> str:
        async with session.post(
            base + "/v1/documents",
            data=(SAMPLES / "exempt-services.xml").read_bytes(),
            headers={"Content-Type": "application/xml"},
        ) as response:
            assert response.status == 202, await response.text()
            return str((await response.json())["id"])

    async def fetch(submission_id: str) -> dict[str, Any]:
        async with session.get(f"{base}/v1/documents/{submission_id}") as response:
            assert response.status == 200, await response.text()
            return dict(await response.json())

    try:
        yield submit, fetch
    finally:
        await session.close()
        await pool.stop()
        await runner.cleanup()
        await services.close()


async def _history_until(
    fetch: Fetch, submission_id: str, done: Callable[[list[dict[str, Any]]], bool]
) -> list[dict[str, Any]]:
    for _ in range(1200):
        history: list[dict[str, Any]] = (await fetch(submission_id))["history"]
        if done(history):
            return history
        await asyncio.sleep(0.05)
    raise AssertionError(f"history never got there: {json.dumps(history, indent=1)}")


def _reports(history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e["detail"]["report"] for e in history if "report" in (e.get("detail") or {})]


async def test_delivered_send_report_is_in_the_history(
    gateway: tuple[Callable[[], Awaitable[str]], Fetch], receiver: As4TestReceiver
) -> None:
    submit, fetch = gateway
    submission_id = await submit()
    history = await _history_until(
        fetch, submission_id, lambda h: any(e["state"] == "delivered" for e in h)
    )
    (delivered,) = [e for e in history if e["state"] == "delivered"]
    report = delivered["detail"]["report"]
    (message_id,) = receiver.received
    assert report["outcome"] == "delivered" and report["message_id"] == message_id
    assert report["lookup"]["source"] == "smp" and report["lookup"]["participant"] == BUYER.value
    assert set(report["timings"]) >= {"lookup", "build", "exchange", "total"}
    assert report["receipt"]["verified"] is True and report["error"] is None


async def test_refused_send_report_is_in_the_history(
    gateway: tuple[Callable[[], Awaitable[str]], Fetch], receiver: As4TestReceiver
) -> None:
    receiver.fault = "not-serviced"
    submit, fetch = gateway
    submission_id = await submit()
    history = await _history_until(
        fetch, submission_id, lambda h: any(e["state"] == "dead" for e in h)
    )
    (report,) = _reports(history)
    assert report["outcome"] == "failed"
    assert report["lookup"]["source"] == "smp" and report["lookup"]["participant"] == BUYER.value
    assert set(report["timings"]) >= {"lookup", "build", "exchange", "total"}
    (ebms,) = report["receipt"]["errors"]
    assert ebms["code"] == "EBMS:0004" and "PEPPOL:NOT_SERVICED" in ebms["detail"]
    assert report["error"]["code"] == "as4-rejected" and report["error"]["retryable"] is False
    attempt = next(e for e in history if "report" in (e.get("detail") or {}))
    assert attempt["detail"]["retryable"] is False and attempt["detail"]["attempt"] == 1
    assert "EBMS:0004" in attempt["reason"]
    assert receiver.deliveries == 1  # final: not sent again


async def test_smp_down_send_report_is_in_the_history(
    gateway: tuple[Callable[[], Awaitable[str]], Fetch],
    smp: SmpTestServer,
    receiver: As4TestReceiver,
) -> None:
    smp.fault = "down"
    submit, fetch = gateway
    submission_id = await submit()
    history = await _history_until(fetch, submission_id, lambda h: bool(_reports(h)))
    (report,) = _reports(history)
    assert report["outcome"] == "retry" and report["error"]["retryable"] is True
    assert report["error"]["rule"] == "peppol-smp-unavailable"
    assert report["lookup"]["participant"] == BUYER.value and report["lookup"]["error"]
    assert "total" in report["timings"] and report["receipt"] is None
    assert not any(e["state"] in {"delivered", "dead"} for e in history)
    assert receiver.deliveries == 0
