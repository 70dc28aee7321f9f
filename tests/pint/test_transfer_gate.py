"""The export gate on the PINT path, two platforms on loopback TLS: an eBL issued to another
platform is held by the policy (nothing is sent), released by a compliance officer, then
sent and accepted; the ledger records it once, decided by the officer. What leaves with it
(supporting documents, the carrier's visualisation) passes the gate too."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from adapters.dcsa_pint.platform import Attachment
from gateway.jobs.gate import ExportGate, ReleaseKind, TransferGate
from gateway.pint.checksums import bytes_checksum
from gateway.policy import PolicySource
from gateway.policy.keys import StaticKeyProvider
from gateway.store.ledger import RELEASE, LedgerStore
from gateway.testing.pint import transport_document
from tests.pint.test_title_flows import pair, run_transfers

__all__ = ["pair"]

APPROVAL = """version = "zone-1"

[[negative]]
id = "ebl-personal"
effect = "approval"
platforms = ["dcsa-pint"]
categories = ["personal"]
"""

OFFICER = "api-key:officer-1"
"""The principal that decides in these tests."""


async def test_a_held_issue_leaves_only_once_released(
    pair: Any, reference: Path, tmp_path: Path
) -> None:
    a, b = pair
    pa, pb = a.adapter.platform, b.adapter.platform
    (tmp_path / "policy.toml").write_text(APPROVAL, encoding="utf-8")
    key = StaticKeyProvider(b"p" * 32)
    pa.export_gate = TransferGate(PolicySource(tmp_path / "policy.toml"), key)
    sent = await pa.issue(transport_document(reference, "GATED00001"), to=pb.options.party("BANK"))
    assert sent.held is not None and "ebl-personal" in sent.held
    assert await run_transfers(a) == []  # no transfer job: nothing leaves
    (pending,) = (await pa.history("GATED00001"))["transfers"]
    assert (pending["state"], pending["held"], pending["response"]) == ("sending", sent.held, None)
    ledger = LedgerStore(a.store.connector)
    assert await ledger.entries() == []

    await ledger.release(
        sent.id, "Officer Li", "standard contract filed 2026-03", principal=OFFICER
    )
    (job,) = [j for j in await a.store.claim_jobs("w", limit=5) if j.kind == RELEASE]
    await ReleaseKind(ExportGate(ledger)).run(job, "w")
    assert await run_transfers(a) == ["RECE"]
    assert (await pb.registry.find("GATED00001")).state == "held"
    (done,) = (await pa.history("GATED00001"))["transfers"]
    assert (done["state"], done["responseCode"], done["held"]) == ("accepted", "RECE", None)
    (entry,) = await ledger.entries()
    assert (entry["decided_by"], entry["document_id"]) == ("Officer Li", "GATED00001")
    assert entry["exporter"] == "AEOT:AEOT/COSCO"  # the issuing carrier


UNREAD_APPROVAL = """version = "zone-2"

[[negative]]
id = "unread-needs-review"
effect = "approval"
platforms = ["dcsa-pint"]
categories = ["unread"]
"""
INVOICE = Attachment("commercial-invoice.pdf", b"%PDF-1.7 invoice GATED00002")
VISUAL = Attachment("B-L copy.pdf", b"%PDF-1.7 the carrier's copy of GATED00002")


async def test_what_leaves_with_an_ebl_passes_the_gate(
    pair: Any, reference: Path, tmp_path: Path
) -> None:
    """A's policy holds what it cannot read: the issue with an invoice and the carrier's
    visualisation is held as a whole and, released, leaves with an entry per document. B's
    policy lets them pass: its transfer back records what leaves, the invoice it received
    only when it forwards it."""
    a, b = pair
    pa, pb = a.adapter.platform, b.adapter.platform
    (tmp_path / "policy.toml").write_text(UNREAD_APPROVAL, encoding="utf-8")
    key = StaticKeyProvider(b"p" * 32)
    pa.export_gate = TransferGate(PolicySource(tmp_path / "policy.toml"), key)
    pb.export_gate = TransferGate(None, key)
    sent = await pa.issue(
        transport_document(reference, "GATED00002"), to=pb.options.party("BANK"),
        attachments=[INVOICE], visualisation=VISUAL,
    )  # fmt: skip
    assert sent.held is not None and "unread-needs-review" in sent.held
    assert INVOICE.name in sent.held and VISUAL.name in sent.held
    assert await run_transfers(a) == []
    ledger_a = LedgerStore(a.store.connector)
    await ledger_a.release(sent.id, "Officer Li", "invoice and B/L copy read", principal=OFFICER)
    (job,) = [j for j in await a.store.claim_jobs("w", limit=5) if j.kind == RELEASE]
    await ReleaseKind(ExportGate(ledger_a)).run(job, "w")
    assert await run_transfers(a) == ["RECE"]
    entries_a = await ledger_a.entries()
    assert len({e["tenant_id"] for e in entries_a}) == 1  # the transport document's tenant
    assert [(e["digest"], e["decided_by"], e["principal"]) for e in entries_a] == [
        (sent.td_checksum, "Officer Li", OFFICER),
        (bytes_checksum(INVOICE.data), "Officer Li", OFFICER),
        (bytes_checksum(VISUAL.data), "Officer Li", OFFICER),
    ]

    ledger_b = LedgerStore(b.store.connector)
    back = await pb.transfer("GATED00002", to=pa.options.party("SHIPPER"))
    assert back.held is None and await run_transfers(b) == ["RECE"]
    assert [(e["digest"], e["categories"]) for e in await ledger_b.entries()] == [
        (sent.td_checksum, "business,personal"),
        (bytes_checksum(VISUAL.data), "business,unread"),  # the invoice stayed at B
    ]

    pa.export_gate = TransferGate(None, key)
    await pa.transfer("GATED00002", to=pb.options.party("BANK"))
    assert await run_transfers(a) == ["RECE"]
    again = await pb.transfer("GATED00002", to=pa.options.party("SHIPPER"), forward_documents=True)
    assert await run_transfers(b) == ["RECE"]
    forwarded = [e for e in await ledger_b.entries() if e["submission_id"] == again.id]
    assert [(e["digest"], e["article"]) for e in forwarded] == [
        (sent.td_checksum, "art-5-4"),
        (bytes_checksum(INVOICE.data), "art-3"),
        (bytes_checksum(VISUAL.data), "art-3"),
    ]
