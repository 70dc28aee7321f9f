"""Sending stays on our Peppol network: the SMP's signing certificate, the endpoint certificate
it publishes (or a static route names) and the receipt's signer must be of the network our own
AP certificate is of (production or test, by subject OU), or nothing is sent.

The Peppol AS4 profile (``07-peppol-pki.adoc``): "All communication in the Peppol network uses
the Peppol PKI. Certificates MUST be verified upon fetching from the SMP." Production and test
are separate networks with their own CAs; a trust store holding both (a combined bundle, or
the Peppol root as anchor) must still not let a test SMP route a production document, nor the
reverse."""

from __future__ import annotations

import base64
import ssl
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID

from adapters.base import AdapterContext
from adapters.peppol import PeppolAdapter, as4, mime
from adapters.peppol.errors import SmpAnswerInvalid
from adapters.peppol.identifiers import (
    PINT_PROCESS,
    PINT_SG_INVOICE,
    DocumentTypeId,
    ParticipantId,
    ProcessId,
)
from adapters.peppol.smp import SmpClient, choose_endpoint, read_signed_metadata
from adapters.peppol.testing import As4TestReceiver, DnsTestServer, SmpTestServer
from adapters.peppol.trust import peppol_network
from adapters.peppol.wssec import Credentials
from gateway.errors import ConfigError, PermanentDeliveryError
from gateway.signing.peppol_pki import PeppolIssued, PeppolTestPki, issue_access_point, issue_smp
from gateway.signing.truststore import TrustStore
from gateway.testing.tls import TlsFiles
from tests.peppol.conftest import RECEIVER, adapter_options
from tests.peppol.test_peppol_adapter import INVOICE, envelope_for

PHASE4_MESSAGE = "phax-phase4-examples/usermessage/dump-raw.as4out"
REAL_ANSWER = "phax-peppol-commons/smp-examples/signed-service-metadata3-c14n-inclusive.xml"


def production_ap(pki: PeppolTestPki, seat_id: str) -> PeppolIssued:
    """An AP certificate of the production network from the test AP CA (the CA is not what
    is compared here: the certificate's network is)."""
    now = datetime.now(UTC)
    return issue_access_point(
        pki.ap_ca,
        seat_id,
        not_before=now - timedelta(days=1),
        not_after=now + timedelta(days=30),
        unit="PEPPOL PRODUCTION AP",
    )


