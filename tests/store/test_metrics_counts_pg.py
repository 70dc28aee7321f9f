"""What ``/metrics`` costs PostgreSQL: the counts by state read the work in progress, not the
history.

Each scrape ran ``SELECT state, COUNT(*) … GROUP BY state`` over ``submissions`` and
``outbox_jobs``: a pass over every document and job ever stored, per scrape, per replica,
per Prometheus server. Now the states a document or job is still in (and the dead letter)
are counted exactly on indexes, and only the two ever-growing ends — delivered (and
converted) submissions, done jobs — come from the table statistics autovacuum keeps.
The plans are read with EXPLAIN (ANALYZE): no pass over either table, and the rows read a
small fraction of those stored. No timing is asserted.
"""

from __future__ import annotations

import json
from typing import Any

import psycopg
import pytest

from gateway.store import JobState
from gateway.store.postgres import PostgresStore
from gateway.store.sql import load_queries

pytestmark = pytest.mark.postgres

DELIVERED = 20_000
"""Finished documents (each with a done job): the history a scrape must not walk."""

OPEN = {"received": 40, "queued": 25, "held": 7, "failed": 3}
"""Submissions still in progress (or failed), per tenant."""

TENANTS = ("t1", "t2", "t3")


def fill(conn: psycopg.Connection[Any]) -> None:
    """A store with a long history and a little work in progress, then ANALYZE (what
    autovacuum does for a table that grew)."""
    for tenant in TENANTS:
        conn.execute(
            "INSERT INTO tenants (id, name, created_at) VALUES (%s, %s, now())", (tenant, tenant)
        )
    conn.execute(
        """
        INSERT INTO submissions (id, tenant_id, data, content_type, state, created_at, updated_at)
        SELECT 'd' || n, (ARRAY['t1', 't2', 't3'])[1 + mod(n, 3)], '\\x00', 'application/xml',
               'delivered', now(), now()
        FROM generate_series(1, %s) AS n
        """,
        (DELIVERED,),
    )
    for tenant in TENANTS:
        for state, count in OPEN.items():
            conn.execute(
                """
                INSERT INTO submissions (id, tenant_id, data, content_type, state, created_at,
                                         updated_at)
                SELECT %s || n, %s, '\\x00', 'application/xml', %s, now(), now()
                FROM generate_series(1, %s) AS n
                """,
                (f"{tenant}-{state}-", tenant, state, count),
            )
    conn.execute(
        """
        INSERT INTO outbox_jobs (id, kind, submission_id, adapter, endpoint, message_id, state,
                                 next_attempt_at, created_at, updated_at)
        SELECT 'j' || id, 'deliver', id, 'hk', 'https://partner.example/in', id,
               CASE WHEN state = 'delivered' THEN 'done'
                    WHEN state = 'failed' THEN 'dead'
                    WHEN state = 'received' AND id LIKE '%-1' THEN 'leased'
                    ELSE 'pending' END,
               now(), now(), now()
        FROM submissions
        """
    )
    conn.execute("ANALYZE submissions")
    conn.execute("ANALYZE outbox_jobs")


def plan(conn: psycopg.Connection[Any], name: str) -> dict[str, Any]:
    sql = load_queries("postgres")[name]
    row = conn.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}").fetchone()
    assert row is not None
    data = row[0] if not isinstance(row[0], str) else json.loads(row[0])
    top: dict[str, Any] = data[0]["Plan"]
    return top


def nodes(node: dict[str, Any]) -> list[dict[str, Any]]:
    """``node`` and every node under it (a branch never run has ``Actual Loops`` 0)."""
    found = [node]
    for child in node.get("Plans", []):
        found += nodes(child)
    return found


def rows_read(node: dict[str, Any], table: str) -> int:
    """Rows the plan's scans of ``table`` (or of its indexes) returned, over all their loops."""
    return sum(
        int(n.get("Actual Rows", 0) * n.get("Actual Loops", 1))
        for n in nodes(node)
        if n.get("Relation Name") == table
    )


async def test_counts_read_the_work_in_progress_not_the_history(pg_url: str) -> None:
    with psycopg.connect(pg_url, autocommit=True) as conn:
        fill(conn)
        for name, table in (
            ("count_submissions_by_state", "submissions"),
            ("count_jobs_by_state", "outbox_jobs"),
        ):
            top = plan(conn, name)
            scans = {
                n["Node Type"]
                for n in nodes(top)
                if n.get("Relation Name") == table and n.get("Actual Loops", 0) > 0
            }
            assert "Seq Scan" not in scans, (name, scans)
            assert rows_read(top, table) < DELIVERED / 20, (name, rows_read(top, table))
    store = await PostgresStore.open(pg_url)
    try:
        submissions = await store.count_submissions_by_state()
        jobs = await store.count_jobs_by_state()
    finally:
        await store.close()
    for state, count in OPEN.items():  # exact
        assert submissions[state] == count * len(TENANTS), state
    assert submissions["delivered"] == pytest.approx(DELIVERED, rel=0.02)  # estimated
    assert jobs[JobState.PENDING] == (OPEN["received"] - 1 + OPEN["queued"] + OPEN["held"]) * 3
    assert jobs[JobState.LEASED] == len(TENANTS)  # exact
    assert jobs[JobState.DEAD] == OPEN["failed"] * len(TENANTS)  # exact
    assert jobs[JobState.DONE] == pytest.approx(DELIVERED, rel=0.02)  # estimated


async def test_before_any_statistics_every_state_is_counted(pg_url: str) -> None:
    """A table autovacuum has not analysed yet has no estimate (``reltuples`` -1): it is
    young and small, and counted in full, so a new gateway's metrics are exact."""
    store = await PostgresStore.open(pg_url)
    try:
        await store.create_tenant("T", tenant_id="t")
        first, _ = await store.create_submission("t", b"x", content_type="text/plain")
        second, _ = await store.create_submission("t", b"y", content_type="text/plain")
        await store.record_event(first.id, "delivered")
        await store.record_event(second.id, "converted")
        assert await store.count_submissions_by_state() == {"delivered": 1, "converted": 1}
    finally:
        await store.close()
