"""The export ledger on SQLite and PostgreSQL: one transaction for counts, entry and delivery
job; yearly counts deduplicated by keyed hash across documents and a year boundary; holds
released and refused; a chain that ``verify`` checks, and tampering it catches."""

from __future__ import annotations

import datetime as dt

import pytest

from gateway.store.ledger import Hold, Verdict, china_year
from gateway.store.ledger_chain import verify_chain
from gateway.store.records import StateChange
from tests.store.ledger_support import Stores, allow, backend, export, stores, thresholds
from tests.store.test_ebl_migrations import OldDatabase

__all__ = ["backend", "stores"]

OFFICER = "api-key:officer-1"
"""The principal that decides in these tests."""


async def test_an_export_writes_entry_counts_and_delivery_job_together(stores: Stores) -> None:
    sid, result = await export(stores, [("h1", False), ("h2", True)])
    assert result.seq == 1 and result.job is not None and result.job.kind == "deliver"
    assert (result.personal, result.sensitive) == (2, 1)
    sub = await stores.store.get_submission("t", sid)
    assert sub is not None and sub.state == "queued"
    (entry,) = await stores.ledger.entries()
    assert entry["submission_id"] == sid and entry["subjects"] == 2
    assert entry["categories"] == "business,personal" and entry["decided_by"] == "policy v1"
    assert (entry["principal"], entry["tenant_id"]) == ("", "t")  # the policy decided
    (counts,) = await stores.ledger.counts(2026)
    assert (counts["personal"], counts["sensitive"], counts["documents"]) == (2, 1, 1)
    assert verify_chain(*await stores.ledger.chain_state()).ok


async def test_individuals_are_counted_once_per_year_and_again_the_next(stores: Stores) -> None:
    await export(stores, [("a", False), ("b", False)])
    await export(stores, [("b", False), ("c", False)])
    _, third = await export(stores, [("a", True)])
    assert (third.personal, third.sensitive) == (3, 1)
    stores.clock.now = dt.datetime(2026, 12, 31, 15, 59, tzinfo=dt.UTC)  # 23:59 in Beijing
    assert china_year(stores.clock.now) == 2026
    _, last = await export(stores, [("d", False)])
    assert last.personal == 4
    stores.clock.now = dt.datetime(2026, 12, 31, 16, 0, tzinfo=dt.UTC)  # 1 January, Beijing
    _, new_year = await export(stores, [("a", False), ("d", False)])
    assert (new_year.personal, new_year.sensitive) == (2, 0)
    assert [c["personal"] for c in await stores.ledger.counts(2026)] == [4]
    assert [c["personal"] for c in await stores.ledger.counts(2027)] == [2]
    assert len(await stores.ledger.entries_for_year(2027)) == 1
    assert len(await stores.ledger.entries_for_year(2026)) == 4


async def test_the_threshold_holds_the_document_that_would_reach_it(stores: Stores) -> None:
    judge = thresholds(5)
    for n in range(4):
        _, ok = await export(stores, [(f"p{n}", False)], judge=judge)
        assert ok.verdict.allowed
    _, again = await export(stores, [("p0", False)], judge=judge)  # known: no new individual
    assert again.verdict.allowed and again.personal == 4
    sid, held = await export(stores, [("p9", False)], judge=judge)
    assert not held.verdict.allowed and held.seq is None and held.job is None
    sub = await stores.store.get_submission("t", sid)
    assert sub is not None and sub.state == "held"
    assert [j.kind for j in await stores.store.list_jobs(submission_id=sid)] == ["process"]
    (counts,) = await stores.ledger.counts(2026)
    assert counts["personal"] == 4  # the held document's individual is not counted
    assert await stores.store.get_output(sid, "signed") is not None  # nothing lost


async def test_held_then_released_by_an_officer(stores: Stores) -> None:
    sid, _ = await export(stores, [("x", False)], judge=thresholds(1))
    (hold,) = await stores.ledger.list_holds(tenant_id="t")
    assert hold.submission_id == sid and hold.state == "held" and "1 >= 1" in hold.reason
    released = await stores.ledger.release(
        sid, "Officer Wang", "SCC filing SH-2026-1", principal=OFFICER
    )
    assert released.state == "releasing"
    (job,) = [j for j in await stores.store.claim_jobs("w2") if j.kind == "release"]
    result = await stores.ledger.finish_release(job.id, "w2")
    assert result.seq == 1 and result.job is not None and result.job.kind == "deliver"
    (entry,) = await stores.ledger.entries()
    assert entry["decided_by"] == "Officer Wang" and entry["basis"] == "SCC filing SH-2026-1"
    assert (entry["principal"], entry["tenant_id"]) == (OFFICER, "t")
    after = await stores.ledger.get_hold(sid)
    assert after is not None and after.state == "released" and after.principal == OFFICER
    sub = await stores.store.get_submission("t", sid)
    assert sub is not None and sub.state == "queued"
    assert (await stores.ledger.counts(2026))[0]["personal"] == 1
    with pytest.raises(Exception, match="released, not held"):
        await stores.ledger.release(sid, "Officer Wang", "again", principal=OFFICER)