def write_credentials(issued: PeppolIssued, folder: Path) -> tuple[Path, Path]:
    key, cert = folder / "ap.key.pem", folder / "ap.pem"
    key.write_bytes(
        issued.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    cert.write_bytes(issued.cert.public_bytes(serialization.Encoding.PEM))
    return key, cert


@pytest.fixture
async def made(
    pki: PeppolTestPki, tls: TlsFiles, dns_server: DnsTestServer, tmp_path: Path
) -> AsyncIterator[list[PeppolAdapter]]:
    """Adapters a test makes, closed after it."""
    adapters: list[PeppolAdapter] = []
    yield adapters
    for adapter in adapters:
        await adapter.aclose()


def make_adapter(
    made: list[PeppolAdapter],
    pki: PeppolTestPki,
    tls: TlsFiles,
    dns_server: DnsTestServer,
    folder: Path,
    **extra: object,
) -> PeppolAdapter:
    folder.mkdir(parents=True, exist_ok=True)
    adapter = PeppolAdapter.from_config(
        "peppol", adapter_options(pki, tls, dns_server, **extra), AdapterContext(data_dir=folder)
    )
    made.append(adapter)
    return adapter


def test_the_network_is_read_from_the_subject_ou(pki: PeppolTestPki, reference: Path) -> None:
    assert peppol_network(pki.sender.cert) == peppol_network(pki.smp.cert) == "test"
    assert peppol_network(production_ap(pki, "PSG000001").cert) == "production"
    assert peppol_network(pki.root.cert) is None  # no Peppol network named: not compared
    # phase4's real G3 test AP certificate (OU=PEPPOL TEST AP, PEPPOL ACCESS POINT TEST CA - G3)
    headers, body = mime.split_http_dump((reference / PHASE4_MESSAGE).read_bytes())
    root = as4.parse_soap(mime.parse_message(headers["content-type"], body).soap)
    tokens = root.iterfind(".//{*}BinarySecurityToken")
    certs = [x509.load_der_x509_certificate(base64.b64decode(t.text or "")) for t in tokens]
    assert {c.issuer.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value for c in certs} >= {
        "PEPPOL ACCESS POINT TEST CA - G3"
    }
    assert {peppol_network(c) for c in certs} == {"test"}


@pytest.mark.parametrize(
    ("issuer", "network"),
    [
        ("PEPPOL ACCESS POINT TEST CA - G3", "test"),
        ("PEPPOL SERVICE METADATA PUBLISHER TEST CA - G3", "test"),
        ("PEPPOL ACCESS POINT CA - G3", "production"),
        ("PEPPOL SERVICE METADATA PUBLISHER CA - G2", "production"),
    ],
)
def test_without_its_ou_a_certificate_is_of_its_issuing_cas_network(
    pki: PeppolTestPki, issuer: str, network: str
) -> None:
    """OpenPeppol's issuing CAs (the names in its published truststores) say the network of a
    certificate whose subject names none; another organisation's CA of that name says none."""

    def issued_by(organisation: str) -> x509.Certificate:
        name = x509.Name(
            [
                x509.NameAttribute(NameOID.COUNTRY_NAME, "BE"),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
                x509.NameAttribute(NameOID.COMMON_NAME, issuer),
            ]
        )
        now = datetime.now(UTC)
        return (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "POP000001")]))
            .issuer_name(name)
            .public_key(pki.sender.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now)
            .not_valid_after(now + timedelta(days=1))
            .sign(pki.ap_ca.key, hashes.SHA256())
        )

    assert peppol_network(issued_by("OpenPEPPOL AISBL")) == network
    assert peppol_network(issued_by("Someone Else")) is None


async def test_a_production_sender_refuses_a_test_smp_before_sending(
    pki: PeppolTestPki,
    tls: TlsFiles,
    dns_server: DnsTestServer,
    smp: SmpTestServer,
    receiver: As4TestReceiver,
    reference: Path,
    tmp_path: Path,
    made: list[PeppolAdapter],
) -> None:
    key, cert = write_credentials(production_ap(pki, "PSG000001"), tmp_path)
    adapter = make_adapter(
        made, pki, tls, dns_server, tmp_path / "data", key=str(key), cert=str(cert)
    )
    envelope = envelope_for(reference, INVOICE, "sub-network.peppol@lingang")
    with pytest.raises(PermanentDeliveryError) as caught:
        await adapter.deliver(envelope)
    message = caught.value.message
    assert "the SMP's signing certificate" in message and "CN=PSG000003" in message
    assert "Peppol test network" in message and "on the production network" in message
    assert not caught.value.retryable
    assert receiver.deliveries == 0


async def test_an_endpoint_certificate_of_the_other_network_is_refused(
    pki: PeppolTestPki,
    tls: TlsFiles,
    dns_server: DnsTestServer,
    smp: SmpTestServer,
    receiver: As4TestReceiver,
    smp_trust: TrustStore,
    ap_trust: TrustStore,
    reference: Path,
    tmp_path: Path,
    made: list[PeppolAdapter],
) -> None:
    """The test SMP publishes a production AP certificate (trusted: the same CA issues it
    here): refused by the SMP client and, through the adapter, before anything is sent."""
    entries = smp.entries[RECEIVER.value.lower()]
    entries[0] = replace(entries[0], ap_cert=production_ap(pki, "PSG000002").cert)
    smp_client = SmpClient(
        smp_trust,
        ap_trust,
        ssl_context=ssl.create_default_context(cafile=str(tls.ca)),
        timeout=2,
        network="test",
    )
    try:
        with pytest.raises(SmpAnswerInvalid) as caught:
            await smp_client.endpoint(smp.url, RECEIVER, PINT_SG_INVOICE, PINT_PROCESS)
    finally:
        await smp_client.aclose()
    assert caught.value.rule == "smp.endpoint-network"
    assert "the receiving AP's certificate" in caught.value.message
    assert "CN=PSG000002" in caught.value.message and "production network" in caught.value.message

    adapter = make_adapter(made, pki, tls, dns_server, tmp_path / "data")
    with pytest.raises(PermanentDeliveryError, match=r"the receiving AP.s certificate"):
        await adapter.deliver(envelope_for(reference, INVOICE, "sub-endpoint.peppol@lingang"))
    assert receiver.deliveries == 0


