"""The AS4 endpoint of a gateway (``POST /as4`` in ``lingang serve``, corner 3), over TLS on
127.0.0.1: received documents are verified, stored with their receipt in one transaction,
answered with a signed receipt that covers what the sender signed, run through the inbound
flow and handed to the local system; duplicates get the original receipt bytes (across a
restart and from another replica, on both stores); bad input gets the ebMS error the profile
names, never a 500, and nothing is stored."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from adapters.base import AdapterContext, Envelope
from adapters.peppol import PeppolAdapter, signals
from adapters.peppol.sender import As4Sender
from adapters.peppol.testing import DnsTestServer
from gateway.api import create_app
from gateway.api.openapi import adapter_operations, documented_operations, served_operations
from gateway.errors import TransientDeliveryError
from gateway.signing.peppol_pki import PeppolTestPki
from gateway.signing.truststore import TrustStore
from gateway.store.peppol_reporting import PeppolReportingStore
from gateway.testing.tls import TlsFiles
from tests.peppol.as4_gateway import (
    CREDIT_NOTE,
    INVOICE,
    GatewayAp,
    document_message,
    post,
    running_gateway,
)
from tests.peppol.conftest import adapter_options


@pytest.mark.parametrize("document", [INVOICE, CREDIT_NOTE])
async def test_a_document_is_received_receipted_and_handed_to_the_local_system(
    ap: GatewayAp,
    pki: PeppolTestPki,
    tls: TlsFiles,
    ap_trust: TrustStore,
    reference: Path,
    document: str,
) -> None:
    body = (reference / document).read_bytes()
    message = document_message(pki, body)
    answer = await post(ap.url, message.body, message.content_type, tls.client_context())
    assert answer.status == 200, answer.body[:300]
    result = answer.signal(ap_trust)
    assert result.receipt is not None and not result.errors
    signals.check_receipt_covers(result.receipt, message)
    (stored,) = await ap.services.store.list_inbound()
    assert stored.message_id == message.message_id and stored.data.startswith(b"<?xml")
    assert stored.tenant_id == "importer"
    facts = stored.metadata["peppol"]
    assert (facts["c2_seat"], facts["c1_country"]) == ("PSG000001", "SG")
    await ap.drain()
    (delivered,) = [p for p in ap.received.iterdir() if p.suffix == ".xml"]
    assert b"urn:peppol:pint:billing-1@sg-1" in delivered.read_bytes()
    (record,) = await PeppolReportingStore(ap.services.store.connector).between(
        datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)
    )
    assert (record.direction, record.c2_seat, record.c3_seat) == ("in", "PSG000001", "PSG000002")


async def test_a_duplicate_gets_the_original_receipt_across_restarts_and_replicas(
    tmp_path: Path,
    pki: PeppolTestPki,
    tls: TlsFiles,
    ap_trust: TrustStore,
    artefacts_home: Path,
    reference: Path,
    store_url: str,
) -> None:
    message = document_message(pki, (reference / INVOICE).read_bytes())
    context = tls.client_context()
    async with running_gateway(
        tmp_path / "one", pki=pki, tls=tls, artefacts_home=artefacts_home, store_url=store_url
    ) as first:
        original = await post(first.url, message.body, message.content_type, context)
        again = await post(first.url, message.body, message.content_type, context)
        async with running_gateway(
            tmp_path / "two", pki=pki, tls=tls, artefacts_home=artefacts_home, store_url=store_url
        ) as replica:
            elsewhere = await post(replica.url, message.body, message.content_type, context)
    async with running_gateway(
        tmp_path / "one", pki=pki, tls=tls, artefacts_home=artefacts_home, store_url=store_url
    ) as restarted:
        after_restart = await post(restarted.url, message.body, message.content_type, context)
        assert original.status == 200 and original.signal(ap_trust).receipt is not None
        assert original.body == again.body == elsewhere.body == after_restart.body
        (stored,) = await restarted.services.store.list_inbound()
        assert len(await restarted.services.store.list_jobs(submission_id=stored.id)) == 1
        await restarted.drain()
        assert len([p for p in restarted.received.iterdir() if p.suffix == ".xml"]) == 1


async def test_our_sender_resends_the_same_bytes_after_a_lost_receipt(
    ap: GatewayAp,
    pki: PeppolTestPki,
    tls: TlsFiles,
    reference: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The gateway stored the message but its receipt never arrived: the retry (the same
    bytes, kept by the sending adapter) gets the original receipt, which verifies."""
    route = {"participant": "*", "url": ap.url, "certificate": str(pki.path("ap-receiver.pem"))}
    options = adapter_options(pki, tls, DnsTestServer(), routes=[route])
    adapter = PeppolAdapter.from_config("peppol", options, AdapterContext(data_dir=tmp_path))
    envelope = Envelope(
        message_id="lost-receipt@lingang",
        body=(reference / INVOICE).read_bytes(),
        receiver="0195:SGUEN200254321Z",
        sender="0195:SGUEN200212345Z",
    )
    conclude = As4Sender._conclude

    def lose_the_answer(*args: Any, **kwargs: Any) -> Any:
        monkeypatch.setattr(As4Sender, "_conclude", conclude)
        raise TransientDeliveryError("connection reset before the receipt", rule="test")

    monkeypatch.setattr(As4Sender, "_conclude", lose_the_answer)
    try:
        with pytest.raises(TransientDeliveryError):
            await adapter.deliver(envelope)
        receipt = await adapter.deliver(envelope)
    finally:
        await adapter.aclose()
    report = receipt.details["report"]
    assert report["resent"] and report["receipt"]["verified"]
    assert len(await ap.services.store.list_inbound()) == 1
    assert not list((tmp_path / "peppol" / "built").iterdir())


