"""A document attached to a transfer that does not happen (the export gate held it and an
officer refused it; or the receiving platform rejected the envelope) is not carried by the
eBL afterwards: the next transfer does not announce it, so it neither leaves with it nor
holds it again."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from adapters.dcsa_pint.platform import Attachment
from gateway.jobs.gate import TransferGate
from gateway.policy import PolicySource
from gateway.policy.keys import StaticKeyProvider
from gateway.store.ledger import LedgerStore
from gateway.testing.pint import transport_document
from tests.pint.test_title_flows import pair, run_transfers

__all__ = ["pair"]

UNREAD_APPROVAL = """version = "zone-2"

[[negative]]
id = "unread-needs-review"
effect = "approval"
platforms = ["dcsa-pint"]
categories = ["unread"]
"""
SCAN = Attachment("passport-scan.pdf", b"%PDF-1.7 a passport scan, REFUSED01")


async def test_an_attachment_of_a_refused_transfer_does_not_stay_with_the_ebl(
    pair: Any, reference: Path, tmp_path: Path
) -> None:
    a, b = pair
    pa, pb = a.adapter.platform, b.adapter.platform
    (tmp_path / "policy.toml").write_text(UNREAD_APPROVAL, encoding="utf-8")
    pa.export_gate = TransferGate(
        PolicySource(tmp_path / "policy.toml"), StaticKeyProvider(b"p" * 32)
    )
    await pa.issue(transport_document(reference, "REFUSED01"), to=pa.options.party("SHIPPER"))

    sent = await pa.transfer("REFUSED01", to=pb.options.party("BANK"), attachments=[SCAN])
    assert sent.held is not None and SCAN.name in sent.held
    await LedgerStore(a.store.connector).refuse(
        sent.id, "Officer Li", "the scan may not leave", principal="cli:test"
    )
    assert (await pa.registry.find("REFUSED01")).state == "held"
    assert [d.name for d in await pa.registry.documents_of(sent.td_checksum)] == []

    again = await pa.transfer("REFUSED01", to=pb.options.party("BANK"))
    assert again.held is None
    assert await run_transfers(a) == ["RECE"]
    assert await pb.registry.documents_of(sent.td_checksum) == []
