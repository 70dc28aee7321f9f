"""``lingang backup`` / ``lingang restore`` on a real SQLite store with a signed export
ledger: the backup is taken while another connection is writing (what is committed, also
still in the write-ahead log, is in it; what is not, is not), the restore replaces the
store and its write-ahead log, and the ledger verifies afterwards."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from gateway.signing.testpki import make_test_pki
from gateway.store.ledger import LedgerStore
from gateway.store.ledger_anchor import read_anchor
from gateway.store.sqlite import SqliteStore
from tests.cli.test_ledger_cli import cli, ledger_with_entries
from tests.store.ledger_support import Clock, Stores, drop_guards_sqlite, export


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("pki")
    make_test_pki(folder)
    return folder


def _add_tenant(conn: sqlite3.Connection, tenant_id: str) -> None:
    conn.execute(
        "INSERT INTO tenants (id, name, created_at) VALUES (?, ?, '2026-12-06T00:00:00+00:00')",
        (tenant_id, tenant_id),
    )


async def _tenant_ids(db: str) -> set[str]:
    store = await SqliteStore.open(f"sqlite:///{db}")
    try:
        return {t.id for t in await store.list_tenants()}
    finally:
        await store.close()


def test_an_online_backup_restores_and_the_ledger_verifies(tmp_path: Path, pki: Path) -> None:
    db, config = asyncio.run(ledger_with_entries(tmp_path, pki))
    writer = sqlite3.connect(db, isolation_level=None)
    writer.execute("PRAGMA wal_autocheckpoint=0")  # committed rows stay in gateway.db-wal
    _add_tenant(writer, "committed")
    writer.execute("BEGIN IMMEDIATE")
    _add_tenant(writer, "uncommitted")  # the gateway in the middle of a transaction

    backup = tmp_path / "backups" / "gateway-1.db"
    backup.parent.mkdir()
    code, out, err = cli("backup", str(backup), "--config", str(config))
    assert code == 0, err
    assert "checked" in out and backup.stat().st_mode & 0o077 == 0
    assert not Path(f"{backup}-wal").exists()
    with sqlite3.connect(backup) as copy:
        ids = {row[0] for row in copy.execute("SELECT id FROM tenants")}
    assert {"committed", "t"} <= ids and "uncommitted" not in ids

    code, _, err = cli("backup", str(backup), "--config", str(config))
    assert code == 1 and "never overwrites" in err

    writer.execute("COMMIT")
    _add_tenant(writer, "after-backup")  # lost by the restore, as it should be
    writer.execute("BEGIN IMMEDIATE")
    code, _, err = cli("restore", str(backup), "--config", str(config))
    assert code == 1 and "stop every gateway process" in err
    writer.execute("ROLLBACK")
    writer.close()

    code, out, err = cli("restore", str(backup), "--config", str(config))
    assert code == 0, err
    assert asyncio.run(_tenant_ids(db)) == ids
    code, out, err = cli("ledger", "verify", "--config", str(config))
    assert code == 0 and "ledger ok: 4 entries" in out, out + err


def test_a_restore_is_refused_while_an_idle_process_has_the_store_open(
    tmp_path: Path, pki: Path
) -> None:
    """A gateway between two requests writes nothing, but its connections are open: a
    restore went through under it, and it went on serving the replaced store. Another
    process holding a connection (here: one read, then idle) now makes the restore refuse,
    the store untouched; once that process has ended, the restore goes through."""
    db, config = asyncio.run(ledger_with_entries(tmp_path, pki))
    backup = tmp_path / "gateway-1.db"
    assert cli("backup", str(backup), "--config", str(config))[0] == 0
    with contextlib.closing(sqlite3.connect(db)) as conn, conn:
        _add_tenant(conn, "after-backup")
    holder = subprocess.Popen(
        [sys.executable, "-c", _IDLE_CONNECTION, str(db)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "open\n"
        code, _, err = cli("restore", str(backup), "--config", str(config))
        assert code == 1 and "another process has it open" in err, err
        assert "after-backup" in asyncio.run(_tenant_ids(db)), "the store is untouched"
    finally:
        holder.communicate("", timeout=30)
    code, _, err = cli("restore", str(backup), "--config", str(config))
    assert code == 0, err
    assert "after-backup" not in asyncio.run(_tenant_ids(db))


_IDLE_CONNECTION = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1])
conn.execute("SELECT count(*) FROM tenants").fetchone()
print("open", flush=True)
sys.stdin.read()
"""
"""A process with the store open and idle, as a gateway between requests, until its stdin
closes."""


