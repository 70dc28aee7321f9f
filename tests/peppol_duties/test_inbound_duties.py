"""Receiving over Peppol, past the AS4 wire: what the transport hands the gateway (an
:class:`InboundDocument` with its Peppol facts, as the AS4 receiving side does) is recorded for
reporting, validated, read into the canonical model, rendered, handed to the local system by
the webhook adapter over real TLS, and answered with a Message Level Status sent through the
ordinary delivery path; a received MLS is correlated to the document we sent."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from lxml import etree

from adapters.base import InboundDocument
from adapters.webhook import SIGNATURE_HEADER, verify_signature
from gateway.api import api_runner, create_app
from gateway.cli import main
from gateway.delivery.peppol_reports import build_month_reports
from gateway.errors import ArtefactError, InputError, LingangError, TransientError
from gateway.jobs import RetryPolicy, Worker
from gateway.read.mls import read_mls
from gateway.render.mls import FD_DESCRIPTION, MlsDocument, MlsIssue, MlsStatus, render_mls
from gateway.render.peppol_reports import TSR_NS, ReportPeriod
from gateway.service import Services, open_services
from gateway.settings import Settings
from gateway.store import JobState, StoreError
from gateway.store.peppol_reporting import OUTGOING, PeppolReportingStore
from gateway.store.received import ReceivedStore
from gateway.testing.tenants import make_tenants
from gateway.testing.tls import TlsFiles
from gateway.validation import Validator
from tests.peppol_duties.conftest import Catcher
from tests.peppol_duties.test_report_send import drain
from tests.peppol_duties.test_reports import record

EXAMPLE = "openpeppol-pint-sg-1.4.1/trn-invoice/example/PINT-SG INV example 09 - Zero rated GST.xml"
PINT_SG_DOCTYPE = (
    "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2::Invoice##"
    "urn:peppol:pint:billing-1@sg-1::2.1"
)
LOCAL = "0195:SGUEN200254321Z"
MLS_DOCTYPE = (
    "urn:oasis:names:specification:ubl:schema:xsd:ApplicationResponse-2::"
    "ApplicationResponse##urn:peppol:edec:mls:1.0::2.1"
)
SECRET = b"the-local-system-shared-secret!!"


class LocalSystem:
    """The importer's ERP: checks the webhook signature and keeps what it got."""

    def __init__(self) -> None:
        self.url = ""
        self.received: list[dict[str, Any]] = []
        self.down = False

    async def handle(self, request: web.Request) -> web.Response:
        if self.down:
            return web.Response(status=503, text="maintenance")
        body = await request.read()
        if not verify_signature(SECRET, request.headers[SIGNATURE_HEADER], body, now=time.time()):
            return web.Response(status=401)
        self.received.append(json.loads(body))
        return web.json_response({"receipt_id": str(len(self.received))})


@pytest.fixture
async def local_system(tls: TlsFiles) -> AsyncIterator[LocalSystem]:
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


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'home' / 'gateway.db'}"
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
async def services(
    tmp_path: Path,
    artefacts_home: Path,
    tls: TlsFiles,
    catcher: Catcher,
    local_system: LocalSystem,
    store_url: str,
) -> AsyncIterator[Services]:
    home = tmp_path / "home"
    home.mkdir()
    (home / "webhook.secret").write_bytes(SECRET)
    config = tmp_path / "lingang.toml"
    config.write_text(
        f"""
data_dir = "{home}"
[store]
url = "{store_url}"
[pipeline]
artefacts = "{artefacts_home}"
sign = false
stage_processes = 0
[validation]
engine = "saxonche"
[worker]
max_attempts = 2
[peppol]
seat_id = "POP000360"
local_participants = ["importer={LOCAL}"]
[adapters.peppol]
type = "https"
url = "{catcher.url}"
ca = "{tls.ca}"
[adapters.erp]
type = "webhook"
url = "{local_system.url}"
ca = "{tls.ca}"
secret_file = "webhook.secret"
[routing]
default = "peppol"
inbound = "erp"
""",
        encoding="utf-8",
    )
    await make_tenants(store_url, ["importer"])
    opened = await open_services(Settings.load(config, env={}))
    yield opened
    await opened.close()


