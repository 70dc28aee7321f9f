"""A document re-sent under a new AS4 MessageId (the same SBDH InstanceIdentifier from the
same sending AP) is answered with its own signed receipt but reaches the local system once;
a MessageId taken by another AP is refused, and so is another document under the same
InstanceIdentifier — on both stores, across two replicas."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from lxml import etree

from adapters.peppol import signals
from gateway.delivery.peppol_reports import build_month_reports
from gateway.render.peppol_reports import EUSR_NS, TSR_NS, ReportPeriod
from gateway.signing.peppol_pki import PeppolTestPki, issue_access_point
from gateway.signing.truststore import TrustStore
from gateway.store.peppol_instances import PeppolInstances
from gateway.testing.tls import TlsFiles
from gateway.validation import Validator
from tests.peppol.as4_gateway import INVOICE, document_message, post, running_gateway, sbdh_header


async def test_a_replay_is_receipted_but_handed_on_once_across_replicas(
    tmp_path: Path,
    pki: PeppolTestPki,
    tls: TlsFiles,
    ap_trust: TrustStore,
    artefacts_home: Path,
    reference: Path,
    store_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    body = (reference / INVOICE).read_bytes()
    header = replace(sbdh_header(), instance_id="3f1c0c1e-replayed-document")
    first = document_message(pki, body, header, message_id="first@sender")
    replay = document_message(pki, body, header, message_id="replay@sender")
    now = datetime.now(UTC)
    other_ap = issue_access_point(
        pki.ap_ca,
        "PSG000077",
        not_before=now - timedelta(days=1),
        not_after=now + timedelta(days=30),
    )
    taken = document_message(
        pki, body, header, message_id="first@sender", signer=other_ap, from_party="PSG000077"
    )
    changed = body.replace(b"</cbc:Note>", b" (changed)</cbc:Note>", 1)
    assert changed != body
    reused = document_message(pki, changed, header, message_id="reused@sender")
    overlong = document_message(
        pki, body, replace(header, instance_id="another"), message_id="x" * 1001 + "@sender"
    )
    context = tls.client_context()
    options = {"pki": pki, "tls": tls, "artefacts_home": artefacts_home, "store_url": store_url}
    async with (
        running_gateway(tmp_path / "one", **options) as one,  # type: ignore[arg-type]
        running_gateway(tmp_path / "two", **options) as two,  # type: ignore[arg-type]
    ):
        original = await post(one.url, first.body, first.content_type, context)
        with caplog.at_level(logging.WARNING, logger="lingang.peppol.as4"):
            replayed = await post(two.url, replay.body, replay.content_type, context)
        again = await post(one.url, replay.body, replay.content_type, context)
        foreign = await post(two.url, taken.body, taken.content_type, context)
        other = await post(two.url, reused.body, reused.content_type, context)
        long_id = await post(one.url, overlong.body, overlong.content_type, context)

        assert original.status == replayed.status == again.status == 200
        receipt = replayed.signal(ap_trust).receipt
        assert receipt is not None  # its own receipt, for its own MessageId and digests
        signals.check_receipt_covers(receipt, replay)
        assert again.body == replayed.body != original.body
        assert foreign.status == 200  # an ebMS error signal answers it
        assert foreign.error_codes(ap_trust) == [("EBMS:0004", "")]
        # another document under the same InstanceIdentifier: not a replay to receipt and drop
        assert other.status == 200, other.body[:300]
        assert other.error_codes(ap_trust) == [("EBMS:0004", "")]
        assert b"InstanceIdentifier" in other.body
        # a MessageId longer than any needs (once "store it later", EBMS:0005, on PostgreSQL)
        assert long_id.status == 400
        assert long_id.error_codes(ap_trust) == [("EBMS:0009", "")]
        warned = [r for r in caplog.records if "replay" in r.getMessage()]
        assert [(r.message_id, r.first_message_id) for r in warned] == [  # type: ignore[attr-defined]
            ("replay@sender", "first@sender")
        ]
        assert b"<cbc:" not in caplog.text.encode()  # no document content in the log

        (stored,) = await two.services.store.list_inbound()
        assert stored.message_id == "first@sender"
        (kept,) = await PeppolInstances(one.services.store.connector).replays()
        assert (kept.message_id, kept.first_message_id, kept.c2_seat) == (
            "replay@sender",
            "first@sender",
            "PSG000001",
        )
        await one.drain()
        await two.drain()
        delivered = [p for d in (one, two) for p in d.received.glob("*.xml")]
        assert len(delivered) == 1


async def test_a_replay_is_counted_once_in_the_months_reports(
    tmp_path: Path,
    pki: PeppolTestPki,
    tls: TlsFiles,
    artefacts_home: Path,
    reference: Path,
    store_url: str,
    engine_validator: Validator,
) -> None:
    """A replay (the same document under a new MessageId) and a retry (the same MessageId)
    are one dataset received: the month's TSR counts it once as incoming and the EUSR one
    receiving end user, and both reports pass the official XSDs and rules (TSR 1.0.1 XSD:
    Incoming is the "Number of incoming/received datasets"; the SBDH InstanceIdentifier,
    the same in both, names the dataset)."""
    body = (reference / INVOICE).read_bytes()
    header = replace(sbdh_header(), instance_id="6c2e1f3a-counted-once")
    first = document_message(pki, body, header, message_id="counted@sender")
    replay = document_message(pki, body, header, message_id="counted-again@sender")
    context = tls.client_context()
    async with running_gateway(
        tmp_path / "c3", pki=pki, tls=tls, artefacts_home=artefacts_home, store_url=store_url
    ) as gateway:
        for message in (first, first, replay, replay):
            answer = await post(gateway.url, message.body, message.content_type, context)
            assert answer.status == 200 and b"Receipt" in answer.body
        await gateway.drain()
        period = ReportPeriod.of_month(f"{datetime.now(UTC):%Y-%m}")
        reports = await build_month_reports(
            gateway.services.store, engine_validator, "PSG000002", period
        )
    assert not reports.checks["tsr"].findings and not reports.checks["eusr"].findings
    assert reports.transmissions == 1
    tsr, eusr = etree.fromstring(reports.tsr), etree.fromstring(reports.eusr)
    assert tsr.findtext(f"{{{TSR_NS}}}Total/{{{TSR_NS}}}Incoming") == "1"
    assert tsr.findtext(f"{{{TSR_NS}}}Total/{{{TSR_NS}}}Outgoing") == "0"
    assert eusr.findtext(f"{{{EUSR_NS}}}FullSet/{{{EUSR_NS}}}ReceivingEndUsers") == "1"
