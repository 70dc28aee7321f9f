"""Online backup and restore of the SQLite store (``lingang backup`` / ``lingang restore``).

A copy of ``gateway.db`` made with ``cp`` while the gateway runs is not a backup: the
committed pages may still be in ``gateway.db-wal``, and a copy taken mid-checkpoint is torn.
:func:`backup` uses SQLite's online backup API from a reader's snapshot instead: it sees
exactly the transactions committed when it starts (WAL readers block no writer, so the
gateway keeps serving), writes a single self-contained file (no ``-wal`` beside it) as a
private temp file, checks it (``PRAGMA integrity_check``, the schema version) and only then
renames it into place.

:func:`restore` checks a backup the same way and copies it *into* the store through the
same API, so the store's own write-ahead log is reset with it: copying the file over
``gateway.db`` by hand would leave a stale ``gateway.db-wal`` that SQLite then replays onto
the restored file. Stop every gateway process of the store first (it refuses while any
other process has the store open, idle or writing).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from gateway.private_files import PRIVATE_FILE, fsync_path, private_dir, touch_private
from gateway.store.records import StoreError

BUSY_MILLISECONDS = 5000
"""How long a backup or restore waits for a lock held by the gateway."""


@dataclass(frozen=True, slots=True)
class BackupFacts:
    """What a checked backup holds: its schema ``version`` and size in ``bytes``."""

    path: Path
    version: int
    bytes: int


def backup(source: Path, target: Path) -> BackupFacts:
    """Copy the store at ``source`` to the new file ``target`` (never overwritten), online."""
    if not source.is_file():
        raise StoreError(f"no SQLite store at {source}", field="database")
    if target.exists():
        raise StoreError(f"{target} exists: a backup never overwrites a file", field="target")
    temp = target.with_name(f".{target.name}.{secrets.token_hex(6)}.part")
    try:
        os.close(os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE))
        with (
            contextlib.closing(_connect(source, read_only=True)) as live,
            contextlib.closing(sqlite3.connect(temp)) as copy,
        ):
            live.backup(copy)
            copy.execute("PRAGMA journal_mode=DELETE")
        facts = check_backup(temp)
        fsync_path(temp)
        os.replace(temp, target)
        fsync_path(target.parent)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return BackupFacts(target, facts.version, facts.bytes)


def check_backup(path: Path) -> BackupFacts:
    """The facts of the backup at ``path``; :class:`StoreError` when it is no sound store."""
    try:
        with contextlib.closing(_connect(path, read_only=True)) as conn:
            verdict = [row[0] for row in conn.execute("PRAGMA integrity_check")]
            version = conn.execute("SELECT max(version) FROM schema_version").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{path} is no gateway store: {exc}", field="backup") from exc
    if verdict != ["ok"]:
        raise StoreError(f"{path} fails SQLite's integrity check: {verdict[:3]}", field="backup")
    if version is None:
        raise StoreError(f"{path} has no schema version: no gateway store", field="backup")
    return BackupFacts(path, int(version), path.stat().st_size)


def restore(backup_file: Path, target: Path) -> BackupFacts:
    """Replace the store at ``target`` with the checked ``backup_file``; its facts. A store
    that is not there yet (a new host) is made as the gateway makes one: its folder ``0700``
    when missing, the file ``0600`` (it holds documents and key hashes)."""
    facts = check_backup(backup_file)
    if not target.parent.exists():
        private_dir(target.parent)
    touch_private(target)
    with (
        contextlib.closing(_connect(backup_file, read_only=True)) as source,
        contextlib.closing(_connect(target, read_only=False)) as live,
    ):
        _take_for_restore(live, target)
        source.backup(live)
        live.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return facts


def _take_for_restore(live: sqlite3.Connection, target: Path) -> None:
    """Hold the store at ``target`` alone until ``live`` closes, or refuse: any other
    connection to it — a gateway process between two requests included — is in use.

    In WAL mode ``BEGIN EXCLUSIVE`` waits only for another *writer*: an idle gateway, its
    pool's connections open, let the restore through, and went on serving over the
    replaced store with what it held in memory (leases, queued work) while its clients
    were answered from the old one. A connection in ``EXCLUSIVE`` locking mode takes the
    database file's exclusive lock, which every open WAL connection's shared lock blocks,
    and keeps it after the transaction ends, so no process opens the store mid-restore."""
    try:
        live.execute("PRAGMA locking_mode=EXCLUSIVE")
        live.execute("BEGIN EXCLUSIVE")
        live.rollback()
    except sqlite3.OperationalError as exc:
        raise StoreError(
            f"{target} is in use ({exc}): another process has it open; stop every "
            "gateway process of this store (lingang serve, lingang worker) before "
            "restoring it",
            field="database",
        ) from exc


def _connect(path: Path, *, read_only: bool) -> sqlite3.Connection:
    mode = "ro" if read_only else "rwc"
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode={mode}", uri=True)
    conn.execute(f"PRAGMA busy_timeout={BUSY_MILLISECONDS}")
    return conn