async def api_document(services: Services, tenant_id: str, submission_id: str) -> dict[str, Any]:
    """``GET /v1/documents/{id}`` from a live API over ``services`` on 127.0.0.1."""
    key, _ = await services.store.issue_api_key(tenant_id)
    runner = api_runner(create_app(services))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        url = f"http://127.0.0.1:{runner.addresses[0][1]}/v1/documents/{submission_id}"
        async with (
            aiohttp.ClientSession() as session,
            session.get(url, headers={"Authorization": f"Bearer {key}"}) as response,
        ):
            assert response.status == 200
            body: dict[str, Any] = await response.json()
            return body
    finally:
        await runner.cleanup()


def peppol_facts(instance: str, **scopes: str) -> dict[str, Any]:
    return {
        "peppol": {
            "instance_id": instance,
            "c2_seat": "PSG000123",
            "doctype": PINT_SG_DOCTYPE,
            "process": "urn:peppol:bis:billing",
            "c1_country": "SG",
            "receiver": LOCAL,
            "scopes": scopes,
        }
    }


def inbound(body: bytes, message_id: str, **scopes: str) -> InboundDocument:
    return InboundDocument(
        channel="as4",
        message_id=message_id,
        body=body,
        sender="0195:SGUEN200212345Z",
        receiver=LOCAL,
        metadata=peppol_facts(f"instance-{message_id}", **scopes),
    )


async def test_a_valid_invoice_reaches_the_local_system_and_is_recorded(
    services: Services, reference: Path, local_system: LocalSystem, catcher: Catcher
) -> None:
    body = (reference / EXAMPLE).read_bytes()
    ack = await services.inbound.accept(inbound(body, "m-ok"))
    assert (await services.inbound.accept(inbound(body, "m-ok"))).duplicate
    await drain(services)
    (got,) = local_system.received
    assert base64.b64decode(got["document"]["base64"]) == body
    assert got["canonical"]["number"] and got["tenant_id"] == "importer"
    assert b'/ <span lang="en">Invoice</span>' in base64.b64decode(got["attachments"]["readable"])
    assert not catcher.profile(
        "peppol-mls"
    )  # FAILURE_ONLY by default: a positive status is not sent
    (job,) = await services.store.list_jobs(submission_id=ack.inbound_id)
    (receipt,) = await services.store.list_receipts(job_id=job.id)
    verdict = json.loads(receipt.data)
    assert verdict["mls"] == {"code": "AP", "sent": False}
    records = await PeppolReportingStore(services.store.connector).between(
        datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)
    )
    (incoming,) = records
    assert (incoming.direction, incoming.c2_seat, incoming.c3_seat) == (
        "in",
        "PSG000123",
        "POP000360",
    )
    assert incoming.c4_country == "CN" and LOCAL.lower() not in incoming.end_user_hash


async def test_always_send_gives_an_ap_through_the_delivery_path(
    services: Services, reference: Path, catcher: Catcher, engine_validator: Validator
) -> None:
    body = (reference / EXAMPLE).read_bytes()
    await services.inbound.accept(
        inbound(body, "m-ap", MLS_TYPE="ALWAYS_SEND", MLS_TO="0242:987654")
    )
    await drain(services)
    (request,) = catcher.profile("peppol-mls")
    headers, mls_xml = request
    assert headers["X-Lingang-Receiver"] == "0242:987654"
    assert not engine_validator.validate(mls_xml).findings
    mls = read_mls(mls_xml)
    assert (mls.code, mls.instance_id, mls.sender_spis) == ("AP", "instance-m-ap", "000360")


async def test_a_broken_invoice_is_answered_re_and_not_handed_on(
    services: Services, reference: Path, catcher: Catcher, local_system: LocalSystem
) -> None:
    body = (
        (reference / EXAMPLE)
        .read_bytes()
        .replace(b"<cbc:DocumentCurrencyCode>SGD", b"<cbc:DocumentCurrencyCode>QQQ", 1)
    )
    await services.inbound.accept(inbound(body, "m-bad"))
    await drain(services)
    assert not local_system.received
    (request,) = catcher.profile("peppol-mls")
    headers, mls_xml = request
    assert headers["X-Lingang-Receiver"] == "0242:000123"  # the sending AP's SPIS id
    mls = read_mls(mls_xml)
    assert mls.code == "RE" and {i.reason for i in mls.issues} >= {"BV"}
    assert any("[ibr-cl-04]" in i.description for i in mls.issues)


async def test_a_document_for_someone_else_is_refused_before_it_is_stored(
    services: Services, reference: Path
) -> None:
    other = InboundDocument(
        channel="as4",
        message_id="m-other",
        body=(reference / EXAMPLE).read_bytes(),
        receiver="0195:SGUEN999999999Z",
        metadata=peppol_facts("instance-other"),
    )
    with pytest.raises(InputError) as refused:
        await services.inbound.accept(other)
    assert refused.value.rule == "peppol.not-serviced"
    assert await services.store.list_inbound() == []


