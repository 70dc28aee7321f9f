"""PostgreSQL store only: the statements one document costs, and what they cost the server.

    .venv/bin/python -m bench.store_pg [--docs 400] [--concurrency 8] [--path gate|plain]
                                       [--runs 3 --baseline DIR]

Runs the store calls the gateway makes for one outbound document, ``--docs`` times with
``--concurrency`` documents in flight, on a throw-away durable PostgreSQL (fsync and
synchronous commit on) with ``pg_stat_statements`` (``track = all``):

    create_submission_handed (with its ``process`` job leased to the worker; a checkout
    without it: create_submission, then claim_jobs) → finish_export (``gate``:
    outputs, counts, ``deliver`` job handed to the worker, ``queued``, ledger entry) or
    finish_processing (``plain``) → complete_job (receipt, ``delivered``)

and prints, per document: top-level statements executed, their server execution time
(``pg_stat_statements``, nested trigger statements counted inside their top-level one),
the plans made (``track_planning``: 0 once psycopg has prepared them), the WAL written,
the rows inserted and updated per table (HOT or not: ``pg_stat_user_tables``), the CPU
of every PostgreSQL server process (``/proc``: parsing, protocol, commits included) and of
this client process, and documents/s (wall clock; noisy on a shared
machine). A warm-up of ``--warm`` documents runs first and is not counted. The document
and its outputs have the kinds, sizes and lz4 ratios of ``bench.e2e``'s (so as many TOAST
chunks per document).

``--baseline DIR`` compares with another checkout's ``gateway`` package (e.g. ``git archive
<commit> gateway tests/pg.py | tar -x -C DIR``): ``--runs`` runs of each, alternated
(baseline first), each in a fresh process on a fresh cluster; prints the median and spread.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import functools
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from bench._checkouts import add_run_options, alternated_runs, print_ratios

ROOT = Path(__file__).resolve().parents[1]

DETAIL = {
    "stages": {s: 1.25 for s in ("parse", "map", "render", "validate", "sign", "policy")},
    "profile": "pint-sg",
    "receiver": "0195:SGUEN201912345A",
    "number": "24312000000012345678",
    "policy": {"decision": {"outcome": "allow", "basis": "contract"}, "exporter": "9131"},
}


def server_cpu_seconds(data_dir: Path) -> float:
    """CPU (user + system) of the postmaster and all its children so far."""
    postmaster = int((data_dir / "postmaster.pid").read_text().split()[0])
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid, ppid = int(entry.name), int(fields[1])
        if pid == postmaster or ppid == postmaster:
            total += int(fields[11]) + int(fields[12])
    return total / tick


def client_cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system


VARIANTS = 32


def document_bytes(size: int, random_share: float) -> bytes:
    """``size`` bytes shaped like the gateway's XML (one of :data:`VARIANTS`, made once):
    invoice lines with varying values, then base64 of random bytes (signature values,
    certificates) for ``random_share`` of it, so lz4 compresses them about as much as the
    documents of ``bench.e2e`` (the signed output, 9.8 KB, to 5.1 KB; the document, 3.3 KB,
    to 1.7 KB) and TOAST stores as many chunks."""
    return _variant(size, random_share, random.randrange(VARIANTS))


@functools.cache
def _variant(size: int, random_share: float, seed: int) -> bytes:
    rng = random.Random(seed)
    text = int(size * (1 - random_share))
    lines, length, n = ["<?xml version='1.0' encoding='UTF-8'?>\n<Invoice>\n"], 0, 0
    while length < text:
        n += 1
        lines.append(
            f'  <cac:InvoiceLine><cbc:ID>{n}</cbc:ID><cbc:InvoicedQuantity unitCode="C62">'
            f"{rng.randint(1, 999)}</cbc:InvoicedQuantity><cbc:LineExtensionAmount "
            f'currencyID="SGD">{rng.randint(1, 99999)}.{rng.randint(0, 99):02d}'
            f"</cbc:LineExtensionAmount><cbc:Name>{rng.randbytes(6).hex()}</cbc:Name>"
            "</cac:InvoiceLine>\n"
        )
        length += len(lines[-1])
    noise = base64.b64encode(rng.randbytes(size - text))
    return ("".join(lines).encode()[:text] + noise)[:size]


async def one_document(store: Any, ledger: Any, tenant: str, worker: str, path: str) -> None:
    """The store calls of one document, as the gateway makes them."""
    from gateway.store import JobSpec, OutputSpec, Receipt, StateChange

    body = document_bytes(3325, 0.36)
    fields: dict[str, Any] = {
        "content_type": "application/xml",
        "filename": "fapiao.xml",
        "metadata": {"profile": "pint-sg"},
        "reason": "received over the API",
        "enqueue": JobSpec("process"),
    }
    if hasattr(store, "create_submission_handed"):  # handed to the worker at ingest
        _, _, job = await store.create_submission_handed(
            tenant, body, lease=(worker, 30.0), **fields
        )
    else:  # a checkout before hand-offs at ingest: stored pending, then claimed
        await store.create_submission(tenant, body, **fields)
        claimed: list[Any] = []
        while not claimed:
            claimed = await store.claim_jobs(worker, limit=1, lease_seconds=30.0, kinds=["process"])
        job = claimed[0]
    outputs = [  # the kinds and sizes bench.e2e's documents store
        OutputSpec("signed", "application/xml", document_bytes(9765, 0.37)),
        OutputSpec("signature", "application/xml", document_bytes(3123, 0.52)),
        OutputSpec("envelope", "application/json", b'{"to": "0195:SGUEN201912345A"}' * 20),
        OutputSpec("report", "application/json", b'{"valid": true, "rules": 0}' * 11),
    ]
    spec = JobSpec("deliver", adapter="https", endpoint="https://127.0.0.1/receive")
    queued = StateChange("queued", "processed; delivery queued", DETAIL)
    if path == "gate":
        from gateway.store.ledger import ExportRecord, Verdict

        record = ExportRecord(
            exporter="91310000MA1FL0000X",
            destination="SG",
            recipient="0195:SGUEN201912345A",
            document_id=job.submission_id,
            digest="0" * 64,
            categories=("business",),
        )
        verdict = Verdict(True, "contract", "art. 13", "allowed", "1", "policy 1")
        result = await ledger.finish_export(
            job.id,
            worker,
            tenant_id=tenant,
            outputs=outputs,
            record=record,
            judge=verdict,
            enqueue=spec,
            queued=queued,
            hand_off_seconds=30.0,
        )
        delivery = result.job
    else:
        delivery = await store.finish_processing(
            job.id, worker, outputs=outputs, event=queued, enqueue=spec, hand_off_seconds=30.0
        )
    assert delivery is not None and delivery.lease_owner == worker
    receipt = Receipt("http", b"accepted", "text/plain", {"status": 202})
    delivered = StateChange("delivered", "delivered by https", {"status": 202, "ms": 3.5})
    await store.complete_job(delivery.id, worker, receipt, event=delivered)


async def documents(
    store: Any, ledger: Any, tenant: str, count: int, concurrency: int, path: str
) -> None:
    remaining = iter(range(count))

    async def lane(n: int) -> None:
        for _ in remaining:
            await one_document(store, ledger, tenant, f"bench-{n}", path)

    await asyncio.gather(*(lane(n) for n in range(concurrency)))


STATS = """
SELECT query, calls, total_exec_time, plans, total_plan_time FROM pg_stat_statements
WHERE toplevel AND dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
"""


TABLES = """
SELECT relname, n_tup_ins, n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables
WHERE n_tup_ins + n_tup_upd > 0 ORDER BY relname
"""
WAL_LSN = "SELECT pg_current_wal_lsn()"
WAL_SINCE = "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), %s)"


async def measure(args: argparse.Namespace) -> dict[str, Any]:
    """One run on a fresh cluster (see the module docstring)."""
    import psycopg

    sys.path.append(str(ROOT))
    from gateway.store.ledger import LedgerStore
    from gateway.store.postgres import PostgresStore
    from tests.pg import LocalServer, find_pg_bin

    bindir = find_pg_bin()
    if bindir is None:
        raise SystemExit("PostgreSQL binaries not found")
    local = LocalServer(bindir)
    try:
        server = local.start(durable=True)
        with server.admin() as conn:
            conn.execute("ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'")
        local._run(
            bindir / "pg_ctl", "-D", str(local.data), "-l", str(local.root / "server.log"),
            "-w", "-t", "60", "restart",
        )  # fmt: skip
        with server.admin() as conn:
            conn.execute("ALTER SYSTEM SET pg_stat_statements.track = 'all'")
            conn.execute("ALTER SYSTEM SET pg_stat_statements.track_planning = on")
            conn.execute("SELECT pg_reload_conf()")
        url = server.url(server.create_database())
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("CREATE EXTENSION pg_stat_statements")
        store = await PostgresStore.open(url, max_size=args.concurrency + 2)
        try:
            await store.migrate()
            ledger = LedgerStore(store.connector, clock=store.clock)
            tenant = (await store.create_tenant("bench")).id
            await documents(store, ledger, tenant, args.warm, args.concurrency, args.path)
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute("SELECT pg_stat_statements_reset()")
                wal_before = conn.execute(WAL_LSN).fetchone()
            server_before, client_before = server_cpu_seconds(local.data), client_cpu_seconds()
            started = time.perf_counter()
            await documents(store, ledger, tenant, args.docs, args.concurrency, args.path)
            wall = time.perf_counter() - started
            server_cpu = server_cpu_seconds(local.data) - server_before
            client_cpu = client_cpu_seconds() - client_before
        finally:
            await store.close()
        with psycopg.connect(url, autocommit=True) as conn:
            found = conn.execute(STATS).fetchall()
            tables = conn.execute(TABLES).fetchall()
            wal = conn.execute(WAL_SINCE, wal_before).fetchone()
    finally:
        local.stop()
    plans = sum(int(row[3]) for row in found) / args.docs
    plan_ms = sum(float(row[4]) for row in found) / args.docs
    statements = [
        (str(q), int(c), float(t))
        for q, c, t, _, _ in found
        if "pg_stat_statements" not in str(q) and int(c) >= args.docs // 2
    ]
    statements.sort(key=lambda s: -s[2])
    n = args.docs
    every = args.warm + args.docs  # table statistics count the warm-up's documents too
    return {
        "docs": n,
        "statements_per_doc": sum(c for _, c, _ in statements) / n,
        "server_exec_ms_per_doc": sum(t for _, _, t in statements) / n,
        "wal_bytes_per_doc": float(wal[0]) / n if wal else 0.0,
        "plans_per_doc": plans,
        "server_plan_ms_per_doc": plan_ms,
        "server_cpu_ms_per_doc": 1000 * server_cpu / n,
        "client_cpu_ms_per_doc": 1000 * client_cpu / n,
        "docs_per_s": n / wall,
        "rows": {str(t): [int(i) / every, int(u) / every, int(h) / every] for t, i, u, h in tables},
        "top": [
            {"query": " ".join(q.split())[:90], "calls_per_doc": c / n, "ms_per_doc": t / n}
            for q, c, t in statements[:14]
        ],
    }


FIGURES = (
    "statements_per_doc",
    "server_exec_ms_per_doc",
    "plans_per_doc",
    "server_plan_ms_per_doc",
    "wal_bytes_per_doc",
    "server_cpu_ms_per_doc",
    "client_cpu_ms_per_doc",
    "docs_per_s",
)


def print_rows(result: dict[str, Any]) -> None:
    """Row versions written per document (warm-up included), per table: inserted, updated,
    of which HOT (a non-HOT update writes an entry in every index of the table, as an
    insert does)."""
    print("  rows per document, warm-up included (inserted, updated, HOT-updated):")
    for table, (inserted, updated, hot) in result["rows"].items():
        print(f"    {table:22} {inserted:5.2f} {updated:5.2f} {hot:5.2f}")


def print_run(label: str, result: dict[str, Any]) -> None:
    print(f"{label}: " + ", ".join(f"{k} {result[k]:.3f}" for k in FIGURES), flush=True)


def compare(args: argparse.Namespace) -> None:
    """Alternate baseline and this checkout, each run in its own process."""
    runs = alternated_runs(Path(__file__).resolve(), args, print_run)
    for label, results in runs.items():
        print(f"\n{label} (median [min–max] of {len(results)}):")
        for key in FIGURES:
            values = [r[key] for r in results]
            print(
                f"  {key:24} {statistics.median(values):8.3f} [{min(values):.3f}–{max(values):.3f}]"
            )
        print("  statements (last run, per document):")
        for row in results[-1]["top"]:
            print(f"    {row['calls_per_doc']:4.2f}× {row['ms_per_doc']:6.3f} ms  {row['query']}")
        if "rows" in results[-1]:
            print_rows(results[-1])
    print_ratios(runs, FIGURES)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_run_options(parser, docs=400, warm=100, concurrency=8)
    args = parser.parse_args(argv)
    if args.baseline:
        compare(args)
        return 0
    result = asyncio.run(measure(args))
    if args.json:
        print(json.dumps(result))
        return 0
    print_run("this checkout", result)
    for row in result["top"]:
        print(f"  {row['calls_per_doc']:4.2f}× {row['ms_per_doc']:6.3f} ms  {row['query']}")
    print_rows(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
