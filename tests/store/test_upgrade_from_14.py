"""A database a gateway at schema version 14 wrote, with rows in every table migrations 15 to
20 touch, upgraded in one go by opening it (SQLite and PostgreSQL): the ledger's counts go to
the tenants that exported, its old entries keep their hashes and the chain still verifies
after new entries (with tenant and principal) are appended, holds waiting before the
upgrade are decided and released after it, keys keep working as submitters, eBL documents
and surrenders are migrated, and a console sign-out is kept."""

from __future__ import annotations

import json
from pathlib import Path

from gateway.jobs.gate import ExportGate, ReleaseKind
from gateway.pint.checksums import document_checksum
from gateway.store import hash_api_key, open_store
from gateway.store.console import ConsoleStore
from gateway.store.ebl import EblRegistry
from gateway.store.ledger import LedgerStore
from gateway.store.ledger_chain import GENESIS, entry_hash, verify_chain
from gateway.store.ledger_records import ExportRecord
from gateway.store.migrations import current_version
from tests.store.test_ebl_migrations import CARRIER, OldDatabase, _sum, fill, old
from tests.store.test_migration_tenant_counts import WHEN, old_rows

__all__ = ["old"]

RECORD = ExportRecord("E", "SG", "0195:X", "9", "11" * 32, ("business", "personal"),
                      subjects=(("E-subject-0", False),), subject_key_id="k1")  # fmt: skip
JOB = {"kind": "deliver", "adapter": "peppol", "endpoint": "0195:X", "payload_ref": None,
       "message_id": None}  # fmt: skip


def version_14_rows(placeholder: str) -> list[tuple[str, tuple[object, ...]]]:
    """Keys, held documents and eBL documents as a version-14 gateway wrote them."""
    p = placeholder
    rows = [
        (f"INSERT INTO api_keys (id, tenant_id, key_hash, label, created_at) VALUES "
         f"({p}, 'a', {p}, 'old', {p})", ("key-1", hash_api_key("old-key"), WHEN)),
    ]  # fmt: skip
    for sid in ("held-1", "releasing-1"):
        rows.append(
            (
                "INSERT INTO submissions (id, tenant_id, data, content_type, metadata, state, "
                f"created_at, updated_at) VALUES ({p}, 'a', {p}, 'application/xml', '{{}}', "
                f"'held', {p}, {p})",
                (sid, b"<x/>", WHEN, WHEN),
            )
        )
    export = json.dumps({**RECORD.to_json(), "counted": True})
    rows.append(
        (
            "INSERT INTO export_holds (submission_id, tenant_id, state, reason, policy_version, "
            f"export, job, held_at) VALUES ('held-1', 'a', 'held', 'volume', 'v1', {p}, {p}, {p})",
            (export, json.dumps(JOB), WHEN),
        )
    )
    rows.append(
        (
            "INSERT INTO export_holds (submission_id, tenant_id, state, reason, policy_version, "
            "export, job, held_at, decided_by, basis, decided_at) VALUES ('releasing-1', 'a', "
            f"'releasing', 'volume', 'v1', {p}, {p}, {p}, 'Officer Wang', 'SCC SH-1', {p})",
            (export, json.dumps(JOB), WHEN, WHEN),
        )
    )
    rows.append(
        (
            "INSERT INTO outbox_jobs (id, kind, submission_id, adapter, endpoint, message_id, "
            "state, attempts, next_attempt_at, created_at, updated_at) VALUES ('release-1', "
            f"'release', 'releasing-1', '', '', 'release-1@lingang', 'pending', 0, {p}, {p}, {p})",
            (WHEN, WHEN, WHEN),
        )
    )
    invoice = _sum("invoice")
    rows += [
        (
            f"INSERT INTO ebl_accepted VALUES ({p}, {p}, 'entry', {p}, 'AEOT', {p})",
            (_sum("last-1"), _sum("td"), f'["{invoice}"]', WHEN),
        ),
        (
            f"INSERT INTO ebl_documents VALUES ({p}, 'application/pdf', {p}, {p})",
            (invoice, b"%PDF invoice", WHEN),
        ),
    ]
    return rows