async def test_a_production_smp_is_refused_by_a_test_sender(
    pki: PeppolTestPki,
    tls: TlsFiles,
    smp: SmpTestServer,
    smp_trust: TrustStore,
    ap_trust: TrustStore,
) -> None:
    production = issue_smp(pki.smp_ca, "PSG000003", unit="PEPPOL PRODUCTION SMP")
    smp.signer = Credentials(production.key, production.cert)
    smp_client = SmpClient(
        smp_trust,
        ap_trust,
        ssl_context=ssl.create_default_context(cafile=str(tls.ca)),
        timeout=2,
        network="test",
    )
    try:
        with pytest.raises(SmpAnswerInvalid) as caught:
            await smp_client.endpoint(smp.url, RECEIVER, PINT_SG_INVOICE, PINT_PROCESS)
    finally:
        await smp_client.aclose()
    assert caught.value.rule == "smp.signer-network"
    assert "PEPPOL PRODUCTION SMP" in caught.value.message


def test_the_real_signed_answers_are_of_the_production_network(reference: Path) -> None:
    """OpenPeppol's production SMP answer (signed by ``OU=PEPPOL PRODUCTION SMP``, naming an
    ``OU=PEPPOL PRODUCTION AP`` endpoint) serves a production sender and is refused, signer
    first, by a test one."""
    data = (reference / REAL_ANSWER).read_bytes()
    participant = ParticipantId("0106:55872255")
    info = read_signed_metadata(data, None, legacy_sha1=True)
    doctype = DocumentTypeId(
        info.findtext("{http://busdox.org/transport/identifiers/1.0/}DocumentIdentifier") or "",
        "busdox-docid-qns",
    )
    process = ProcessId("urn:www.cenbii.eu:profile:bii04:ver1.0")
    test_client = SmpClient(None, None, legacy_sha1=True, network="test")
    with pytest.raises(SmpAnswerInvalid) as caught:
        test_client._trusted_endpoint(data, participant, doctype, process, "https://smp.example")
    assert caught.value.rule == "smp.signer-network"
    assert "OU=PEPPOL PRODUCTION SMP" in caught.value.message
    in_2019 = datetime(2019, 1, 1, tzinfo=UTC)
    with pytest.raises(SmpAnswerInvalid) as refused:
        choose_endpoint(info, participant, doctype, process, None, now=in_2019, network="test")
    assert refused.value.rule == "smp.endpoint-network"
    assert "OU=PEPPOL PRODUCTION AP" in refused.value.message
    found = choose_endpoint(
        info, participant, doctype, process, None, now=in_2019, network="production"
    )
    assert found.url == "https://ap.econnect.eu/as4/v1"


async def test_a_static_route_to_the_other_network_sends_nothing(
    pki: PeppolTestPki,
    tls: TlsFiles,
    dns_server: DnsTestServer,
    receiver: As4TestReceiver,
    reference: Path,
    tmp_path: Path,
    made: list[PeppolAdapter],
) -> None:
    route_cert = tmp_path / "route.pem"
    route_cert.write_bytes(
        production_ap(pki, "PSG000002").cert.public_bytes(serialization.Encoding.PEM)
    )
    route = {"participant": RECEIVER.value, "url": receiver.url, "certificate": str(route_cert)}
    adapter = make_adapter(made, pki, tls, dns_server, tmp_path / "data", routes=[route])
    with pytest.raises(PermanentDeliveryError) as caught:
        await adapter.deliver(envelope_for(reference, INVOICE, "sub-route.peppol@lingang"))
    assert caught.value.rule == "as4.endpoint-network"
    assert "CN=PSG000002" in caught.value.message
    assert receiver.deliveries == 0


