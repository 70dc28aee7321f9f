"""Outbox throughput: jobs/s through enqueue → claim → deliver → complete, per store and
number of workers, with the baseline (SQLite, one worker) measured in the same run.

    .venv/bin/python -m bench.outbox [--jobs 1000] [--database postgresql://...]

It runs the code production runs: the claim loop (:class:`gateway.jobs.Worker`) with the
real ``deliver`` kind, which reads each stored envelope and body in one round trip and hands
them to an adapter. Only the adapter is a no-op returning a receipt, so the figures are the
store and loop overhead.
Without ``--database`` a throw-away PostgreSQL is started (as in the tests). Every run also
checks that no job was delivered twice. Figures and ratios are printed and saved as JSON
under ``bench/results/``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from adapters.base import Envelope, Receipt
from gateway.delivery import AdapterRegistry, DeliverKind, StoredEnvelope, transport_message_id
from gateway.flows import TransportFacts
from gateway.jobs import CircuitBreaker, JobKinds, Worker
from gateway.store import JobSpec, JobState, Store
from gateway.store.postgres import PostgresStore
from gateway.store.sqlite import SqliteStore

RESULTS = Path(__file__).resolve().parent / "results"
Opener = Callable[[], Awaitable[Store]]


class CountingAdapter:
    """The far edge: accepts every envelope and counts deliveries per message id."""

    name = "bench"

    def __init__(self) -> None:
        self.delivered: Counter[str] = Counter()

    async def deliver(self, envelope: Envelope) -> Receipt:
        self.delivered[envelope.message_id] += 1
        return Receipt(envelope.message_id, self.name)

    async def ping(self) -> bool:
        return True

    async def aclose(self) -> None:
        """Nothing to release."""


async def queue(store: Store, jobs: int) -> float:
    """Queue ``jobs`` deliveries as processing leaves them (one submission each, with its
    body and stored envelope); returns seconds taken."""
    await store.create_tenant("bench", tenant_id=f"bench-{time.monotonic_ns()}")
    tenant = (await store.list_tenants())[-1].id
    started = time.perf_counter()
    for n in range(jobs):
        sub, _ = await store.create_submission(tenant, b"<x/>", content_type="application/xml")
        message_id = transport_message_id(sub.id, "bench")
        endpoint = f"bench:ep-{n % 8}"
        facts = TransportFacts("signed", "application/xml", "invoice", profile="pint-sg")
        envelope = StoredEnvelope(message_id, sub.id, tenant, "bench", endpoint, "default", facts)
        await store.put_output(sub.id, "signed", "application/xml", b"<Invoice/>")
        await store.put_output(sub.id, "envelope", "application/json", envelope.to_bytes())
        spec = JobSpec("deliver", "bench", endpoint, payload_ref="envelope", message_id=message_id)
        await store.enqueue_job(sub.id, spec)
    return time.perf_counter() - started


async def scenario(name: str, opener: Opener, workers: int, jobs: int) -> dict[str, Any]:
    """One measured run on a fresh database."""
    stores = [await opener() for _ in range(workers)]
    try:
        enqueue_s = await queue(stores[0], jobs)
        adapter = CountingAdapter()
        delivered = adapter.delivered
        loops = [
            Worker(s, JobKinds([DeliverKind(s, AdapterRegistry({"bench": adapter}))]),
                   worker_id=f"{name}-{i}", concurrency=8, poll_seconds=0.05,
                   breaker=CircuitBreaker(s, failure_threshold=10**6))
            for i, s in enumerate(stores)
        ]  # fmt: skip
        started = time.perf_counter()
        runners = [asyncio.create_task(w.run()) for w in loops]
        while len(delivered) < jobs:
            await asyncio.sleep(0.01)
        drain_s = time.perf_counter() - started
        for w in loops:
            w.stop()
        await asyncio.gather(*runners)
        done = await stores[0].list_jobs(state=JobState.DONE, limit=jobs + 1)
    finally:
        for s in stores:
            await s.close()
    return {
        "scenario": name,
        "workers": workers,
        "jobs": jobs,
        "enqueue_per_s": jobs / enqueue_s,
        "deliver_per_s": jobs / drain_s,
        "duplicates": sum(c - 1 for c in delivered.values()),
        "done": len(done),
    }


def sqlite_opener(folder: Path, name: str) -> Opener:
    async def open_() -> Store:
        store = await SqliteStore.open(f"sqlite:///{folder}/{name}.db", poll_interval=0.05)
        await store.migrate()
        return store

    return open_


def postgres_opener(admin_url: str, name: str) -> Opener:
    import psycopg
    from psycopg import sql

    info = psycopg.conninfo.conninfo_to_dict(admin_url)
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = psycopg.conninfo.make_conninfo(**{**info, "dbname": name})

    async def open_() -> Store:
        store = await PostgresStore.open(url)
        await store.migrate()
        return store

    return open_


async def run_all(jobs: int, admin_url: str, folder: Path) -> list[dict[str, Any]]:
    plans: list[tuple[str, Opener, int]] = [
        ("sqlite-1", sqlite_opener(folder, "one"), 1),
        ("sqlite-2", sqlite_opener(folder, "two"), 2),
        ("postgres-1", postgres_opener(admin_url, "bench_one"), 1),
        ("postgres-2", postgres_opener(admin_url, "bench_two"), 2),
        ("postgres-4", postgres_opener(admin_url, "bench_four"), 4),
    ]
    return [await scenario(name, opener, n, jobs) for name, opener, n in plans]


def report(results: list[dict[str, Any]]) -> None:
    base = results[0]
    print(f"{'scenario':<12} {'enqueue/s':>10} {'deliver/s':>10} {'ratio':>7} duplicates")
    for r in results:
        ratio = r["deliver_per_s"] / base["deliver_per_s"]
        print(
            f"{r['scenario']:<12} {r['enqueue_per_s']:>10.0f} {r['deliver_per_s']:>10.0f} "
            f"{ratio:>6.2f}x {r['duplicates']}"
        )
    print(f"(ratio: deliveries/s against {base['scenario']} in this run)")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.outbox", description=__doc__)
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--database", help="a PostgreSQL superuser URL (default: start one)")
    args = parser.parse_args()
    server = None
    if args.database:
        admin_url = args.database
    else:
        from tests.pg import LocalServer, find_pg_bin

        bindir = find_pg_bin()
        if bindir is None:
            raise SystemExit("no PostgreSQL binaries found; pass --database")
        server = LocalServer(bindir)
        admin_url = server.start().url()
    try:
        with tempfile.TemporaryDirectory(prefix="lingang-bench-") as folder:
            results = asyncio.run(run_all(args.jobs, admin_url, Path(folder)))
    finally:
        if server is not None:
            server.stop()
    report(results)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "outbox.json").write_text(json.dumps(results, indent=2) + "\n")
    if any(r["duplicates"] or r["done"] != r["jobs"] for r in results):
        raise SystemExit("a job was delivered twice or not completed")


if __name__ == "__main__":
    main()
