"""Start-up during a schema migration says what it waits for.

A gateway or worker starting while ``lingang migrate`` (or another replica) migrates the
schema waits for the migration lock, minutes on a large table; it said nothing meanwhile, and
the log showed no migration applied either: an operator could not tell a stuck start from a
migration in progress. It now logs that it waits, and each migration it applies.
"""

from __future__ import annotations

import asyncio
import logging

import psycopg
import pytest

from gateway.store import open_store
from gateway.store.migrations import current_version

pytestmark = pytest.mark.postgres


def messages(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "lingang.store"]


async def test_a_start_waiting_for_a_migration_says_so(
    pg_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="lingang.store")
    with psycopg.connect(pg_url) as migrating:  # holds the lock, as `lingang migrate` would
        migrating.execute("SELECT pg_advisory_xact_lock(7460323091)")
        opening = asyncio.create_task(open_store(pg_url))
        for _ in range(200):
            if any("waiting for another process" in m for m in messages(caplog)):
                break
            await asyncio.sleep(0.05)
        assert any("waiting for another process" in m for m in messages(caplog))
        assert not opening.done()
        migrating.commit()
    store = await asyncio.wait_for(opening, 30)
    await store.close()


async def test_each_migration_applied_is_named(
    pg_empty_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="lingang.store")
    store = await open_store(pg_empty_url)
    await store.close()
    applied = [r for r in caplog.records if r.getMessage() == "applying migration"]
    assert len(applied) == current_version("postgres")
    assert [r.version for r in applied] == list(range(1, len(applied) + 1))  # type: ignore[attr-defined]
    assert not any("waiting for another process" in m for m in messages(caplog))
    caplog.clear()
    store = await open_store(pg_empty_url)  # nothing left to apply: nothing said
    await store.close()
    assert messages(caplog) == []
