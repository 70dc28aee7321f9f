"""Tampering with ledger rows directly in the database is caught by ``verify``, naming the
first edited, removed, inserted or reordered entry (SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.store.ledger_chain import entry_hash, verify_chain
from tests.store.ledger_support import GUARD_TRIGGERS, Stores, backend, export, stores

__all__ = ["backend", "stores"]


async def five(s: Stores) -> None:
    for n in range(5):
        await export(s, number=f"DOC-{n}")


async def sql(s: Stores, statement: str, params: tuple[Any, ...] = ()) -> None:
    """Run ``statement`` on the database behind the store, outside the gateway, as someone
    who can change the schema: the append-only triggers are dropped first."""
    if s.backend == "sqlite":
        import sqlite3

        with sqlite3.connect(s.url) as conn:
            for guard in GUARD_TRIGGERS["sqlite"]:
                conn.execute(guard)
            conn.execute(statement, params)
    else:
        import psycopg

        async with await psycopg.AsyncConnection.connect(s.url, autocommit=True) as conn:
            for guard in GUARD_TRIGGERS["postgres"]:
                await conn.execute(guard)  # type: ignore[arg-type]
            await conn.execute(statement.replace("?", "%s"), params)  # type: ignore[arg-type]


async def report(s: Stores) -> Any:
    return verify_chain(*await s.ledger.chain_state())


async def guarded(s: Stores, statement: str) -> str:
    """Run ``statement`` with the append-only triggers in place; the database's refusal."""
    if s.backend == "sqlite":
        import sqlite3

        with sqlite3.connect(s.url) as conn, pytest.raises(sqlite3.IntegrityError) as refused:
            conn.execute(statement)
        return str(refused.value)
    import psycopg

    async with await psycopg.AsyncConnection.connect(s.url, autocommit=True) as conn:
        with pytest.raises(psycopg.errors.IntegrityConstraintViolation) as denied:
            await conn.execute(statement)  # type: ignore[arg-type]
    return str(denied.value)


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE export_ledger SET destination = 'US' WHERE seq = 3",
        "DELETE FROM export_ledger WHERE seq = 5",
        "UPDATE export_checkpoints SET head_hash = 'x'",
        "DELETE FROM export_checkpoints",
    ],
)
async def test_the_database_refuses_to_change_entries_and_checkpoints(
    stores: Stores, statement: str
) -> None:
    """Migration 0022: the ledger and its checkpoints are append-only in the database
    itself, whoever connects; the entries stay as written and the chain verifies."""
    await five(stores)
    await stores.ledger.checkpoint(lambda p: ("sig", "CERT"))
    assert "is append-only" in await guarded(stores, statement)
    found = await report(stores)
    assert found.ok and found.entries == 5


async def test_emptying_the_ledger_at_once_is_refused(stores: Stores) -> None:
    """PostgreSQL's TRUNCATE skips row triggers, so statement triggers refuse it; SQLite has
    no TRUNCATE (its bare DELETE runs the row triggers)."""
    await five(stores)
    await stores.ledger.checkpoint(lambda p: ("sig", "CERT"))
    empty = "TRUNCATE" if stores.backend == "postgres" else "DELETE FROM"
    for table in ("export_ledger", "export_checkpoints"):
        assert "is append-only" in await guarded(stores, f"{empty} {table}")
    assert (await report(stores)).entries == 5


async def test_an_untouched_ledger_verifies(stores: Stores) -> None:
    await five(stores)
    found = await report(stores)
    assert found.ok and found.entries == 5


async def test_an_edited_entry_is_named(stores: Stores) -> None:
    await five(stores)
    await sql(stores, "UPDATE export_ledger SET destination = 'US' WHERE seq = 3")
    found = await report(stores)
    assert not found.ok and found.seq == 3 and "entry 3 was edited" in found.problem


async def test_a_deleted_entry_is_named(stores: Stores) -> None:
    await five(stores)
    await sql(stores, "DELETE FROM export_ledger WHERE seq = 2")
    found = await report(stores)
    assert not found.ok and found.seq == 3 and "before 3 was removed" in found.problem


async def test_deleting_the_last_entry_is_caught_by_the_head(stores: Stores) -> None:
    await five(stores)
    await sql(stores, "DELETE FROM export_ledger WHERE seq = 5")
    found = await report(stores)
    assert not found.ok and found.seq == 5 and "entry 5 was removed" in found.problem


