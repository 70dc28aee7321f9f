"""Group commit of the SQLite store: many writes per transaction, each still its own unit."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from gateway.store import ConflictError, NotFoundError
from gateway.store.sqlite import SqliteStore
from gateway.store.sqlite_commit import GroupCommitter


async def test_concurrent_writes_share_commits_and_stay_separate(tmp_path: Path) -> None:
    store = await SqliteStore.open(f"sqlite:///{tmp_path / 'g.db'}")
    try:
        await store.migrate()
        await store.create_tenant("T", tenant_id="t")
        before = store.writer.groups

        async def submit(index: int) -> str:
            sub, _ = await store.create_submission(
                "t", b"<a/>", content_type="application/xml", idempotency_key=f"k{index % 40}"
            )
            return sub.id

        async def bad() -> None:
            await store.create_submission("nobody", b"<a/>", content_type="application/xml")

        results = await asyncio.gather(
            *(submit(i) for i in range(80)), bad(), return_exceptions=True
        )
        assert isinstance(results[-1], NotFoundError)
        ids = [r for r in results[:-1] if isinstance(r, str)]
        assert len(ids) == 80 and len(set(ids)) == 40  # one submission per idempotency key
        assert store.writer.groups - before < 81
        assert len(await store.list_submissions("t", limit=200)) == 40
    finally:
        await store.close()
    reopened = await SqliteStore.open(f"sqlite:///{tmp_path / 'g.db'}")
    try:
        assert len(await reopened.list_submissions("t", limit=200)) == 40
    finally:
        await reopened.close()


def test_a_failing_write_is_rolled_back_alone(tmp_path: Path) -> None:
    def connect() -> sqlite3.Connection:
        conn = sqlite3.connect(tmp_path / "c.db", isolation_level=None, check_same_thread=False)
        conn.execute("CREATE TABLE IF NOT EXISTS t (v INTEGER PRIMARY KEY)")
        return conn

    committer = GroupCommitter(connect)

    def insert(value: int) -> int:
        def work(conn: sqlite3.Connection) -> int:
            conn.execute("INSERT INTO t VALUES (?)", (value,))
            return value

        return work

    def insert_then_fail(conn: sqlite3.Connection) -> None:
        conn.execute("INSERT INTO t VALUES (100)")
        conn.execute("INSERT INTO t VALUES (1)")  # duplicate of the first write

    futures = [committer.submit(insert(1)), committer.submit(insert_then_fail)]
    futures += [committer.submit(insert(v)) for v in (2, 3)]
    assert futures[0].result() == 1
    with pytest.raises(sqlite3.IntegrityError):
        futures[1].result()
    assert [f.result() for f in futures[2:]] == [2, 3]
    committer.close()
    conn = connect()
    assert [r[0] for r in conn.execute("SELECT v FROM t ORDER BY v")] == [1, 2, 3]
    conn.close()


async def test_conflicts_still_surface_as_store_errors(tmp_path: Path) -> None:
    store = await SqliteStore.open(f"sqlite:///{tmp_path / 'g.db'}")
    try:
        await store.migrate()
        await store.create_tenant("T", tenant_id="t")
        with pytest.raises(ConflictError):
            await store.create_tenant("again", tenant_id="t")
        assert [t.id for t in await store.list_tenants()] == ["t"]
    finally:
        await store.close()


async def test_a_groups_outcomes_reach_the_event_loop_in_one_call(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def connect() -> sqlite3.Connection:
        conn = sqlite3.connect(tmp_path / "h.db", isolation_level=None, check_same_thread=False)
        conn.execute("CREATE TABLE IF NOT EXISTS t (v INTEGER PRIMARY KEY)")
        return conn

    def insert(value: int) -> Callable[[sqlite3.Connection], int]:
        def work(conn: sqlite3.Connection) -> int:
            conn.execute("INSERT INTO t VALUES (?)", (value,))
            return value

        return work

    loop = asyncio.get_running_loop()
    calls: list[object] = []
    original = loop.call_soon_threadsafe

    def counted(callback: Any, *args: Any) -> Any:
        calls.append(callback)
        return original(callback, *args)

    monkeypatch.setattr(loop, "call_soon_threadsafe", counted)
    committer = GroupCommitter(connect)
    try:
        futures = [committer.submit_from(loop, insert(v)) for v in range(30)]
        futures.append(committer.submit_from(loop, insert(3)))  # a duplicate: fails alone
        results = await asyncio.gather(*futures, return_exceptions=True)
        assert results[:30] == list(range(30))
        assert isinstance(results[30], sqlite3.IntegrityError)
        assert 1 <= len(calls) <= committer.groups + 1  # one hand-back per group, not per write
    finally:
        committer.close()