async def test_a_released_invoice_dates_a_credit_note_and_a_refused_one_does_not(
    stores: Stores,
) -> None:
    """A held invoice counts as sent once an officer releases it: its kind and issue date
    outlive the hold into the release's ``queued`` event, which is where a credit note's job
    looks for them (BT-26); one the officer refuses never counts."""
    invoice = {"document_type": "invoice", "issue_date": "2026-09-20"}
    held, _ = await export(
        stores,
        [("x", False)],
        judge=thresholds(1),
        number="N-7",
        facts={"number": "N-7", **invoice},
    )
    refused, _ = await export(
        stores,
        [("y", False)],
        judge=thresholds(1),
        number="N-8",
        facts={"number": "N-8", **invoice, "issue_date": "2026-09-21"},
    )
    assert await stores.store.invoice_issue_dates("t", "N-7") == []  # held: not sent yet
    await stores.ledger.release(held, "Officer Wang", "SCC filing SH-2026-1", principal=OFFICER)
    await stores.ledger.refuse(refused, "Officer Li", "no filing", principal=OFFICER)
    (job,) = [j for j in await stores.store.claim_jobs("w2") if j.kind == "release"]
    await stores.ledger.finish_release(job.id, "w2")
    assert await stores.store.invoice_issue_dates("t", "N-7") == [dt.date(2026, 9, 20)]
    assert await stores.store.invoice_issue_dates("t", "N-8") == []
    (queued,) = [e for e in await stores.store.list_events(held) if e.state == "queued"]
    assert queued.detail is not None and queued.detail["number"] == "N-7"
    assert "stages" not in queued.detail  # the timings are the processing's, not the release's


async def test_a_decision_recorded_before_principals_is_answered_when_made_again(
    stores: Stores,
) -> None:
    """A hold decided before migration 18 has no principal: the same officer on the same
    basis, retrying after the upgrade (its answer lost), gets the hold back, not a 409."""
    sid, _ = await export(stores, [("x", False)], judge=thresholds(1))
    await stores.ledger.release(sid, "Officer Wang", "SCC filing SH-2026-1", principal=OFFICER)
    url = stores.url if stores.backend == "postgres" else f"sqlite:///{stores.url}"
    OldDatabase(stores.backend, url).execute(
        [("UPDATE export_holds SET principal = NULL WHERE submission_id = ?", (sid,))]
    )
    again = await stores.ledger.release(
        sid, "Officer Wang", "SCC filing SH-2026-1", principal=OFFICER
    )
    assert again.state == "releasing" and again.principal is None
    with pytest.raises(Exception, match="releasing, not held"):
        await stores.ledger.release(sid, "Officer Li", "SCC filing SH-2026-1", principal=OFFICER)
    jobs = [j.kind for j in await stores.store.list_jobs(submission_id=sid)]
    assert jobs.count("release") == 1


async def test_the_same_decision_made_again_is_answered_not_refused(stores: Stores) -> None:
    """A client whose answer was lost retries its release (or refusal): the same officer on
    the same basis gets the hold back, and nothing runs twice; anyone else is refused."""
    sid, _ = await export(stores, [("x", False)], judge=thresholds(1))
    first = await stores.ledger.release(
        sid, "Officer Wang", "SCC filing SH-2026-1", principal=OFFICER
    )
    again = await stores.ledger.release(
        sid, "Officer Wang", "SCC filing SH-2026-1", principal=OFFICER
    )
    assert first.state == again.state == "releasing"
    jobs = [j.kind for j in await stores.store.list_jobs(submission_id=sid)]
    assert jobs.count("release") == 1
    with pytest.raises(Exception, match="releasing, not held"):
        await stores.ledger.release(sid, "Officer Li", "SCC filing SH-2026-1", principal=OFFICER)
    with pytest.raises(Exception, match="releasing, not held"):  # same words, another key
        await stores.ledger.release(
            sid, "Officer Wang", "SCC filing SH-2026-1", principal="api-key:someone-else"
        )
    with pytest.raises(Exception, match="releasing, not held"):
        await stores.ledger.refuse(sid, "Officer Wang", "SCC filing SH-2026-1", principal=OFFICER)
    other, _ = await export(stores, [("y", False)], judge=thresholds(1), number="2")
    await stores.ledger.refuse(other, "Officer Li", "no filing will be made", principal=OFFICER)
    repeat = await stores.ledger.refuse(
        other, "Officer Li", "no filing will be made", principal=OFFICER
    )
    assert repeat.state == "refused"
    events = [e.reason for e in await stores.store.list_events(other)]
    assert events.count("refused by Officer Li: no filing will be made") == 1