async def test_a_received_mls_is_correlated_and_never_answered(
    services: Services, catcher: Catcher
) -> None:
    store = services.store
    tenant = await store.create_tenant("exporter")
    submission, _ = await store.create_submission(
        tenant.id, b"<Invoice/>", content_type="application/xml", state="delivered"
    )
    sent = record(1, OUTGOING, instance_id="our-instance", submission_id=submission.id)
    await PeppolReportingStore(store.connector).record(sent)
    mls = render_mls(
        MlsDocument(
            "mls-9", datetime.now(UTC), "000123", "000360", "our-instance", MlsStatus("AB", "kept")
        )
    )
    document = InboundDocument(
        channel="as4",
        message_id="m-mls",
        body=mls,
        receiver="0242:000360",
        metadata={
            "peppol": {
                **peppol_facts("their-mls-instance")["peppol"],
                "doctype": "urn:oasis:names:specification:ubl:schema:xsd:ApplicationResponse-2::"
                "ApplicationResponse##urn:peppol:edec:mls:1.0::2.1",
                "receiver": "0242:000360",
            }
        },
    )
    services.inbound.participants = None  # an MLS is addressed to our SPIS id, not a tenant
    ack = await services.inbound.accept(document)
    await drain(services)
    (job,) = await store.list_jobs(submission_id=ack.inbound_id)
    kind = services.kinds.get("receive")
    assert kind is not None
    await kind.run(job, "w")  # as if the worker died before completing: no second event
    events = await store.list_events(submission.id)
    assert sum("Message Level Status" in (e.reason or "") for e in events) == 1
    assert events[-1].reason == "Message Level Status AB from 0242:000123"
    assert events[-1].state == "delivered"
    outputs = await store.get_outputs(submission.id, ["mls"])
    assert outputs["mls"].data == mls
    shown = await api_document(services, tenant.id, submission.id)
    (status,) = [e for e in shown["history"] if "Message Level Status" in (e["reason"] or "")]
    assert status["detail"]["mls"]["code"] == "AB"
    assert status["detail"]["mls"]["instance_id"] == "our-instance"
    assert "mls" in {o["kind"] for o in shown["outputs"]}
    assert not catcher.profile("peppol-mls")  # never an MLS in reply to an MLS
    jobs = await store.list_jobs(state=JobState.DEAD)
    assert not jobs
    assert etree.fromstring(mls) is not None


async def test_a_received_mls_belongs_to_the_tenant_whose_document_it_answers(
    services: Services,
) -> None:
    """An MLS comes addressed to our own SPIS id, no tenant's participant. Once correlated,
    it is a received document of the tenant that sent the document it answers: that tenant
    lists and reads it at ``/v1/received``, another tenant does not, nor does the reporting
    tenant. One that names no document we sent stays unclaimed (the operator's view)."""
    store = services.store
    exporter = await store.create_tenant("exporter")
    other = await store.create_tenant("other")
    submission, _ = await store.create_submission(
        exporter.id, b"<Invoice/>", content_type="application/xml", state="delivered"
    )
    sent = record(1, OUTGOING, instance_id="our-instance", submission_id=submission.id)
    await PeppolReportingStore(store.connector).record(sent)
    acks = []
    for message_id, instance in (("m-mls-ours", "our-instance"), ("m-mls-stray", "not-ours")):
        mls = render_mls(
            MlsDocument(
                f"mls-{message_id}", datetime.now(UTC), "000123", "000360", instance,
                MlsStatus("AB", "kept"),
            )
        )  # fmt: skip
        facts = {**peppol_facts(f"{message_id}-instance")["peppol"], "doctype": MLS_DOCTYPE}
        facts["receiver"] = "0242:000360"
        document = InboundDocument(
            "as4", message_id, mls, receiver="0242:000360", metadata={"peppol": facts}
        )
        acks.append(await services.inbound.accept(document))  # participants as configured
    await drain(services)
    ours, stray = (ack.inbound_id for ack in acks)
    _, listed = await api_get(services, exporter.id, "/v1/received")
    assert [item["id"] for item in listed["items"]] == [ours]
    status, shown = await api_get(services, exporter.id, f"/v1/received/{ours}")
    assert status == 200 and shown["id"] == ours
    _, theirs = await api_get(services, other.id, "/v1/received")
    assert not theirs["items"]
    status, _ = await api_get(services, other.id, f"/v1/received/{ours}")
    assert status == 404
    reporting = services.settings.peppol.report_tenant
    if await store.get_tenant(reporting) is not None:
        assert not (await api_get(services, reporting, "/v1/received"))[1]["items"]
    unclaimed = await ReceivedStore(store.connector).list(None)
    assert [summary.id for summary in unclaimed] == [stray]


