"""Two-way adapters: one gateway's https adapter delivers to another's receiving side, over
real TLS on 127.0.0.1 with a signed body; the receiver stores before it acknowledges, knows
a repeat by its message id, and runs the inbound flow as a ``receive`` job."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from adapters.base import AdapterContext, Envelope
from gateway.delivery import (
    AdapterConfig,
    AdapterRegistry,
    ReceiveKind,
    StoreInbound,
)
from gateway.delivery.peppol_recording import LocalParticipants
from gateway.errors import PermanentDeliveryError
from gateway.flows import Tools
from gateway.jobs import JobKinds, ThreadFlowRunner, Worker
from gateway.signing.jws import DetachedJwsSigner, b64url
from gateway.signing.keys import ecdsa_der_to_raw
from gateway.signing.testpki import make_test_pki
from gateway.store import JobState, Store, open_store
from gateway.testing.tls import TlsFiles, make_tls

REFERENCE = Path(__file__).resolve().parents[2].parent / "shared" / "reference"
EXAMPLE = (
    REFERENCE
    / "openpeppol-pint-sg-1.4.1/trn-invoice/example/PINT-SG INV example 09 - Zero rated GST.xml"
)


MINE = "0195:T08GB0001A"
"""The participant of tenant ``t``."""
THEIRS = "0195:T08GB0002B"
"""The participant of tenant ``u``."""

FORGED = "eyJhbGciOiJFUzI1NiJ9.." + "A" * 86
"""A detached ES256 JWS whose signature is 64 zero bytes."""


@dataclass
class Receiving:
    """The receiving gateway: its store, adapters and the URL of its inbox."""

    store: Store
    adapters: AdapterRegistry
    url: str
    out: Path


@pytest.fixture
def tls(tmp_path: Path) -> TlsFiles:
    return make_tls(tmp_path / "tls")


@pytest.fixture
def signer(tmp_path: Path) -> DetachedJwsSigner:
    pki = make_test_pki(tmp_path / "pki")
    return DetachedJwsSigner.from_files(pki.path("signer-ec.key.pem"), pki.path("signer-ec.pem"))


@pytest.fixture
async def receiving(
    tmp_path: Path, tls: TlsFiles, signer: DetachedJwsSigner
) -> AsyncIterator[Receiving]:
    store = await open_store(f"sqlite:///{tmp_path / 'receiver.db'}")
    context = AdapterContext(data_dir=tmp_path, inbound=StoreInbound(store))
    adapters = AdapterRegistry.build(
        {
            "cn": AdapterConfig(
                "cn",
                "https",
                {
                    "url": "https://sender.invalid/inbox",
                    "inbound_path": "/inbound/cn",
                    "inbound_trust": str(tmp_path / "pki" / "signer-ec.pem"),
                },
            ),
            "local": AdapterConfig("local", "folder", {"path": "received"}),
        },
        context,
    )
    app = web.Application()
    for route in adapters.inbound_routes():
        app.router.add_route(route.method, route.path, route.handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(
        runner, "127.0.0.1", 0, ssl_context=tls.server_context(require_client_cert=False)
    )
    await site.start()
    port = runner.addresses[0][1]
    yield Receiving(store, adapters, f"https://127.0.0.1:{port}/inbound/cn", tmp_path / "received")
    await runner.cleanup()
    await adapters.aclose()
    await store.close()


def sender(url: str, tls: TlsFiles, signer: DetachedJwsSigner, tmp_path: Path) -> AdapterRegistry:
    return AdapterRegistry.build(
        {"sg": AdapterConfig("sg", "https", {"url": url, "ca": str(tls.ca), "timeout": 10})},
        AdapterContext(data_dir=tmp_path, body_signer=signer),
    )


def envelope(body: bytes, message_id: str = "sub-1.sg@lingang") -> Envelope:
    return Envelope(message_id=message_id, body=body, profile="pint-sg", receiver="0195:T08GB0001A")


async def test_delivered_once_stored_once_then_received_and_handed_on(
    receiving: Receiving, tls: TlsFiles, signer: DetachedJwsSigner, tmp_path: Path
) -> None:
    body = EXAMPLE.read_bytes()
    adapters = sender(receiving.url, tls, signer, tmp_path)
    try:
        first = await adapters.get("sg").deliver(envelope(body))
        again = await adapters.get("sg").deliver(envelope(body))
    finally:
        await adapters.aclose()
    assert first.remote_id and not first.duplicate
    assert again.duplicate and again.remote_id == first.remote_id
    (message,) = await receiving.store.list_inbound()
    assert message.data == body and message.channel == "cn" and message.id == first.remote_id
    (job,) = await receiving.store.list_jobs(submission_id=message.id)
    assert (job.kind, job.payload_ref) == ("receive", "document-in")

    runner = ThreadFlowRunner(Tools())
    kinds = JobKinds([ReceiveKind(receiving.store, runner, receiving.adapters, hand_on="local")])
    worker = Worker(receiving.store, kinds, worker_id="w", poll_seconds=0.05)
    try:
        assert await worker.run_once() == 1
    finally:
        runner.close()
    done = await receiving.store.get_job(job.id)
    assert done is not None and done.state is JobState.DONE
    (receipt,) = await receiving.store.list_receipts(job_id=job.id)
    verdict = json.loads(receipt.data)
    assert receipt.kind == "inbound-accepted" and verdict["facts"]["profile"] == "pint-sg"
    assert [p.read_bytes() for p in receiving.out.iterdir()] == [body]


async def test_another_document_under_a_used_message_id_is_refused_not_dropped(
    receiving: Receiving, tls: TlsFiles, signer: DetachedJwsSigner, tmp_path: Path
) -> None:
    """A repeat with other bytes is no duplicate: answered 422 (the sender's delivery fails
    for good, naming why; a 409 would be retried, draft-ietf-httpapi-idempotency-key-header)
    instead of 200 ``duplicate``, which the sender would take as delivered."""
    body = EXAMPLE.read_bytes()
    adapters = sender(receiving.url, tls, signer, tmp_path)
    try:
        first = await adapters.get("sg").deliver(envelope(body))
        with pytest.raises(PermanentDeliveryError) as refused:
            await adapters.get("sg").deliver(
                envelope(body.replace(b"</Invoice>", b"<!-- x --></Invoice>"))
            )
        again = await adapters.get("sg").deliver(envelope(body))
    finally:
        await adapters.aclose()
    assert "422" in refused.value.message and "inbound.message-id-reused" in refused.value.message
    assert again.duplicate and again.remote_id == first.remote_id
    (message,) = await receiving.store.list_inbound()
    assert message.data == body


async def test_a_rejected_inbound_document_is_not_handed_on(receiving: Receiving) -> None:
    inbound = StoreInbound(receiving.store)
    from adapters.base import InboundDocument

    ack = await inbound.accept(InboundDocument("cn", "m-1", b"<NotAnInvoice/>"))
    runner = ThreadFlowRunner(Tools())
    kinds = JobKinds([ReceiveKind(receiving.store, runner, receiving.adapters, hand_on="local")])
    try:
        assert await Worker(receiving.store, kinds, worker_id="w").run_once() == 1
    finally:
        runner.close()
    (job,) = await receiving.store.list_jobs(submission_id=ack.inbound_id)
    (receipt,) = await receiving.store.list_receipts(job_id=job.id)
    assert receipt.kind == "inbound-rejected"
    assert json.loads(receipt.data)["error"]["code"] == "unknown-format"
    assert not receiving.out.exists()


@pytest.mark.parametrize(
    ("headers", "status", "rule"),
    [
        ({}, 400, "inbound.message-id"),
        ({"X-Lingang-Message-Id": "m-2"}, 401, "inbound.signature-missing"),
        (
            {"X-Lingang-Message-Id": "m-3", "X-Lingang-Signature": FORGED},
            403,
            "inbound.jws.signature",
        ),
        (
            {"X-Lingang-Message-Id": "m-4", "Content-Digest": "sha-256=:AAAA:"},
            400,
            "inbound.digest",
        ),
    ],
)
async def test_what_the_inbox_refuses(
    receiving: Receiving, tls: TlsFiles, headers: dict[str, str], status: int, rule: str
) -> None:
    connector = aiohttp.TCPConnector(ssl=tls.client_context())
    async with (
        aiohttp.ClientSession(connector=connector) as session,
        session.post(receiving.url, data=b"<Invoice/>", headers=headers) as response,
    ):
        problem = await response.json(content_type=None)
        assert response.status == status
        assert response.content_type == "application/problem+json"
    assert problem["errors"][0]["rule"] == rule
    assert "<Invoice/>" not in json.dumps(problem)
    assert await receiving.store.list_inbound() == []
    await asyncio.sleep(0)


@pytest.fixture
async def serving_one_receiver(tmp_path: Path, tls: TlsFiles) -> AsyncIterator[Receiving]:
    """The inbox of tenant ``t`` (``0195:T08GB0001A``)."""
    async with inbox(tmp_path, tls, inbound_tenant="t") as receiving:
        yield receiving


@asynccontextmanager
async def inbox(tmp_path: Path, tls: TlsFiles, **options: str) -> AsyncIterator[Receiving]:
    """An https inbox at ``/inbound/one`` with ``options``, on a gateway receiving for
    ``0195:T08GB0001A`` (tenant ``t``) and ``0195:T08GB0002B`` (tenant ``u``)."""
    store = await open_store(f"sqlite:///{tmp_path / 'one.db'}")
    for tenant in ("t", "u"):
        await store.create_tenant(tenant.upper(), tenant_id=tenant)
    participants = LocalParticipants.parse([f"t={MINE}", f"u={THEIRS}"])
    context = AdapterContext(
        data_dir=tmp_path, inbound=StoreInbound(store, participants=participants)
    )
    options = {"url": "https://sender.invalid/inbox", "inbound_path": "/inbound/one", **options}
    adapters = AdapterRegistry.build({"one": AdapterConfig("one", "https", options)}, context)
    app = web.Application()
    for route in adapters.inbound_routes():
        app.router.add_route(route.method, route.path, route.handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(
        runner, "127.0.0.1", 0, ssl_context=tls.server_context(require_client_cert=False)
    )
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield Receiving(store, adapters, f"https://127.0.0.1:{port}/inbound/one", tmp_path)
    finally:
        await runner.cleanup()
        await adapters.aclose()
        await store.close()


async def post_to(
    receiving: Receiving, tls: TlsFiles, message_id: str, receiver: str | None, **more: str
) -> tuple[int, dict[str, Any]]:
    """POST ``<Invoice/>`` to the inbox naming ``receiver`` (``None``: no header)."""
    headers = {"X-Lingang-Message-Id": message_id, "Content-Type": "application/xml", **more}
    if receiver is not None:
        headers["X-Lingang-Receiver"] = receiver
    connector = aiohttp.TCPConnector(ssl=tls.client_context())
    async with (
        aiohttp.ClientSession(connector=connector) as session,
        session.post(receiving.url, data=b"<Invoice/>", headers=headers) as response,
    ):
        return response.status, await response.json(content_type=None)


async def test_an_inbox_with_a_tenant_takes_only_a_receiver_of_that_tenant(
    tmp_path: Path, tls: TlsFiles
) -> None:
    """A sender on the inbox of tenant ``t`` cannot put a document into tenant ``u``'s list,
    nor have ``t`` list one addressed to ``u``'s participant, by naming it."""
    async with inbox(tmp_path, tls, inbound_tenant="t") as receiving:
        status, problem = await post_to(receiving, tls, "m-theirs", THEIRS)
        assert status == 422 and problem["errors"][0]["rule"] == "inbound.receiver-tenant"
        assert problem["errors"][0]["field"] == "receiver"
        assert await receiving.store.list_inbound() == []
        assert (await post_to(receiving, tls, "m-mine", MINE))[0] == 200
        assert (await post_to(receiving, tls, "m-unnamed", None))[0] == 200
        stored = await receiving.store.list_inbound()
        assert {(m.message_id, m.tenant_id, m.receiver) for m in stored} == {
            ("m-mine", "t", MINE),
            ("m-unnamed", "t", None),
        }


