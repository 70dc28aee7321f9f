"""SQLite store only: what one document's store calls cost the writer thread.

    .venv/bin/python -m bench.store_sqlite [--docs 2000] [--concurrency 16] [--path gate|plain]
                                           [--runs 3 --baseline DIR]

Runs the store calls the gateway makes for one outbound document (the same as
``bench.store_pg``: submission with its ``process`` job, claim, the export-gate or plain
end of processing with ~30 KB of outputs, delivery with its receipt), ``--docs`` times with
``--concurrency`` documents in flight, on a fresh SQLite file (WAL, ``synchronous=FULL``:
the store's own settings), after ``--warm`` documents not counted. Prints, per document, the
CPU of the SQLite writer thread (statements and commits; the ``fsync`` wait is not CPU), of
the whole process and documents/s (wall clock; noisy on a shared
machine).

``--baseline DIR`` compares with another checkout's ``gateway`` package: ``--runs`` runs of
each, alternated (baseline first), each in a fresh process; prints median and spread.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from bench._checkouts import add_run_options, alternated_runs, print_ratios
from bench.store_pg import documents

FIGURES = ("writer_cpu_ms_per_doc", "process_cpu_ms_per_doc", "docs_per_s")


def writer_cpu_seconds() -> float:
    """CPU (user + system) of the store's writer thread so far."""
    (writer,) = [t for t in threading.enumerate() if t.name == "lingang-sqlite-writer"]
    fields = Path(f"/proc/self/task/{writer.native_id}/stat").read_text().rsplit(")", 1)[1]
    utime, stime = fields.split()[11:13]
    return (int(utime) + int(stime)) / os.sysconf("SC_CLK_TCK")


def process_cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system


async def measure(args: argparse.Namespace) -> dict[str, Any]:
    """One run on a fresh file (see the module docstring)."""
    from gateway.store.ledger import LedgerStore
    from gateway.store.sqlite import SqliteStore

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.db"
        store = await SqliteStore.open(f"sqlite:///{path}")
        try:
            await store.migrate()
            ledger = LedgerStore(store.connector, clock=store.clock)
            tenant = (await store.create_tenant("bench")).id
            await documents(store, ledger, tenant, args.warm, args.concurrency, args.path)
            writer, process = writer_cpu_seconds(), process_cpu_seconds()
            started = time.perf_counter()
            await documents(store, ledger, tenant, args.docs, args.concurrency, args.path)
            wall = time.perf_counter() - started
            writer, process = writer_cpu_seconds() - writer, process_cpu_seconds() - process
        finally:
            await store.close()
    n = args.docs
    return {
        "docs": n,
        "writer_cpu_ms_per_doc": 1000 * writer / n,
        "process_cpu_ms_per_doc": 1000 * process / n,
        "docs_per_s": n / wall,
    }


def compare(args: argparse.Namespace) -> None:
    """Alternate baseline and this checkout, each run in its own process."""

    def report(label: str, result: dict[str, Any]) -> None:
        print(f"{label}: " + ", ".join(f"{k} {result[k]:.3f}" for k in FIGURES))

    runs = alternated_runs(Path(__file__).resolve(), args, report)
    for key in FIGURES:
        for label, results in runs.items():
            values = [r[key] for r in results]
            median = statistics.median(values)
            print(f"{label:8} {key:24} {median:8.3f} [{min(values):.3f}–{max(values):.3f}]")
    print_ratios(runs, FIGURES)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_run_options(parser, docs=2000, warm=200, concurrency=16)
    args = parser.parse_args(argv)
    if args.baseline:
        compare(args)
        return 0
    result = asyncio.run(measure(args))
    print(json.dumps(result) if args.json else result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