async def test_mls_kept_under_the_reporting_tenant_are_given_to_their_tenants_by_the_cli(
    services: Services,
    store_url: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Before per-tenant attribution an MLS, addressed to our SPIS id, was stored under
    ``[peppol] report_tenant`` (start-up mapped the SPIS id to it), and correlation, which
    claims only a message no tenant holds, left it there: the reporting tenant listed
    another tenant's MLS, and that tenant never saw it. ``lingang received
    --reattribute-mls`` gives each to the tenant whose document it answers (a stray one to no
    tenant), lists first with ``--dry-run``, and moves nothing twice; a business document the
    reporting tenant holds stays."""
    store = services.store
    exporter = await store.create_tenant("exporter")
    reporting = services.settings.peppol.report_tenant
    if await store.get_tenant(reporting) is None:
        await make_tenants(store_url, [reporting])
    submission, _ = await store.create_submission(
        exporter.id, b"<Invoice/>", content_type="application/xml", state="delivered"
    )
    sent = record(1, OUTGOING, instance_id="our-instance", submission_id=submission.id)
    await PeppolReportingStore(store.connector).record(sent)
    services.inbound.participants = None  # what the old start-up mapping stored: its tenant
    inbound_ids = []
    for message_id, instance in (("m-old-ours", "our-instance"), ("m-old-stray", "not-ours")):
        mls = render_mls(
            MlsDocument(
                f"mls-{message_id}", datetime.now(UTC), "000123", "000360", instance,
                MlsStatus("AB", "kept"),
            )
        )  # fmt: skip
        facts = {**peppol_facts(f"{message_id}-instance")["peppol"], "doctype": MLS_DOCTYPE}
        facts["receiver"] = "0242:000360"
        document = InboundDocument(
            "as4", message_id, mls, receiver="0242:000360", tenant_id=reporting,
            metadata={"peppol": facts},
        )  # fmt: skip
        inbound_ids.append((await services.inbound.accept(document)).inbound_id)
    business = await services.inbound.accept(
        replace(inbound(b"<Invoice/>", "m-business"), tenant_id=reporting)
    )
    await drain(services)
    ours, stray = inbound_ids
    received = ReceivedStore(store.connector)
    assert {r.id for r in await received.list(reporting)} == {ours, stray, business.inbound_id}

    async def cli(*extra: str) -> list[list[str]]:
        args = ["received", "--reattribute-mls", *extra, "--database", store_url]
        assert await asyncio.to_thread(main, args) == 0
        out = capsys.readouterr().out
        return sorted(line.split("\t") for line in out.splitlines())

    expected = sorted([[ours, reporting, exporter.id, submission.id], [stray, reporting, "-", "-"]])
    assert await cli("--dry-run") == expected
    assert {r.id for r in await received.list(reporting)} == {ours, stray, business.inbound_id}
    assert await cli() == expected
    assert [r.id for r in await received.list(reporting)] == [business.inbound_id]
    assert [r.id for r in await received.list(exporter.id)] == [ours]
    assert [r.id for r in await received.list(None)] == [stray]
    _, shown = await api_get(services, exporter.id, f"/v1/received/{ours}")
    assert shown["id"] == ours
    assert await cli() == []  # nothing left to move


@pytest.mark.parametrize(
    ("c2_seat", "sender_spis", "over_peppol", "ignored"),
    [
        ("PSG000999", "000123", True, "mls.sending-access-point"),  # another AP, spoofing C3
        ("PSG000999", "000999", True, "mls.sending-access-point"),  # another AP, as itself
        ("PSG000123", "000999", True, "mls.sender-party"),  # C3's AP naming another sender
        ("PSG000123", "000123", False, "mls.not-over-peppol"),  # not from an AS4 transmission
        ("PSG000123", "000123-SUB", True, None),  # C3's SPIS id with a suffix: taken
    ],
)
async def test_an_mls_counts_only_from_the_access_point_the_document_went_to(
    services: Services,
    catcher: Catcher,
    caplog: pytest.LogCaptureFixture,
    c2_seat: str,
    sender_spis: str,
    over_peppol: bool,
    ignored: str | None,
) -> None:
    """Our document went to PSG000123 (SPIS 000123). An MLS about it is taken only when the
    access point that sent it over AS4 and the MLS's own sending party are that one; any
    other is ignored with a logged rule, and the document's history and outputs stay as
    they were."""
    store = services.store
    tenant = await store.create_tenant("exporter")
    submission, _ = await store.create_submission(
        tenant.id, b"<Invoice/>", content_type="application/xml", state="delivered"
    )
    sent = record(1, OUTGOING, instance_id="our-instance", submission_id=submission.id)
    assert sent.c3_seat == "PSG000123"
    await PeppolReportingStore(store.connector).record(sent)
    mls = render_mls(
        MlsDocument(
            "mls-1", datetime.now(UTC), sender_spis, "000360", "our-instance", MlsStatus("RE",
            "rejected: business rule failure", (MlsIssue("BV", "[BR-01] no"),)),
        )
    )  # fmt: skip
    facts = {**peppol_facts("their-mls-instance")["peppol"], "c2_seat": c2_seat}
    facts.update(doctype=MLS_DOCTYPE, receiver="0242:000360")
    services.inbound.participants = None
    ack = await services.inbound.accept(
        InboundDocument(
            "as4" if over_peppol else "folder",
            "m-mls-1",
            mls,
            receiver="0242:000360",
            metadata={"peppol": facts} if over_peppol else {},
        )
    )
    with caplog.at_level(logging.WARNING, logger="lingang.peppol.mls"):
        await drain(services)
    (job,) = await store.list_jobs(submission_id=ack.inbound_id)
    (receipt,) = await store.list_receipts(job_id=job.id)
    assert receipt.kind == "inbound-mls"
    events = await store.list_events(submission.id)
    statuses = [e for e in events if "Message Level Status" in (e.reason or "")]
    outputs = await store.get_outputs(submission.id, ["mls"])
    if ignored is None:
        assert receipt.detail["verdict"] == "mls" and receipt.detail["correlated"] is True
        assert [s.detail["mls"]["code"] for s in statuses] == ["RE"]
        assert "mls" in outputs
        return
    assert receipt.detail["verdict"] == "mls-ignored", receipt.detail
    assert receipt.detail["ignored"] == ignored and receipt.detail["correlated"] is False
    assert "PSG000123" in receipt.detail["reason"]
    assert not statuses and "mls" not in outputs
    now = await store.get_submission(tenant.id, submission.id)
    assert now is not None and now.state == "delivered"
    (logged,) = [r for r in caplog.records if r.__dict__.get("rule") == ignored]
    assert logged.levelno == logging.WARNING and logged.__dict__["instance_id"] == "our-instance"
    assert not catcher.profile("peppol-mls")


async def test_a_broken_mls_is_rejected_and_still_never_answered(
    services: Services, catcher: Catcher
) -> None:
    broken = render_mls(
        MlsDocument("m", datetime.now(UTC), "000123", "000360", "x", MlsStatus("AB", "kept"))
    ).replace(b"<cbc:ResponseCode>AB", b"<cbc:ResponseCode>ZZ")
    facts = peppol_facts("their-instance", MLS_TYPE="ALWAYS_SEND")["peppol"]
    facts["doctype"] = MLS_DOCTYPE
    services.inbound.participants = None
    ack = await services.inbound.accept(
        InboundDocument(
            "as4", "m-broken-mls", broken, receiver="0242:000360", metadata={"peppol": facts}
        )
    )
    await drain(services)
    (job,) = await services.store.list_jobs(submission_id=ack.inbound_id)
    (receipt,) = await services.store.list_receipts(job_id=job.id)
    verdict = json.loads(receipt.data)
    assert receipt.kind == "inbound-rejected"
    assert "SCH-MLS-19" in {f["rule_id"] for f in verdict["report"]["findings"]}
    assert verdict["mls"] == {
        "code": "RE",
        "sent": False,
        "reason": "rejected: business rule failure",
    }
    assert not catcher.profile("peppol-mls")


async def test_a_local_system_that_is_down_is_retried_then_dead_lettered(
    services: Services, reference: Path, local_system: LocalSystem, catcher: Catcher
) -> None:
    local_system.down = True
    ack = await services.inbound.accept(inbound((reference / EXAMPLE).read_bytes(), "m-down"))
    policy = RetryPolicy(base_seconds=0.0, cap_seconds=0.0, max_attempts=2)
    worker = Worker(services.store, services.kinds, worker_id="w", policy=policy)
    assert await worker.run_once() >= 1
    (job,) = await services.store.list_jobs(submission_id=ack.inbound_id)
    assert job.state is JobState.PENDING and job.attempts == 1 and "503" in (job.last_error or "")
    await asyncio.sleep(0.01)
    assert await worker.run_once() >= 1
    (job,) = await services.store.list_jobs(submission_id=ack.inbound_id)
    assert job.state is JobState.DEAD
    await drain(services)  # the RE answer goes out through the delivery path
    (request,) = catcher.profile("peppol-mls")
    mls = read_mls(request[1])
    assert mls.code == "RE" and [i.reason for i in mls.issues] == ["FD"]
    (issue,) = mls.issues  # the local system's own error (its 503, host, port) stays here
    assert issue.description == FD_DESCRIPTION
    assert "503" in (job.last_error or "") and b"127.0.0.1" not in request[1]
    local_system.down = False
    await services.store.retry_job(job.id)  # the operator's retry delivers it, once
    await drain(services)
    assert len(local_system.received) == 1


@pytest.mark.parametrize("mls_to", ["0088:5798000000001", "0242:not-an-spis-id"])
async def test_an_mls_to_that_is_no_spis_participant_sends_the_mls_to_the_sending_ap(
    services: Services,
    reference: Path,
    catcher: Catcher,
    local_system: LocalSystem,
    engine_validator: Validator,
    mls_to: str,
) -> None:
    """MLS_TO must be an SPIS participant (0242:…, SCH-MLS-16): one that is not cannot get
    the MLS, so it goes to the sending access point, as without MLS_TO; the received
    document is handed on and its job completes (it used to die after the hand-over)."""
    body = (reference / EXAMPLE).read_bytes()
    ack = await services.inbound.accept(
        inbound(body, "m-bad-to", MLS_TYPE="ALWAYS_SEND", MLS_TO=mls_to)
    )
    await drain(services)
    assert len(local_system.received) == 1
    (job,) = await services.store.list_jobs(submission_id=ack.inbound_id)
    assert job.state == JobState.DONE
    (receipt,) = await services.store.list_receipts(job_id=job.id)
    answer = json.loads(receipt.data)["mls"]
    assert answer["sent"] and answer["to"] == "0242:000123"
    assert "MLS_TO" in answer["mls_to_ignored"]
    (request,) = catcher.profile("peppol-mls")
    headers, mls_xml = request
    assert headers["X-Lingang-Receiver"] == "0242:000123"
    assert not engine_validator.validate(mls_xml).findings
    assert read_mls(mls_xml).code == "AP"


async def test_a_transmission_is_recorded_when_it_is_received_not_when_its_job_runs(
    services: Services, reference: Path
) -> None:
    """A Peppol transmission counts for the month it was received in: it is recorded as it is
    stored, before its sender gets the answer, so the month's reports (sent minutes after the
    month ends) count it though its ``receive`` job has not run (a backlog, a worker down at
    midnight); the job later records nothing twice."""
    body = (reference / EXAMPLE).read_bytes()
    await services.inbound.accept(inbound(body, "m-late"))
    reporting = PeppolReportingStore(services.store.connector)
    bounds = (datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))
    (received,) = await reporting.between(*bounds)
    assert (received.direction, received.transmission_id) == ("in", "m-late")
    period = ReportPeriod.of_month(f"{received.exchanged_at:%Y-%m}")
    reports = await build_month_reports(services.store, None, "POP000360", period)
    tsr = etree.fromstring(reports.tsr)
    assert tsr.findtext(f"{{{TSR_NS}}}Total/{{{TSR_NS}}}Incoming") == "1"
    await drain(services)
    assert len(await reporting.between(*bounds)) == 1


async def test_an_mls_that_cannot_be_addressed_is_not_sent_and_the_job_completes(
    services: Services, reference: Path, catcher: Catcher, local_system: LocalSystem
) -> None:
    """Without MLS_TO the MLS goes to the sending access point's SPIS id, its seat id's
    digits; a sending certificate that names no seat id leaves nowhere to send it: no MLS,
    the verdict says why, and the document's job completes all the same."""
    body = (reference / EXAMPLE).read_bytes()
    document = inbound(body, "m-noseat", MLS_TYPE="ALWAYS_SEND")
    document.metadata["peppol"]["c2_seat"] = "not a seat id"
    ack = await services.inbound.accept(document)
    await drain(services)
    assert len(local_system.received) == 1
    (job,) = await services.store.list_jobs(submission_id=ack.inbound_id)
    assert job.state == JobState.DONE
    (receipt,) = await services.store.list_receipts(job_id=job.id)
    answer = json.loads(receipt.data)["mls"]
    assert answer["sent"] is False and "seat id" in answer["unaddressable"]
    assert not catcher.profile("peppol-mls")


