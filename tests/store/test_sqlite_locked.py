"""An SQLite store another process keeps locked: the error names the file and what to do.

``lingang tenants list`` while another program held the database in a transaction waited
the busy timeout and ended with ``sqlite: database is locked``, naming neither the file nor
why; an operator could not tell a lock from a broken file.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from gateway.store import StoreError
from gateway.store.sqlite import SqliteStore


async def test_a_store_held_locked_elsewhere_is_named_with_the_wait(tmp_path: Path) -> None:
    path = tmp_path / "gateway.db"
    store = await SqliteStore.open(f"sqlite:///{path}", busy_timeout=0.2)
    await store.migrate()
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(StoreError) as refused:
            await store.create_tenant("Acme")
    finally:
        other.execute("ROLLBACK")
        other.close()
    message = str(refused.value)
    assert f"sqlite: {path} is locked" in message
    assert "another process kept it locked for 0.2 s" in message
    assert "try again" in message
    assert refused.value.retryable
    assert (await store.create_tenant("Acme")).name == "Acme"
    await store.close()
