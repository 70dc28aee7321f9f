"""Two workers (two store instances, each its own connection pool, as two replicas) export
concurrently on PostgreSQL: no count update is lost, every entry is chained exactly once."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from gateway.store import JobSpec, OutputSpec, StateChange
from gateway.store.ledger import ExportRecord, LedgerStore, Verdict, china_year
from gateway.store.ledger_chain import verify_chain
from gateway.store.postgres import PostgresStore

DOCUMENTS = 60


def subjects_of(n: int) -> tuple[tuple[str, bool], ...]:
    """Overlapping individuals: document n carries n, n+1 and n+2 (mod 50); every 7th one's
    sensitive information too."""
    return tuple((f"s{(n + k) % 50}", (n + k) % 7 == 0) for k in range(3))


@pytest.mark.postgres
async def test_two_workers_racing_keep_the_counts_exact(pg_url: str, tmp_path: Path) -> None:
    first = await PostgresStore.open(pg_url)
    await first.migrate()
    second = await PostgresStore.open(pg_url)
    try:
        await first.create_tenant("T", tenant_id="t")
        for n in range(DOCUMENTS):
            await first.create_submission(
                "t", f"<EInvoice n='{n}'/>".encode(), content_type="application/xml",
                metadata={"n": n}, enqueue=JobSpec("process"),
            )  # fmt: skip

        async def worker(store: PostgresStore, name: str) -> int:
            ledger = LedgerStore(store.connector, clock=store.clock)
            done = 0
            while jobs := await store.claim_jobs(name, limit=3, kinds={"process"}):

                async def one(job_id: str, submission_id: str) -> None:
                    sub = await store.get_submission("t", submission_id)
                    assert sub is not None
                    n = int(sub.metadata["n"])
                    await ledger.finish_export(
                        job_id, name, tenant_id="t",
                        outputs=[OutputSpec("signed", "application/xml", b"<I/>")],
                        record=ExportRecord("E1", "SG", "0195:X", str(n), "00" * 32,
                                            ("business", "personal"), subjects_of(n)),
                        judge=lambda _p, _s: Verdict(True, "Art. 5(4)", "art-5-4",
                                                     decided_by="policy v1", counted=True),
                        enqueue=JobSpec("deliver", "folder", "out", payload_ref="envelope"),
                        queued=StateChange("queued", "processed", {}),
                    )  # fmt: skip

                await asyncio.gather(*(one(j.id, j.submission_id) for j in jobs))
                done += len(jobs)
            return done

        counts = await asyncio.gather(worker(first, "w1"), worker(second, "w2"))
        assert sum(counts) == DOCUMENTS and all(counts)
        ledger = LedgerStore(first.connector)
        everyone = {h for n in range(DOCUMENTS) for h, _ in subjects_of(n)}
        sensitive = {h for n in range(DOCUMENTS) for h, s in subjects_of(n) if s}
        (row,) = await ledger.counts(china_year(first.clock()))
        assert (row["personal"], row["sensitive"]) == (len(everyone), len(sensitive))
        assert row["documents"] == DOCUMENTS
        entries, head, marks = await ledger.chain_state()
        assert [e["seq"] for e in entries] == list(range(1, DOCUMENTS + 1))
        assert verify_chain(entries, head, marks).ok
        delivers = [j for j in await first.list_jobs(limit=1000) if j.kind == "deliver"]
        assert len(delivers) == DOCUMENTS
    finally:
        await first.close()
        await second.close()