async def test_an_inbox_that_knows_neither_tenant_nor_sender_takes_no_receiver(
    tmp_path: Path, tls: TlsFiles
) -> None:
    """Anyone may POST to an inbox without ``inbound_trust``: with no ``inbound_tenant``
    either, ``X-Lingang-Receiver`` chose any tenant's list. Now a 403 naming the header;
    without it the document is kept for no tenant (the operator's to see)."""
    async with inbox(tmp_path, tls) as receiving:
        for receiver in (THEIRS, MINE):
            status, problem = await post_to(receiving, tls, f"m-{receiver}", receiver)
            assert status == 403, problem
            assert problem["errors"][0] == {
                "field": "X-Lingang-Receiver",
                "rule": "inbound.receiver-unauthenticated",
                "message": problem["detail"],
            }
        assert await receiving.store.list_inbound() == []
        assert (await post_to(receiving, tls, "m-unnamed", None))[0] == 200
        assert (await post_to(receiving, tls, "m-empty", ""))[0] == 200  # names none either
        stored = await receiving.store.list_inbound()
        assert {(m.tenant_id, m.receiver) for m in stored} == {(None, None)}


async def test_an_authenticated_sender_addresses_any_participant_served_here(
    tmp_path: Path, tls: TlsFiles, signer: DetachedJwsSigner
) -> None:
    """With ``inbound_trust`` and no ``inbound_tenant``, the signed sender addresses the
    receiver as a Peppol access point would: the document is that participant's tenant's."""
    trust = str(tmp_path / "pki" / "signer-ec.pem")
    async with inbox(tmp_path, tls, inbound_trust=trust) as receiving:
        signature = {"X-Lingang-Signature": signer.sign_detached(b"<Invoice/>")}
        assert (await post_to(receiving, tls, "m-signed", THEIRS, **signature))[0] == 200
        (stored,) = await receiving.store.list_inbound()
        assert (stored.tenant_id, stored.receiver) == ("u", THEIRS)


