"""Two workers (two store instances, each its own connection pool, as two replicas) export
concurrently on PostgreSQL: no count update is lost, every entry is chained exactly once."""

from __future__ import annotations

import asyncio
from pathlib import Path

import psycopg
import pytest

from gateway.store import JobSpec, OutputSpec, StateChange
from gateway.store.ledger import ExportRecord, Judge, LedgerStore, Verdict, china_year
from gateway.store.ledger_chain import verify_chain
from gateway.store.postgres import PostgresStore

DOCUMENTS = 60


def subjects_of(n: int) -> tuple[tuple[str, bool], ...]:
    """Overlapping individuals: document n carries n, n+1 and n+2 (mod 50); every 7th one's
    sensitive information too."""
    return tuple((f"s{(n + k) % 50}", (n + k) % 7 == 0) for k in range(3))


async def race(first: PostgresStore, second: PostgresStore, judge: Judge) -> list[int]:
    """``DOCUMENTS`` submissions exported by two workers at once, one per store, each with
    three concurrent exports at a time; how many each worker exported."""
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
                    judge=judge,
                    enqueue=JobSpec("deliver", "folder", "out", payload_ref="envelope"),
                    queued=StateChange("queued", "processed", {}),
                )  # fmt: skip

            await asyncio.gather(*(one(j.id, j.submission_id) for j in jobs))
            done += len(jobs)
        return done

    return list(await asyncio.gather(worker(first, "w1"), worker(second, "w2")))


@pytest.mark.postgres
async def test_two_workers_racing_keep_the_counts_exact(pg_url: str, tmp_path: Path) -> None:
    first = await PostgresStore.open(pg_url)
    await first.migrate()
    second = await PostgresStore.open(pg_url)
    try:
        allow = Verdict(True, "Art. 5(4)", "art-5-4", decided_by="policy v1", counted=True)
        counts = await race(first, second, lambda _p, _s: allow)
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


@pytest.mark.postgres
async def test_two_workers_racing_across_a_threshold_hold_exactly_what_reaches_it(
    pg_url: str,
) -> None:
    """The judge sees the counts with the document's individuals added; a document it holds
    is rolled back out of them while the other worker waits on the count row."""
    limit = 20

    def judge(personal: int, _sensitive: int) -> Verdict:
        if personal >= limit:
            return Verdict(False, reason="threshold", decided_by="policy v1", counted=True)
        return Verdict(True, "Art. 5(4)", "art-5-4", decided_by="policy v1", counted=True)

    first = await PostgresStore.open(pg_url)
    await first.migrate()
    second = await PostgresStore.open(pg_url)
    try:
        assert sum(await race(first, second, judge)) == DOCUMENTS
        ledger = LedgerStore(first.connector)
        entries, head, marks = await ledger.chain_state()
        assert verify_chain(entries, head, marks).ok
        allowed = [int(e["document_id"]) for e in entries]
        holds = await ledger.list_holds(limit=1000)
        assert len(allowed) + len(holds) == DOCUMENTS and holds
        counted = {h for n in allowed for h, _ in subjects_of(n)}
        sensitive = {h for n in allowed for h, s in subjects_of(n) if s}
        (row,) = await ledger.counts(china_year(first.clock()))
        assert (row["personal"], row["sensitive"]) == (len(counted), len(sensitive))
        assert row["personal"] < limit and row["documents"] == len(allowed)
        for hold in holds:  # each held one had individuals that would have reached the limit
            assert {h for h, _ in hold.record.subjects} - counted
    finally:
        await first.close()
        await second.close()


@pytest.mark.postgres
async def test_exports_the_counts_cannot_change_wait_for_no_count_row(pg_url: str) -> None:
    """While another transaction holds the exporter's count row, an exempt export (a final
    decision that counts nothing, with or without individuals) still finishes; an export
    judged by the counts waits for the row."""
    store = await PostgresStore.open(pg_url)
    await store.migrate()
    try:
        await store.create_tenant("T", tenant_id="t")
        ledger = LedgerStore(store.connector, clock=store.clock)

        async def export(n: int, subjects: tuple[tuple[str, bool], ...], judge: object) -> None:
            sub, _ = await store.create_submission(
                "t", f"<EInvoice n='{n}'/>".encode(), content_type="application/xml",
                enqueue=JobSpec("process"),
            )  # fmt: skip
            (job,) = [j for j in await store.claim_jobs("w", limit=10) if j.submission_id == sub.id]
            await ledger.finish_export(
                job.id, "w", tenant_id="t",
                outputs=[OutputSpec("signed", "application/xml", b"<I/>")],
                record=ExportRecord("E1", "SG", "0195:X", str(n), "00" * 32,
                                    ("business", "personal"), subjects),
                judge=judge,  # type: ignore[arg-type]
                enqueue=JobSpec("deliver", "folder", "out", payload_ref="envelope"),
                queued=StateChange("queued", "processed", {}),
            )  # fmt: skip

        counted = Verdict(True, "Art. 5(4)", "art-5-4", decided_by="policy v1", counted=True)
        await export(0, (("a", False),), counted)  # the count row exists
        year = china_year(store.clock())
        async with await psycopg.AsyncConnection.connect(pg_url) as holder:
            await holder.execute(
                "SELECT * FROM export_counts WHERE exporter = 'E1' AND year = %s FOR UPDATE",
                (year,),
            )
            exempt = Verdict(True, "Art. 5(1)", "art-5-1", decided_by="policy v1")
            await asyncio.wait_for(export(1, (("b", False),), exempt), 10)
            await asyncio.wait_for(export(2, (), exempt), 10)
            judged = asyncio.create_task(export(3, (("c", False),), lambda _p, _s: counted))
            await asyncio.sleep(0.5)
            assert not judged.done()  # waits for the count row
            await holder.rollback()
            await asyncio.wait_for(judged, 10)
        (row,) = await ledger.counts(year)
        assert (row["personal"], row["documents"]) == (2, 2)
        assert len(await ledger.entries()) == 4
    finally:
        await store.close()
