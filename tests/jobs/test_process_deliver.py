"""Submission, the ``process`` kind and the ``deliver`` kind on a real SQLite store with the
folder adapter, run by the production claim loop."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from adapters.base import AdapterContext
from gateway.delivery import (
    AdapterConfig,
    AdapterRegistry,
    DeliverKind,
    Router,
    Routing,
    RoutingPlanner,
    StoredEnvelope,
)
from gateway.errors import ArtefactError, ValidationFailed
from gateway.flows import Flow, Tools
from gateway.jobs import (
    HandedOutputs,
    IngestHandOffs,
    JobKinds,
    ProcessKind,
    ReceivedSubmissions,
    RetryPolicy,
    Submissions,
    ThreadFlowRunner,
    Worker,
)
from gateway.store import Job, JobState, LeaseLostError, Store, open_store
from tests.jobs.stand_ins import Raise, Seal, Upper, text_flow


@dataclass
class Kit:
    """A store, the job kinds over a stand-in flow, and the folder adapter ``drop``."""

    store: Store
    submissions: Submissions
    kinds: JobKinds
    process: ProcessKind
    runner: ThreadFlowRunner
    adapters: AdapterRegistry

    async def submit(self, tenant_id: str, body: bytes, **kw: Any) -> str:
        submission, _ = await self.submissions.submit(
            tenant_id, body, content_type="application/xml", flow="text-out", **kw
        )
        return submission.id


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = await open_store(f"sqlite:///{tmp_path / 'gateway.db'}")
    yield opened
    await opened.close()


MakeKit = Callable[..., Kit]


@pytest.fixture
async def make_kit(store: Store, tmp_path: Path) -> AsyncIterator[MakeKit]:
    made: list[Kit] = []

    def make(
        flow: Flow[Any] | None = None,
        hand_off_seconds: float | None = None,
        handed: HandedOutputs | None = None,
        received: ReceivedSubmissions | None = None,
        hand_offs: IngestHandOffs | None = None,
    ) -> Kit:
        registry = AdapterRegistry.build(
            {"drop": AdapterConfig("drop", "folder", {"path": "out"})},
            AdapterContext(data_dir=tmp_path),
        )
        runner = ThreadFlowRunner(Tools(), flows={"text-out": flow or text_flow()})
        process = ProcessKind(
            store,
            runner,
            RoutingPlanner(Router(Routing(default="drop"), registry.names()), registry),
            hand_off_seconds=hand_off_seconds,
            handed=handed,
            received=received,
        )
        kinds = JobKinds([process, DeliverKind(store, registry, handed)])
        submissions = Submissions(store, received=received, hand_offs=hand_offs)
        kit = Kit(store, submissions, kinds, process, runner, registry)
        made.append(kit)
        return kit

    yield make
    for kit in made:
        await kit.adapters.aclose()
        kit.runner.close()


async def run_until(
    kit: Kit,
    submission_id: str,
    states: set[str],
    policy: RetryPolicy | None = None,
    *,
    dead_jobs: int = 0,
) -> str:
    """Run a worker until the submission reaches one of ``states`` (and, if asked, until
    ``dead_jobs`` of its jobs are dead)."""
    store = kit.store
    worker = Worker(store, kit.kinds, worker_id="w1", poll_seconds=0.05, policy=policy, grace=1)
    task = asyncio.create_task(worker.run())
    try:
        async with asyncio.timeout(60):
            while True:
                submission = await store.get_submission_any_tenant(submission_id)
                assert submission is not None
                dead = await store.list_jobs(submission_id=submission_id, state=JobState.DEAD)
                if submission.state in states and len(dead) >= dead_jobs:
                    return submission.state
                await asyncio.sleep(0.025)
    finally:
        worker.stop()
        await task


async def test_submit_process_deliver(store: Store, make_kit: MakeKit, tmp_path: Path) -> None:
    tenant = await store.create_tenant("acme")
    kit = make_kit()
    sid = await kit.submit(tenant.id, b"<a/>", idempotency_key="k1")
    assert await kit.submit(tenant.id, b"<a/>", idempotency_key="k1") == sid
    assert await run_until(kit, sid, {"delivered"}) == "delivered"
    events = await store.list_events(sid)
    assert [e.state for e in events] == ["received", "queued", "delivered"]
    assert events[1].detail is not None
    assert [s["stage"] for s in events[1].detail["stages"]] == ["render", "sign"]
    jobs = await store.list_jobs(submission_id=sid)
    assert {(j.kind, j.adapter) for j in jobs} == {("process", ""), ("deliver", "drop")}
    delivery = next(j for j in jobs if j.kind == "deliver")
    assert delivery.endpoint == f"drop:{tmp_path / 'out'}"  # the breaker's key: the directory
    files = list((tmp_path / "out").iterdir())
    assert [f.read_bytes() for f in files] == [b"<A/><!--sealed-->"]
    receipts = await store.list_receipts(submission_id=sid)
    assert len(receipts) == 1 and receipts[0].detail["adapter"] == "drop"


async def test_the_processing_worker_delivers_what_it_processed_without_a_claim(
    store: Store, make_kit: MakeKit, tmp_path: Path
) -> None:
    """With a hand-off, one claim runs both jobs: the delivery job is born leased to the
    worker that processed the submission, on its first attempt."""
    tenant = await store.create_tenant("acme")
    kit = make_kit(hand_off_seconds=30)
    sid = await kit.submit(tenant.id, b"<a/>")
    worker = Worker(store, kit.kinds, worker_id="w1")
    assert await worker.run_once() == 1
    submission = await store.get_submission_any_tenant(sid)
    assert submission is not None and submission.state == "delivered"
    jobs = {j.kind: j for j in await store.list_jobs(submission_id=sid)}
    assert (jobs["deliver"].state, jobs["deliver"].attempts) == (JobState.DONE, 1)
    assert [f.read_bytes() for f in (tmp_path / "out").iterdir()] == [b"<A/><!--sealed-->"]


def count_reads(store: Store, method: str, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The submission ids ``store.<method>(submission_id, ...)`` is called with from now on."""
    reads: list[str] = []
    real = getattr(store, method)

    async def counted(submission_id: str, *args: Any) -> Any:
        reads.append(submission_id)
        return await real(submission_id, *args)

    monkeypatch.setattr(store, method, counted)
    return reads


