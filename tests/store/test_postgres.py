"""PostgreSQL-only behaviour: the LISTEN connection comes back after the server drops it."""

from __future__ import annotations

import psycopg
import pytest

from gateway.store.base import JobSpec
from gateway.store.postgres import PostgresStore

pytestmark = pytest.mark.postgres


async def test_listener_reconnects_after_being_terminated(pg_url: str) -> None:
    store = await PostgresStore.open(pg_url)
    try:
        await store.create_tenant("T", tenant_id="t")
        await store.wait_for_jobs(0)
        with psycopg.connect(pg_url, autocommit=True) as admin:
            killed = admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE query LIKE 'LISTEN%' AND pid <> pg_backend_pid()"
            ).fetchall()
        assert killed == [(True,)]
        woken = False
        for _ in range(20):
            await store.wait_for_jobs(0)
            sub, _ = await store.create_submission("t", b"x", content_type="text/plain")
            await store.enqueue_job(sub.id, JobSpec("deliver", "folder", "out"))
            if await store.wait_for_jobs(5):
                woken = True
                break
        assert woken
    finally:
        await store.close()
