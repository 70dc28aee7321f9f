"""Through the whole gateway: a fapiao for a Singapore buyer (scheme 0195) is converted to PINT
SG, validated, signed, routed to the peppol adapter by default, found through SML and SMP,
sent over AS4 and delivered; the verified receipt and the send report are kept with it."""

from __future__ import annotations

from pathlib import Path

from adapters.peppol.identifiers import PINT_PROCESS, PINT_SG_INVOICE, ParticipantId
from adapters.peppol.sbdh import parse_sbdh
from adapters.peppol.signals import parse_signal
from adapters.peppol.testing import As4TestReceiver, DnsTestServer, SmpEntry, SmpTestServer
from gateway.service import open_services
from gateway.settings import (
    AdapterConfig,
    PipelineSettings,
    Routing,
    Settings,
    SigningSettings,
    WorkerSettings,
)
from gateway.signing.peppol_pki import PeppolTestPki
from gateway.signing.testpki import make_test_pki
from gateway.signing.truststore import TrustStore
from gateway.testing.tls import TlsFiles
from gateway.validation import Validator
from tests.peppol.conftest import adapter_options
from tests.service.test_real_flow import PARTNERS, SAMPLES, settle

BUYER = ParticipantId("0195:SGUEN199912345A")
"""The buyer of ``exempt-services.xml`` in the test partner directory (profile pint-sg)."""


async def test_fapiao_to_singapore_goes_over_peppol_by_default(
    tmp_path: Path,
    artefacts_home: Path,
    pki: PeppolTestPki,
    tls: TlsFiles,
    dns_server: DnsTestServer,
    smp: SmpTestServer,
    receiver: As4TestReceiver,
    ap_trust: TrustStore,
) -> None:
    smp.register(BUYER, SmpEntry(PINT_SG_INVOICE, PINT_PROCESS, receiver.url, pki.receiver.cert))
    dns_server.register(BUYER, smp.url)
    signing = make_test_pki(tmp_path / "signing")
    settings = Settings.for_data_dir(
        tmp_path,
        signing=SigningSettings(
            key=signing.path("signer-ec.key.pem"),
            cert=signing.path("signer-ec.pem"),
            chain=(signing.path("chain.pem"),),
        ),
        pipeline=PipelineSettings(artefacts=artefacts_home, partners=PARTNERS, stage_processes=0),
        worker=WorkerSettings(poll_seconds=0.05),
        adapters={
            "drop": AdapterConfig("drop", "folder", {"path": "out"}),
            "peppol": AdapterConfig("peppol", "peppol", adapter_options(pki, tls, dns_server)),
        },
        routing=Routing(default="drop"),
    )
    services = await open_services(settings)
    pool = services.worker_pool(1)
    pool.start()
    try:
        tenant = await services.store.create_tenant("sg")
        submission, _ = await services.submissions.submit(
            tenant.id,
            (SAMPLES / "exempt-services.xml").read_bytes(),
            content_type="application/xml",
        )
        states = await settle(services, [submission.id])
    finally:
        await pool.stop()
    try:
        assert states[submission.id] == "delivered", await services.store.list_events(submission.id)
        assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())
        (message_id,) = receiver.received
        assert message_id.endswith(".peppol@lingang")
        received = parse_sbdh(receiver.received[message_id])
        assert received.header.receiver == BUYER and received.header.country_c1 == "CN"
        assert received.header.document_type == PINT_SG_INVOICE
        validation = Validator.default(artefacts_home).validate(received.payload, "pint-sg")
        assert not validation.fatal, validation.to_text()
        (stored,) = await services.store.list_receipts(submission_id=submission.id)
        assert stored.kind == "peppol-receipt"
        report = stored.detail["details"]["report"]
        assert report["outcome"] == "delivered" and report["lookup"]["smp_url"] == smp.url
        assert report["receipt"]["verified"] and report["message_id"] == message_id
        again = parse_signal("application/soap+xml", stored.data, check_signer=ap_trust.check)
        assert again.receipt is not None and again.receipt.ref_to_message_id == message_id
    finally:
        await services.close()