async def api_get(services: Services, tenant_id: str, path: str) -> tuple[int, Any]:
    """``GET path`` on a live API over ``services`` on 127.0.0.1 as ``tenant_id``."""
    key, _ = await services.store.issue_api_key(tenant_id)
    runner = api_runner(create_app(services))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        url = f"http://127.0.0.1:{runner.addresses[0][1]}{path}"
        async with (
            aiohttp.ClientSession() as session,
            session.get(url, headers={"Authorization": f"Bearer {key}"}) as response,
        ):
            return response.status, await response.json(content_type=None)
    finally:
        await runner.cleanup()


async def test_a_document_answered_re_after_a_failed_hand_over_reads_as_rejected(
    services: Services, reference: Path, local_system: LocalSystem, catcher: Catcher
) -> None:
    """The hand-over gave up and the sender was told ``RE`` (FD): the received document is
    ``rejected`` with that MLS and its reason, found by ``?status=rejected`` — not ``failed``
    with no word of what its sender was told. After the operator's retry delivers it, the
    record still says which MLS its sender got (one MLS per message), not a fresh ``AP``."""
    body = (reference / EXAMPLE).read_bytes()
    good = await services.inbound.accept(inbound(body, "m-good"))
    await drain(services)
    local_system.down = True
    ack = await services.inbound.accept(inbound(body, "m-gone"))
    policy = RetryPolicy(base_seconds=0.0, cap_seconds=0.0, max_attempts=2)
    worker = Worker(services.store, services.kinds, worker_id="w", policy=policy)
    for _ in range(2):
        await worker.run_once()
        await asyncio.sleep(0.01)
    (job,) = await services.store.list_jobs(submission_id=ack.inbound_id)
    assert job.state is JobState.DEAD
    local_system.down = False
    await drain(services)
    (request,) = catcher.profile("peppol-mls")
    assert read_mls(request[1]).code == "RE"

    status, listed = await api_get(services, "importer", "/v1/received?status=rejected")
    assert status == 200, listed
    (item,) = listed["items"]
    assert (item["id"], item["status"], item["mls_code"]) == (ack.inbound_id, "rejected", "RE")
    _, detail = await api_get(services, "importer", f"/v1/received/{ack.inbound_id}")
    assert detail["mls"]["code"] == "RE" and detail["mls"]["sent"] is True
    assert detail["mls"]["reason"] == "rejected: delivery failure"
    assert detail["handed_on"] is None
    _, accepted = await api_get(services, "importer", "/v1/received?status=accepted")
    assert [i["id"] for i in accepted["items"]] == [good.inbound_id]
    status, refused = await api_get(services, "importer", "/v1/received?status=delivered")
    assert status == 422 and refused["errors"][0]["field"] == "status"

    await services.store.retry_job(job.id)  # the operator's retry delivers it
    await drain(services)
    _, detail = await api_get(services, "importer", f"/v1/received/{ack.inbound_id}")
    assert detail["status"] == "accepted" and detail["handed_on"]["adapter"] == "erp"
    assert detail["mls"]["code"] == "RE" and detail["mls_code"] == "RE"  # what was sent
    assert len(catcher.profile("peppol-mls")) == 1


