"""``[retention]`` on both stores: finished housekeeping jobs and, where the operator chose
so, finished documents are deleted once old enough — whole, in batches — while what is
evidence stays: the export ledger (which still verifies) and its counts, documents holding
a receipt (until ``receipts_days``), the gateway's own MLS documents, the Peppol
transmissions the monthly reports count, and anything not finished."""

from __future__ import annotations

import datetime as dt

from gateway.jobs.housekeeping import HOUSEKEEPING, housekeeping_job_key
from gateway.store import JobSpec, JobState, Receipt, StateChange
from gateway.store.ledger_chain import verify_chain
from gateway.store.peppol_reporting import PeppolReportingStore, Transmission
from gateway.store.retention import Retention, RetentionPolicy
from tests.store.ledger_support import Stores, backend, export, stores
from tests.store.test_ledger_tamper import sql

__all__ = ["backend", "stores"]

YEAR = dt.timedelta(days=365)


async def _delivered(s: Stores, *, receipt: Receipt | None = None, number: str = "1") -> str:
    """A document exported through the ledger and delivered (with ``receipt``, if any)."""
    sid, result = await export(s, number=number)
    assert result.job is not None
    (job,) = [j for j in await s.store.claim_jobs("w1", limit=100) if j.id == result.job.id]
    await s.store.complete_job(job.id, "w1", receipt, event=StateChange("delivered", "by folder"))
    return sid


def _retention(s: Stores, batch: int = 2) -> Retention:
    return Retention(s.store.connector, clock=s.clock, batch=batch)


async def _gone(s: Stores, sid: str) -> bool:
    return (
        await s.store.get_submission("t", sid) is None
        and not await s.store.list_events(sid)
        and not await s.store.list_outputs(sid)
        and not await s.store.list_jobs(submission_id=sid)
    )


async def test_finished_documents_go_whole_the_ledger_stays_and_verifies(stores: Stores) -> None:
    s = stores
    plain = [await _delivered(s, number=str(n)) for n in range(3)]
    signed = await _delivered(s, receipt=Receipt("as4", b"<eb:Receipt/>"), number="r")
    waiting, _ = await s.store.create_submission(
        "t", b"<EInvoice/>", content_type="application/xml", enqueue=JobSpec("process")
    )
    entries = await s.ledger.entries()
    counts = await s.ledger.counts(2026)
    s.clock.now += YEAR - dt.timedelta(days=1)
    policy = RetentionPolicy(documents_days=365)
    assert (await _retention(s).prune(policy)).documents == 0

    s.clock.now += dt.timedelta(days=2)
    assert (await _retention(s).prune(policy, dry_run=True)).documents == 3
    assert all([await s.store.get_submission("t", sid) for sid in plain])
    pruned = await _retention(s).prune(policy)
    assert (pruned.documents, pruned.document_jobs, pruned.receipts) == (3, 6, 0)
    assert all([await _gone(s, sid) for sid in plain])
    assert await s.store.get_submission("t", signed) is not None, "its AS4 receipt is evidence"
    assert await s.store.list_receipts(submission_id=signed)
    kept = await s.store.get_submission("t", waiting.id)
    assert kept is not None and kept.state == "received", "not finished: kept"
    assert await s.ledger.entries() == entries
    assert await s.ledger.counts(2026) == counts
    assert verify_chain(*await s.ledger.chain_state()).ok

    with_receipts = RetentionPolicy(documents_days=365, receipts_days=730)
    assert (await _retention(s).prune(with_receipts)).documents == 0
    s.clock.now += YEAR
    pruned = await _retention(s).prune(with_receipts)
    assert (pruned.documents, pruned.receipts) == (1, 1)
    assert await _gone(s, signed)
    assert verify_chain(*await s.ledger.chain_state()).ok