class DiedKeepingTheReceipt(BaseException):
    """Stands for a SIGKILL while the adapter writes the verified receipt to disk."""


async def test_a_sender_that_died_keeping_the_receipt_resends_the_kept_message(
    ap: GatewayAp,
    pki: PeppolTestPki,
    tls: TlsFiles,
    reference: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The AP stored the message and answered; the sending process died before it kept the
    receipt (the job is not done, so it runs again after a restart). The retry must send the
    same bytes: the AP answers a repeat with its original receipt, which covers the first
    message's digests only (a rebuilt message would be refused as "other digests" for good,
    and a delivered document dead-lettered)."""
    route = {"participant": "*", "url": ap.url, "certificate": str(pki.path("ap-receiver.pem"))}
    options = adapter_options(pki, tls, DnsTestServer(), routes=[route])
    envelope = Envelope(
        message_id="died-keeping-receipt@lingang",
        body=(reference / INVOICE).read_bytes(),
        receiver="0195:SGUEN200254321Z",
        sender="0195:SGUEN200212345Z",
    )
    import adapters.peppol.adapter as adapter_module

    write = adapter_module.replace_private

    def die_on_the_receipt(path: Path, data: bytes) -> Path:
        raise DiedKeepingTheReceipt

    monkeypatch.setattr(adapter_module, "replace_private", die_on_the_receipt)
    first = PeppolAdapter.from_config("peppol", options, AdapterContext(data_dir=tmp_path))
    try:
        with pytest.raises(DiedKeepingTheReceipt):
            await first.deliver(envelope)
    finally:
        await first.aclose()
    monkeypatch.setattr(adapter_module, "replace_private", write)
    restarted = PeppolAdapter.from_config("peppol", options, AdapterContext(data_dir=tmp_path))
    try:
        receipt = await restarted.deliver(envelope)
    finally:
        await restarted.aclose()
    report = receipt.details["report"]
    assert report["resent"] and report["receipt"]["verified"]
    assert len(await ap.services.store.list_inbound()) == 1
    assert not list((tmp_path / "peppol" / "built").iterdir())


async def test_the_endpoint_is_in_the_openapi_document(ap: GatewayAp) -> None:
    served = served_operations(create_app(ap.services))
    assert ("POST", "/as4") in served & adapter_operations()
    assert served <= documented_operations()
