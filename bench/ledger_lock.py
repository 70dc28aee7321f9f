"""What the export ledger's head lock costs on PostgreSQL: recording transactions per second
with C concurrent workers, through the ledger (``LedgerStore.finish_export``: head row lock,
counts row lock, hash-chained entry, delivery job) and without it
(``Store.finish_processing``), measured in the same run.

    .venv/bin/python -m bench.ledger_lock [--docs 300] [--concurrency 1,8] [--rounds 3]

Every export serialises on the ledger head from its ``SELECT … FOR UPDATE`` to its commit;
the question is whether that ceiling is near what the rest of the pipeline can feed it. The
documents carry two individuals each (one new per document), from one exporter (whose counts
row is locked as well) or ``--exporters`` of them. A throw-away PostgreSQL server
(``initdb``, fsync off as in the tests). Prints per mode and concurrency the median
recordings/s of the rounds with their spread.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from typing import Any

from bench.e2e import start_postgres
from gateway.store import JobSpec, OutputSpec, StateChange
from gateway.store.ledger import ExportRecord, LedgerStore, Verdict
from gateway.store.postgres import PostgresStore


def allow(_personal: int, _sensitive: int) -> Verdict:
    return Verdict(True, "Art. 5(4)", "art-5-4", policy_version="v1", decided_by="policy v1",
                   counted=True)  # fmt: skip


async def prepare(store: PostgresStore, count: int) -> list[Any]:
    """``count`` submissions with their process job claimed by worker ``w``."""
    for _ in range(count):
        await store.create_submission(
            "t", b"<EInvoice/>", content_type="application/xml", enqueue=JobSpec("process")
        )
    jobs: list[Any] = []
    while len(jobs) < count:
        jobs += await store.claim_jobs("w", limit=count - len(jobs), kinds={"process"})
    return jobs


async def record(
    store: PostgresStore, ledger: LedgerStore, jobs: list[Any], concurrency: int, mode: str,
    exporters: int, tag: str,
) -> float:  # fmt: skip
    """Recordings per second for ``jobs`` with ``concurrency`` concurrent workers."""
    queue = list(enumerate(jobs))
    outputs = [OutputSpec("signed", "application/xml", b"<Invoice/>" * 200)]
    deliver = JobSpec("deliver", "folder", "out", payload_ref="signed")

    async def worker() -> None:
        while queue:
            n, job = queue.pop()
            if mode == "off":
                event = StateChange("queued", "processed", {})
                await store.finish_processing(
                    job.id, "w", outputs=outputs, event=event, enqueue=deliver
                )
                continue
            record = ExportRecord(
                exporter=f"E{n % exporters}", destination="SG", recipient="0195:X",
                document_id=str(n), digest="ab" * 32, categories=("business", "personal"),
                subjects=((f"{tag}-{n}", False), ("shared", False)),
            )  # fmt: skip
            await ledger.finish_export(
                job.id, "w", tenant_id="t", outputs=outputs, record=record, judge=allow,
                enqueue=deliver, queued=StateChange("queued", "processed", {}),
            )  # fmt: skip

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return len(jobs) / (time.perf_counter() - started)


async def run(url: str, args: argparse.Namespace) -> dict[str, list[float]]:
    store = await PostgresStore.open(url)
    await store.migrate()
    await store.create_tenant("T", tenant_id="t")
    ledger = LedgerStore(store.connector, clock=store.clock)
    results: dict[str, list[float]] = {}
    await record(store, ledger, await prepare(store, 40), 4, "on", args.exporters, "warm-on")
    await record(store, ledger, await prepare(store, 40), 4, "off", args.exporters, "warm-off")
    for index in range(args.rounds):
        for concurrency in args.concurrency:
            order = ("on", "off") if index % 2 == 0 else ("off", "on")
            for mode in order:
                jobs = await prepare(store, args.docs)
                rate = await record(
                    store,
                    ledger,
                    jobs,
                    concurrency,
                    mode,
                    args.exporters,
                    f"r{index}c{concurrency}",
                )
                results.setdefault(f"{mode} c={concurrency}", []).append(rate)
    entries, head, marks = await ledger.chain_state()
    from gateway.store.ledger_chain import verify_chain

    assert verify_chain(entries, head, marks).ok
    await store.close()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.ledger_lock", description=__doc__)
    parser.add_argument("--docs", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--concurrency", type=lambda t: [int(x) for x in t.split(",")], default=[1, 8]
    )
    parser.add_argument("--exporters", type=int, default=1)
    args = parser.parse_args(argv)
    local, url = start_postgres()
    try:
        results = asyncio.run(run(url, args))
    finally:
        local.stop()
    print(f"warm-up: 40 recordings per mode; {args.rounds} rounds of {args.docs}; "
          f"{args.exporters} exporter(s); a shared machine: noisy")  # fmt: skip
    for key, rates in sorted(results.items()):
        print(f"  {key:8}: median {statistics.median(rates):7.1f} recordings/s "
              f"(spread {min(rates):.1f}–{max(rates):.1f})")  # fmt: skip
    for concurrency in args.concurrency:
        on = statistics.median(results[f"on c={concurrency}"])
        off = statistics.median(results[f"off c={concurrency}"])
        print(f"  c={concurrency}: through the ledger {on / off:.2f}× the rate without it; "
              f"{1000 / on:.2f} ms per export vs {1000 / off:.2f} ms")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