async def test_a_hand_off_processes_and_delivers_what_was_just_committed_without_reading_it(
    store: Store, make_kit: MakeKit, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The submission as the API stored it (first attempt), the outputs as processing stored
    them: neither is read back."""
    handed, received = HandedOutputs(), ReceivedSubmissions()
    kit = make_kit(hand_off_seconds=30, handed=handed, received=received)
    tenant = await store.create_tenant("acme")
    sid = await kit.submit(tenant.id, b"<a/>", idempotency_key="k1")
    assert await kit.submit(tenant.id, b"<b/>", idempotency_key="k1") == sid  # kept once
    assert len(received) == 1
    real_get_outputs = store.get_outputs
    output_reads = count_reads(store, "get_outputs", monkeypatch)
    submission_reads = count_reads(store, "get_submission_any_tenant", monkeypatch)
    assert await Worker(store, kit.kinds, worker_id="w1").run_once() == 1
    assert output_reads == [] and submission_reads == []
    assert len(handed) == 0 and len(received) == 0
    stored = await real_get_outputs(sid, ["signed"])
    assert [f.read_bytes() for f in (tmp_path / "out").iterdir()] == [stored["signed"].data]
    assert stored["signed"].data == b"<A/><!--sealed-->"


def count_claimed(store: Store, monkeypatch: pytest.MonkeyPatch) -> list[Job]:
    """The jobs ``store.claim_jobs`` hands out from now on."""
    claimed: list[Job] = []
    real = store.claim_jobs

    async def counted(*args: Any, **kwargs: Any) -> list[Job]:
        jobs = await real(*args, **kwargs)
        claimed.extend(jobs)
        return jobs

    monkeypatch.setattr(store, "claim_jobs", counted)
    return claimed


async def test_a_submission_handed_to_a_running_worker_at_ingest_needs_no_claim(
    store: Store, make_kit: MakeKit, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The API stores the ``process`` job leased to a worker of its process, which runs it
    at once (then hands itself the delivery): no claim hands out either job."""
    hand_offs, received = IngestHandOffs(), ReceivedSubmissions()
    kit = make_kit(hand_off_seconds=30, received=received, hand_offs=hand_offs)
    tenant = await store.create_tenant("acme")
    worker = Worker(store, kit.kinds, worker_id="w1", poll_seconds=0.05, concurrency=4)
    hand_offs.add(worker)
    claimed = count_claimed(store, monkeypatch)
    running = asyncio.create_task(worker.run())
    try:
        await asyncio.sleep(0.1)  # the worker runs (an idle claim finds nothing)
        sids = [await kit.submit(tenant.id, f"<a n='{n}'/>".encode()) for n in range(3)]
        async with asyncio.timeout(30):
            while {(await submission_state(store, sid)) for sid in sids} != {"delivered"}:
                await asyncio.sleep(0.02)
    finally:
        worker.stop()
        await running
    assert claimed == [] and len(received) == 0  # each first run used the kept submission
    for sid in sids:
        jobs = {j.kind: j for j in await store.list_jobs(submission_id=sid)}
        assert {k: (j.state, j.attempts) for k, j in jobs.items()} == {
            "process": (JobState.DONE, 1),
            "deliver": (JobState.DONE, 1),
        }
    assert len(list((tmp_path / "out").iterdir())) == 3


async def submission_state(store: Store, submission_id: str) -> str | None:
    submission = await store.get_submission_any_tenant(submission_id)
    return None if submission is None else submission.state


class DiesAfterCommit:
    """A worker that is handed a job and dies before running it (its lease is short)."""

    worker_id = "w-dead"
    lease_seconds = 0.2

    def __init__(self) -> None:
        self.taken: list[Job | None] = []

    def spare_slots(self) -> int:
        return 1

    def reserve_slot(self) -> bool:
        return True

    def take(self, job: Job | None) -> None:
        self.taken.append(job)


async def test_a_job_handed_at_ingest_to_a_worker_that_died_is_claimed_after_its_lease(
    store: Store, make_kit: MakeKit, tmp_path: Path
) -> None:
    """Acknowledged means processed: the job stays leased to the dead worker until its lease
    expires, then another worker claims it (attempt two) and processes and delivers once."""
    hand_offs = IngestHandOffs()
    dead = DiesAfterCommit()
    hand_offs.add(dead)
    kit = make_kit(received=ReceivedSubmissions(), hand_offs=hand_offs)
    tenant = await store.create_tenant("acme")
    sid = await kit.submit(tenant.id, b"<a/>")
    (job,) = dead.taken
    assert job is not None and (job.state, job.lease_owner) == (JobState.LEASED, "w-dead")
    assert await store.claim_jobs("w2") == []  # leased: nobody else takes it yet
    assert await run_until(kit, sid, {"delivered"}) == "delivered"
    jobs = {j.kind: j for j in await store.list_jobs(submission_id=sid)}
    assert (jobs["process"].attempts, jobs["process"].id) == (2, job.id)
    assert [f.read_bytes() for f in (tmp_path / "out").iterdir()] == [b"<A/><!--sealed-->"]


async def test_a_worker_without_a_spare_slot_gets_no_hand_off(
    store: Store, make_kit: MakeKit
) -> None:
    """A stopped (or full) worker reserves nothing: the job is queued pending for any worker."""
    hand_offs = IngestHandOffs()
    kit = make_kit(hand_offs=hand_offs)
    hand_offs.add(Worker(store, kit.kinds, worker_id="w1"))  # not running
    tenant = await store.create_tenant("acme")
    sid = await kit.submit(tenant.id, b"<a/>")
    (job,) = await store.list_jobs(submission_id=sid)
    assert (job.state, job.lease_owner) == (JobState.PENDING, None)


async def test_a_retried_processing_reads_the_submission_from_the_store(
    store: Store, make_kit: MakeKit, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A kept submission is used only on the first attempt: a retry may follow anything."""
    received = ReceivedSubmissions()
    kit = make_kit(received=received)
    tenant = await store.create_tenant("acme")
    sid = await kit.submit(tenant.id, b"<a/>")
    job = (await store.claim_jobs("w0", limit=1, lease_seconds=0.01))[0]
    await asyncio.sleep(0.05)  # the lease runs out: the next claim is attempt 2
    reads = count_reads(store, "get_submission_any_tenant", monkeypatch)
    assert await run_until(kit, sid, {"delivered"}) == "delivered"
    assert job.submission_id == sid and reads[0] == sid and len(received) == 0


async def test_a_delivery_without_kept_outputs_reads_the_store(
    store: Store, make_kit: MakeKit, tmp_path: Path
) -> None:
    """A retry, or a delivery taken over by another worker, finds nothing kept."""
    handed = HandedOutputs()
    kit = make_kit(handed=handed)
    tenant = await store.create_tenant("acme")
    sid = await kit.submit(tenant.id, b"<a/>")
    assert await run_until(kit, sid, {"delivered"}) == "delivered"
    assert len(handed) == 0


async def test_a_handed_off_job_of_a_kind_the_worker_lacks_is_given_back(
    store: Store, make_kit: MakeKit
) -> None:
    tenant = await store.create_tenant("acme")
    kit = make_kit(hand_off_seconds=30)
    sid = await kit.submit(tenant.id, b"<a/>")
    only_process = JobKinds([kit.process])
    assert await Worker(store, only_process, worker_id="w1").run_once() == 1
    jobs = {j.kind: j for j in await store.list_jobs(submission_id=sid)}
    assert jobs["deliver"].state == JobState.PENDING
    assert await Worker(store, kit.kinds, worker_id="w2").run_once() == 1
    submission = await store.get_submission_any_tenant(sid)
    assert submission is not None and submission.state == "delivered"


async def test_the_envelope_is_persisted_and_delivered_as_stored(
    store: Store, make_kit: MakeKit, tmp_path: Path
) -> None:
    """The adapter gets the envelope the flow built, as stored, whatever the metadata says."""
    tenant = await store.create_tenant("acme")
    kit = make_kit()
    sid = await kit.submit(tenant.id, b"<a/>", metadata={"profile": "bis3"})
    (job,) = await store.claim_jobs("w", kinds=["process"])
    await kit.process.run(job, "w")
    stored = await store.get_output(sid, "envelope")
    assert stored is not None
    envelope = StoredEnvelope.from_bytes(stored.data)
    assert envelope.facts.profile == "bis3" and envelope.facts.headers == {"X-Test": "sealed"}
    (delivery,) = await store.list_jobs(submission_id=sid, state=JobState.PENDING)
    assert (delivery.message_id, delivery.adapter) == (envelope.message_id, "drop")
    # what is delivered comes from the store, not from a second reading of the metadata
    seen: list[Any] = []
    adapter = kit.adapters.get("drop")
    original = adapter.deliver

    async def spy(env: Any) -> Any:
        seen.append(env)
        return await original(env)

    adapter.deliver = spy  # type: ignore[method-assign]
    await store.put_output(sid, "signed", "application/xml", b"<stored/>")
    assert await run_until(kit, sid, {"delivered"}) == "delivered"
    (sent,) = seen
    assert sent.body == b"<stored/>" and sent.profile == "bis3"
    assert sent.headers == {"X-Test": "sealed"} and sent.receiver == "0195:T08GB0001A"
    assert json.loads(stored.data)["endpoint"] == delivery.endpoint
    # every attempt, on any worker, gets the time the envelope was fixed (not its own)
    assert sent.created_at == stored.created_at


async def test_fatal_finding_rejects_and_keeps_report(store: Store, make_kit: MakeKit) -> None:
    tenant = await store.create_tenant("acme")
    kit = make_kit(text_flow(Upper(), Raise(ValidationFailed("BR-01 broken")), Seal()))
    sid = await kit.submit(tenant.id, b"<a/>")
    assert await run_until(kit, sid, {"rejected"}) == "rejected"
    events = await store.list_events(sid)
    assert events[-1].reason is not None and "BR-01" in events[-1].reason
    jobs = await store.list_jobs(submission_id=sid)
    assert [(j.kind, j.state) for j in jobs] == [("process", JobState.DONE)]
    assert await store.get_output(sid, "rendered") is not None


async def test_operational_failure_dead_letters_then_manual_retry(
    store: Store, make_kit: MakeKit
) -> None:
    tenant = await store.create_tenant("acme")
    broken = Raise(ArtefactError("PINT SG artefacts missing", retryable=True))
    kit = make_kit(text_flow(Upper(), broken, Seal()))
    sid = await kit.submit(tenant.id, b"<a/>")
    policy = RetryPolicy(max_attempts=2, base_seconds=0.01)
    assert await run_until(kit, sid, {"failed"}, policy, dead_jobs=1) == "failed"
    jobs = await store.list_jobs(submission_id=sid)
    assert jobs[0].state == JobState.DEAD and jobs[0].attempts == 2
    assert jobs[0].last_error is not None and "artefacts missing" in jobs[0].last_error
    broken.armed = False
    retried = await kit.submissions.retry(tenant.id, sid)
    assert [j.id for j in retried] == [jobs[0].id]
    assert await run_until(kit, sid, {"delivered"}, policy) == "delivered"


async def test_an_error_that_says_retrying_cannot_help_dead_letters_at_once(
    store: Store, make_kit: MakeKit
) -> None:
    tenant = await store.create_tenant("acme")
    kit = make_kit(text_flow(Upper(), Raise(ArtefactError("no PINT SG artefacts")), Seal()))
    sid = await kit.submit(tenant.id, b"<a/>")
    assert await run_until(kit, sid, {"failed"}, dead_jobs=1) == "failed"
    (job,) = await store.list_jobs(submission_id=sid)
    assert job.attempts == 1 and job.retryable is False


async def test_reprocessing_after_crash_queues_one_delivery(
    store: Store, make_kit: MakeKit
) -> None:
    tenant = await store.create_tenant("acme")
    kit = make_kit()
    sid = await kit.submit(tenant.id, b"<a/>")
    (job,) = await store.claim_jobs("first", lease_seconds=60)
    await kit.process.run(job, "first")  # result and completion: one transaction
    with pytest.raises(LeaseLostError):
        await kit.process.run(job, "first")  # a stale worker running it again records nothing
    jobs = await store.list_jobs(submission_id=sid)
    assert sorted(j.kind for j in jobs) == ["deliver", "process"]
    assert [e.state for e in await store.list_events(sid)] == ["received", "queued"]


async def test_processing_interrupted_before_its_commit_runs_again(
    store: Store, make_kit: MakeKit
) -> None:
    tenant = await store.create_tenant("acme")
    kit = make_kit()
    sid = await kit.submit(tenant.id, b"<a/>")
    (job,) = await store.claim_jobs("dies", lease_seconds=0)  # it dies before its commit
    (again,) = await store.claim_jobs("takes-over", lease_seconds=60)
    assert again.id == job.id and again.attempts == 2
    with pytest.raises(LeaseLostError):
        await kit.process.run(job, "dies")  # the first worker wakes up late: fenced
    await kit.process.run(again, "takes-over")
    jobs = await store.list_jobs(submission_id=sid)
    assert sorted((j.kind, j.adapter, j.state) for j in jobs) == [
        ("deliver", "drop", JobState.PENDING),
        ("process", "", JobState.DONE),
    ]
    assert [e.state for e in await store.list_events(sid)] == ["received", "queued"]


async def test_retry_of_unknown_submission_is_not_found(store: Store, make_kit: MakeKit) -> None:
    from gateway.store import NotFoundError

    tenant = await store.create_tenant("acme")
    with pytest.raises(NotFoundError):
        await make_kit().submissions.retry(tenant.id, "nope")


async def test_orphaned_submission_is_recovered(store: Store, make_kit: MakeKit) -> None:
    tenant = await store.create_tenant("acme")
    orphan, _ = await store.create_submission(tenant.id, b"<a/>", content_type="application/xml")
    kit = make_kit()
    assert await kit.submissions.recover_orphans(older_than=0) == 1
    assert await kit.submissions.recover_orphans(older_than=0) == 0
    (job,) = await store.list_jobs(submission_id=orphan.id)
    assert job.payload_ref == "invoice-out"  # the default flow


@dataclass
class Slow:
    """A stand-in stage that takes ``seconds`` of the flows thread and counts its runs."""

    seconds: float
    started: list[float]
    name: str = "check"
    reads: tuple[str, ...] = ()
    adds: tuple[str, ...] = ()

    def run(self, state: Any, tools: Tools) -> dict[str, Any]:
        import time

        self.started.append(time.monotonic())
        time.sleep(self.seconds)
        return {}


async def test_stopping_gives_back_processing_jobs_at_once_instead_of_running_their_flows(
    store: Store, make_kit: MakeKit
) -> None:
    """SIGTERM (``Worker.stop``) waited for every claimed processing job to run its flow,
    though they queue on one flows thread: with a worker's 8 slots and a second or so per
    document on a loaded host, the whole ``grace`` (10 s) passed and the jobs were still
    leased to the stopping worker; ``docker stop`` kills at 10 s, before their leases were
    released, so they waited out a full lease. A flow has no effect outside the process
    until its outcome is recorded: a processing job still in its flow is now given back at
    once (due now, for any worker); only what has effects (a delivery) gets the grace."""
    tenant = await store.create_tenant("acme")
    started: list[float] = []
    kit = make_kit(text_flow(Slow(1.0, started), Upper(), Seal()))
    ids = [await kit.submit(tenant.id, f"<a{n}/>".encode()) for n in range(4)]
    worker = Worker(store, kit.kinds, worker_id="w1", concurrency=4, poll_seconds=0.05)
    running = asyncio.create_task(worker.run())
    async with asyncio.timeout(10):
        while not started:
            await asyncio.sleep(0.01)
    loop = asyncio.get_running_loop()
    stopped_at = loop.time()
    worker.stop()
    await running
    assert loop.time() - stopped_at < 0.9, "stop waited for the queued flows"
    assert len(started) == 1
    for sid in ids:
        (job,) = await store.list_jobs(submission_id=sid)
        assert (job.kind, job.state, job.lease_owner) == ("process", JobState.PENDING, None)
        assert job.attempts == 0  # not counted against max_attempts
    again = Worker(store, kit.kinds, worker_id="w2", concurrency=4, poll_seconds=0.05)
    assert await again.run_once() == 4  # due now: another worker takes them at once
