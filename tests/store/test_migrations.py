"""Migrations from zero give exactly ``schema.sql``, on both backends."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import psycopg
import pytest

from gateway.store import JobSpec, JobState, Store, StoreError, open_store
from gateway.store.migrations import current_version, load_migrations, schema_sql
from gateway.store.postgres import PostgresStore
from gateway.store.sql import split_statements
from gateway.store.sqlite import SqliteStore, sqlite_path

Shape = list[tuple[object, ...]]
WHEN = "2026-03-01T08:00:00.000000+00:00"


def sqlite_shape(path: Path) -> Shape:
    """Tables, columns, indexes and foreign keys of an SQLite file, migration table aside."""
    conn = sqlite3.connect(path)
    try:
        shape: Shape = []
        tables = conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "AND name <> 'schema_version' ORDER BY name"
        ).fetchall()
        for (table,) in tables:
            shape.append(("table", table, conn.execute(f"PRAGMA table_info({table})").fetchall()))
            shape.append(
                ("fks", table, conn.execute(f"PRAGMA foreign_key_list({table})").fetchall())
            )
        shape.extend(
            conn.execute(
                "SELECT type, name, tbl_name, sql FROM sqlite_master "
                "WHERE type IN ('index', 'trigger') ORDER BY type, name"
            ).fetchall()
        )
        return shape
    finally:
        conn.close()


async def test_sqlite_migrations_equal_schema(tmp_path: Path) -> None:
    store = await SqliteStore.open(f"sqlite:///{tmp_path}/migrated.db")
    try:
        assert await store.schema_version() == 0
        assert await store.migrate() == current_version("sqlite")
        assert await store.migrate() == current_version("sqlite")
    finally:
        await store.close()
    fresh = tmp_path / "fresh.db"
    conn = sqlite3.connect(fresh)
    for statement in split_statements(schema_sql("sqlite")):
        conn.execute(statement)
    conn.commit()
    conn.close()
    assert sqlite_shape(tmp_path / "migrated.db") == sqlite_shape(fresh)


async def test_sqlite_refuses_a_newer_schema(tmp_path: Path) -> None:
    store = await open_store(f"sqlite:///{tmp_path}/s.db")
    await store.close()
    conn = sqlite3.connect(tmp_path / "s.db")
    conn.execute("INSERT INTO schema_version VALUES (999, 'future', '2030-01-01')")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="newer"):
        await open_store(f"sqlite:///{tmp_path}/s.db")


def test_sqlite_urls() -> None:
    assert sqlite_path("sqlite:///var/store.db") == Path("var/store.db")
    assert sqlite_path("sqlite:////srv/lingang/store.db") == Path("/srv/lingang/store.db")
    with pytest.raises(StoreError):
        sqlite_path("sqlite://host/x.db")


async def test_unknown_url_scheme() -> None:
    with pytest.raises(StoreError, match="mysql"):
        await open_store("mysql://x/y")


def test_migration_files_are_numbered() -> None:
    for backend in ("sqlite", "postgres"):
        names = [m.name for m in load_migrations(backend)]
        assert names == [
            "core",
            "outbox",
            "job_kinds",
            "export_ledger",
            "title_tokens",
            "peppol_reporting",
            "ebl_registry",
            "console",
            "inbound_answers",
            "subject_key_id",
            "peppol_instances",
            "document_compression",
            "document_facts_inline",
            "sqlite_facts_inline",
            "ebl_title_documents",
            "ebl_surrender_requests",
            "tenant_export_counts",
            "officer_keys",
            "console_signouts",
            "ebl_document_origin",
            "received_by_tenant",
            "ledger_append_only",
            "ebl_idempotency",
            "idempotency_expiry",
            "sent_documents",
        ]


PG_SHAPE = """
SELECT 'column', table_name, column_name, data_type, is_nullable, column_default, is_identity
FROM information_schema.columns WHERE table_schema = 'public' AND table_name <> 'schema_version'
UNION ALL
SELECT 'index', tablename, indexname, indexdef, NULL, NULL, NULL
FROM pg_indexes WHERE schemaname = 'public' AND tablename <> 'schema_version'
UNION ALL
SELECT 'compression', attrelid::regclass::text, attname, attcompression::text, NULL, NULL, NULL
FROM pg_attribute WHERE attcompression <> ''
  AND attrelid IN (SELECT oid FROM pg_class WHERE relnamespace = 'public'::regnamespace)
UNION ALL
SELECT 'constraint', conrelid::regclass::text, conname, pg_get_constraintdef(oid), NULL, NULL, NULL
FROM pg_constraint WHERE connamespace = 'public'::regnamespace
  AND conrelid::regclass::text <> 'schema_version'
UNION ALL
SELECT 'trigger', event_object_table, trigger_name, action_statement, event_manipulation,
       action_timing, action_condition
