"""Where an envelope that does not fit its payload is answered, over real AS4 on 127.0.0.1.

* The envelope contradicts the payload (DOCUMENTID ≠ the payload's document type, PROCESSID ≠
  its ``ProfileID``): refused at the AS4 layer, a signed ``EBMS:0004`` error, nothing stored
  (``test_as4_endpoint_refusals``). C3 decides whether it serves the message, and reports it,
  by the envelope; a receipt would acknowledge a transmission whose routing facts are false.
* The envelope is right and the payload breaks its own rules (it lacks BT-23, its
  ``cbc:ProfileID``, so there is nothing to contradict): the AS4 message is sound and gets
  its receipt; the document is stored, validated, not handed on, and its sender is told by
  a Message Level Status ``RE`` naming the rules (PINT ``ibr-076``, PINT SG
  ``PEPPOL-EN16931-R007-SG``; MLS status reason ``BV``).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from gateway.delivery.peppol_duties import MLS_CODE
from gateway.signing.peppol_pki import PeppolTestPki
from gateway.signing.truststore import TrustStore
from gateway.testing.tls import TlsFiles
from tests.peppol.as4_gateway import (
    INVOICE,
    GatewayAp,
    document_message,
    post,
    running_gateway,
    sbdh_header,
)

PROFILE_ID = b"<cbc:ProfileID>urn:peppol:bis:billing</cbc:ProfileID>"


@pytest.fixture
async def ap(
    tmp_path: Path, pki: PeppolTestPki, tls: TlsFiles, artefacts_home: Path
) -> AsyncIterator[GatewayAp]:
    async with running_gateway(
        tmp_path / "c3", pki=pki, tls=tls, artefacts_home=artefacts_home
    ) as gateway:
        yield gateway


async def test_a_payload_without_its_profile_id_is_received_and_answered_re(
    ap: GatewayAp, pki: PeppolTestPki, tls: TlsFiles, ap_trust: TrustStore, reference: Path
) -> None:
    body = (reference / INVOICE).read_bytes()
    assert body.count(PROFILE_ID) == 1
    message = document_message(
        pki, body.replace(PROFILE_ID, b""), sbdh_header(mls_type="ALWAYS_SEND")
    )
    answer = await post(ap.url, message.body, message.content_type, tls.client_context())
    assert answer.status == 200 and answer.signal(ap_trust).receipt is not None
    (stored,) = await ap.services.store.list_inbound()
    await ap.drain()
    assert not list(ap.received.glob("*.xml"))  # not handed on
    (job,) = await ap.services.store.list_jobs(submission_id=stored.id)
    (receipt,) = await ap.services.store.list_receipts(job_id=job.id)
    verdict = json.loads(receipt.data)
    assert receipt.kind == "inbound-rejected"
    fatal = {f["rule_id"] for f in verdict["report"]["findings"] if f["flag"] == "fatal"}
    assert fatal == {"ibr-076", "PEPPOL-EN16931-R007-SG"}  # business process (ibt-023) missing
    assert verdict["mls"]["code"] == "RE" and verdict["mls"]["sent"]
    mls = await ap.services.store.get_submission_any_tenant(verdict["mls"]["submission_id"])
    assert mls is not None and mls.metadata[MLS_CODE] == "RE"
