"""Peppol BIS 3 CII over AS4, gateway to gateway: a fapiao converted to BIS 3 CII by the
sending gateway is enveloped with the identifiers its CII carries (the seller's and the buyer's
``URIUniversalCommunication/URIID``, the BT-23 process, the BIS 3 CII document type, TypeVersion
D16B), found through SML (DNS) and SMP (HTTPS), sent over AS4 on TLS to a receiving gateway,
which checks the SBDH against the payload and the AS4 header, stores it, runs the inbound flow
(bis3-cii rules, CII read into the canonical model), hands it on to its local system and sends
the Message Level Status back over AS4, where it lands in the sent document's history."""

from __future__ import annotations

from pathlib import Path

from adapters.peppol.identifiers import BIS3_CII_INVOICE, BIS3_PROCESS, ParticipantId
from adapters.peppol.testing import DnsTestServer, SmpEntry, SmpTestServer
from gateway.signing.peppol_pki import PeppolTestPki
from gateway.testing.cluster import free_port
from gateway.testing.tls import TlsFiles
from tests.peppol.as4_gateway import Side, running_gateway
from tests.peppol.test_two_access_points import settle
from tests.peppol_duties.test_inbound_duties import api_document
from tests.service.test_real_flow import SAMPLES

BUYER = ParticipantId("0195:SGUEN199912345A")
"""The buyer of ``exempt-services.xml`` in ``tests/data/partners.toml``."""
SELLER = ParticipantId("0199:5493001KJTIIGC8Y1S09")
"""Its seller's endpoint (the directory's exporter entry)."""
CII = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"


async def test_a_fapiao_as_bis3_cii_travels_by_discovery_to_a_receiving_gateway(
    tmp_path: Path,
    pki: PeppolTestPki,
    tls: TlsFiles,
    artefacts_home: Path,
    smp: SmpTestServer,
    dns_server: DnsTestServer,
) -> None:
    port_a, port_b = free_port(), free_port()
    sender = Side(
        key="ap-sender",
        seat="PSG000001",
        local=(),
        port=port_a,
        mls_type="ALWAYS_SEND",
    )
    receiver = Side(local=(f"importer={BUYER.value}",), route=(f"https://127.0.0.1:{port_a}/as4", "ap-sender"), port=port_b)  # fmt: skip
    common = {"pki": pki, "tls": tls, "artefacts_home": artefacts_home}
    discovery = f'revocation = "off"\nsml_nameservers = ["{dns_server.nameserver}"]'
    async with (
        running_gateway(tmp_path / "a", side=sender, adapter=discovery, **common) as a,  # type: ignore[arg-type]
        running_gateway(tmp_path / "b", side=receiver, **common) as b,  # type: ignore[arg-type]
    ):
        smp.register(BUYER, SmpEntry(BIS3_CII_INVOICE, BIS3_PROCESS, b.url, pki.receiver.cert))
        dns_server.register(BUYER, smp.url)
        tenant = await a.services.store.create_tenant("exporter")
        fapiao = SAMPLES / "exempt-services.xml"
        submission, _ = await a.services.submissions.submit(
            tenant.id,
            fapiao.read_bytes(),
            content_type="application/xml",
            filename=fapiao.name,
            metadata={"profile": "bis3-cii"},
        )
        await settle(a, b)

        shown = await api_document(a.services, tenant.id, submission.id)
        assert shown["status"] == "delivered", shown["history"]
        (receipt,) = await a.services.store.list_receipts(submission_id=submission.id)
        report = receipt.detail["details"]["report"]
        assert report["lookup"]["source"] == "smp" and report["lookup"]["smp_url"] == smp.url
        assert report["sbdh"]["document_type"] == BIS3_CII_INVOICE.uri()
        assert report["sbdh"]["process"] == BIS3_PROCESS.uri()
        assert (report["sbdh"]["sender"], report["sbdh"]["receiver"]) == (
            SELLER.value,
            BUYER.value,
        )
        assert report["sbdh"]["country_c1"] == "CN"

        (inbound,) = [
            m
            for m in await b.services.store.list_inbound()
            if m.metadata["peppol"]["doctype"] == BIS3_CII_INVOICE.value
        ]
        facts = inbound.metadata["peppol"]
        assert (facts["sender"], facts["receiver"]) == (SELLER.value, BUYER.value)
        assert facts["process"] == BIS3_PROCESS.value and facts["c2_seat"] == "PSG000001"
        sent = await a.services.store.get_output(submission.id, "signed")
        assert sent is not None and bytes(inbound.data) == bytes(sent.data)
        assert bytes(inbound.data).lstrip().startswith(b"<?xml")
        assert f'xmlns:rsm="{CII}"'.encode() in bytes(inbound.data)[:500]
        assert b"StandardBusinessDocumentHeader" not in bytes(inbound.data)

        (handed_on,) = [p for p in b.received.iterdir() if p.suffix == ".xml"]
        assert handed_on.read_bytes() == bytes(inbound.data)
        (verdict,) = await b.services.store.list_receipts(submission_id=inbound.id)
        assert verdict.kind == "inbound-accepted", verdict.data
        assert verdict.detail["profile"] == "bis3-cii"
        assert verdict.detail["document_kind"] == "CrossIndustryInvoice"
        assert verdict.detail["seller"] and verdict.detail["document_number"]

        statuses = [e for e in shown["history"] if "Message Level Status" in (e["reason"] or "")]
        assert [s["detail"]["mls"]["code"] for s in statuses] == ["AP"], shown["history"]