FROM information_schema.triggers WHERE trigger_schema = 'public'
UNION ALL
SELECT 'function', proname, pg_get_function_identity_arguments(oid), NULL, NULL, NULL, NULL
FROM pg_proc WHERE pronamespace = 'public'::regnamespace
ORDER BY 1, 2, 3, 5
"""


def pg_shape(url: str) -> Shape:
    with psycopg.connect(url) as conn:
        return list(conn.execute(PG_SHAPE).fetchall())


@pytest.mark.postgres
async def test_postgres_migrations_equal_schema(pg_empty_url: str, pg_url: str) -> None:
    store = await PostgresStore.open(pg_empty_url)
    other = await PostgresStore.open(pg_empty_url)
    try:
        assert await store.schema_version() == 0
        versions = await asyncio.gather(store.migrate(), other.migrate())
        assert versions == [current_version("postgres")] * 2
        assert await store.schema_version() == current_version("postgres")
    finally:
        await store.close()
        await other.close()
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")
        conn.execute(schema_sql("postgres").encode())
    shape = pg_shape(pg_empty_url)
    assert shape and shape == pg_shape(pg_url)


OLD_ROWS: list[tuple[str, tuple[object, ...]]] = [
    ("INSERT INTO tenants (id, name, created_at) VALUES ('t', 'T', ?)", (WHEN,)),
    (
        "INSERT INTO submissions (id, tenant_id, data, content_type, metadata, state, "
        "created_at, updated_at) VALUES ('s', 't', ?, 'text/plain', '{}', 'queued', ?, ?)",
        (b"x", WHEN, WHEN),
    ),
    (
        "INSERT INTO outbox_jobs (id, submission_id, adapter, endpoint, message_id, state, "
        "attempts, next_attempt_at, created_at, updated_at) "
        "VALUES ('p', 's', 'pipeline', 'pipeline', 'p@x', 'done', 1, ?, ?, ?)",
        (WHEN, WHEN, WHEN),
    ),
    (
        "INSERT INTO outbox_jobs (id, submission_id, adapter, endpoint, message_id, state, "
        "attempts, next_attempt_at, created_at, updated_at) "
        "VALUES ('d', 's', 'peppol', 'https://ap/as4', 'd@x', 'pending', 0, ?, ?, ?)",
        (WHEN, WHEN, WHEN),
    ),
    (
        "INSERT INTO receipts (id, job_id, kind, data, media_type, detail, received_at) "
        "VALUES ('r', 'p', 'x', ?, 'text/plain', '{}', ?)",
        (b"r", WHEN),
    ),
]
"""Rows as a gateway of schema version 2 wrote them: a processing job (adapter
``pipeline``) with a receipt, and a delivery."""


async def check_migrated_old_rows(store: Store) -> None:
    jobs = {j.id: j for j in await store.list_jobs(submission_id="s")}
    assert {k: (j.kind, j.adapter, j.endpoint) for k, j in jobs.items()} == {
        "p": ("process", "", ""),
        "d": ("deliver", "peppol", "https://ap/as4"),
    }
    assert (jobs["p"].state, jobs["p"].message_id) == (JobState.DONE, "p@x")
    assert [r.id for r in await store.list_receipts(job_id="p")] == ["r"]
    assert (await store.enqueue_job("s", JobSpec("process"))).id == "p"
    assert (await store.enqueue_job("s", JobSpec("deliver", "peppol", "other"))).id == "d"
    [claimed] = await store.claim_jobs("w", kinds=["deliver"])
    assert claimed.id == "d"


async def test_sqlite_migration_gives_old_jobs_kinds(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "old.db")
    for migration in load_migrations("sqlite")[:2]:
        for statement in split_statements(migration.sql):
            conn.execute(statement)
    conn.execute(
        "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
        "applied_at TEXT NOT NULL)"
    )
    conn.execute("INSERT INTO schema_version VALUES (1, 'core', ?), (2, 'outbox', ?)", (WHEN, WHEN))
    for statement, params in OLD_ROWS:
        conn.execute(statement, params)
    conn.commit()
    conn.close()
    store = await open_store(f"sqlite:///{tmp_path}/old.db")
    try:
        assert await store.schema_version() == current_version("sqlite")
        await check_migrated_old_rows(store)
    finally:
        await store.close()
    conn = sqlite3.connect(tmp_path / "old.db")
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    conn.close()


@pytest.mark.postgres
async def test_postgres_migration_gives_old_jobs_kinds(pg_empty_url: str) -> None:
    with psycopg.connect(pg_empty_url, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
            "applied_at TIMESTAMPTZ NOT NULL)"
        )
        for migration in load_migrations("postgres")[:2]:
            conn.execute(migration.sql.encode())
            conn.execute(
                "INSERT INTO schema_version VALUES (%s, %s, %s)",
                (migration.version, migration.name, WHEN),
            )
        for statement, params in OLD_ROWS:
            conn.execute(statement.replace("?", "%s").encode(), params)
    store = await open_store(pg_empty_url)
    try:
        assert await store.schema_version() == current_version("postgres")
        await check_migrated_old_rows(store)
    finally:
        await store.close()
