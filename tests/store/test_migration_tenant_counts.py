"""Migration 15 on a ledger written before counts were a tenant's own, on both backends: an
exporter's yearly count goes to every tenant that exported as it that year (exactly to the
one, when only one did; to every tenant when the ledger names none), the entries keep their
hashes and the chain verifies, and new entries record their tenant."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path
from typing import Any

import psycopg
import pytest

from gateway.store import Store, open_store
from gateway.store.ledger import LedgerStore, Verdict
from gateway.store.ledger_chain import GENESIS, entry_hash, verify_chain
from gateway.store.ledger_export import chain_entry, count_and_judge
from gateway.store.ledger_records import ExportRecord
from gateway.store.migrations import load_migrations
from gateway.store.sql import split_statements

WHEN = "2026-03-01T08:00:00.000000+00:00"
NEW_YEAR_EVE = "2025-12-31T17:00:00.000000+00:00"
"""1 January 2026, 01:00 in Beijing: counted in 2026."""
JUNE = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)


def old_entries() -> list[dict[str, Any]]:
    """Four entries as a gateway before migration 15 wrote them (no tenant, chained)."""
    made: list[dict[str, Any]] = []
    previous = GENESIS
    for seq, (exporter, submission, at) in enumerate(
        [("E", "sa", WHEN), ("E", "sb", NEW_YEAR_EVE), ("F", "sa", WHEN), ("G", "xfer", WHEN)],
        start=1,
    ):
        entry = {
            "seq": seq, "at": at, "exporter": exporter, "destination": "SG",
            "recipient": "0195:X", "submission_id": submission, "document_id": str(seq),
            "digest": "00" * 32, "categories": "business,personal", "subjects": 1,
            "basis": "Art. 5(4)", "article": "art-5-4", "policy_version": "v1",
            "decided_by": "policy v1", "prev_hash": previous,
        }  # fmt: skip
        entry["entry_hash"] = previous = entry_hash(previous, entry)
        made.append(entry)
    return made


def old_rows(placeholder: str) -> list[tuple[str, tuple[object, ...]]]:
    p = placeholder
    rows: list[tuple[str, tuple[object, ...]]] = [
        (f"INSERT INTO tenants (id, name, created_at) VALUES ({p}, {p}, {p})", (t, t, WHEN))
        for t in ("a", "b", "c")
    ]
    rows += [
        (
            "INSERT INTO submissions (id, tenant_id, data, content_type, metadata, state, "
            f"created_at, updated_at) VALUES ({p}, {p}, {p}, 'application/xml', '{{}}', "
            f"'queued', {p}, {p})",
            (sid, tenant, b"<x/>", WHEN, WHEN),
        )
        for sid, tenant in (("sa", "a"), ("sb", "b"))
    ]
    columns = [*old_entries()[0]]
    for entry in old_entries():
        marks = ", ".join([p] * len(columns))
        rows.append(
            (f"INSERT INTO export_ledger ({', '.join(columns)}) VALUES ({marks})",
             tuple(entry[c] for c in columns))
        )  # fmt: skip
    last = old_entries()[-1]
    rows.append(
        (f"UPDATE export_ledger_head SET seq = {p}, hash = {p} WHERE id = 1",
         (last["seq"], last["entry_hash"]))
    )  # fmt: skip
    for exporter, personal in (("E", 3), ("F", 1), ("G", 1)):
        rows.append(
            (
                "INSERT INTO export_counts (exporter, year, personal, sensitive, documents) "
                f"VALUES ({p}, 2026, {p}, 0, {p})",
                (exporter, personal, personal),
            )
        )
        for n in range(personal):
            rows.append(
                (
                    "INSERT INTO export_subjects (exporter, year, subject, sensitive, key_id) "
                    f"VALUES ({p}, 2026, {p}, 0, 'k1')",
                    (exporter, f"{exporter}-subject-{n}"),
                )
            )
    return rows


async def check_migrated(store: Store) -> None:
    ledger = LedgerStore(store.connector, clock=store.clock)
    counts = {(r["tenant_id"], r["exporter"]): r["personal"] for r in await ledger.counts(2026)}
    assert counts == {
        ("a", "E"): 3, ("b", "E"): 3,  # shared before: each keeps the whole (never less)
        ("a", "F"): 1,  # one tenant's exporter: exactly its count
        # no tenant known: every tenant's, and the tenantless one's (a CLI-run eBL platform)
        ("a", "G"): 1, ("b", "G"): 1, ("c", "G"): 1, ("", "G"): 1,
    }  # fmt: skip
    entries, head, marks = await ledger.chain_state()
    assert [e["tenant_id"] for e in entries] == [None] * 4
    assert verify_chain(entries, head, marks).ok
    owners = [e["owner"] for e in await ledger.entries_for_year(2026)]
    assert owners == ["a", "b", "a", ""]  # an old entry shown under its submission's tenant
    # a known individual of tenant a stays known; tenant c counts its own from zero
    record = ExportRecord("E", "SG", "0195:X", "5", "00" * 32, ("personal",),
                          subjects=(("E-subject-0", False), ("new", False)))  # fmt: skip
    verdict = Verdict(True, "Art. 5(4)", "art-5-4", policy_version="v1",
                      decided_by="policy v1", counted=True)  # fmt: skip

    async def export(tenant: str) -> None:
        def script() -> Any:
            yield from count_and_judge(tenant, record, verdict, JUNE)
            yield from chain_entry(tenant, f"s-{tenant}", record, verdict, JUNE)

        await ledger.connector.write(script())

    await export("a")
    await export("d")
    counts = {(r["tenant_id"], r["exporter"]): r["personal"] for r in await ledger.counts(2026)}
    assert counts[("a", "E")] == 4 and counts[("d", "E")] == 2 and counts[("b", "E")] == 3
    entries, head, marks = await ledger.chain_state()
    assert [e["tenant_id"] for e in entries[4:]] == ["a", "d"]
    assert verify_chain(entries, head, marks).ok


def version_14(backend: str) -> list[Any]:
    return load_migrations(backend)[:14]


async def test_sqlite_counts_go_to_the_tenants_that_exported(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    conn.execute(
        "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
        "applied_at TEXT NOT NULL)"
    )
    for migration in version_14("sqlite"):
        for statement in split_statements(migration.sql):
            conn.execute(statement)
        conn.execute(
            "INSERT INTO schema_version VALUES (?, ?, ?)", (migration.version, migration.name, WHEN)
        )
    for statement, params in old_rows("?"):
        conn.execute(statement, params)
    conn.commit()
    conn.close()
    store = await open_store(f"sqlite:///{path}")
    try:
        await check_migrated(store)
    finally:
        await store.close()


@pytest.mark.postgres
async def test_postgres_counts_go_to_the_tenants_that_exported(pg_empty_url: str) -> None:
    with psycopg.connect(pg_empty_url, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
            "applied_at TIMESTAMPTZ NOT NULL)"
        )
        for migration in version_14("postgres"):
            conn.execute(migration.sql.encode())
            conn.execute(
                "INSERT INTO schema_version VALUES (%s, %s, %s)",
                (migration.version, migration.name, WHEN),
            )
        for statement, params in old_rows("%s"):
            conn.execute(statement.encode(), params)
    store = await open_store(pg_empty_url)
    try:
        await check_migrated(store)
    finally:
        await store.close()