async def test_a_version_14_database_with_data_upgrades_in_one_go(
    old: OldDatabase, reference: Path
) -> None:
    old.create(14)
    mark = "?"
    old.execute(old_rows(mark))
    old.execute(version_14_rows(mark))
    surrenders = fill(old, reference)
    store = await open_store(old.url)
    try:
        assert await store.schema_version() == current_version(old.backend)
        found = await store.api_key_for_hash(hash_api_key("old-key"))
        assert found is not None and (found[0].id, found[1].role) == ("a", "submitter")

        ledger = LedgerStore(store.connector, clock=store.clock)
        counts = {(r["tenant_id"], r["exporter"]) for r in await ledger.counts(2026)}
        assert ("a", "E") in counts and ("b", "E") in counts
        assert [h.submission_id for h in await ledger.list_holds(tenant_id="a")] == ["held-1"]

        # the hold released before the upgrade finishes after it; one held then is decided now
        (job,) = await store.claim_jobs("w", limit=5, kinds={"release"})
        await ReleaseKind(ExportGate(ledger)).run(job, "w")
        await ledger.release("held-1", "Officer Li", "SCC SH-2", principal="api-key:key-2")
        (job,) = await store.claim_jobs("w", limit=5, kinds={"release"})
        await ReleaseKind(ExportGate(ledger)).run(job, "w")
        entries, head, marks = await ledger.chain_state()
        assert [(e["submission_id"], e["tenant_id"], e["principal"]) for e in entries[4:]] == [
            ("releasing-1", "a", ""),
            ("held-1", "a", "api-key:key-2"),
        ]
        assert [e["tenant_id"] for e in entries[:4]] == [None] * 4
        report = verify_chain(entries, head, marks)
        assert report.ok, report.problem

        registry = EblRegistry.of(store)
        (carried,) = await registry.documents_of(_sum("td"))
        assert carried.received and carried.size == len(b"%PDF invoice")
        carrier_side = await registry.get(document_checksum(surrenders.carrier_side))
        assert (carrier_side.state, carrier_side.possessor) == ("held", CARRIER.label())

        console = ConsoleStore(store.connector, clock=store.clock)
        await console.sign_out("nonce-1", 4_000_000_000)
        assert await console.signed_out("nonce-1")
    finally:
        await store.close()


def ebl_only_rows(placeholder: str) -> list[tuple[str, tuple[object, ...]]]:
    """A version-14 eBL platform run from the command line (no tenant in the store): one
    transfer the gate let leave (no hold, no submission) and the exporter's counts."""
    p = placeholder
    entry = {
        "seq": 1, "at": WHEN, "exporter": "AEOT:AEOT/COSCO", "destination": "SG",
        "recipient": "IQAX:IQAX/BANK", "submission_id": "transfer-1", "document_id": "BL1",
        "digest": "00" * 32, "categories": "business,personal", "subjects": 2,
        "basis": "Art. 5(4)", "article": "art-5-4", "policy_version": "v1",
        "decided_by": "policy v1", "prev_hash": GENESIS,
    }  # fmt: skip
    entry["entry_hash"] = entry_hash(GENESIS, entry)
    columns = list(entry)
    marks = ", ".join([p] * len(columns))
    return [
        (f"INSERT INTO export_ledger ({', '.join(columns)}) VALUES ({marks})",
         tuple(entry[c] for c in columns)),
        (f"UPDATE export_ledger_head SET seq = 1, hash = {p} WHERE id = 1",
         (entry["entry_hash"],)),
        ("INSERT INTO export_counts (exporter, year, personal, sensitive, documents) "
         "VALUES ('AEOT:AEOT/COSCO', 2026, 2, 0, 1)", ()),
    ]  # fmt: skip


async def test_counts_no_tenant_is_known_for_stay_with_the_tenantless_exports(
    old: OldDatabase,
) -> None:
    """An eBL platform without API tenants exports as tenant "" (the transfer's tenant is
    the one acting for its party: none). Its counts from before the upgrade go on under ""
    (and under every tenant the store has, none here): they are not dropped, so the yearly
    thresholds still see the individuals already exported."""
    old.create(14)
    old.execute(ebl_only_rows("?"))
    store = await open_store(old.url)
    try:
        ledger = LedgerStore(store.connector, clock=store.clock)
        counts = {(r["tenant_id"], r["exporter"]): r["personal"] for r in await ledger.counts(2026)}
    finally:
        await store.close()
    assert counts == {("", "AEOT:AEOT/COSCO"): 2}
