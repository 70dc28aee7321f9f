"""A loopback Peppol network: the Peppol-like test PKI, TLS, an SML (DNS), an SMP over
HTTPS and a receiving AS4 access point, all on 127.0.0.1."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from adapters.base import AdapterContext
from adapters.peppol import PeppolAdapter
from adapters.peppol.identifiers import (
    PINT_PROCESS,
    PINT_SG_CREDIT_NOTE,
    PINT_SG_INVOICE,
    ParticipantId,
)
from adapters.peppol.testing import As4TestReceiver, DnsTestServer, SmpEntry, SmpTestServer
from adapters.peppol.wssec import Credentials
from gateway.signing.peppol_pki import PeppolIssued, PeppolTestPki, make_peppol_pki
from gateway.signing.truststore import TrustStore
from gateway.testing.tls import TlsFiles, make_tls
from tests.peppol.as4_gateway import GatewayAp, running_gateway

RECEIVER = ParticipantId("0195:SGUEN200254321Z")
"""A registered Singapore buyer (the SML and SMP know it)."""
UNKNOWN = ParticipantId("0195:SGUEN209999999Z")
ZONE = "sml.lingang.test."


def credentials(issued: PeppolIssued) -> Credentials:
    return Credentials(issued.key, issued.cert)


_ENDPOINT = re.compile(rb"<cbc:EndpointID[^>]*>[^<]*</cbc:EndpointID>")


def with_endpoint(document: bytes, party: str, participant: ParticipantId) -> bytes:
    """A UBL ``document`` whose ``party`` (``AccountingSupplierParty`` or
    ``AccountingCustomerParty``) has ``participant`` as its electronic address: what an
    example must say to travel to or from a participant of these tests, since the SBDH's
    Sender and Receiver must be the document's own (BR-SBDH-1/2, PINT's enveloping rule)."""
    found = _ENDPOINT.search(document, document.index(f"<cac:{party}>".encode()))
    assert found is not None, party
    icd, value = participant.value.split(":", 1)
    endpoint = f'<cbc:EndpointID schemeID="{icd}">{value}</cbc:EndpointID>'.encode()
    return document[: found.start()] + endpoint + document[found.end() :]


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> PeppolTestPki:
    return make_peppol_pki(tmp_path_factory.mktemp("peppol-pki"))


@pytest.fixture(scope="session")
def tls(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    return make_tls(tmp_path_factory.mktemp("peppol-tls"))


@pytest.fixture(scope="session")
def ap_trust(pki: PeppolTestPki) -> TrustStore:
    return TrustStore((pki.ap_ca.cert,), what="access point certificate")


@pytest.fixture(scope="session")
def smp_trust(pki: PeppolTestPki) -> TrustStore:
    return TrustStore((pki.smp_ca.cert,), what="SMP certificate")


@pytest.fixture
async def receiver(
    pki: PeppolTestPki, tls: TlsFiles, ap_trust: TrustStore
) -> AsyncIterator[As4TestReceiver]:
    server = As4TestReceiver(
        credentials(pki.receiver),
        tls.server_context(require_client_cert=False),
        check_signer=ap_trust.check,
        foreign=credentials(pki.rogue),
    )
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def smp(
    pki: PeppolTestPki, tls: TlsFiles, receiver: As4TestReceiver
) -> AsyncIterator[SmpTestServer]:
    server = SmpTestServer(credentials(pki.smp), tls.server_context(require_client_cert=False))
    for doctype in (PINT_SG_INVOICE, PINT_SG_CREDIT_NOTE):
        server.register(RECEIVER, SmpEntry(doctype, PINT_PROCESS, receiver.url, pki.receiver.cert))
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def dns_server(smp: SmpTestServer) -> AsyncIterator[DnsTestServer]:
    server = DnsTestServer(zone=ZONE)
    server.register(RECEIVER, smp.url)
    await server.start()
    yield server
    await server.stop()


def adapter_options(
    pki: PeppolTestPki, tls: TlsFiles, dns_server: DnsTestServer, **extra: Any
) -> dict[str, Any]:
    return {
        "type": "peppol",
        "key": str(pki.path("ap-sender.key.pem")),
        "cert": str(pki.path("ap-sender.pem")),
        "ap_trust": [str(pki.path("ap-ca.pem"))],
        "smp_trust": [str(pki.path("smp-ca.pem"))],
        "revocation": "off",
        "sml_zone": ZONE,
        "sml_nameservers": [dns_server.nameserver],
        "tls_ca": str(tls.ca),
        "country_c1": "CN",
        "sender": "0088:6970000000001",
        "timeout": 5,
        **extra,
    }


@pytest.fixture
async def adapter(
    pki: PeppolTestPki, tls: TlsFiles, dns_server: DnsTestServer, tmp_path: Path
) -> AsyncIterator[PeppolAdapter]:
    made = PeppolAdapter.from_config(
        "peppol", adapter_options(pki, tls, dns_server), AdapterContext(data_dir=tmp_path)
    )
    made.sender.discovery.sml = made.sender.discovery.sml and type(made.sender.discovery.sml)(
        zone=ZONE, nameservers=(dns_server.nameserver,), timeout=1.0
    )
    yield made
    await made.aclose()


@pytest.fixture
async def ap(
    tmp_path: Path, pki: PeppolTestPki, tls: TlsFiles, artefacts_home: Path
) -> AsyncIterator[GatewayAp]:
    """A receiving gateway (corner 3) on TLS, as :func:`running_gateway` makes it (a test
    module needing other options defines its own ``ap``)."""
    async with running_gateway(
        tmp_path / "c3", pki=pki, tls=tls, artefacts_home=artefacts_home
    ) as gateway:
        yield gateway