async def test_a_receiver_the_gateway_does_not_serve_is_a_422_and_nothing_is_stored(
    serving_one_receiver: Receiving, tls: TlsFiles
) -> None:
    connector = aiohttp.TCPConnector(ssl=tls.client_context())
    headers = {"X-Lingang-Message-Id": "m-1.sg@lingang", "Content-Type": "application/xml"}
    async with aiohttp.ClientSession(connector=connector) as session:
        for receiver, status in (("0195:T08GB9999Z", 422), ("0195:T08GB0001A", 200)):
            async with session.post(
                serving_one_receiver.url,
                data=b"<Invoice/>",
                headers={**headers, "X-Lingang-Receiver": receiver},
            ) as response:
                body = await response.json(content_type=None)
                assert response.status == status, body
            if status == 422:
                assert body["errors"][0] == {
                    "field": "receiver",
                    "rule": "peppol.not-serviced",
                    "message": body["detail"],
                }
                assert await serving_one_receiver.store.list_inbound() == []
    (stored,) = await serving_one_receiver.store.list_inbound()
    assert stored.tenant_id == "t"


@pytest.mark.parametrize(
    ("body", "rule"),
    [
        (
            b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><Invoice>&a;</Invoice>',
            "xml.no-dtd",
        ),
        (b'{"invoice": 1}', "xml.well-formed"),
        (b"<Invoice><cbc:ID>1</cbc:ID>", "xml.well-formed"),
        (b"<a>" * 600 + b"</a>" * 600, "xml.max-depth"),
    ],
)
async def test_a_body_the_inbound_flow_cannot_read_is_refused_at_the_inbox(
    serving_one_receiver: Receiving, tls: TlsFiles, body: bytes, rule: str
) -> None:
    """Hostile or unreadable XML is a 422 naming the rule, before anything is stored: the
    sender learns it at once instead of getting a receipt for a document that is rejected
    later without its knowing."""
    connector = aiohttp.TCPConnector(ssl=tls.client_context())
    headers = {"X-Lingang-Message-Id": "m-bad.sg@lingang", "Content-Type": "application/xml"}
    async with (
        aiohttp.ClientSession(connector=connector) as session,
        session.post(serving_one_receiver.url, data=body, headers=headers) as response,
    ):
        problem = await response.json(content_type=None)
        assert response.status == 422, problem
        assert response.content_type == "application/problem+json"
    assert problem["errors"][0]["rule"] == rule
    assert await serving_one_receiver.store.list_inbound() == []


