"""The export gate on the PINT path, two platforms on loopback TLS: an eBL issued to another
platform is held by the policy (nothing is sent), released by a compliance officer, then
sent and accepted; the ledger records it once, decided by the officer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gateway.jobs.gate import ExportGate, ReleaseKind, TransferGate
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
    ledger = LedgerStore(a.store.connector)
    assert await ledger.entries() == []

    await ledger.release(
        sent.id, "Officer Li", "standard contract filed 2026-03", principal=OFFICER
    )
    (job,) = [j for j in await a.store.claim_jobs("w", limit=5) if j.kind == RELEASE]
    await ReleaseKind(ExportGate(ledger)).run(job, "w")
    assert await run_transfers(a) == ["RECE"]
    assert (await pb.registry.find("GATED00001")).state == "held"
    (entry,) = await ledger.entries()
    assert (entry["decided_by"], entry["document_id"]) == ("Officer Li", "GATED00001")
    assert entry["exporter"] == "AEOT:AEOT/COSCO"  # the issuing carrier