async def test_an_inserted_entry_is_named(stores: Stores) -> None:
    await five(stores)
    entries, _, _ = await stores.ledger.chain_state()
    forged = {**entries[1], "document_id": "FORGED", "prev_hash": entries[1]["entry_hash"]}
    forged["entry_hash"] = entry_hash(forged["prev_hash"], forged)
    for seq in (5, 4, 3):  # make room after entry 2
        await sql(stores, "UPDATE export_ledger SET seq = ? WHERE seq = ?", (seq + 1, seq))
    columns = [k for k in forged if k != "seq"]
    await sql(
        stores,
        f"INSERT INTO export_ledger (seq, {', '.join(columns)}) "
        f"VALUES (3, {', '.join('?' for _ in columns)})",
        tuple(forged[c] for c in columns),
    )
    found = await report(stores)
    assert not found.ok and found.seq == 4 and "entry 3 was inserted" in found.problem


async def test_reordered_entries_are_named(stores: Stores) -> None:
    await five(stores)
    await sql(stores, "UPDATE export_ledger SET seq = 99 WHERE seq = 3")
    await sql(stores, "UPDATE export_ledger SET seq = 3 WHERE seq = 4")
    await sql(stores, "UPDATE export_ledger SET seq = 4 WHERE seq = 99")
    found = await report(stores)
    assert not found.ok and found.seq == 3 and "entry 3 is out of order" in found.problem


async def test_a_rewritten_chain_is_caught_by_a_signed_checkpoint(stores: Stores) -> None:
    await five(stores)
    await stores.ledger.checkpoint(lambda p: ("sig", "CERT"))
    entries, _, _ = await stores.ledger.chain_state()
    previous = entries[1]["entry_hash"]
    for entry in entries[2:]:  # edit entry 3 and recompute every hash after it
        entry = {**entry, "prev_hash": previous}
        if entry["seq"] == 3:
            entry["recipient"] = "0088:attacker"
        entry["entry_hash"] = entry_hash(previous, entry)
        await sql(
            stores,
            "UPDATE export_ledger SET recipient = ?, prev_hash = ?, entry_hash = ? WHERE seq = ?",
            (entry["recipient"], entry["prev_hash"], entry["entry_hash"], entry["seq"]),
        )
        previous = entry["entry_hash"]
    await sql(stores, "UPDATE export_ledger_head SET hash = ? WHERE id = 1", (previous,))
    found = await report(stores)
    assert not found.ok and "signed checkpoint 5 disagrees" in found.problem


@pytest.mark.parametrize("column", ["basis", "decided_by", "subjects", "at"])
async def test_every_recorded_field_is_covered(stores: Stores, column: str) -> None:
    await five(stores)
    value = 7 if column == "subjects" else "x"
    await sql(stores, f"UPDATE export_ledger SET {column} = ? WHERE seq = 1", (value,))
    found = await report(stores)
    assert not found.ok and found.seq == 1 and "edited" in found.problem


async def test_the_readme_recipe_recomputes_the_chain(stores: Stores) -> None:
    """An auditor's verifier written from the README alone (hashlib and json, no gateway
    code) agrees with every stored hash and the head, across a release by an officer."""
    import hashlib
    import json

    from tests.store.ledger_support import thresholds

    await five(stores)
    sid, _ = await export(stores, [("x", True)], judge=thresholds(1), number="DOC-5")
    await stores.ledger.release(sid, "王 Officer", "SCC SH-1", principal="cli:li")
    (job,) = [j for j in await stores.store.claim_jobs("w9") if j.kind == "release"]
    await stores.ledger.finish_release(job.id, "w9")
    entries, head, _ = await stores.ledger.chain_state()
    columns = ("at", "exporter", "destination", "recipient", "submission_id", "document_id",
               "digest", "categories", "subjects", "basis", "article", "policy_version",
               "decided_by")  # fmt: skip
    previous = "0" * 64
    for entry in entries:
        body = {name: entry[name] for name in columns}
        body |= {n: entry[n] for n in ("tenant_id", "principal") if entry[n] is not None}
        text = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        digest = hashlib.sha256(f"{previous}\n{text}".encode()).hexdigest()
        assert (entry["prev_hash"], entry["entry_hash"]) == (previous, digest)
        previous = digest
    assert (head["seq"], head["hash"]) == (6, previous)
    assert entries[-1]["decided_by"] == "王 Officer" and isinstance(entries[-1]["subjects"], int)