async def test_a_signature_with_a_critical_extension_is_refused(
    receiving: Receiving, tls: TlsFiles, signer: DetachedJwsSigner
) -> None:
    """A detached JWS signed by the trusted key, whose header marks ``exp`` critical (it
    expired long ago): RFC 7515 4.1.11 says a recipient that does not process a critical
    extension must refuse the JWS. It was accepted and stored, the expiry ignored."""
    body = EXAMPLE.read_bytes()
    header = {"alg": "ES256", "typ": "JOSE", "crit": ["exp"], "exp": 1}
    protected = b64url(json.dumps(header, separators=(",", ":")).encode())
    key = signer.key
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    signing_input = f"{protected}.{b64url(body)}".encode("ascii")
    value = ecdsa_der_to_raw(key.sign(signing_input, ec.ECDSA(hashes.SHA256())), key.curve)
    headers = {
        "X-Lingang-Message-Id": "m-crit",
        "X-Lingang-Signature": f"{protected}..{b64url(value)}",
    }
    connector = aiohttp.TCPConnector(ssl=tls.client_context())
    async with (
        aiohttp.ClientSession(connector=connector) as session,
        session.post(receiving.url, data=body, headers=headers) as response,
    ):
        problem = await response.json(content_type=None)
        assert response.status == 403, problem
    assert problem["errors"][0]["rule"] == "inbound.jws.crit"
    assert await receiving.store.list_inbound() == []


