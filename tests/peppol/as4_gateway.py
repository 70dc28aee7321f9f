"""A receiving gateway (corner 3) for the AS4 endpoint tests: ``open_services`` from a config
file with the ``peppol`` adapter receiving at ``/as4`` and a ``folder`` adapter as the local
system, served on TLS on 127.0.0.1 — and the pieces of a sending AP to talk to it."""

from __future__ import annotations

import json
import ssl
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from lxml import etree

from adapters.peppol import as4, mime, ns, signals, wssec
from adapters.peppol.identifiers import (
    PINT_PROCESS,
    PINT_SG_CREDIT_NOTE,
    PINT_SG_INVOICE,
    DocumentTypeId,
    ParticipantId,
    ProcessId,
)
from adapters.peppol.sbdh import SbdhHeader, build_sbdh
from adapters.peppol.wssec import Credentials
from gateway.api import api_runner, create_app
from gateway.jobs import Worker
from gateway.service import Services, open_services
from gateway.settings import Settings
from gateway.signing.peppol_pki import PeppolIssued, PeppolTestPki
from gateway.signing.truststore import TrustStore
from gateway.testing.tenants import make_tenants, participant_tenants
from gateway.testing.tls import TlsFiles

PARTNERS = Path(__file__).resolve().parents[1] / "data" / "partners.toml"
LOCAL = ParticipantId("0195:SGUEN200254321Z")
"""The importer this gateway receives for (the buyer of the PINT SG examples)."""
SUPPLIER = ParticipantId("0195:SGUEN200212345Z")
EXAMPLES = "openpeppol-pint-sg-1.4.1/trn-invoice/example"
INVOICE = f"{EXAMPLES}/PINT-SG INV example 09 - Zero rated GST.xml"
CREDIT_NOTE = f"{EXAMPLES}/PINT-SG CN example 01 - Credit Note.xml"


@dataclass
class GatewayAp:
    """A running receiving gateway."""

    services: Services
    url: str
    home: Path

    @property
    def received(self) -> Path:
        return self.home / "received"

    async def drain(self) -> int:
        """Run every due job until none is left."""
        worker = Worker(self.services.store, self.services.kinds, worker_id="t", poll_seconds=0.05)
        total = 0
        while ran := await worker.run_once():
            total += ran
        return total


@dataclass(frozen=True)
class Side:
    """Who a gateway is on the network: its AP key (a file stem of the test PKI), its seat,
    the participant it receives for, where its Peppol messages go, its local system."""

    key: str = "ap-receiver"
    seat: str = "PSG000002"
    local: tuple[str, ...] = (f"importer={LOCAL.value}",)
    route: tuple[str, str] | None = None
    """``(url, certificate stem)`` of the AP every message goes to (``None``: discovery)."""
    local_system: str = 'type = "folder"\npath = "received"'
    port: int = 0
    mls_type: str = ""


def gateway_config(
    home: Path,
    *,
    pki: PeppolTestPki,
    tls: TlsFiles,
    artefacts_home: Path,
    store_url: str,
    adapter: str = 'revocation = "off"',
    extra: str = "",
    side: Side | None = None,
) -> str:
    chosen = side or Side()
    route = ""
    if chosen.route is not None:
        url, cert = chosen.route
        route = (
            f'[[adapters.peppol.routes]]\nparticipant = "*"\nurl = "{url}"\n'
            f'certificate = "{pki.path(cert + ".pem")}"'
        )
    return f"""
data_dir = "{home}"
[store]
url = "{store_url}"
[pipeline]
artefacts = "{artefacts_home}"
sign = false
stage_processes = 0
partners = "{PARTNERS}"
[validation]
engine = "saxonche"
[worker]
max_attempts = 2
[peppol]
seat_id = "{chosen.seat}"
local_participants = {json.dumps(list(chosen.local))}
[adapters.peppol]
type = "peppol"
key = "{pki.path(chosen.key + ".key.pem")}"
cert = "{pki.path(chosen.key + ".pem")}"
ap_trust = ["{pki.path("ap-ca.pem")}"]
smp_trust = ["{pki.path("smp-ca.pem")}"]
sml_zone = "sml.lingang.test."
tls_ca = "{tls.ca}"
receive_path = "/as4"
mls_type = "{chosen.mls_type}"
timeout = 10
{adapter}
{route}
[adapters.erp]
{chosen.local_system}
[routing]
default = "peppol"
inbound = "erp"
{extra}
"""


@asynccontextmanager
async def running_gateway(
    home: Path,
    *,
    pki: PeppolTestPki,
    tls: TlsFiles,
    artefacts_home: Path,
    store_url: str | None = None,
    adapter: str = 'revocation = "off"',
    extra: str = "",
    side: Side | None = None,
) -> AsyncIterator[GatewayAp]:
    """``open_services`` + the API app (with ``/as4``) on TLS on 127.0.0.1."""
    home.mkdir(parents=True, exist_ok=True)
    config = home.parent / f"{home.name}.toml"
    config.write_text(
        gateway_config(
            home,
            pki=pki,
            tls=tls,
            artefacts_home=artefacts_home,
            store_url=store_url or f"sqlite:///{home / 'gateway.db'}",
            adapter=adapter,
            extra=extra,
            side=side,
        ),
        encoding="utf-8",
    )
    settings = Settings.load(config, env={})
    await make_tenants(settings.store.url, participant_tenants(settings.peppol.local_participants))
    services = await open_services(settings)
    runner = api_runner(create_app(services))
    await runner.setup()
    site = web.TCPSite(
        runner,
        "127.0.0.1",
        side.port if side else 0,
        ssl_context=tls.server_context(require_client_cert=False),
    )
    await site.start()
    try:
        yield GatewayAp(services, f"https://127.0.0.1:{runner.addresses[0][1]}/as4", home)
    finally:
        await runner.cleanup()
        await services.close()