async def test_dead_held_and_own_duty_documents_are_kept(stores: Stores) -> None:
    s = stores
    dead, _ = await s.store.create_submission(
        "t", b"<EInvoice/>", content_type="application/xml", enqueue=JobSpec("process")
    )
    (job,) = await s.store.claim_jobs("w1", limit=10)
    await s.store.fail_job(
        job.id, "w1", "boom", retryable=False, retry_after=None, event=StateChange("dead")
    )
    mls, _ = await s.store.create_submission(
        "t", b"<ApplicationResponse/>", content_type="application/xml", idempotency_key="mls:m1"
    )
    await s.store.record_event(mls.id, "delivered")
    two_routes = await _delivered(s, number="2r")
    await s.store.enqueue_job(two_routes, JobSpec("deliver", "other", "ep2"))
    (second,) = await s.store.claim_jobs("w1", limit=10)
    await s.store.fail_job(second.id, "w1", "refused", retryable=False, retry_after=None)
    reports = PeppolReportingStore(s.store.connector, clock=s.clock)
    sid = await _delivered(s)
    await reports.record(_transmission(s.clock.now, sid))
    month = (s.clock.now.replace(day=1), s.clock.now.replace(day=1) + dt.timedelta(days=32))
    before = await reports.between(*month)
    s.clock.now += 2 * YEAR
    pruned = await _retention(s).prune(RetentionPolicy(documents_days=30))
    assert pruned.documents == 1 and await _gone(s, sid)
    assert await s.store.get_submission("t", dead.id) is not None, "an operator may retry it"
    assert await s.store.get_submission("t", two_routes) is not None, "its dead job too"
    assert await s.store.get_submission("t", mls.id) is not None, "the MLS sent stays"
    assert await reports.between(*month) == before, "the reports count the same"


def _transmission(at: dt.datetime, submission_id: str) -> Transmission:
    return Transmission(
        direction="out",
        transmission_id="as4-1",
        instance_id="sbdh-1",
        exchanged_at=at,
        c2_seat="PSG000001",
        c3_seat="PSG000002",
        doctype_scheme="busdox-docid-qns",
        doctype="urn:x",
        process_scheme="cenbii-procid-ubl",
        process="urn:p",
        transport_profile="peppol-transport-as4-v2_0",
        c1_country="CN",
        end_user_hash="ab" * 32,
        tenant_id="t",
        submission_id=submission_id,
    )


async def test_finished_housekeeping_jobs_go_with_their_summaries(stores: Stores) -> None:
    s = stores
    hours = [s.clock.now + dt.timedelta(hours=n) for n in range(5)]
    for hour in hours:
        await s.store.enqueue_job(housekeeping_job_key(hour), JobSpec(HOUSEKEEPING))
    finished = await s.store.claim_jobs("w1", limit=4)
    for job in finished:
        summary = Receipt("housekeeping", b"", "application/json", {"forgotten": 1})
        await s.store.complete_job(job.id, "w1", summary)
    s.clock.now += dt.timedelta(days=31)
    assert (await _retention(s).prune(RetentionPolicy(), dry_run=True)).housekeeping_jobs == 4
    pruned = await _retention(s).prune(RetentionPolicy(jobs_days=30))
    assert (pruned.housekeeping_jobs, pruned.receipts) == (4, 4)
    (left,) = await s.store.list_jobs()
    assert left.state is JobState.PENDING, "the job still to run stays"
    assert (await _retention(s).prune(RetentionPolicy(jobs_days=0))).total == 0


async def test_a_document_a_pre_tenant_ledger_entry_is_attributed_through_is_kept(
    stores: Stores,
) -> None:
    """An entry written before entries recorded their tenant (``tenant_id`` NULL) is
    attributed to its submission's tenant by the yearly report: deleting that submission
    would move the entry to the unknown tenant "" and change a reported year's figures."""
    s = stores
    legacy = await _delivered(s, number="old")
    recent = await _delivered(s, number="new")
    await sql(s, "UPDATE export_ledger SET tenant_id = NULL WHERE submission_id = ?", (legacy,))
    year = s.clock.now.year
    owners = [e["owner"] for e in await s.ledger.entries_for_year(year)]
    s.clock.now += 2 * YEAR
    pruned = await _retention(s).prune(RetentionPolicy(documents_days=30))
    assert pruned.documents == 1 and await _gone(s, recent)
    assert await s.store.get_submission("t", legacy) is not None
    assert [e["owner"] for e in await s.ledger.entries_for_year(year)] == owners == ["t", "t"]