async def test_a_release_whose_job_died_can_be_decided_again(stores: Stores) -> None:
    """A dead-lettered release job leaves the hold ``releasing``: it is released again (its
    job revived, not a second one) or refused, instead of stuck where both answer 409."""
    sid, _ = await export(stores, [("x", False)], judge=thresholds(1))
    await stores.ledger.release(sid, "Officer Wang", "SCC filing SH-2026-1", principal=OFFICER)
    (job,) = [j for j in await stores.store.claim_jobs("w2") if j.kind == "release"]
    await stores.store.fail_job(
        job.id, "w2", "store away", retryable=True, retry_after=None,
        event=StateChange("held", "release failed: store away"),
    )  # fmt: skip
    (listed,) = await stores.ledger.list_holds()  # waiting for a decision, among the held
    assert (listed.submission_id, listed.state) == (sid, "release_failed")
    assert [h.submission_id for h in await stores.ledger.list_holds(state="release_failed")] == [
        sid
    ]
    assert await stores.ledger.list_holds(state="releasing") == []
    assert (await stores.ledger.get_hold(sid)).state == "releasing"  # type: ignore[union-attr]
    again = await stores.ledger.release(
        sid, "Officer Li", "SCC filing SH-2026-2", principal=OFFICER
    )
    assert await stores.ledger.list_holds() == []
    assert [h.state for h in await stores.ledger.list_holds(state="releasing")] == ["releasing"]
    assert again.state == "releasing" and again.decided_by == "Officer Li"
    releases = [j for j in await stores.store.list_jobs(submission_id=sid) if j.kind == "release"]
    assert [(j.id, j.state.value) for j in releases] == [(job.id, "pending")]
    (claimed,) = [j for j in await stores.store.claim_jobs("w3") if j.kind == "release"]
    result = await stores.ledger.finish_release(claimed.id, "w3")
    assert result.seq == 1
    (entry,) = await stores.ledger.entries()
    assert entry["decided_by"] == "Officer Li" and entry["basis"] == "SCC filing SH-2026-2"

    other, _ = await export(stores, [("y", False)], judge=thresholds(1), number="2")
    await stores.ledger.release(other, "Officer Wang", "SCC filing SH-2026-3", principal=OFFICER)
    (job,) = [j for j in await stores.store.claim_jobs("w4") if j.kind == "release"]
    await stores.store.fail_job(job.id, "w4", "x", retryable=False, retry_after=None)
    refused = await stores.ledger.refuse(
        other, "Officer Li", "no filing will be made", principal=OFFICER
    )
    assert refused.state == "refused"


async def test_held_then_refused_for_good(stores: Stores) -> None:
    sid, _ = await export(stores, [("x", False)], judge=thresholds(1))
    refused = await stores.ledger.refuse(
        sid, "Officer Li", "no filing will be made", principal=OFFICER
    )
    assert refused.state == "refused" and refused.decided_by == "Officer Li"
    sub = await stores.store.get_submission("t", sid)
    assert sub is not None and sub.state == "refused"
    events = await stores.store.list_events(sid)
    assert events[-1].reason == "refused by Officer Li: no filing will be made"
    assert await stores.ledger.entries() == []
    assert [j.kind for j in await stores.store.list_jobs(submission_id=sid)] == ["process"]
    with pytest.raises(Exception, match="refused, not held"):
        await stores.ledger.release(sid, "Officer Li", "changed my mind", principal=OFFICER)
    with pytest.raises(Exception, match="no held document"):
        await stores.ledger.refuse("nope", "Officer Li", "x", principal=OFFICER)


async def test_checkpoints_are_signed_and_verified(stores: Stores) -> None:
    for n in range(3):
        await export(stores, number=str(n))
    mark = await stores.ledger.checkpoint(lambda payload: ("sig:" + payload.hex(), "CERT"))
    assert mark is not None and mark["seq"] == 3 and mark["certificate"] == "CERT"
    entries, head, marks = await stores.ledger.chain_state()
    good = verify_chain(entries, head, marks, lambda p, s, c: s == "sig:" + p.hex())
    assert good.ok and good.checkpoints == 1
    bad = verify_chain(entries, head, marks, lambda p, s, c: False)
    assert not bad.ok and "checkpoint at entry 3" in bad.problem