ENGINE_DOWN = "the validation engine's process stopped (saxon at 10.0.0.7)"
"""The infrastructure error of the tests below: this gateway's own, never told its sender."""


@pytest.mark.parametrize(
    "error",
    [TransientError(ENGINE_DOWN), ArtefactError(ENGINE_DOWN)],
    ids=["retries spent", "no retry can help"],
)
async def test_a_receive_job_that_dies_on_an_infrastructure_error_answers_re_fd_once(
    services: Services,
    reference: Path,
    local_system: LocalSystem,
    catcher: Catcher,
    monkeypatch: pytest.MonkeyPatch,
    error: LingangError,
) -> None:
    """The inbound flow fails on an error of this gateway's own (its validation engine, here)
    until the job goes to the dead letter: the sender asked for a status, so it gets an
    ``RE`` whose one issue is ``FD`` (failure of delivery, in fixed words: the error is this
    gateway's business), and only once the job has given up — not on an attempt that is
    retried. The operator's retry, once the engine is back, hands the document on and sends
    no second, contradictory MLS."""
    validator = services.tools.validator
    assert validator is not None
    inbound_validate = validator.validate

    def engine_down(data: bytes, profile: str, *args: Any, **kwargs: Any) -> Any:
        if profile == "peppol-mls":  # the MLS the give-up sends is checked as usual
            return inbound_validate(data, profile, *args, **kwargs)
        raise error

    monkeypatch.setattr(validator, "validate", engine_down)
    ack = await services.inbound.accept(inbound((reference / EXAMPLE).read_bytes(), "m-infra"))
    policy = RetryPolicy(base_seconds=0.0, cap_seconds=0.0, max_attempts=2)
    worker = Worker(services.store, services.kinds, worker_id="w", policy=policy)
    await worker.run_once()
    (job,) = await services.store.list_jobs(submission_id=ack.inbound_id)
    if error.retryable:
        assert job.state is JobState.PENDING and job.attempts == 1
        queued = {j.kind for j in await services.store.list_jobs() if j.id != job.id}
        assert queued <= {"report"}, queued  # the month's reports, no MLS yet
        await asyncio.sleep(0.01)
        await worker.run_once()
        (job,) = await services.store.list_jobs(submission_id=ack.inbound_id)
    assert job.state is JobState.DEAD and ENGINE_DOWN in (job.last_error or "")
    await drain(services)
    (request,) = catcher.profile("peppol-mls")
    mls = read_mls(request[1])
    assert mls.code == "RE" and [(i.reason, i.description) for i in mls.issues] == [
        ("FD", FD_DESCRIPTION)
    ]
    assert b"saxon" not in request[1] and b"10.0.0.7" not in request[1]
    (receipt,) = await services.store.list_receipts(job_id=job.id)
    assert receipt.kind == "inbound-rejected"
    status, shown = await api_get(services, "importer", f"/v1/received/{ack.inbound_id}")
    assert status == 200 and (shown["status"], shown["mls_code"]) == ("rejected", "RE")
    assert shown["mls"]["reason"] == "rejected: delivery failure"
    assert "saxon" not in json.dumps(shown)  # the operator's, in the job: not the tenant's
    assert not local_system.received

    monkeypatch.undo()  # the engine is back: the operator's retry hands the document on
    await services.store.retry_job(job.id)
    await drain(services)
    assert len(local_system.received) == 1
    assert len(catcher.profile("peppol-mls")) == 1
    receipts = await services.store.list_receipts(job_id=job.id)
    assert receipts[-1].kind == "inbound-accepted"
    assert json.loads(receipts[-1].data)["mls"]["code"] == "RE"  # what its sender was told


