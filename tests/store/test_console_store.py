"""The console's reads (:class:`gateway.store.console.ConsoleStore`) on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from gateway.store import JobSpec, JobState, Receipt, StateChange, Store, open_store
from gateway.store.console import ConsoleStore, DocumentFilter

START = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


class Clock:
    """A clock the test moves: one minute per call unless set."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/console.db"
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
async def stores(store_url: str) -> AsyncIterator[tuple[Store, ConsoleStore, Clock]]:
    url = store_url
    store = await open_store(url)
    clock = Clock()
    store.clock = clock
    try:
        yield store, ConsoleStore(store.connector, clock=clock), clock
    finally:
        await store.close()


async def add(
    store: Store,
    tenant: str,
    *,
    profile: str | None = None,
    receiver: str | None = None,
    meta: dict[str, str] | None = None,
) -> str:
    submission, _ = await store.create_submission(
        tenant, b"<x/>", content_type="application/xml", filename="f.xml", metadata=meta or {}
    )
    if profile or receiver:
        detail = {"profile": profile, "receiver": receiver, "number": "N-" + submission.id[-6:]}
        await store.record_event(submission.id, "queued", detail=detail)
    return submission.id


async def test_documents_filtered_and_paged(stores: tuple[Store, ConsoleStore, Clock]) -> None:
    store, reads, clock = stores
    a = (await store.create_tenant("a")).id
    b = (await store.create_tenant("b")).id
    sg = [await add(store, a, profile="pint-sg", receiver="0195:SG1") for _ in range(5)]
    hk = [await add(store, a, profile="pint", receiver="0088:HK1") for _ in range(3)]
    from_metadata = await add(store, a, meta={"profile": "bis3", "receiver": "0195:SG9"})
    other = await add(store, b, profile="pint-sg", receiver="0195:SG1")
    await store.record_event(hk[0], "delivered")

    everything = await reads.find_documents(a, DocumentFilter())
    assert [d.id for d in everything] == [from_metadata, *reversed(hk), *reversed(sg)]
    assert other not in {d.id for d in everything}
    first = everything[-1]
    assert (first.profile, first.receiver, first.number) == (
        "pint-sg",
        "0195:SG1",
        f"N-{sg[0][-6:]}",
    )

    by_profile = await reads.find_documents(a, DocumentFilter(profile="pint"))
    assert {d.id for d in by_profile} == set(hk)
    by_receiver = await reads.find_documents(a, DocumentFilter(receiver="0195:SG1"))
    assert {d.id for d in by_receiver} == set(sg)
    assert [d.id for d in await reads.find_documents(a, DocumentFilter(profile="bis3"))] == [
        from_metadata
    ]
    delivered = await reads.find_documents(a, DocumentFilter(state="delivered"))
    assert [d.id for d in delivered] == [hk[0]]
    assert await reads.find_documents(b, DocumentFilter(profile="pint")) == []

    page = await reads.find_documents(a, DocumentFilter(), limit=4)
    rest = await reads.find_documents(
        a, DocumentFilter(), limit=4, before=(page[-1].created_at, page[-1].id)
    )
    last = await reads.find_documents(
        a, DocumentFilter(), limit=4, before=(rest[-1].created_at, rest[-1].id)
    )
    assert [d.id for d in page + rest + last] == [d.id for d in everything]

    middle = everything[4].created_at
    window = await reads.find_documents(
        a, DocumentFilter(since=middle, until=middle + timedelta(seconds=1))
    )
    assert [d.id for d in window] == [everything[4].id]
    assert clock.now > START


