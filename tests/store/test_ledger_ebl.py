"""eBL transfers pass the export gate (SQLite and PostgreSQL): the ledger entry, the counts
and the ``transfer`` job are one transaction; a held transfer queues nothing until a
compliance officer releases it (its ``release`` job queues the transfer) or refuses it (the
eBL is held here again). The transport document is DCSA's conformance template."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from gateway.cli import main
from gateway.jobs.gate import ExportGate, ReleaseKind, TransferGate
from gateway.pint.checksums import document_checksum
from gateway.policy import PolicySource
from gateway.policy.decide import ART_3_UNREAD
from gateway.policy.keys import StaticKeyProvider
from gateway.store import ConflictError
from gateway.store.ebl import TRANSFER, EblRegistry, NewTitle, Outbound
from gateway.store.ledger import RELEASE
from gateway.store.ledger_chain import verify_chain
from gateway.store.ledger_records import Enclosure
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


def _sum(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def gate(s: Stores, tmp_path: Path, policy: str | None = None) -> TransferGate:
    source = None
    if policy is not None:
        (tmp_path / "policy.toml").write_text(policy, encoding="utf-8")
        source = PolicySource(tmp_path / "policy.toml")
    return TransferGate(source, KEY, clock=s.clock)


INVOICE = Enclosure("commercial-invoice.pdf", _sum("invoice"), "application/pdf", 5120)
VISUAL = Enclosure("B-L copy.pdf", _sum("visual"), "application/pdf", 2048, visualisation=True)
UNREAD_APPROVAL = """version = "ftz-2"

[[negative]]
id = "unread-needs-review"
effect = "approval"
platforms = ["dcsa-pint"]
categories = ["unread"]
reason = "a person reads what the gate cannot before it leaves"
"""


async def send(
    s: Stores,
    reference: Path,
    transfer_gate: TransferGate,
    number: str,
    country: str,
    enclosures: Sequence[Enclosure] = (),
) -> tuple[Outbound, dict[str, Any]]:
    """Issue the template eBL here, then transfer it to platform ``SGTD`` in ``country``
    with ``enclosures``."""
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
        recipient="SGTD:ZZZ/B", tenant_id="t", enclosures=enclosures,
    )  # fmt: skip
    sent = await registry.begin_transfer(
        td, base_head=held.head, platform="SGTD",
        envelope={"envelopeTransferChain": [f"e1-{number}", f"e2-{number}"]},
        documents=[e.checksum for e in enclosures], title={"possessor": possessor},
        adapter="pint", export=export,
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


async def test_what_leaves_with_an_ebl_has_its_own_entries(
    stores: Stores, reference: Path, tmp_path: Path
) -> None:
    """A policy without a rule for what the gate cannot read: the supporting document and the
    carrier's visualisation leave as unclassified data (Art. 3), each with its ledger entry,
    saying it was not read."""
    sent, document = await send(
        stores, reference, gate(stores, tmp_path), "EBL0000005", "SG", [INVOICE, VISUAL]
    )
    assert sent.held is None
    td, invoice, visual = await stores.ledger.entries()
    assert {td["submission_id"], invoice["submission_id"], visual["submission_id"]} == {sent.id}
    assert (td["document_id"], td["digest"]) == ("EBL0000005", document_checksum(document))
    assert td["article"] == "art-5-4" and td["subjects"] >= 2
    assert invoice["document_id"] == (
        "EBL0000005 supporting document: commercial-invoice.pdf (application/pdf)"
    )
    assert (
        visual["document_id"]
        == "EBL0000005 carrier's visualisation: B-L copy.pdf (application/pdf)"
    )
    for entry, enclosure in ((invoice, INVOICE), (visual, VISUAL)):
        assert entry["digest"] == enclosure.checksum
        assert entry["categories"] == "business,unread" and entry["subjects"] == 0
        assert (entry["article"], entry["basis"]) == ("art-3", ART_3_UNREAD)
        assert (entry["destination"], entry["recipient"]) == ("SG", "SGTD:ZZZ/B")
    assert {(e["tenant_id"], e["principal"]) for e in (td, invoice, visual)} == {("t", "")}
    (count,) = await stores.ledger.counts(2026)
    assert count["personal"] == td["subjects"]  # only the transport document's individuals
    assert verify_chain(*await stores.ledger.chain_state()).ok


async def test_a_rule_for_unread_content_holds_the_whole_transfer(
    stores: Stores, reference: Path, tmp_path: Path
) -> None:
    """The transport document passes but its documents need a person's approval: the transfer
    is held as a whole (no job, no entry, no one counted); released, every document gets its
    entry, decided by the officer."""
    transfer_gate = gate(stores, tmp_path, UNREAD_APPROVAL)
    sent, _ = await send(stores, reference, transfer_gate, "EBL0000006", "SG", [INVOICE, VISUAL])
    assert sent.held is not None
    assert "supporting document 'commercial-invoice.pdf'" in sent.held
    assert "carrier's visualisation 'B-L copy.pdf'" in sent.held
    assert "unread-needs-review" in sent.held
    assert await jobs_of(stores, TRANSFER) == []
    assert await stores.ledger.entries() == []
    assert await stores.ledger.counts(2026) == []
    (hold,) = await stores.ledger.list_holds(tenant_id="t")
    assert [e["digest"] for e in hold.to_json()["enclosures"]] == [
        INVOICE.checksum, VISUAL.checksum,
    ]  # fmt: skip
    url = f"sqlite:///{stores.url}" if stores.backend == "sqlite" else stores.url
    listed = io.StringIO()
    with contextlib.redirect_stdout(listed):
        code = await asyncio.to_thread(main, ["policy", "holds", "--database", url])
    assert code == 0
    assert (
        "    with EBL0000006 supporting document: commercial-invoice.pdf (application/pdf) "
        "[business,unread]"
    ) in listed.getvalue()

    await stores.ledger.release(
        sent.id, "Officer Wang", "documents read, no personal data", principal=OFFICER
    )
    (release,) = await jobs_of(stores, RELEASE)
    await ReleaseKind(ExportGate(stores.ledger)).run(release, "w")
    (job,) = await jobs_of(stores, TRANSFER)
    assert job.submission_id == sent.id
    entries = await stores.ledger.entries()
    assert [(e["digest"], e["categories"]) for e in entries[1:]] == [
        (INVOICE.checksum, "business,unread"), (VISUAL.checksum, "business,unread"),
    ]  # fmt: skip
    decided = {
        (e["submission_id"], e["decided_by"], e["article"], e["tenant_id"], e["principal"])
        for e in entries
    }
    assert decided == {(sent.id, "Officer Wang", "release", "t", OFFICER)}
    (count,) = await stores.ledger.counts(2026)
    assert count["personal"] == entries[0]["subjects"] > 0  # counted once released
    assert verify_chain(*await stores.ledger.chain_state()).ok


async def test_a_held_transport_document_and_document_are_both_named(
    stores: Stores, reference: Path, tmp_path: Path
) -> None:
    both = HK_APPROVAL + UNREAD_APPROVAL.replace('version = "ftz-2"\n', "")
    sent, _ = await send(stores, reference, gate(stores, tmp_path, both), "EBL0000007", "HK",
                         [INVOICE])  # fmt: skip
    assert sent.held is not None
    assert sent.held.index("no-personal-to-hk") < sent.held.index("unread-needs-review")
    assert "commercial-invoice.pdf" in sent.held