async def test_a_received_mls_whose_job_gives_up_reads_as_failed_not_rejected(
    services: Services, catcher: Catcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A received MLS is never answered; when its job dies (the store failing as it
    correlates), the document reads as ``failed``, the job's error for the operator, not as
    a ``rejected`` document with an MLS that was never sent."""
    peppol = services.inbound.duties
    assert peppol is not None

    async def store_down(message: Any) -> dict[str, Any]:
        raise StoreError("the database is read-only (disk full)")

    monkeypatch.setattr(peppol, "correlate", store_down)
    mls = render_mls(
        MlsDocument("m", datetime.now(UTC), "000123", "000360", "x", MlsStatus("AB", "kept"))
    )
    facts = {**peppol_facts("their-mls")["peppol"], "doctype": MLS_DOCTYPE}
    services.inbound.participants = None
    ack = await services.inbound.accept(
        InboundDocument(
            "as4", "m-mls-dies", mls, receiver="0242:000360", metadata={"peppol": facts}
        )
    )
    policy = RetryPolicy(base_seconds=0.0, cap_seconds=0.0, max_attempts=2)  # [worker]'s
    worker = Worker(services.store, services.kinds, worker_id="w", policy=policy)
    for _ in range(2):
        await worker.run_once()
        await asyncio.sleep(0.01)
    (job,) = await services.store.list_jobs(submission_id=ack.inbound_id)
    assert job.state is JobState.DEAD and job.attempts == 2
    assert await services.store.list_receipts(job_id=job.id) == []
    (summary,) = await ReceivedStore(services.store.connector).list(None)
    assert (summary.id, summary.status) == (ack.inbound_id, "failed")
    await drain(services)
    assert not catcher.profile("peppol-mls")
