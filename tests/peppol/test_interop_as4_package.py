"""Interoperability with code we did not write: the PyPI ``as4`` package (Peppol AS4 profile
built in) receives our messages over loopback TLS and answers receipts that we verify, and we
receive its messages and answer receipts that it verifies."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from as4 import AS4LocalPrivateKey, ParticipantNotServicedError
from as4.peppol import (
    build_peppol_message,
    create_peppol_external_party,
    create_peppol_internal_party,
    parse_peppol_message,
    parse_peppol_receipt,
    peppol_security_policy,
)

from adapters.base import AdapterContext, Envelope
from adapters.peppol import PeppolAdapter
from adapters.peppol.errors import As4Rejected
from adapters.peppol.identifiers import BIS3_INVOICE, BIS3_PROCESS
from adapters.peppol.sbdh import parse_sbdh
from adapters.peppol.testing import As4TestReceiver, DnsTestServer
from gateway.signing.peppol_pki import PeppolTestPki
from gateway.signing.truststore import TrustStore
from gateway.testing.tls import TlsFiles
from tests.peppol.as4_gateway import LOCAL, post, running_gateway
from tests.peppol.conftest import RECEIVER, adapter_options, with_endpoint

EXAMPLES = "openpeppol-pint-sg-1.4.1/trn-invoice/example"


class As4PackageEndpoint:
    """A receiving AP made of the ``as4`` package behind aiohttp (TLS on 127.0.0.1)."""

    def __init__(self, pki: PeppolTestPki, tls: TlsFiles):
        self.local = create_peppol_internal_party(
            party_id="PSG000002",
            certificate=pki.receiver.cert,
            private_key=AS4LocalPrivateKey(pki.receiver.key),
        )
        self.policy = peppol_security_policy(pki.root.cert, intermediates=[pki.ap_ca.cert])
        self.tls = tls
        self.payloads: list[bytes] = []
        self.not_serviced = False
        self.runner: web.AppRunner | None = None
        self.url = ""

    def _accept(self, participant: str) -> None:
        if self.not_serviced:
            raise ParticipantNotServicedError(f"{participant} is not serviced here")

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        exchange = parse_peppol_message(
            dict(request.headers),
            body,
            self.local,
            accept_participant=self._accept,
            security_policy=self.policy,
        )
        if exchange.successful:
            self.payloads.extend(exchange.message.decrypted_data.values())
        headers, signal = exchange.build_signal()
        return web.Response(body=signal, headers=headers)

    async def start(self) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/as4", self.handle)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(
            self.runner,
            "127.0.0.1",
            0,
            ssl_context=self.tls.server_context(require_client_cert=False),
        )
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"https://127.0.0.1:{port}/as4"


@pytest.fixture
async def as4_endpoint(pki: PeppolTestPki, tls: TlsFiles) -> AsyncIterator[As4PackageEndpoint]:
    endpoint = As4PackageEndpoint(pki, tls)
    await endpoint.start()
    yield endpoint
    assert endpoint.runner is not None
    await endpoint.runner.cleanup()


@pytest.fixture
async def to_as4(
    pki: PeppolTestPki, tls: TlsFiles, as4_endpoint: As4PackageEndpoint, tmp_path: Path
) -> AsyncIterator[PeppolAdapter]:
    route = {
        "participant": "*",
        "url": as4_endpoint.url,
        "certificate": str(pki.path("ap-receiver.pem")),
    }
    options = adapter_options(pki, tls, DnsTestServer(), routes=[route])
    adapter = PeppolAdapter.from_config("peppol", options, AdapterContext(data_dir=tmp_path))
    yield adapter
    await adapter.aclose()


@pytest.mark.parametrize(
    "name",
    [
        "PINT-SG INV example 02 - full valid invoice 1.xml",
        "PINT-SG CN example 01 - Credit Note.xml",
    ],
)
async def test_as4_package_receives_ours_and_we_verify_its_receipt(
    reference: Path, to_as4: PeppolAdapter, as4_endpoint: As4PackageEndpoint, name: str
) -> None:
    body = (reference / EXAMPLES / name).read_bytes()
    envelope = Envelope(
        message_id=f"interop-{len(name)}@lingang",
        body=body,
        receiver=RECEIVER.value,
        profile="pint-sg",
    )
    receipt = await to_as4.deliver(envelope)
    report = receipt.details["report"]
    assert (
        report["receipt"]["verified"]
        and report["receipt"]["ref_to_message_id"] == envelope.message_id
    )
    assert len(report["receipt"]["references"]) == 3
    assert len(as4_endpoint.payloads) == 1
    received = parse_sbdh(as4_endpoint.payloads[0])
    assert received.header.receiver == RECEIVER and received.header.country_c1 == "SG"


async def test_as4_package_not_serviced_is_final(
    reference: Path, to_as4: PeppolAdapter, as4_endpoint: As4PackageEndpoint
) -> None:
    as4_endpoint.not_serviced = True
    body = (reference / EXAMPLES / "PINT-SG INV example 02 - full valid invoice 1.xml").read_bytes()
    with pytest.raises(As4Rejected) as caught:
        await to_as4.deliver(
            Envelope(message_id="interop-ns@lingang", body=body, receiver=RECEIVER.value)
        )
    assert not caught.value.retryable
    assert caught.value.errors and caught.value.errors[0].code == "EBMS:0004"


async def test_we_receive_the_as4_package_and_it_verifies_our_receipt(
    reference: Path, pki: PeppolTestPki, tls: TlsFiles, receiver: As4TestReceiver
) -> None:
    """The reverse direction, through our codec's receive side (what issue 14 builds on).
    The ``as4`` package builds only ``busdox-docid-qns`` document types, so this is BIS 3."""
    bis3 = with_endpoint(
        (
            reference / "openpeppol-peppol-bis-invoice-3/rules/examples/base-example.xml"
        ).read_bytes(),
        "AccountingCustomerParty",
        RECEIVER,
    )
    local = create_peppol_internal_party(
        party_id="PSG000001",
        certificate=pki.sender.cert,
        private_key=AS4LocalPrivateKey(pki.sender.key),
    )
    remote = create_peppol_external_party(party_id="PSG000002", certificate=pki.receiver.cert)
    message = build_peppol_message(
        bis3,
        local_party=local,
        remote_party=remote,
        sender="0088:9482348239847239874",
        recipient=RECEIVER.value,
        document_type_identifier_scheme="busdox-docid-qns",
        document_type_identifier_value=BIS3_INVOICE.value,
        process_identifier=BIS3_PROCESS.value,
        sender_country_id="CN",
    )
    body, boundary = message.get_request_data()
    headers: dict[str, Any] = message.get_http_headers(boundary)
    connector = aiohttp.TCPConnector(ssl=tls.client_context())
    async with (
        aiohttp.ClientSession(connector=connector) as session,
        session.post(receiver.url, data=body, headers=headers) as response,
    ):
        answer = await response.read()
    receipt = parse_peppol_receipt(answer, pki.receiver.cert)
    receipt.verify_non_repudiation(message.signed_references)
    (received,) = receiver.received.values()
    assert parse_sbdh(received).header.document_type == BIS3_INVOICE


async def test_the_as4_package_enveloping_another_process_gets_our_ebms_0004(
    reference: Path, pki: PeppolTestPki, tls: TlsFiles, tmp_path: Path, artefacts_home: Path
) -> None:
    """A BIS 3 invoice (``ProfileID`` ``…billing:01:1.0``) that the ``as4`` package envelopes
    and routes under another process this gateway serves for BIS 3 invoices
    (``urn:peppol:bis:billing_with_response``), SBDH and AS4 Service agreeing: the envelope
    is not the payload's, so the gateway answers a signed ``EBMS:0004`` naming both and
    stores nothing; under the payload's own process the same invoice is receipted."""
    bis3 = with_endpoint(
        (
            reference / "openpeppol-peppol-bis-invoice-3/rules/examples/base-example.xml"
        ).read_bytes(),
        "AccountingCustomerParty",
        LOCAL,
    )
    local = create_peppol_internal_party(
        party_id="PSG000001",
        certificate=pki.sender.cert,
        private_key=AS4LocalPrivateKey(pki.sender.key),
    )
    remote = create_peppol_external_party(party_id="PSG000002", certificate=pki.receiver.cert)
    trust = TrustStore((pki.ap_ca.cert,), what="access point certificate")
    async with running_gateway(
        tmp_path / "c3", pki=pki, tls=tls, artefacts_home=artefacts_home
    ) as gateway:
        answers = []
        for process in ("urn:peppol:bis:billing_with_response", BIS3_PROCESS.value):
            message = build_peppol_message(
                bis3,
                local_party=local,
                remote_party=remote,
                sender="0088:9482348239847239874",
                recipient=LOCAL.value,
                document_type_identifier_scheme="busdox-docid-qns",
                document_type_identifier_value=BIS3_INVOICE.value,
                process_identifier=process,
                sender_country_id="CN",
            )
            body, boundary = message.get_request_data()
            answer = await post(
                gateway.url, body, message.get_http_headers(boundary)["Content-Type"],
                tls.client_context(),
            )  # fmt: skip
            answers.append((answer, len(await gateway.services.store.list_inbound())))
    (refused, stored_then), (taken, stored_after) = answers
    assert refused.error_codes(trust) == [("EBMS:0004", "")] and stored_then == 0
    (error,) = refused.signal(trust).errors
    assert "billing_with_response" in error.description
    assert "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0" in error.description
    assert taken.signal(trust).receipt is not None and stored_after == 1