async def test_dead_letters_held_depths_and_throughput(
    stores: tuple[Store, ConsoleStore, Clock],
) -> None:
    store, reads, clock = stores
    a = (await store.create_tenant("a")).id
    b = (await store.create_tenant("b")).id
    docs = [await add(store, a, profile="pint", receiver="0088:HK1") for _ in range(3)]
    theirs = await add(store, b)
    for doc in [*docs, theirs]:
        await store.enqueue_job(doc, JobSpec("deliver", adapter="https", endpoint=f"ep-{doc[-4:]}"))
    claimed = await store.claim_jobs("w", limit=10)
    dead_ids = {docs[0], docs[2], theirs}
    for job in claimed:
        if job.submission_id in dead_ids:
            await store.fail_job(job.id, "w", "refused", retryable=False, retry_after=None)
        else:
            await store.complete_job(job.id, "w", None)
            await store.record_event(job.submission_id, "delivered")

    dead = await reads.dead_letters(a)
    assert [d.job.submission_id for d in dead] == [docs[2], docs[0]]
    assert all(d.job.state is JobState.DEAD and d.filename == "f.xml" for d in dead)

    await store.record_event(docs[1], "held")
    assert [d.id for d in await reads.held_documents(a)] == [docs[1]]
    assert [d.id for d in await reads.find_documents(a, DocumentFilter(state="held"))] == [docs[1]]
    assert await reads.held_documents(b) == []

    await add(store, a)
    await store.enqueue_job(docs[1], JobSpec("report"))
    depths = {(d.kind, d.state): d.count for d in await reads.queue_depths()}
    assert depths == {("deliver", JobState.DEAD): 3, ("report", JobState.PENDING): 1}

    assert await reads.delivered_per_bucket(a, START, 3600) == {0: 1}
    later = clock.now + timedelta(seconds=5)
    assert await reads.delivered_per_bucket(a, later, 60) == {}
    assert await reads.delivered_per_bucket(b, START, 60) == {}
    buckets = await reads.delivered_per_bucket(a, START - timedelta(seconds=300), 60)
    assert sum(buckets.values()) == 1 and min(buckets) >= 5

    endpoints = await reads.delivery_endpoints(a)
    assert sorted(e for _, e in endpoints) == sorted(f"ep-{d[-4:]}" for d in docs)


async def test_facts_come_with_the_statements_the_gateway_writes(
    stores: tuple[Store, ConsoleStore, Clock],
) -> None:
    """The facts arrive with a submission stored with its job, the processing result (its
    ``queued`` event, handed off or queued), the usual delivery and the old paths (a
    processing result without a job), as the row triggers wrote them before (PostgreSQL
    writes them in those statements since migration 0013)."""
    store, reads, _ = stores
    a = (await store.create_tenant("a")).id
    ids = []
    for n, hand_off in enumerate((30.0, None)):
        submission, _ = await store.create_submission(
            a,
            b"<x/>",
            content_type="application/xml",
            metadata={"profile": "bis3"},
            enqueue=JobSpec("process"),
        )
        ids.append(submission.id)
        (job,) = await store.claim_jobs("w", kinds=["process"])
        detail = {"profile": "pint-sg", "receiver": f"0195:SG{n}", "number": f"N-{n}"}
        queued = await store.finish_processing(
            job.id,
            "w",
            event=StateChange("queued", "processed", detail),
            enqueue=JobSpec("deliver", adapter="https", endpoint="ep"),
            hand_off_seconds=hand_off,
        )
        assert queued is not None
        if hand_off is None:
            (queued,) = await store.claim_jobs("w", kinds=["deliver"])
        delivered = StateChange("delivered", "delivered by https", {"status": 202})
        await store.complete_job(queued.id, "w", Receipt("http", b"ok"), event=delivered)
    rejected, _ = await store.create_submission(
        a, b"<x/>", content_type="application/xml", metadata={"receiver": "0088:HK1"}
    )
    found = {d.id: d for d in await reads.find_documents(a, DocumentFilter())}
    for n, submission_id in enumerate(ids):
        document = found[submission_id]
        assert (document.profile, document.receiver, document.number) == (
            "pint-sg",
            f"0195:SG{n}",
            f"N-{n}",
        )
        assert document.state == "delivered"
    assert (found[rejected.id].profile, found[rejected.id].receiver) == (None, "0088:HK1")
    assert sum((await reads.delivered_per_bucket(a, START, 3600)).values()) == 2


async def test_sign_outs_are_kept_until_their_sessions_expire(
    stores: tuple[Store, ConsoleStore, Clock],
) -> None:
    _, reads, clock = stores
    now = int(START.timestamp())
    await reads.sign_out("old-nonce", now - 60)  # its cookie has expired anyway
    await reads.sign_out("live-nonce", now + 3600)
    await reads.sign_out("live-nonce", now + 3600)  # signing out twice changes nothing
    assert await reads.signed_out("live-nonce")
    assert not await reads.signed_out("never-signed-out")
    assert not await reads.signed_out("old-nonce")  # forgotten by the later sign-outs
    clock.now = START + timedelta(hours=2)
    await reads.sign_out("another", now + 7200 + 3600)
    assert not await reads.signed_out("live-nonce")  # past its expiry: nothing to refuse
    assert await reads.signed_out("another")