def test_a_restore_on_a_new_host_makes_a_private_store(tmp_path: Path, pki: Path) -> None:
    """Restoring where no store is yet (a new host, its data home not made) crashed with
    a traceback when the folder was missing, and made ``gateway.db`` with the umask's mode
    (``0644``: documents and key hashes readable by every user) when it was there."""
    _, config = asyncio.run(ledger_with_entries(tmp_path, pki))
    backup = tmp_path / "gateway-1.db"
    assert cli("backup", str(backup), "--config", str(config))[0] == 0
    for home in (tmp_path / "new-host", tmp_path / "made"):
        if home.name == "made":
            home.mkdir(mode=0o755)
        store = home / "gateway.db"
        code, _, err = cli("restore", str(backup), "--database", f"sqlite:///{store}")
        assert code == 0, err
        assert store.stat().st_mode & 0o777 == 0o600
        if home.name == "new-host":
            assert home.stat().st_mode & 0o777 == 0o700
        assert "t" in asyncio.run(_tenant_ids(str(store)))


def test_a_file_that_is_no_store_is_not_restored(tmp_path: Path, pki: Path) -> None:
    db, config = asyncio.run(ledger_with_entries(tmp_path, pki))
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database" * 100)
    code, _, err = cli("restore", str(junk), "--config", str(config))
    assert code == 1 and "no gateway store" in err
    assert "t" in asyncio.run(_tenant_ids(db))


def test_a_backup_into_a_missing_folder_or_from_a_missing_file_is_a_usage_error(
    tmp_path: Path, pki: Path
) -> None:
    """The backup named its own temp file (``cannot use .../.x.db.1a2b.part``) where the
    folder was missing; a restore from a file that is not there said "is no gateway store:
    unable to open database file" (exit 1). Both are mistakes in the command line (exit 2)."""
    _, config = asyncio.run(ledger_with_entries(tmp_path, pki))
    code, _, err = cli("backup", str(tmp_path / "nodir" / "x.db"), "--config", str(config))
    assert code == 2 and f"the folder {tmp_path / 'nodir'} does not exist" in err, err
    assert ".part" not in err
    code, _, err = cli("restore", str(tmp_path / "nothere.db"), "--config", str(config))
    assert code == 2 and f"no backup file at {tmp_path / 'nothere.db'}" in err, err


def test_postgresql_is_pointed_at_pg_dump(tmp_path: Path) -> None:
    url = "postgresql://lingang:secret@db.example/lingang"
    code, _, err = cli("backup", str(tmp_path / "x.db"), "--database", url)
    assert code == 2 and "pg_dump" in err and "secret" not in err


async def _more_exports(db: str, first: int, count: int) -> None:
    clock = Clock()
    store = await SqliteStore.open(f"sqlite:///{db}", clock=clock)
    stores = Stores(store, LedgerStore(store.connector, clock=clock), clock, "sqlite", db)
    try:
        for n in range(first, first + count):
            await export(stores, [(f"s{n}", False)], number=f"DOC-{n}")
    finally:
        await store.close()


def test_after_a_restore_the_anchor_names_what_was_lost_and_a_cut_anchor_goes_on(
    tmp_path: Path, pki: Path
) -> None:
    """README, Backups: checkpoints anchored after the backup are named as removed; the
    anchor's lines up to the restored head let verification and anchoring go on."""
    db, config = asyncio.run(ledger_with_entries(tmp_path, pki, count=3))
    with (
        contextlib.closing(sqlite3.connect(db)) as conn,
        conn,
    ):  # the helper's checkpoint is in no anchor: sign anew
        drop_guards_sqlite(conn)
        conn.execute("DELETE FROM export_checkpoints")
    assert cli("ledger", "checkpoint", "--config", str(config))[0] == 0
    backup = tmp_path / "gateway-backup.db"
    assert cli("backup", str(backup), "--config", str(config))[0] == 0
    asyncio.run(_more_exports(db, 3, 2))
    assert cli("ledger", "checkpoint", "--config", str(config))[0] == 0
    anchor = tmp_path / "ledger" / "anchor.jsonl"
    assert [m["seq"] for m in read_anchor(anchor)] == [3, 5]

    assert cli("restore", str(backup), "--config", str(config))[0] == 0
    code, out, _ = cli("ledger", "verify", "--config", str(config))
    assert code == 1 and "entry 5 was removed" in out, out
    kept = [line for line in anchor.read_bytes().splitlines(keepends=True) if b'"seq":3,' in line]
    anchor.rename(anchor.with_suffix(".before-restore.jsonl"))
    anchor.write_bytes(b"".join(kept))
    code, out, _ = cli("ledger", "verify", "--config", str(config))
    assert code == 0 and "ledger ok: 3 entries" in out, out
    asyncio.run(_more_exports(db, 10, 1))
    code, out, _ = cli("ledger", "checkpoint", "--config", str(config))
    assert code == 0 and "anchored in" in out
    code, out, _ = cli("ledger", "verify", "--config", str(config))
    assert code == 0 and "ledger ok: 4 entries" in out and "2 anchored" in out, out
