"""Two gateways, each an access point with its own Peppol certificate, serving ``/as4`` on TLS
on 127.0.0.1 (in one test process, real sockets): invoices and credit notes travel over AS4 in
both directions, reach the local systems through ``folder`` (B) and ``webhook`` (A), and the
Message Level Status each receiver sends (``MLS_TYPE=ALWAYS_SEND``) flows back over AS4 and
shows in the sent document's history."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web

from gateway.signing.peppol_pki import PeppolTestPki
from gateway.testing.cluster import free_port
from gateway.testing.tls import TlsFiles
from tests.peppol.as4_gateway import (
    GatewayAp,
    Side,
    running_gateway,
)
from tests.peppol_duties.test_inbound_duties import SECRET, LocalSystem, api_document
from tests.service.test_real_flow import SAMPLES


@pytest.fixture
async def erp(tls: TlsFiles) -> AsyncIterator[LocalSystem]:
    system = LocalSystem()
    app = web.Application()
    app.router.add_post("/hook", system.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(
        runner, "127.0.0.1", 0, ssl_context=tls.server_context(require_client_cert=False)
    ).start()
    system.url = f"https://127.0.0.1:{runner.addresses[0][1]}/hook"
    yield system
    await runner.cleanup()


async def settle(*gateways: GatewayAp) -> None:
    """Run the jobs of both gateways until neither has anything due."""
    for _ in range(30):
        ran = 0
        for gateway in gateways:
            ran += await gateway.drain()
        if not ran:
            return
    raise AssertionError("the gateways never settled")


BUYERS = ("merlion=0195:SGUEN199912345A", "harbour=0088:4035811991038")
"""The buyers of the sample fapiao (partner directory ``tests/data/partners.toml``): both
gateways receive for them, each sends to the other through its static route."""
FAPIAO = {
    "invoice": SAMPLES / "exempt-services.xml",  # PINT SG invoice to Merlion
    "credit-note": SAMPLES / "red-letter.xml",  # red-letter fapiao: a PINT credit note
}


async def submit_fapiao(gateway: GatewayAp, tenant_id: str) -> list[str]:
    ids = []
    for path in FAPIAO.values():
        submission, _ = await gateway.services.submissions.submit(
            tenant_id, path.read_bytes(), content_type="application/xml", filename=path.name
        )
        ids.append(submission.id)
    return ids


async def test_invoices_and_credit_notes_both_ways_with_mls_back(
    tmp_path: Path,
    pki: PeppolTestPki,
    tls: TlsFiles,
    artefacts_home: Path,
    erp: LocalSystem,
) -> None:
    port_a, port_b = free_port(), free_port()
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "webhook.secret").write_bytes(SECRET)
    side_a = Side(
        key="ap-sender",
        seat="PSG000001",
        local=BUYERS,
        route=(f"https://127.0.0.1:{port_b}/as4", "ap-receiver"),
        local_system=f'type = "webhook"\nurl = "{erp.url}"\nca = "{tls.ca}"\n'
        'secret_file = "webhook.secret"',
        port=port_a,
        mls_type="ALWAYS_SEND",
    )
    side_b = Side(
        local=BUYERS,
        route=(f"https://127.0.0.1:{port_a}/as4", "ap-sender"),
        port=port_b,
        mls_type="ALWAYS_SEND",
    )
    common = {"pki": pki, "tls": tls, "artefacts_home": artefacts_home}
    async with (
        running_gateway(tmp_path / "a", side=side_a, **common) as a,  # type: ignore[arg-type]
        running_gateway(tmp_path / "b", side=side_b, **common) as b,  # type: ignore[arg-type]
    ):
        exporter_a = await a.services.store.create_tenant("exporter-a")
        exporter_b = await b.services.store.create_tenant("exporter-b")
        sent_by_a = await submit_fapiao(a, exporter_a.id)
        sent_by_b = await submit_fapiao(b, exporter_b.id)
        await settle(a, b)
        at_b = [p for p in b.received.iterdir() if p.suffix == ".xml"]
        assert sorted(b"<CreditNote" in p.read_bytes()[:500] for p in at_b) == [False, True]
        assert sorted(got["document_kind"] for got in erp.received) == ["CreditNote", "Invoice"]
        received_at_a = {m.id for m in await a.services.store.list_inbound()}
        assert {got["submission_id"] for got in erp.received} <= received_at_a  # /v1/received/…
        for gateway, tenant, sent in ((a, exporter_a.id, sent_by_a), (b, exporter_b.id, sent_by_b)):
            for submission_id in sent:
                shown = await api_document(gateway.services, tenant, submission_id)
                assert shown["status"] == "delivered", shown["history"]
                statuses = [
                    e for e in shown["history"] if "Message Level Status" in (e["reason"] or "")
                ]
                assert [s["detail"]["mls"]["code"] for s in statuses] == ["AP"], shown["history"]
        for gateway in (a, b):
            doctypes = sorted(
                m.metadata["peppol"]["doctype"].split("::")[1].split("##")[0]
                for m in await gateway.services.store.list_inbound()
            )
            assert doctypes == [
                "ApplicationResponse",
                "ApplicationResponse",
                "CreditNote",
                "Invoice",
            ]