async def test_a_final_verdict_counts_without_asking_and_an_uncounted_one_writes_nothing(
    stores: Stores,
) -> None:
    counted = allow("Art. 7 approval", counted=True)
    _, first = await export(stores, [("a", False), ("b", True)], judge=counted)
    assert first.verdict is counted and (first.personal, first.sensitive) == (2, 1)
    _, again = await export(stores, [("b", False), ("c", True), ("c", False)], judge=counted)
    assert (again.personal, again.sensitive) == (3, 2)  # c once, sensitive (any mention)
    _, exempt = await export(stores, [("d", True)], judge=allow("Art. 5(1)"))
    assert exempt.seq == 3 and (exempt.personal, exempt.sensitive) == (0, 0)  # nothing read
    (counts,) = await stores.ledger.counts(2026)
    assert (counts["personal"], counts["sensitive"], counts["documents"]) == (3, 2, 2)
    assert verify_chain(*await stores.ledger.chain_state()).ok


async def test_a_judge_that_allows_without_counting_leaves_the_counts_as_they_were(
    stores: Stores,
) -> None:
    await export(stores, [("a", False)])
    seen: list[tuple[int, int]] = []

    def uncounted(personal: int, sensitive: int) -> Verdict:
        seen.append((personal, sensitive))
        return allow("Art. 3")

    _, result = await export(stores, [("a", True), ("b", True)], judge=uncounted)
    assert seen == [(2, 2)]  # asked with the document's individuals added (a turns sensitive)
    assert result.verdict.allowed and result.seq == 2
    assert (result.personal, result.sensitive) == (1, 0)  # the counting was rolled back
    (counts,) = await stores.ledger.counts(2026)
    assert (counts["personal"], counts["sensitive"], counts["documents"]) == (1, 0, 1)
    _, later = await export(stores, [("b", False)])
    assert (later.personal, later.sensitive) == (2, 0)  # b was not kept from the rollback


async def test_a_release_the_recheck_stops_is_held_again_then_released(stores: Stores) -> None:
    """The re-check at release time (given the counts with the document's individuals added)
    may stop a release: nothing is counted, sent or written in the ledger, the hold is back
    to ``held`` with the new reason and what held it, and a new release (its job queued
    again) answers it."""
    sid, _ = await export(stores, [("x", False)], judge=thresholds(1))
    await stores.ledger.release(sid, "Officer Wang", "SCC filing SH-2026-1", principal=OFFICER)
    (job,) = [j for j in await stores.store.claim_jobs("w2") if j.kind == "release"]
    seen: list[tuple[str, int, int]] = []

    def stop(hold: Hold, personal: int, sensitive: int) -> Verdict | None:
        seen.append((hold.article, personal, sensitive))
        if hold.article == "art-7":
            return None
        return Verdict(False, article="art-7", reason="now needs an Art. 7 approval",
                       policy_version="v1", decided_by="policy v1", counted=True)  # fmt: skip

    stopped = await stores.ledger.finish_release(job.id, "w2", recheck=stop)
    assert not stopped.verdict.allowed and stopped.seq is None and stopped.job is None
    assert seen == [("", 1, 0)]
    hold = await stores.ledger.get_hold(sid)
    assert hold is not None and (hold.state, hold.article) == ("held", "art-7")
    assert hold.reason == "now needs an Art. 7 approval" and hold.decided_by is None
    assert await stores.ledger.entries() == [] and await stores.ledger.counts(2026) == []
    sub = await stores.store.get_submission("t", sid)
    assert sub is not None and sub.state == "held"
    assert [e.reason for e in await stores.store.list_events(sid)][-2:] == [
        "release by Officer Wang: SCC filing SH-2026-1",
        "now needs an Art. 7 approval",
    ]
    assert [h.submission_id for h in await stores.ledger.list_holds()] == [sid]
    retry = await stores.ledger.release(  # the stopped release sent again: nothing runs
        sid, "Officer Wang", "SCC filing SH-2026-1", principal=OFFICER
    )
    assert (retry.state, retry.reason) == ("held", "now needs an Art. 7 approval")
    assert [j for j in await stores.store.claim_jobs("w2") if j.kind == "release"] == []

    await stores.ledger.release(sid, "Officer Li", "CAC-SA-2026-9", principal=OFFICER)
    (again,) = [j for j in await stores.store.claim_jobs("w3") if j.kind == "release"]
    assert again.id == job.id  # the same job, queued again
    result = await stores.ledger.finish_release(again.id, "w3", recheck=stop)
    assert result.verdict.allowed and result.seq == 1 and result.job is not None
    (entry,) = await stores.ledger.entries()
    assert (entry["decided_by"], entry["basis"]) == ("Officer Li", "CAC-SA-2026-9")
    assert (await stores.ledger.counts(2026))[0]["personal"] == 1
    assert verify_chain(*await stores.ledger.chain_state()).ok
