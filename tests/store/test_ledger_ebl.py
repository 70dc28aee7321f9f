"""eBL transfers pass the export gate (SQLite and PostgreSQL): the ledger entry, the counts
and the ``transfer`` job are one transaction; a held transfer queues nothing until a
compliance officer releases it (its ``release`` job queues the transfer) or refuses it (the
eBL is held here again). The transport document is DCSA's conformance template."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

from gateway.jobs.gate import ExportGate, ReleaseKind, TransferGate
from gateway.pint.checksums import document_checksum
from gateway.policy import PolicySource
from gateway.policy.keys import StaticKeyProvider
from gateway.store import ConflictError
from gateway.store.ebl import TRANSFER, EblRegistry, NewTitle, Outbound
from gateway.store.ledger import RELEASE
from gateway.store.ledger_chain import verify_chain
from gateway.testing.pint import transport_document
from tests.store.ledger_support import Stores, backend, stores

__all__ = ["backend", "stores"]

KEY = StaticKeyProvider(b"s" * 32, "test-key-1")
HK_APPROVAL = """version = "ftz-1"

[[negative]]
id = "no-personal-to-hk"
effect = "approval"
destinations = ["HK"]
platforms = ["dcsa-pint"]
categories = ["personal"]
reason = "personal data to HK needs the zone's approval"
"""

OFFICER = "api-key:officer-1"
"""The principal that decides in these tests."""


def gate(s: Stores, tmp_path: Path, policy: str | None = None) -> TransferGate:
    source = None
    if policy is not None:
        (tmp_path / "policy.toml").write_text(policy, encoding="utf-8")
        source = PolicySource(tmp_path / "policy.toml")
    return TransferGate(source, KEY, clock=s.clock)


async def send(
    s: Stores, reference: Path, transfer_gate: TransferGate, number: str, country: str
) -> tuple[Outbound, dict[str, Any]]:
    """Issue the template eBL here, then transfer it to platform ``SGTD`` in ``country``."""
    document = transport_document(reference, number)
    registry = EblRegistry.of(s.store)
    td = document_checksum(document)
    possessor = {"eblPlatform": "SGTD", "identifyingCodes": [{"codeListProvider": "ZZZ", "partyCode": "B"}]}  # fmt: skip
    held = await registry.issue(
        NewTitle(td, number, "held", "AEOT:ZZZ/SHIPPER", [f"e1-{number}"],
                 [hashlib.sha256(f"e1-{number}".encode()).hexdigest()], {}, document)
    )  # fmt: skip
    export = transfer_gate.assess(
        document, td_checksum=td, exporter="AEOT:ZZZ/SHIPPER", destination=country,
        recipient="SGTD:ZZZ/B", tenant_id="t",
    )  # fmt: skip
    sent = await registry.begin_transfer(
        td, base_head=held.head, platform="SGTD",
        envelope={"envelopeTransferChain": [f"e1-{number}", f"e2-{number}"]},
        documents=[], title={"possessor": possessor}, adapter="pint", export=export,
    )  # fmt: skip
    return sent, document


async def jobs_of(s: Stores, kind: str) -> list[Any]:
    return [j for j in await s.store.claim_jobs("w", limit=50) if j.kind == kind]


async def test_an_ebl_transfer_is_recorded_in_the_ledger(
    stores: Stores, reference: Path, tmp_path: Path
) -> None:
    sent, document = await send(stores, reference, gate(stores, tmp_path), "EBL0000001", "SG")
    assert sent.held is None and sent.state == "sending"
    (job,) = await jobs_of(stores, TRANSFER)
    assert job.submission_id == sent.id
    (entry,) = await stores.ledger.entries()
    assert (entry["submission_id"], entry["document_id"]) == (sent.id, "EBL0000001")
    assert (entry["destination"], entry["recipient"]) == ("SG", "SGTD:ZZZ/B")
    assert entry["digest"] == document_checksum(document)
    assert entry["categories"] == "business,personal"  # the parties' contact persons
    assert entry["subjects"] >= 2 and entry["article"] == "art-5-4"
    (count,) = await stores.ledger.counts(2026)
    assert count["personal"] == entry["subjects"]
    assert verify_chain(*await stores.ledger.chain_state()).ok


async def test_counted_individuals_keep_the_key_id(
    stores: Stores, reference: Path, tmp_path: Path
) -> None:
    await send(stores, reference, gate(stores, tmp_path), "EBL0000002", "SG")
    statement = "SELECT DISTINCT key_id FROM export_subjects"
    if stores.backend == "sqlite":
        import sqlite3

        with sqlite3.connect(stores.url) as conn:
            found = {r[0] for r in conn.execute(statement)}
    else:
        import psycopg

        async with await psycopg.AsyncConnection.connect(stores.url) as conn:
            found = {r[0] for r in await (await conn.execute(statement)).fetchall()}
    assert found == {"test-key-1"}


async def test_a_held_ebl_is_released_then_another_refused(
    stores: Stores, reference: Path, tmp_path: Path
) -> None:
    transfer_gate = gate(stores, tmp_path, HK_APPROVAL)
    sent, _ = await send(stores, reference, transfer_gate, "EBL0000003", "HK")
    assert sent.held is not None and "no-personal-to-hk" in sent.held
    assert await jobs_of(stores, TRANSFER) == []  # nothing leaves without a decision
    assert await stores.ledger.entries() == []
    (hold,) = await stores.ledger.list_holds(tenant_id="t")
    assert (hold.submission_id, hold.job.kind) == (sent.id, TRANSFER)

    await stores.ledger.release(sent.id, "Officer Wang", "FTZ approval 2026-17", principal=OFFICER)
    (release,) = await jobs_of(stores, RELEASE)
    await ReleaseKind(ExportGate(stores.ledger)).run(release, "w")
    (job,) = await jobs_of(stores, TRANSFER)
    assert job.submission_id == sent.id and job.endpoint == "SGTD"
    (entry,) = await stores.ledger.entries()
    assert (entry["article"], entry["decided_by"]) == ("release", "Officer Wang")
    assert entry["basis"] == "FTZ approval 2026-17" and entry["destination"] == "HK"

    other, document = await send(stores, reference, transfer_gate, "EBL0000004", "HK")
    assert other.held is not None
    await stores.ledger.refuse(
        other.id, "Officer Wang", "no approval for this consignee", principal=OFFICER
    )
    registry = EblRegistry.of(stores.store)
    title = await registry.get(document_checksum(document))
    assert title is not None and title.state == "held"  # control stays here
    closed = await registry.outbound(other.id)
    assert closed is not None and closed.state == "rejected"
    assert closed.response_code == "REFUSED"
    assert len(await stores.ledger.entries()) == 1
    with pytest.raises(ConflictError):
        await stores.ledger.release(other.id, "Officer Wang", "changed my mind", principal=OFFICER)
    assert verify_chain(*await stores.ledger.chain_state()).ok