async def test_each_tenant_s_received_documents_go_to_its_own_local_system(
    tmp_path: Path, tls: TlsFiles
) -> None:
    """One gateway receives for three firms (an inbox each, ``inbound_tenant``). With one
    ``[routing] inbound`` adapter, every firm's received invoices were handed to the same
    local system: Globex's to Acme's ERP. ``[routing.inbound_tenants]`` gives each tenant its
    own; a tenant it does not name (Initech) still gets ``inbound``."""
    store = await open_store(f"sqlite:///{tmp_path / 'three.db'}")
    tenants = ("acme", "globex", "initech")
    for tenant in tenants:
        await store.create_tenant(tenant, tenant_id=tenant)
    inboxes = {
        f"in-{tenant}": AdapterConfig(
            f"in-{tenant}",
            "https",
            {
                "url": "https://sender.invalid/",
                "inbound_path": f"/inbound/{tenant}",
                "inbound_tenant": tenant,
            },
        )
        for tenant in tenants
    }
    folders = {
        name: AdapterConfig(name, "folder", {"path": name})
        for name in ("acme-erp", "globex-erp", "shared")
    }
    context = AdapterContext(data_dir=tmp_path, inbound=StoreInbound(store))
    adapters = AdapterRegistry.build({**inboxes, **folders}, context)
    app = web.Application()
    for route in adapters.inbound_routes():
        app.router.add_route(route.method, route.path, route.handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(
        runner, "127.0.0.1", 0, ssl_context=tls.server_context(require_client_cert=False)
    )
    await site.start()
    base = f"https://127.0.0.1:{runner.addresses[0][1]}/inbound"
    flows = ThreadFlowRunner(Tools())
    try:
        async with aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(ssl=tls.client_context())
        ) as session:
            for tenant in tenants:
                headers = {"X-Lingang-Message-Id": "m-1@sender", "Content-Type": "application/xml"}
                async with session.post(
                    f"{base}/{tenant}", data=EXAMPLE.read_bytes(), headers=headers
                ) as response:
                    assert response.status == 200, await response.text()
        kind = ReceiveKind(
            store,
            flows,
            adapters,
            hand_on="shared",
            hand_on_tenants={"acme": "acme-erp", "globex": "globex-erp"},
        )
        worker = Worker(store, JobKinds([kind]), worker_id="w", poll_seconds=0.05)
        while await worker.run_once():
            pass
    finally:
        flows.close()
        await runner.cleanup()
        await adapters.aclose()
    by_tenant = {m.tenant_id: m.id for m in await store.list_inbound()}
    for folder, tenant in (("acme-erp", "acme"), ("globex-erp", "globex"), ("shared", "initech")):
        files = sorted(p.name for p in (tmp_path / folder).iterdir())
        assert files == [f"{by_tenant[tenant]}.{folder}@lingang.xml"], folder
        (job,) = await store.list_jobs(submission_id=by_tenant[tenant])
        (receipt,) = await store.list_receipts(job_id=job.id)
        assert json.loads(receipt.data)["handed_on"]["adapter"] == folder
    await store.close()


