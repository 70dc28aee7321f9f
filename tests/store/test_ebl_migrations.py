"""eBL registry migrations over rows an older gateway wrote, on SQLite and PostgreSQL: the
database is built at the older schema version, filled as that version filled it, and opened
by this gateway (which migrates it)."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from gateway.store import open_store
from gateway.store.ebl import CarriedDocument, EblRegistry
from gateway.store.migrations import load_migrations
from gateway.store.sql import split_statements

WHEN = "2026-11-20T08:00:00.000000+00:00"


@dataclass(frozen=True, slots=True)
class OldDatabase:
    """A database at an older schema version, written to with plain SQL (``?`` placeholders)."""

    backend: str
    url: str

    def create(self, version: int) -> None:
        """The schema of migrations 1..``version``, as a gateway of that version left it."""
        migrations = load_migrations(self.backend)[:version]
        if self.backend == "sqlite":
            with sqlite3.connect(self.path) as conn:
                conn.execute(
                    "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, name TEXT NOT "
                    "NULL, applied_at TEXT NOT NULL)"
                )
                for migration in migrations:
                    for statement in split_statements(migration.sql):
                        conn.execute(statement)
                    conn.execute(
                        "INSERT INTO schema_version VALUES (?, ?, ?)",
                        (migration.version, migration.name, WHEN),
                    )
            return
        with psycopg.connect(self.url, autocommit=True) as pg:
            pg.execute(
                "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
                "applied_at TIMESTAMPTZ NOT NULL)"
            )
            for migration in migrations:
                pg.execute(migration.sql.encode())
                pg.execute(
                    "INSERT INTO schema_version VALUES (%s, %s, %s)",
                    (migration.version, migration.name, WHEN),
                )

    def insert(self, statements: Sequence[tuple[str, tuple[object, ...]]]) -> None:
        if self.backend == "sqlite":
            with sqlite3.connect(self.path) as conn:
                for statement, params in statements:
                    conn.execute(statement, params)
            return
        with psycopg.connect(self.url, autocommit=True) as pg:
            for statement, params in statements:
                pg.execute(statement.replace("?", "%s").encode(), params)

    @property
    def path(self) -> Path:
        return Path(self.url.removeprefix("sqlite:///"))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def old(request: pytest.FixtureRequest, tmp_path: Path) -> OldDatabase:
    if request.param == "sqlite":
        return OldDatabase("sqlite", f"sqlite:///{tmp_path}/old.db")
    return OldDatabase("postgres", str(request.getfixturevalue("pg_empty_url")))


def _sum(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


async def test_documents_received_before_are_linked_to_their_ebls(old: OldDatabase) -> None:
    """Migration 15: the documents an accepted envelope's signed answer confirmed, and whose
    bytes are held, are carried by that eBL (named from the checksum: the manifest is gone);
    one confirmed but not held is not."""
    invoice, visual, absent = _sum("invoice"), _sum("visual"), _sum("absent")
    old.create(14)
    old.insert(
        [
            (
                "INSERT INTO ebl_accepted VALUES (?, ?, 'entry', ?, 'AEOT', ?)",
                (_sum("last-1"), _sum("td"), f'["{invoice}", "{visual}", "{absent}"]', WHEN),
            ),
            (  # the same eBL came back later with the invoice again
                "INSERT INTO ebl_accepted VALUES (?, ?, 'entry', ?, 'SGTD', ?)",
                (_sum("last-2"), _sum("td"), f'["{invoice}"]', WHEN),
            ),
            (
                "INSERT INTO ebl_documents VALUES (?, 'application/pdf', ?, ?)",
                (invoice, b"%PDF invoice", WHEN),
            ),
            ("INSERT INTO ebl_documents VALUES (?, 'image/png', ?, ?)", (visual, b"PNG", WHEN)),
        ]
    )
    store = await open_store(old.url)
    try:
        carried = await EblRegistry.of(store).documents_of(_sum("td"))
    finally:
        await store.close()
    assert sorted(carried, key=lambda d: d.checksum) == sorted(
        [
            CarriedDocument(invoice, f"document {invoice[:16]}", "application/pdf", 12),
            CarriedDocument(visual, f"document {visual[:16]}", "image/png", 3),
        ],
        key=lambda d: d.checksum,
    )