def sbdh_header(
    document_type: DocumentTypeId = PINT_SG_INVOICE,
    *,
    receiver: ParticipantId = LOCAL,
    process: ProcessId = PINT_PROCESS,
    **changes: Any,
) -> SbdhHeader:
    header = SbdhHeader(
        sender=SUPPLIER,
        receiver=receiver,
        document_type=document_type,
        process=process,
        country_c1="SG",
    )
    return replace(header, **changes)


def user_message(
    sbdh: bytes,
    header: SbdhHeader,
    *,
    signer: PeppolIssued,
    receiver_cert: Any,
    **changes: Any,
) -> as4.OutgoingMessage:
    """A UserMessage built with our codec (a sending AP's side)."""
    message_header = as4.UserMessageHeader(
        from_party="PSG000001",
        to_party="PSG000002",
        service=header.process,
        action=header.document_type,
        original_sender=header.sender,
        final_recipient=header.receiver,
    )
    return as4.build_user_message(
        sbdh,
        replace(message_header, **changes),
        Credentials(signer.key, signer.cert),
        receiver_cert,
    )


def document_message(
    pki: PeppolTestPki, body: bytes, header: SbdhHeader | None = None, **changes: Any
) -> as4.OutgoingMessage:
    chosen = header or sbdh_header(
        PINT_SG_CREDIT_NOTE if b"<CreditNote" in body[:2000] else PINT_SG_INVOICE
    )
    return user_message(
        build_sbdh(body, chosen),
        chosen,
        signer=changes.pop("signer", pki.sender),
        receiver_cert=changes.pop("receiver_cert", pki.receiver.cert),
        **changes,
    )


@dataclass(frozen=True)
class Answer:
    status: int
    content_type: str
    body: bytes

    def signal(self, trust: TrustStore) -> signals.SignalResult:
        return signals.parse_signal(self.content_type, self.body, check_signer=trust.check)

    def error_codes(self, trust: TrustStore) -> list[tuple[str, str]]:
        return [(e.code, e.detail) for e in self.signal(trust).errors]


async def post(url: str, body: bytes, content_type: str, context: ssl.SSLContext) -> Answer:
    """POST one AS4 message over TLS."""
    connector = aiohttp.TCPConnector(ssl=context)
    async with (
        aiohttp.ClientSession(connector=connector) as session,
        session.post(url, data=body, headers={"Content-Type": content_type}) as response,
    ):
        return Answer(
            response.status, response.headers.get("Content-Type", ""), await response.read()
        )


def probe_message(
    pki: PeppolTestPki,
    document: bytes,
    tag: str,
    *,
    edit_messaging: Callable[[etree._Element], None] | None = None,
    body_content: bool = False,
    mutate_security: Callable[[etree._Element, etree._Element], None] | None = None,
) -> tuple[bytes, str]:
    """``document`` as a signed, encrypted UserMessage built step by step as
    :func:`as4.build_user_message` does, so that one thing can be made wrong: its
    ``eb:Messaging`` edited (``edit_messaging``) and an element put in the SOAP Body
    (``body_content``) before signing, or its finished ``wsse:Security`` header and
    ``ds:Signature`` changed afterwards (``mutate_security``). The MIME body and its
    Content-Type."""
    header = sbdh_header()
    compressed = as4.compress(build_sbdh(document, header))
    content_id = f"{uuid.uuid4()}@{tag}"
    messaging_id, body_id = wssec.new_id("msg"), wssec.new_id("body")
    messaging = as4.messaging_element(
        as4.UserMessageHeader(
            from_party="PSG000001",
            to_party="PSG000002",
            service=header.process,
            action=header.document_type,
            original_sender=header.sender,
            final_recipient=header.receiver,
        ),
        content_id,
        messaging_id,
    )
    if edit_messaging is not None:
        edit_messaging(messaging)
    security = wssec.security_header()
    envelope = as4.soap_envelope(security, messaging, body_id)
    if body_content:
        soap_body = envelope.find("S12:Body", ns.NSMAP)
        assert soap_body is not None
        etree.SubElement(soap_body, "{urn:example}Invoice").text = "in the Body"
    as4.sign_envelope(
        envelope,
        security,
        wssec.Credentials(pki.sender.key, pki.sender.cert),
        element_ids=[messaging_id, body_id],
        attachments={content_id: compressed},
    )
    sealed = wssec.encrypt_attachments(security, pki.receiver.cert, {content_id: compressed})
    if mutate_security is not None:
        signature = security.find("ds:Signature", ns.NSMAP)
        assert signature is not None
        mutate_security(security, signature)
    soap = etree.tostring(envelope, xml_declaration=True, encoding="UTF-8")
    return mime.build_multipart(
        soap, [(content_id, "application/octet-stream", sealed[content_id])]
    )
