"""Peppol reports (TSR 1.0, EUSR 1.1) sent over AS4 by the ``peppol`` adapter: found through
SML and SMP, received by the loopback AP and by a receiving gateway over TLS, with the SBDH
naming the reports' own document types, syntax versions and process (PEPPOL-FACTS §5)."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.base import AdapterContext, Envelope
from adapters.peppol import PeppolAdapter
from adapters.peppol.identifiers import DocumentTypeId, ParticipantId, ProcessId
from adapters.peppol.sbdh import parse_sbdh
from adapters.peppol.testing import As4TestReceiver, DnsTestServer, SmpEntry, SmpTestServer
from gateway.render.peppol_reports import (
    EUSR_DOCUMENT_TYPE,
    EUSR_NS,
    OPENPEPPOL_RECEIVER,
    REPORTING_PROFILE,
    TSR_DOCUMENT_TYPE,
    TSR_NS,
    ReportPeriod,
    render_eusr,
    render_tsr,
)
from gateway.signing.peppol_pki import PeppolTestPki
from gateway.store.peppol_reporting import INCOMING, OUTGOING
from gateway.testing.tls import TlsFiles
from tests.peppol.as4_gateway import Side, running_gateway
from tests.peppol.conftest import adapter_options
from tests.peppol_duties.test_reports import record

REPORTS = ParticipantId(OPENPEPPOL_RECEIVER)
PERIOD = ReportPeriod.of_month("2026-11")
RECORDS = [record(1, OUTGOING), record(2, OUTGOING), record(3, INCOMING)]
KINDS = {
    "tsr": (
        lambda: render_tsr(PERIOD, "POP000360", RECORDS),
        TSR_DOCUMENT_TYPE,
        TSR_NS,
        "TransactionStatisticsReport",
        "1.0",
    ),
    "eusr": (
        lambda: render_eusr(PERIOD, "POP000360", RECORDS),
        EUSR_DOCUMENT_TYPE,
        EUSR_NS,
        "EndUserStatisticsReport",
        "1.1",
    ),
}
QNS = "busdox-docid-qns"


def _register(pki: PeppolTestPki, smp: SmpTestServer, dns: DnsTestServer, url: str) -> None:
    for _, doctype, *_ in KINDS.values():
        smp.register(
            REPORTS,
            SmpEntry(
                DocumentTypeId(doctype, QNS), ProcessId(REPORTING_PROFILE), url, pki.receiver.cert
            ),
        )
    dns.register(REPORTS, smp.url)


@pytest.mark.parametrize("kind", sorted(KINDS))
async def test_a_report_arrives_with_its_own_document_type_and_type_version(
    pki: PeppolTestPki,
    adapter: PeppolAdapter,
    receiver: As4TestReceiver,
    smp: SmpTestServer,
    dns_server: DnsTestServer,
    kind: str,
) -> None:
    render, doctype, namespace, root, version = KINDS[kind]
    _register(pki, smp, dns_server, receiver.url)
    envelope = Envelope(
        message_id=f"sub-{kind}.peppol@lingang",
        body=render(),
        profile=f"peppol-{kind}",
        receiver=REPORTS.value,
        document_kind=kind,
    )
    receipt = await adapter.deliver(envelope)
    assert receipt.details["report"]["outcome"] == "delivered"
    assert receipt.details["report"]["lookup"]["source"] == "smp"
    raw = receiver.received[envelope.message_id]
    assert f"<TypeVersion>{version}</TypeVersion>".encode() in raw
    header = parse_sbdh(raw).header
    assert header.document_type == DocumentTypeId(doctype, QNS)
    assert header.document_type.version == header.type_version == version
    assert header.process == ProcessId(REPORTING_PROFILE)
    assert (header.standard, header.type_name) == (namespace, root)
    assert header.receiver == REPORTS and header.country_c1 == "CN"


async def test_reports_are_received_by_a_gateway_that_takes_them(
    tmp_path: Path,
    pki: PeppolTestPki,
    tls: TlsFiles,
    artefacts_home: Path,
    dns_server: DnsTestServer,
) -> None:
    """The receiving gateway's own checks (the SBDH XSD, the SBDH against its payload, the AS4
    header against the SBDH) accept what our sender builds for both reports."""
    types = ", ".join(f'"{doctype}"' for _, doctype, *_ in KINDS.values())
    async with running_gateway(
        tmp_path / "c3",
        pki=pki,
        tls=tls,
        artefacts_home=artefacts_home,
        adapter=f'revocation = "off"\nreceive_document_types = [{types}]',
        side=Side(local=(f"openpeppol={REPORTS.value}",)),
    ) as gateway:
        options = adapter_options(
            pki,
            tls,
            dns_server,
            routes=[
                {
                    "participant": "*",
                    "url": gateway.url,
                    "certificate": str(pki.path("ap-receiver.pem")),
                }
            ],
        )
        sender = PeppolAdapter.from_config(
            "peppol", options, AdapterContext(data_dir=tmp_path / "c2")
        )
        try:
            for kind, (render, *_) in sorted(KINDS.items()):
                receipt = await sender.deliver(
                    Envelope(
                        message_id=f"gw-{kind}.peppol@lingang",
                        body=render(),
                        profile=f"peppol-{kind}",
                        receiver=REPORTS.value,
                        document_kind=kind,
                    )
                )
                assert receipt.details["report"]["outcome"] == "delivered"
        finally:
            await sender.aclose()
        stored = await gateway.services.store.list_inbound()
        assert sorted(s.metadata["peppol"]["doctype"] for s in stored) == sorted(
            doctype for _, doctype, *_ in KINDS.values()
        )