async def _post_raw(receiving: Receiving, tls: TlsFiles, headers: bytes) -> tuple[int, Any]:
    """POST ``<Invoice/>`` with ``headers`` written as bytes (aiohttp's client would not send
    them) over TLS; the status and the JSON answer."""
    authority, _, path = receiving.url.removeprefix("https://").partition("/")
    host, _, port = authority.partition(":")
    reader, writer = await asyncio.open_connection(host, int(port), ssl=tls.client_context())
    body = b"<Invoice/>"
    writer.write(
        f"POST /{path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n".encode()
        + f"Content-Length: {len(body)}\r\nX-Lingang-Message-Id: m-raw\r\n".encode()
        + headers
        + b"\r\n"
        + body
    )
    await writer.drain()
    answer = await reader.read()
    writer.close()
    head, _, rest = answer.partition(b"\r\n\r\n")
    return int(head.split(b" ")[1]), json.loads(rest)


@pytest.mark.parametrize(
    ("headers", "rule", "field"),
    [
        (b"Content-Type: application/xml\r\nX-Lingang-Sender: ACME \xff\xfe\r\n",
         "inbound.header", "X-Lingang-Sender"),
        (b"Content-Type: application/xml\r\nX-Lingang-Profile: pint\xc3\r\n",
         "inbound.header", "X-Lingang-Profile"),
        (b"Content-Type: application/xml\r\nX-Lingang-Sender: " + "ACME \u202eLTD".encode() + b"\r\n",
         "inbound.header", "X-Lingang-Sender"),
        (b"Content-Type: application/xml\r\nX-Lingang-Sender: a\xc2\x85b\r\n",
         "inbound.header", "X-Lingang-Sender"),
        (b"Content-Type: application/xml\r\nX-Lingang-Submission-Id: " + b"s" * 201 + b"\r\n",
         "inbound.header", "X-Lingang-Submission-Id"),
        (b"Content-Type: application/x\xffml\r\n", "inbound.media-type", "Content-Type"),
    ],
    ids=["sender-not-utf-8", "profile-not-utf-8", "sender-override", "sender-c1", "long-id", "media-type"],
)  # fmt: skip
async def test_transport_headers_kept_with_a_message_are_text_or_a_400(
    serving_one_receiver: Receiving, tls: TlsFiles, headers: bytes, rule: str, field: str
) -> None:
    """The sender, profile, submission id and media type are stored with the message and the
    sender is shown on the console's received pages. Bytes that are not UTF-8 were a 500
    (the store refuses the lone surrogates aiohttp decodes them to), and a direction
    override was stored and shown as the sender's name. Now: a 400 naming the header, and
    nothing stored."""
    status, problem = await _post_raw(serving_one_receiver, tls, headers)
    assert status == 400, problem
    assert [(e["field"], e["rule"]) for e in problem["errors"]] == [(field, rule)]
    assert await serving_one_receiver.store.list_inbound() == []


async def test_plain_transport_headers_are_kept(
    serving_one_receiver: Receiving, tls: TlsFiles
) -> None:
    status, answer = await _post_raw(
        serving_one_receiver,
        tls,
        b"Content-Type: application/xml; charset=utf-8\r\nX-Lingang-Sender: 0199:5493001KJTIIGC8Y1R12\r\n"
        b"X-Lingang-Profile: pint-sg\r\nX-Lingang-Submission-Id: 01a2495e1b86157efa3301972c3daa56\r\n",
    )
    assert status == 200, answer
    [kept] = await serving_one_receiver.store.list_inbound()
    assert kept.sender == "0199:5493001KJTIIGC8Y1R12" and kept.media_type == "application/xml"
    assert kept.metadata == {
        "profile": "pint-sg",
        "sender_submission": "01a2495e1b86157efa3301972c3daa56",
    }