async def test_a_receipt_signed_on_the_other_network_is_refused(
    pki: PeppolTestPki,
    tls: TlsFiles,
    dns_server: DnsTestServer,
    smp: SmpTestServer,
    receiver: As4TestReceiver,
    reference: Path,
    tmp_path: Path,
    made: list[PeppolAdapter],
) -> None:
    """The receiving AP's production certificate (its seat id, the same CN, from a CA in our
    ``ap_trust``) signs the receipt for a message sent on the test network: not the receipt
    of the AP the test SMP named."""
    production = production_ap(pki, "PSG000002")
    receiver.foreign = Credentials(production.key, production.cert)
    receiver.fault = "foreign-signer"
    adapter = make_adapter(made, pki, tls, dns_server, tmp_path / "data")
    with pytest.raises(PermanentDeliveryError) as caught:
        await adapter.deliver(envelope_for(reference, INVOICE, "sub-receipt.peppol@lingang"))
    assert caught.value.rule == "as4.receipt-network"
    assert "the receipt's signer" in caught.value.message


@pytest.mark.parametrize("zone", ["production", "participant.sml.prod.tech.peppol.org"])
def test_a_test_certificate_with_the_production_sml_does_not_start(
    pki: PeppolTestPki, tls: TlsFiles, dns_server: DnsTestServer, tmp_path: Path, zone: str
) -> None:
    options = adapter_options(pki, tls, dns_server, sml_zone=zone)
    with pytest.raises(ConfigError) as caught:
        PeppolAdapter.from_config("peppol", options, AdapterContext(data_dir=tmp_path))
    assert caught.value.field == "adapters.peppol.sml_zone"
    assert (
        "production network's SML" in caught.value.message
        and "test network" in caught.value.message
    )
    for fine in ("test", "sml.lingang.test."):
        options = adapter_options(pki, tls, dns_server, sml_zone=fine)
        PeppolAdapter.from_config("peppol", options, AdapterContext(data_dir=tmp_path))


def test_the_sml_zone_defaults_to_the_network_of_our_certificate(
    pki: PeppolTestPki, tls: TlsFiles, dns_server: DnsTestServer, tmp_path: Path
) -> None:
    from adapters.peppol.adapter import build_sender
    from adapters.peppol.sml import PRODUCTION_ZONE, TEST_ZONE

    options = adapter_options(pki, tls, dns_server)
    del options["sml_zone"], options["type"]
    sml = build_sender("peppol", options, tmp_path).discovery.sml
    assert sml is not None and sml.zone == TEST_ZONE
    key, cert = write_credentials(production_ap(pki, "PSG000001"), tmp_path)
    sml = build_sender(
        "peppol", {**options, "key": str(key), "cert": str(cert)}, tmp_path
    ).discovery.sml
    assert sml is not None and sml.zone == PRODUCTION_ZONE


@pytest.mark.parametrize("kind", ["expired", "untrusted"])
async def test_a_static_routes_certificate_is_checked_before_anything_is_sent(
    pki: PeppolTestPki,
    tls: TlsFiles,
    dns_server: DnsTestServer,
    receiver: As4TestReceiver,
    reference: Path,
    tmp_path: Path,
    made: list[PeppolAdapter],
    kind: str,
) -> None:
    """A route configured once outlives its partner's certificate: an expired one, or one from
    a CA outside ``ap_trust``, is refused before the document is encrypted to it."""
    now = datetime.now(UTC)
    cert = (
        issue_access_point(
            pki.ap_ca,
            "PSG000002",
            not_before=now - timedelta(days=30),
            not_after=now - timedelta(days=1),
        ).cert
        if kind == "expired"
        else pki.rogue.cert
    )
    route_cert = tmp_path / "route.pem"
    route_cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    route = {"participant": RECEIVER.value, "url": receiver.url, "certificate": str(route_cert)}
    adapter = make_adapter(made, pki, tls, dns_server, tmp_path / "data", routes=[route])
    with pytest.raises(PermanentDeliveryError) as caught:
        await adapter.deliver(envelope_for(reference, INVOICE, f"sub-{kind}.peppol@lingang"))
    assert caught.value.rule == "as4.endpoint-certificate"
    assert "(static) is not trusted" in caught.value.message
    assert receiver.deliveries == 0
