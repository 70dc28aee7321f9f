"""A Message Level Status counts only from the access point the document went to: gateway A
sends an invoice to gateway B over AS4 and gets B's MLS (AP) back; then a third access point,
with a valid certificate from the same AP CA, sends A a forged negative MLS about the same
document — over AS4 on TLS, naming B's SPIS id as its sending party. A takes the message (it
is a well-formed, authenticated AS4 message and gets its receipt) but ignores it as a status:
the document's history keeps B's AP only, its ``mls`` output stays B's, and the receive job's
receipt says why (``mls.sending-access-point``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from adapters.peppol.identifiers import DocumentTypeId, ParticipantId, ProcessId
from adapters.peppol.sbdh import build_sbdh
from gateway.read.mls import read_mls
from gateway.render.mls import (
    DOCUMENT_TYPE_ID,
    PROCESS_ID,
    MlsDocument,
    MlsIssue,
    MlsStatus,
    render_mls,
)
from gateway.signing.peppol_pki import PeppolTestPki, issue_access_point
from gateway.signing.truststore import TrustStore
from gateway.testing.cluster import free_port
from gateway.testing.tls import TlsFiles
from tests.peppol.as4_gateway import Side, post, running_gateway, sbdh_header, user_message
from tests.peppol.test_two_access_points import settle
from tests.peppol_duties.test_inbound_duties import api_document
from tests.service.test_real_flow import SAMPLES

BUYER = "0195:SGUEN199912345A"
"""The buyer of ``exempt-services.xml`` (PINT SG), received for by gateway B."""


def _mls_statuses(shown: dict[str, object]) -> list[str]:
    history = shown["history"]
    assert isinstance(history, list)
    return [
        e["detail"]["mls"]["code"] for e in history if "Message Level Status" in (e["reason"] or "")
    ]


async def test_a_forged_mls_from_another_access_point_changes_nothing(
    tmp_path: Path, pki: PeppolTestPki, tls: TlsFiles, artefacts_home: Path, ap_trust: TrustStore
) -> None:
    port_a, port_b = free_port(), free_port()
    side_a = Side(
        key="ap-sender",
        seat="PSG000001",
        local=(),
        route=(f"https://127.0.0.1:{port_b}/as4", "ap-receiver"),
        port=port_a,
        mls_type="ALWAYS_SEND",
    )
    side_b = Side(
        local=(f"importer={BUYER}",),
        route=(f"https://127.0.0.1:{port_a}/as4", "ap-sender"),
        port=port_b,
    )
    common = {"pki": pki, "tls": tls, "artefacts_home": artefacts_home}
    async with (
        running_gateway(tmp_path / "a", side=side_a, **common) as a,  # type: ignore[arg-type]
        running_gateway(tmp_path / "b", side=side_b, **common) as b,  # type: ignore[arg-type]
    ):
        tenant = await a.services.store.create_tenant("exporter")
        fapiao = SAMPLES / "exempt-services.xml"
        submission, _ = await a.services.submissions.submit(
            tenant.id, fapiao.read_bytes(), content_type="application/xml", filename=fapiao.name
        )
        await settle(a, b)
        shown = await api_document(a.services, tenant.id, submission.id)
        assert shown["status"] == "delivered" and _mls_statuses(shown) == ["AP"]
        (sent,) = await a.services.store.list_receipts(submission_id=submission.id)
        instance_id = sent.detail["details"]["peppol"]["instance_id"]
        assert sent.detail["details"]["peppol"]["c3_seat"] == "PSG000002"

        now = datetime.now(UTC)
        intruder = issue_access_point(
            pki.ap_ca, "PSG000007", not_before=now - timedelta(days=1), not_after=now + timedelta(days=30)
        )  # fmt: skip
        ap_trust.check(intruder.cert)  # a genuine Peppol AP, just not the document's receiver
        forged = render_mls(
            MlsDocument(
                "forged-1", now, "000002", "000001", instance_id,
                MlsStatus("RE", "rejected: business rule failure", (MlsIssue("BV", "[X] no"),)),
            )
        )  # fmt: skip
        header = sbdh_header(
            DocumentTypeId(DOCUMENT_TYPE_ID, "busdox-docid-qns"),
            receiver=ParticipantId("0242:000001"),
            process=ProcessId(PROCESS_ID),
            sender=ParticipantId("0242:000002"),
        )
        message = user_message(
            build_sbdh(forged, header),
            header,
            signer=intruder,
            receiver_cert=pki.sender.cert,
            from_party="PSG000007",
            to_party="PSG000001",
        )
        answer = await post(a.url, message.body, message.content_type, tls.client_context())
        assert answer.status == 200 and answer.signal(ap_trust).receipt is not None
        await a.drain()

        (arrived,) = [
            m
            for m in await a.services.store.list_inbound()
            if m.metadata["peppol"]["c2_seat"] == "PSG000007"
        ]
        (verdict,) = await a.services.store.list_receipts(submission_id=arrived.id)
        assert verdict.kind == "inbound-mls"
        assert verdict.detail["verdict"] == "mls-ignored"
        assert verdict.detail["ignored"] == "mls.sending-access-point"
        assert "PSG000007" in verdict.detail["reason"] and "PSG000002" in verdict.detail["reason"]
        after = await api_document(a.services, tenant.id, submission.id)
        assert after["status"] == "delivered" and _mls_statuses(after) == ["AP"]
        kept = await a.services.store.get_output(submission.id, "mls")
        assert kept is not None and read_mls(kept.data).code == "AP"
