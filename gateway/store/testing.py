"""The store conformance suite: every :class:`~gateway.store.base.Store` must pass it.

Subclass :class:`StoreContract` in a test module and provide the ``store_factory``
fixture: an async function taking a clock and returning a new, migrated store instance on
the *same* database each time it is called (the suite opens two instances to check that
what must be shared is shared)::

    class TestMyStore(StoreContract):
        @pytest.fixture
        def store_factory(self, tmp_path):
            async def make(clock):
                return await MyStore.open(..., clock=clock)
            return make

Time is a :class:`FakeClock` the tests move forward, so leases and schedules are tested
without sleeping. Requires pytest-asyncio in auto mode.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta

import pytest

from gateway.store.base import (
    BreakerPhase,
    BreakerState,
    Clock,
    ConflictError,
    JobSpec,
    JobState,
    LeaseLostError,
    NotFoundError,
    OutputSpec,
    Receipt,
    StateChange,
    Store,
    StoreError,
    hash_api_key,
)
from gateway.store.migrations import current_version

StoreFactory = Callable[[Clock], Awaitable[Store]]

PROCESS = JobSpec("process")
"""A processing job (no adapter, no endpoint)."""


class FakeClock:
    """A clock that stands still until told to move."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 3, 1, 8, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> datetime:
        """Move forward and return the new time."""
        self.now += timedelta(seconds=seconds)
        return self.now


class StoreContract:
    """Behaviour every store implementation must show."""

    @pytest.fixture
    def store_factory(self) -> StoreFactory:
        raise NotImplementedError("a StoreContract subclass must provide store_factory")

    @pytest.fixture
    def clock(self) -> FakeClock:
        return FakeClock()

    @pytest.fixture
    async def store(self, store_factory: StoreFactory, clock: FakeClock) -> AsyncIterator[Store]:
        opened = await store_factory(clock)
        try:
            yield opened
        finally:
            await opened.close()

    async def _submission(self, store: Store, tenant: str = "t1", key: str | None = None) -> str:
        if await store.get_tenant(tenant) is None:
            await store.create_tenant(tenant.upper(), tenant_id=tenant)
        sub, _ = await store.create_submission(
            tenant, b"<EInvoice/>", content_type="application/xml", idempotency_key=key
        )
        return sub.id

    # -- life cycle ------------------------------------------------------------------

    async def test_migrated_to_current_version(self, store: Store) -> None:
        version = await store.schema_version()
        assert version >= 1
        assert await store.migrate() == version
        await store.ping()

    async def test_schema_version_matches_migration_files(self, store: Store) -> None:
        version = await store.schema_version()
        assert version in {current_version("sqlite"), current_version("postgres")}

    # -- tenants and API keys --------------------------------------------------------

    async def test_api_keys_are_hashed_and_revocable(self, store: Store) -> None:
        tenant = await store.create_tenant("Lingang Export Co")
        key, record = await store.issue_api_key(tenant.id, label="ci")
        assert record.key_hash == hash_api_key(key) != key
        found = await store.authenticate(key)
        assert found is not None and found.id == tenant.id
        assert await store.authenticate(key + "x") is None
        await store.revoke_api_key(record.id)
        assert await store.authenticate(key) is None
        assert [t.id for t in await store.list_tenants()] == [tenant.id]

    async def test_api_keys_are_listed_per_tenant(self, store: Store) -> None:
        mine = await store.create_tenant("A")
        theirs = await store.create_tenant("B")
        _, first = await store.issue_api_key(mine.id, label="initial")
        _, second = await store.issue_api_key(mine.id, label="rotated")
        await store.issue_api_key(theirs.id)
        await store.revoke_api_key(first.id)
        listed = {k.id: k for k in await store.list_api_keys(mine.id)}
        assert {i: k.label for i, k in listed.items()} == {
            first.id: "initial",
            second.id: "rotated",
        }
        assert listed[first.id].revoked_at is not None and listed[second.id].revoked_at is None

    async def test_api_keys_have_a_role(self, store: Store) -> None:
        tenant = await store.create_tenant("A")
        submitting, plain = await store.issue_api_key(tenant.id)
        deciding, officer = await store.issue_api_key(tenant.id, label="Li", role="officer")
        assert (plain.role, officer.role) == ("submitter", "officer")
        assert await store.count_officer_keys() == 1
        found = await store.api_key_for_hash(hash_api_key(deciding))
        assert found is not None and found[0].id == tenant.id
        assert (found[1].id, found[1].role, found[1].principal) == (
            officer.id,
            "officer",
            f"api-key:{officer.id}",
        )
        assert await store.api_key_for_hash(hash_api_key(submitting + "x")) is None
        await store.revoke_api_key(officer.id)
        assert await store.api_key_for_hash(hash_api_key(deciding)) is None
        assert await store.count_officer_keys() == 0
        with pytest.raises(ValueError, match="role"):
            await store.issue_api_key(tenant.id, role="admin")

    async def test_directory_is_per_tenant(self, store: Store) -> None:
        await store.create_tenant("A", tenant_id="a")
        await store.create_tenant("B", tenant_id="b")
        doc = {"participant": "0195:SGUEN201912345K", "country": "SG", "名称": "买方"}
        await store.put_directory_entry("a", "partner", "buyer-1", doc)
        entry = await store.get_directory_entry("a", "partner", "buyer-1")
        assert entry is not None and entry.document == doc
        assert await store.get_directory_entry("b", "partner", "buyer-1") is None
        await store.put_directory_entry("a", "partner", "buyer-1", {"country": "HK"})
        await store.put_directory_entry("a", "exporter", "91310000MA1FL0000X", {"e": 1})
        assert [e.kind for e in await store.list_directory("a")] == ["exporter", "partner"]
        assert [e.document for e in await store.list_directory("a", "partner")] == [
            {"country": "HK"}
        ]
        assert await store.delete_directory_entry("a", "partner", "buyer-1")
        assert not await store.delete_directory_entry("a", "partner", "buyer-1")

    async def test_replace_directory_is_whole_and_per_tenant(self, store: Store) -> None:
        await store.create_tenant("A", tenant_id="a")
        await store.create_tenant("B", tenant_id="b")
        await store.put_directory_entry("b", "partner", "keep", {"b": 1})
        first = [("partner", "p1", {"n": 1}), ("partner", "p2", {"n": 2}), ("exporter", "e", {})]
        assert await store.replace_directory("a", first) == 0
        second = [("partner", "p2", {"n": 22}), ("partner", "p3", {"n": 3})]
        assert await store.replace_directory("a", second) == 2
        listed = await store.list_directory("a")
        assert [(e.kind, e.key, e.document) for e in listed] == [
            ("partner", "p2", {"n": 22}),
            ("partner", "p3", {"n": 3}),
        ]
        assert [e.key for e in await store.list_directory("b")] == ["keep"]
        assert await store.replace_directory("a", []) == 2
        assert await store.list_directory("a") == []

    async def test_concurrent_directory_replacements_never_mix(self, store: Store) -> None:
        await store.create_tenant("A", tenant_id="a")
        left = [("partner", f"l{n}", {"n": n}) for n in range(8)]
        right = [("partner", f"r{n}", {"n": n}) for n in range(8)]
        for _ in range(10):
            await asyncio.gather(
                store.replace_directory("a", left), store.replace_directory("a", right)
            )
            keys = {e.key for e in await store.list_directory("a")}
            assert keys in ({k for _, k, _ in left}, {k for _, k, _ in right}), keys

    # -- submissions -----------------------------------------------------------------

    async def test_idempotency_key_returns_first_submission(self, store: Store) -> None:
        await store.create_tenant("A", tenant_id="a")
        await store.create_tenant("B", tenant_id="b")
        first, created = await store.create_submission(
            "a", b"one", content_type="application/xml", idempotency_key="k1", metadata={"x": 1}
        )
        again, created_again = await store.create_submission(
            "a", b"two", content_type="application/json", idempotency_key="k1"
        )
        assert created and not created_again
        assert again == first and again.data == b"one" and again.metadata == {"x": 1}
        summary = await store.get_submission_summary("a", first.id)
        assert summary is not None
        assert (summary.size, summary.metadata, summary.idempotency_key) == (3, {"x": 1}, "k1")
        other, other_created = await store.create_submission(
            "b", b"two", content_type="application/json", idempotency_key="k1"
        )
        assert other_created and other.id != first.id
        plain1, _ = await store.create_submission("a", b"p", content_type="text/plain")
        plain2, _ = await store.create_submission("a", b"p", content_type="text/plain")
        assert plain1.id != plain2.id
        assert [e.state for e in await store.list_events(first.id)] == ["received"]

    async def test_submission_and_its_job_are_stored_together(self, store: Store) -> None:
        await store.create_tenant("A", tenant_id="a")
        await store.wait_for_jobs(0)
        spec = JobSpec("process", message_id="proc-1@x")
        sub, _ = await store.create_submission(
            "a", b"x", content_type="t", idempotency_key="k", enqueue=spec
        )
        [job] = await store.list_jobs(submission_id=sub.id)
        assert (job.kind, job.adapter, job.endpoint) == ("process", "", "")
        assert (job.message_id, job.state) == ("proc-1@x", "pending")
        again, created = await store.create_submission(
            "a", b"x", content_type="t", idempotency_key="k", enqueue=spec
        )
        assert again.id == sub.id and not created
        assert await store.list_jobs(submission_id=sub.id) == [job]
        assert await store.wait_for_jobs(30) is True
        with pytest.raises(StoreError):
            await store.create_submission("nobody", b"x", content_type="t", enqueue=spec)
        assert len(await store.list_jobs()) == 1

    async def test_concurrent_idempotent_creates_make_one_row(
        self, store_factory: StoreFactory, store: Store, clock: FakeClock
    ) -> None:
        await store.create_tenant("A", tenant_id="a")
        other = await store_factory(clock)
        try:
            results = await asyncio.gather(
                *(
                    (store if i % 2 else other).create_submission(
                        "a", b"x", content_type="text/plain", idempotency_key="same"
                    )
                    for i in range(10)
                )
            )
        finally:
            await other.close()
        assert sum(created for _, created in results) == 1
        assert len({sub.id for sub, _ in results}) == 1

    async def test_everything_survives_a_restart(
        self, store_factory: StoreFactory, clock: FakeClock
    ) -> None:
        first = await store_factory(clock)
        sub_id = await self._submission(first, key="k")
        job = await first.enqueue_job(sub_id, JobSpec("deliver", "peppol", "ep"))
        await first.remember_inbound("as4:m1")
        await first.close()
        second = await store_factory(clock)
        try:
            again, created = await second.create_submission(
                "t1", b"other", content_type="text/plain", idempotency_key="k"
            )
            assert again.id == sub_id and not created
            assert [j.id for j in await second.claim_jobs("w")] == [job.id]
            assert await second.remember_inbound("as4:m1") is False
        finally:
            await second.close()

    async def test_submissions_are_tenant_scoped(self, store: Store) -> None:
        sub_id = await self._submission(store, "a")
        await store.create_tenant("B", tenant_id="b")
        assert await store.get_submission("a", sub_id) is not None
        assert await store.get_submission("b", sub_id) is None
        assert await store.list_submissions("b") == []
        (listed,) = await store.list_submissions("a")
        assert (listed.id, listed.size, listed.state) == (sub_id, len(b"<EInvoice/>"), "received")
        assert await store.get_submission_summary("a", sub_id) == listed
        assert await store.get_submission_summary("b", sub_id) is None
        found = await store.get_submission_any_tenant(sub_id)
        assert found is not None and found.tenant_id == "a"

    async def test_paging_by_time_and_id_skips_no_submission_of_the_same_instant(
        self, store: Store
    ) -> None:
        """Five submissions under one clock reading, two to a page: the cursor (time, id) of
        each page's last row gives every one exactly once; by time alone, a page after the
        first would be empty."""
        made = {await self._submission(store, "a") for _ in range(5)}
        seen: list[str] = []
        page = await store.list_submissions("a", limit=2)
        while page:
            seen += [s.id for s in page]
            last = page[-1]
            page = await store.list_submissions(
                "a", limit=2, before=last.created_at, before_id=last.id
            )
        assert sorted(seen) == sorted(made) and len(seen) == 5
        assert await store.list_submissions("a", before=last.created_at) == []

    async def test_metadata_must_be_json(self, store: Store) -> None:
        await store.create_tenant("A", tenant_id="a")
        deep: dict[str, object] = {}
        node = deep
        for _ in range(100_000):
            node["x"] = node = {}
        for bad in ({"amount": float("nan")}, {"when": object()}, deep):
            with pytest.raises(StoreError) as caught:
                await store.create_submission("a", b"x", content_type="t", metadata=bad)
            assert caught.value.field == "metadata"
        assert await store.list_submissions("a") == []

    async def test_unknown_tenant_is_refused(self, store: Store) -> None:
        with pytest.raises(StoreError):
            await store.create_submission("nobody", b"x", content_type="text/plain")

    async def test_events_set_state_and_keep_history(self, store: Store, clock: FakeClock) -> None:
        sub_id = await self._submission(store)
        clock.advance(1)
        await store.record_event(sub_id, "validated", detail={"timings_ms": {"parse": 3.5}})
        clock.advance(1)
        await store.record_event(sub_id, "failed", reason="BR-CO-10")
        events = await store.list_events(sub_id)
        assert [(e.state, e.reason) for e in events] == [
            ("received", None),
            ("validated", None),
            ("failed", "BR-CO-10"),
        ]
        assert events[1].detail == {"timings_ms": {"parse": 3.5}}
        sub = await store.get_submission("t1", sub_id)
        assert sub is not None and sub.state == "failed" and sub.updated_at == clock.now
        assert [s.id for s in await store.list_submissions("t1", state="failed")] == [sub_id]
        with pytest.raises(NotFoundError):
            await store.record_event("missing", "x")

    async def test_named_outputs_in_one_read(self, store: Store) -> None:
        sub_id = await self._submission(store)
        other_id = await self._submission(store)
        await store.put_output(sub_id, "envelope", "application/json", b'{"to": "x"}')
        await store.put_output(sub_id, "signed", "application/xml", b"<Invoice/>")
        await store.put_output(sub_id, "report", "application/json", b"{}")
        await store.put_output(other_id, "signed", "application/xml", b"<Other/>")
        found = await store.get_outputs(sub_id, ["signed", "envelope", "missing"])
        assert sorted(found) == ["envelope", "signed"]
        assert found["signed"].data == b"<Invoice/>" and found["signed"].submission_id == sub_id
        assert found["envelope"].media_type == "application/json"
        assert await store.get_outputs(sub_id, []) == {}
        assert await store.get_outputs("missing", ["signed"]) == {}
        brief = await store.list_output_summaries(sub_id, read=["report"])
        assert [(o.kind, o.size, o.data) for o in brief] == [
            ("envelope", 11, None),
            ("report", 2, b"{}"),
            ("signed", 10, None),
        ]
        assert all(o.data is None for o in await store.list_output_summaries(sub_id))

    async def test_outputs_are_replaced_per_kind(self, store: Store) -> None:
        sub_id = await self._submission(store)
        await store.put_output(sub_id, "ubl", "application/xml", b"<Invoice/>")
        await store.put_output(sub_id, "signed", "application/xml", b"<Invoice>sig</Invoice>")
        await store.put_output(sub_id, "ubl", "application/xml", b"<Invoice>2</Invoice>")
        out = await store.get_output(sub_id, "ubl")
        assert out is not None and out.data == b"<Invoice>2</Invoice>"
        assert [o.kind for o in await store.list_outputs(sub_id)] == ["signed", "ubl"]
        assert await store.get_output(sub_id, "cii") is None

    async def test_counts_by_state(self, store: Store) -> None:
        first = await self._submission(store)
        await self._submission(store)
        await store.record_event(first, "delivered")
        assert await store.count_submissions_by_state() == {"received": 1, "delivered": 1}
        await store.enqueue_job(first, JobSpec("deliver", "peppol", "ep"))
        await store.enqueue_job(first, JobSpec("deliver", "folder", "out"))
        await store.claim_jobs("w1", limit=1)
        counts = await store.count_jobs_by_state()
        assert counts == {
            JobState.PENDING: 1,
            JobState.LEASED: 1,
            JobState.DONE: 0,
            JobState.DEAD: 0,
        }

    # -- outbox ----------------------------------------------------------------------

    async def test_enqueue_is_idempotent_per_kind_and_adapter(self, store: Store) -> None:
        sub_id = await self._submission(store)
        job = await store.enqueue_job(sub_id, JobSpec("deliver", "peppol", "https://ap/as4"))
        again = await store.enqueue_job(
            sub_id, JobSpec("deliver", "peppol", "https://other", message_id="m")
        )
        assert again == job and job.state is JobState.PENDING and job.attempts == 0
        assert (job.kind, job.adapter, job.endpoint) == ("deliver", "peppol", "https://ap/as4")
        other = await store.enqueue_job(
            sub_id, JobSpec("deliver", "folder", "out", message_id="fixed@x")
        )
        assert other.id != job.id and other.message_id == "fixed@x"
        process = await store.enqueue_job(sub_id, PROCESS)
        assert await store.enqueue_job(sub_id, JobSpec("process")) == process
        report = await store.enqueue_job(sub_id, JobSpec("report"))
        assert (process.kind, process.adapter, process.endpoint) == ("process", "", "")
        assert report.kind == "report" and report.id != process.id
        jobs = await store.list_jobs(submission_id=sub_id)
        assert sorted(j.kind for j in jobs) == ["deliver", "deliver", "process", "report"]

    async def test_claim_lease_expiry_and_fencing(self, store: Store, clock: FakeClock) -> None:
        sub_id = await self._submission(store)
        job = await store.enqueue_job(sub_id, JobSpec("deliver", "peppol", "ep"))
        [claimed] = await store.claim_jobs("w1", lease_seconds=30)
        assert claimed.id == job.id and claimed.state is JobState.LEASED
        assert claimed.lease_owner == "w1" and claimed.attempts == 1
        assert await store.claim_jobs("w2") == []
        clock.advance(31)
        [taken] = await store.claim_jobs("w2", lease_seconds=30)
        assert taken.lease_owner == "w2" and taken.attempts == 2
        with pytest.raises(LeaseLostError):
            await store.complete_job(job.id, "w1", Receipt("as4-receipt"))
        with pytest.raises(LeaseLostError):
            await store.fail_job(job.id, "w1", "late", retryable=True, retry_after=0)
        done = await store.complete_job(job.id, "w2", Receipt("as4-receipt", b"<r/>"))
        assert done.state is JobState.DONE and done.message_id == job.message_id
        with pytest.raises(LeaseLostError):
            await store.complete_job(job.id, "w2", None)
        clock.advance(3600)
        assert await store.claim_jobs("w3") == []
        with pytest.raises(NotFoundError):
            await store.complete_job("missing", "w2", None)

    async def test_outcome_and_submission_state_change_together(self, store: Store) -> None:
        sub_id = await self._submission(store)
        job = await store.enqueue_job(sub_id, JobSpec("deliver", "peppol", "ep"))
        other = await store.enqueue_job(sub_id, JobSpec("deliver", "folder", "out"))
        await store.claim_jobs("w1")
        with pytest.raises(LeaseLostError):
            await store.complete_job(job.id, "w2", None, event=StateChange("delivered"))
        assert [e.state for e in await store.list_events(sub_id)] == ["received"]
        await store.complete_job(
            job.id, "w1", None, event=StateChange("delivered", "by peppol", {"job": job.id})
        )
        await store.fail_job(
            other.id, "w1", "no", retryable=False, retry_after=None,
            event=StateChange("dead", "no"),
        )  # fmt: skip
        events = await store.list_events(sub_id)
        assert [(e.state, e.reason) for e in events] == [
            ("received", None),
            ("delivered", "by peppol"),
            ("dead", "no"),
        ]
        assert events[1].detail == {"job": job.id}
        sub = await store.get_submission("t1", sub_id)
        assert sub is not None and sub.state == "dead"

    async def test_processing_result_is_one_fenced_transaction(self, store: Store) -> None:
        sub_id = await self._submission(store)
        job = await store.enqueue_job(sub_id, PROCESS)
        await store.put_output(sub_id, "signed", "text/plain", b"old")
        await store.claim_jobs("w1")
        outputs = [
            OutputSpec("ubl", "application/xml", b"<u/>"),
            OutputSpec("signed", "application/xml", b"<s/>"),
        ]
        queued = StateChange("queued", "processed", {"stages": [{"stage": "sign"}]})
        delivery = JobSpec("deliver", "peppol", "ep", payload_ref="signed", message_id="m-1@x")
        with pytest.raises(LeaseLostError):
            await store.finish_processing(
                job.id, "w2", outputs=outputs, event=queued, enqueue=delivery
            )
        assert [e.state for e in await store.list_events(sub_id)] == ["received"]
        assert [o.kind for o in await store.list_outputs(sub_id)] == ["signed"]
        assert len(await store.list_jobs(submission_id=sub_id)) == 1
        queued_job = await store.finish_processing(
            job.id, "w1", outputs=outputs, event=queued, enqueue=delivery
        )
        assert queued_job is not None
        assert (queued_job.kind, queued_job.adapter) == ("deliver", "peppol")
        assert (queued_job.endpoint, queued_job.message_id) == ("ep", "m-1@x")
        assert queued_job.payload_ref == "signed" and queued_job.state is JobState.PENDING
        done = await store.get_job(job.id)
        assert done is not None and done.state is JobState.DONE
        signed = await store.get_output(sub_id, "signed")
        assert signed is not None and signed.data == b"<s/>"
        events = await store.list_events(sub_id)
        assert [e.state for e in events] == ["received", "queued"]
        assert events[1].detail == {
            "stages": [{"stage": "sign"}],
            "job_id": queued_job.id,
            "message_id": "m-1@x",
        }
        with pytest.raises(LeaseLostError):
            await store.finish_processing(job.id, "w1", event=queued, enqueue=delivery)
        with pytest.raises(NotFoundError):
            await store.finish_processing("missing", "w1")
        (claimed,) = await store.claim_jobs("w3")
        assert claimed.id == queued_job.id

    async def test_a_job_queued_with_a_past_time_is_claimed_first(
        self, store: Store, clock: FakeClock
    ) -> None:
        first = await self._submission(store)
        processing = await store.enqueue_job(first, PROCESS)
        arrived = clock()
        clock.advance(5)
        later = await self._submission(store)
        waiting = await store.enqueue_job(later, PROCESS)
        (claimed,) = await store.claim_jobs("w1", limit=1)
        assert claimed.id == processing.id
        delivery = JobSpec("deliver", "peppol", "ep", not_before=arrived)
        queued = await store.finish_processing(processing.id, "w1", enqueue=delivery)
        assert queued is not None and queued.next_attempt_at == arrived
        assert [j.id for j in await store.claim_jobs("w2", limit=1)] == [queued.id]
        assert [j.id for j in await store.claim_jobs("w2", limit=1)] == [waiting.id]

    async def test_a_handed_off_job_is_leased_to_the_processing_worker(
        self, store: Store, clock: FakeClock
    ) -> None:
        sub_id = await self._submission(store)
        processing = await store.enqueue_job(sub_id, PROCESS)
        await store.claim_jobs("w1")
        delivery = JobSpec("deliver", "https", "ep")
        handed = await store.finish_processing(
            processing.id, "w1", enqueue=delivery, hand_off_seconds=30
        )
        assert handed is not None
        assert (handed.state, handed.lease_owner, handed.attempts) == (JobState.LEASED, "w1", 1)
        assert await store.claim_jobs("w2") == []
        clock.advance(31)
        (taken,) = await store.claim_jobs("w2")
        assert (taken.id, taken.attempts, taken.message_id) == (handed.id, 2, handed.message_id)

    async def test_a_job_ordered_at_a_time_is_due_now_and_ordered_by_it(
        self, store: Store, clock: FakeClock
    ) -> None:
        """``ordered_at`` orders without scheduling: a time ahead of the queue's clock (a
        host whose clock runs ahead stamped it) makes the job due now, never later."""
        first = await self._submission(store)
        arrived = clock()
        clock.advance(5)
        waiting = await store.enqueue_job(await self._submission(store), PROCESS)
        ordered = await store.enqueue_job(
            first, JobSpec("deliver", "peppol", "ep", ordered_at=arrived)
        )
        assert ordered.next_attempt_at == arrived
        ahead = clock() + timedelta(hours=1)
        stamped_ahead = JobSpec("deliver", "https", "ep", ordered_at=ahead)
        not_late = await store.enqueue_job(first, stamped_ahead)
        assert not_late.next_attempt_at == clock.now
        claimed = await store.claim_jobs("w1", limit=3)
        # the two due now tie on their time; their ids (same millisecond) decide at random
        assert claimed[0].id == ordered.id
        assert {j.id for j in claimed[1:]} == {waiting.id, not_late.id}
        handed = await store.finish_processing(
            waiting.id,
            "w1",
            enqueue=JobSpec("deliver", "folder", "out", ordered_at=ahead),
            event=StateChange("queued"),
            hand_off_seconds=30,
        )
        assert handed is not None and handed.lease_owner == "w1"
        assert handed.next_attempt_at == clock.now
        assert handed.lease_expires_at == clock.now + timedelta(seconds=30)

    async def test_a_hand_off_leaves_an_existing_job_alone(self, store: Store) -> None:
        sub_id = await self._submission(store)
        delivery = JobSpec("deliver", "https", "ep")
        existing = await store.enqueue_job(sub_id, delivery)
        processing = await store.enqueue_job(sub_id, PROCESS)
        await store.claim_jobs("w1", kinds=["process"])
        handed = await store.finish_processing(
            processing.id, "w1", enqueue=delivery, hand_off_seconds=30
        )
        assert handed is not None
        assert (handed.id, handed.state, handed.lease_owner) == (
            existing.id,
            JobState.PENDING,
            None,
        )

    async def test_a_hand_off_with_its_event_names_the_job(self, store: Store) -> None:
        """The ``queued`` event names the job handed off, or the one that was there."""
        delivery = JobSpec("deliver", "https", "ep")
        queued = StateChange("queued", "processed", {"number": "N-1"})
        for existing in (False, True):
            sub_id = await self._submission(store)
            before = await store.enqueue_job(sub_id, delivery) if existing else None
            processing = await store.enqueue_job(sub_id, PROCESS)
            await store.claim_jobs("w1", kinds=["process"])
            handed = await store.finish_processing(
                processing.id, "w1", event=queued, enqueue=delivery, hand_off_seconds=30
            )
            assert handed is not None
            if before is None:
                assert (handed.state, handed.lease_owner) == (JobState.LEASED, "w1")
            else:
                assert handed == before
            events = await store.list_events(sub_id)
            assert events[-1].state == "queued"
            assert events[-1].detail == {
                "number": "N-1",
                "job_id": handed.id,
                "message_id": handed.message_id,
            }
            assert len(await store.list_jobs(submission_id=sub_id)) == 2

    async def test_invoice_issue_dates_are_the_tenants_processed_invoices(
        self, store: Store
    ) -> None:
        """Only the tenant's own documents with that number that were processed (a
        ``queued`` event), only invoices (not credit notes), each date once; those whose
        event recorded no kind or date are named for the caller to read (newest first)."""
        from datetime import date

        async def processed(tenant: str, facts: dict[str, str]) -> str:
            sub_id = await self._submission(store, tenant)
            job = await store.enqueue_job(sub_id, PROCESS)
            await store.claim_jobs("w1", kinds=["process"])
            event = StateChange("queued", "processed", {"number": "N-7", **facts})
            await store.finish_processing(job.id, "w1", event=event)
            return sub_id

        assert await store.invoice_issue_dates("t1", "N-7") == []
        invoice = {"document_type": "invoice", "issue_date": "2026-09-20"}
        await processed("t1", invoice)
        await processed("t1", invoice)  # sent twice: one date
        await processed("t1", {"document_type": "credit_note", "issue_date": "2026-10-08"})
        await processed("t2", {"document_type": "invoice", "issue_date": "2026-09-21"})
        kindless = await processed("t1", {"issue_date": "2026-09-22"})  # before the kind was
        factless = await processed("t1", {})  # held and released before the facts were kept
        unprocessed = await self._submission(store, "t1")
        await store.record_event(
            unprocessed, "rejected", reason="bad", detail={"number": "N-7", **invoice}
        )
        assert await store.invoice_issue_dates("t1", "N-7") == [date(2026, 9, 20)]
        assert await store.invoice_issue_dates("t2", "N-7") == [date(2026, 9, 21)]
        assert await store.invoice_issue_dates("t1", "N-8") == []
        assert await store.unrecorded_documents("t1", "N-7") == [factless, kindless]
        assert await store.unrecorded_documents("t2", "N-7") == []
        assert await store.unrecorded_documents("t1", "N-8") == []

    async def test_a_hand_off_not_yet_due_is_queued(self, store: Store, clock: FakeClock) -> None:
        sub_id = await self._submission(store)
        processing = await store.enqueue_job(sub_id, PROCESS)
        await store.claim_jobs("w1")
        later = JobSpec("deliver", "https", "ep", not_before=clock() + timedelta(seconds=60))
        handed = await store.finish_processing(
            processing.id, "w1", enqueue=later, hand_off_seconds=30
        )
        assert handed is not None and handed.state == JobState.PENDING

    async def test_a_submission_handed_at_ingest_is_leased_with_its_job(
        self, store: Store, clock: FakeClock
    ) -> None:
        """The job comes back leased to the worker (first attempt) exactly as stored; no
        one else can claim it while the lease runs; once it expires (the worker died) any
        worker claims it, and the first worker's outcome is refused."""
        await store.create_tenant("T1", tenant_id="t1")
        sub, created, job = await store.create_submission_handed(
            "t1", b"<EInvoice/>", content_type="application/xml", idempotency_key="k1",
            enqueue=PROCESS, lease=("w1", 30), reason="received",
        )  # fmt: skip
        assert created and job is not None
        assert (job.submission_id, job.kind, job.state) == (sub.id, "process", JobState.LEASED)
        assert (job.lease_owner, job.attempts) == ("w1", 1)
        assert job == await store.get_job(job.id)
        assert [e.state for e in await store.list_events(sub.id)] == ["received"]
        assert await store.claim_jobs("w2") == []
        clock.advance(31)
        (taken,) = await store.claim_jobs("w2")
        assert (taken.id, taken.attempts, taken.message_id) == (job.id, 2, job.message_id)
        with pytest.raises(LeaseLostError):
            await store.complete_job(job.id, "w1", None)
        await store.complete_job(job.id, "w2", None)

    async def test_a_repeated_submission_is_not_handed_again(self, store: Store) -> None:
        """An idempotent repeat hands nothing: the first submission and its one job."""
        await store.create_tenant("T1", tenant_id="t1")
        first, _, job = await store.create_submission_handed(
            "t1", b"<a/>", content_type="application/xml", idempotency_key="k",
            enqueue=PROCESS, lease=("w1", 30),
        )  # fmt: skip
        again, created, none = await store.create_submission_handed(
            "t1", b"<a/>", content_type="application/xml", idempotency_key="k",
            enqueue=PROCESS, lease=("w2", 30),
        )  # fmt: skip
        assert (again.id, created, none) == (first.id, False, None)
        assert [j.id for j in await store.list_jobs(submission_id=first.id)] == [job and job.id]

    async def test_a_job_not_due_yet_is_not_handed_at_ingest(
        self, store: Store, clock: FakeClock
    ) -> None:
        await store.create_tenant("T1", tenant_id="t1")
        later = JobSpec("process", not_before=clock() + timedelta(seconds=60))
        _, created, job = await store.create_submission_handed(
            "t1", b"<a/>", content_type="application/xml", enqueue=later, lease=("w1", 30)
        )
        assert created and job is None
        (pending,) = await store.list_jobs()
        assert (pending.state, pending.lease_owner) == (JobState.PENDING, None)

    async def test_processing_result_without_delivery(self, store: Store) -> None:
        sub_id = await self._submission(store)
        job = await store.enqueue_job(sub_id, PROCESS)
        await store.claim_jobs("w1")
        rejected = StateChange("rejected", "validate: BR-01", {"error": {"rule": "BR-01"}})
        report = [OutputSpec("report", "application/json", b"{}")]
        assert await store.finish_processing(job.id, "w1", outputs=report, event=rejected) is None
        sub = await store.get_submission("t1", sub_id)
        assert sub is not None and sub.state == "rejected"
        assert [j.kind for j in await store.list_jobs(submission_id=sub_id)] == ["process"]
        assert [o.kind for o in await store.list_outputs(sub_id)] == ["report"]

    async def test_processing_outputs_are_stored_byte_for_byte(self, store: Store) -> None:
        """Every output arrives exactly (any byte value, documents of tens of KB, written
        in one statement where the database can), and a kind given twice keeps the last."""
        sub_id = await self._submission(store)
        job = await store.enqueue_job(sub_id, PROCESS)
        await store.claim_jobs("w1")
        every_byte = bytes(range(256)) * 160
        outputs = [
            OutputSpec("signed", "application/xml", b"<first/>"),
            OutputSpec("raw", "application/octet-stream", every_byte),
            OutputSpec("empty", "text/plain", b""),
            OutputSpec("signed", "application/xml", b"<second/>"),
        ]
        await store.finish_processing(job.id, "w1", outputs=outputs)
        stored = {o.kind: (o.media_type, o.data) for o in await store.list_outputs(sub_id)}
        assert stored == {
            "empty": ("text/plain", b""),
            "raw": ("application/octet-stream", every_byte),
            "signed": ("application/xml", b"<second/>"),
        }

    async def test_enqueue_records_its_event_once(self, store: Store) -> None:
        sub_id = await self._submission(store)
        queued = StateChange("queued", "delivery queued", {"stages": {"parse": 1.0}})
        job = await store.enqueue_job(sub_id, JobSpec("deliver", "peppol", "ep"), event=queued)
        await store.enqueue_job(sub_id, JobSpec("deliver", "peppol", "ep"), event=queued)
        events = await store.list_events(sub_id)
        assert [e.state for e in events] == ["received", "queued"]
        assert events[1].detail == {
            "stages": {"parse": 1.0},
            "job_id": job.id,
            "message_id": job.message_id,
        }

    async def test_lease_renewal(self, store: Store, clock: FakeClock) -> None:
        sub_id = await self._submission(store)
        await store.enqueue_job(sub_id, JobSpec("deliver", "peppol", "ep"))
        [job] = await store.claim_jobs("w1", lease_seconds=10)
        clock.advance(8)
        renewed = await store.renew_lease(job.id, "w1", 10)
        assert renewed.lease_expires_at == clock.now + timedelta(seconds=10)
        clock.advance(8)
        assert await store.claim_jobs("w2") == []
        with pytest.raises(LeaseLostError):
            await store.renew_lease(job.id, "w2", 10)

    async def test_schedule_and_backoff(self, store: Store, clock: FakeClock) -> None:
        sub_id = await self._submission(store)
        later = clock.now + timedelta(seconds=60)
        await store.enqueue_job(sub_id, JobSpec("deliver", "peppol", "ep", not_before=later))
        assert await store.claim_jobs("w1") == []
        clock.advance(60)
        [job] = await store.claim_jobs("w1")
        failed = await store.fail_job(job.id, "w1", "timeout", retryable=True, retry_after=5)
        assert failed.state is JobState.PENDING and failed.last_error == "timeout"
        assert failed.retryable is True and failed.lease_owner is None
        assert failed.next_attempt_at == clock.now + timedelta(seconds=5)
        assert await store.claim_jobs("w1") == []
        clock.advance(5)
        [again] = await store.claim_jobs("w2")
        assert again.attempts == 2 and again.message_id == job.message_id

    async def test_dead_letter_and_manual_retry(self, store: Store) -> None:
        sub_id = await self._submission(store)
        job = await store.enqueue_job(sub_id, JobSpec("deliver", "peppol", "ep"))
        await store.claim_jobs("w1")
        dead = await store.fail_job(
            job.id, "w1", "rejected: PEPPOL-EN16931-R001", retryable=False, retry_after=None
        )
        assert dead.state is JobState.DEAD and dead.retryable is False
        assert dead.last_error == "rejected: PEPPOL-EN16931-R001"
        assert [j.id for j in await store.list_jobs(state=JobState.DEAD)] == [job.id]
        assert await store.claim_jobs("w1") == []
        retried = await store.retry_job(job.id)
        assert retried.state is JobState.PENDING and retried.attempts == 0
        assert retried.message_id == job.message_id
        [claimed] = await store.claim_jobs("w2")
        await store.complete_job(claimed.id, "w2", None)
        with pytest.raises(ConflictError):
            await store.retry_job(job.id)
        with pytest.raises(NotFoundError):
            await store.retry_job("missing")

    async def test_retry_submission_revives_dead_jobs(self, store: Store) -> None:
        sub_id = await self._submission(store)
        for adapter in ("peppol", "folder"):
            await store.enqueue_job(sub_id, JobSpec("deliver", adapter, adapter))
        for job in await store.claim_jobs("w1"):
            await store.fail_job(job.id, "w1", "no", retryable=False, retry_after=None)
        revived = await store.retry_submission(sub_id, event=StateChange("queued", "manual"))
        assert sorted(j.adapter for j in revived) == ["folder", "peppol"]
        assert all(j.state is JobState.PENDING for j in revived)
        last = (await store.list_events(sub_id))[-1]
        assert (last.state, last.reason) == ("queued", "manual")
        assert last.detail is not None and sorted(last.detail["jobs"]) == sorted(
            j.id for j in revived
        )
        assert await store.retry_submission(sub_id, event=StateChange("queued", "again")) == []
        assert (await store.list_events(sub_id))[-1].reason == "manual"

    async def test_retry_submission_leaves_the_kind_it_is_told_to(self, store: Store) -> None:
        sub_id = await self._submission(store)
        await store.enqueue_job(sub_id, JobSpec("release"))
        await store.enqueue_job(sub_id, JobSpec("deliver", "folder", "folder"))
        for job in await store.claim_jobs("w1"):
            await store.fail_job(job.id, "w1", "no", retryable=False, retry_after=None)
        revived = await store.retry_submission(sub_id, skip_kind="release")
        assert [j.kind for j in revived] == ["deliver"]
        (left,) = await store.list_jobs(submission_id=sub_id, state=JobState.DEAD)
        assert left.kind == "release"

    async def test_release_and_defer(self, store: Store, clock: FakeClock) -> None:
        sub_id = await self._submission(store)
        await store.enqueue_job(sub_id, JobSpec("deliver", "peppol", "ep1"))
        await store.enqueue_job(sub_id, JobSpec("deliver", "folder", "ep2"))
        claimed = await store.claim_jobs("w1")
        assert len(claimed) == 2
        deferred = await store.defer_job(claimed[0].id, "w1", 30)
        assert deferred.state is JobState.PENDING and deferred.attempts == 0
        assert deferred.next_attempt_at == clock.now + timedelta(seconds=30)
        assert await store.release_jobs("w1") == 1
        assert await store.release_jobs("w1") == 0
        [back] = await store.claim_jobs("w2")
        assert back.id == claimed[1].id and back.attempts == 1

    async def test_claim_skips_excluded_endpoints(self, store: Store) -> None:
        sub_id = await self._submission(store)
        await store.enqueue_job(sub_id, JobSpec("deliver", "peppol", "down"))
        await store.enqueue_job(sub_id, JobSpec("deliver", "folder", "up"))
        claimed = await store.claim_jobs("w1", exclude_endpoints={"down"})
        assert [j.endpoint for j in claimed] == ["up"]

    async def test_jobs_without_endpoint_are_never_excluded(self, store: Store) -> None:
        sub_id = await self._submission(store)
        await store.enqueue_job(sub_id, PROCESS)
        await store.enqueue_job(sub_id, JobSpec("deliver", "peppol", "down"))
        claimed = await store.claim_jobs("w1", exclude_endpoints={"", "down"})
        assert [(j.kind, j.endpoint) for j in claimed] == [("process", "")]

    async def test_claim_by_kind(self, store: Store, clock: FakeClock) -> None:
        sub_id = await self._submission(store)
        process = await store.enqueue_job(sub_id, PROCESS)
        clock.advance(1)
        delivery = await store.enqueue_job(sub_id, JobSpec("deliver", "folder", "out"))
        clock.advance(1)
        report = await store.enqueue_job(sub_id, JobSpec("report"))
        assert await store.claim_jobs("w1", kinds=()) == []
        assert await store.claim_jobs("w1", kinds={"receive"}) == []
        claimed = await store.claim_jobs("w1", kinds=["deliver", "report"])
        assert [j.id for j in claimed] == [delivery.id, report.id]
        [rest] = await store.claim_jobs("w2", kinds=None)
        assert rest.id == process.id and rest.kind == "process"
        clock.advance(3600)
        expired = await store.claim_jobs("w3", kinds=("report",))
        assert [j.id for j in expired] == [report.id]

    async def test_receipts_are_kept(self, store: Store, clock: FakeClock) -> None:
        sub_id = await self._submission(store)
        job = await store.enqueue_job(sub_id, JobSpec("deliver", "peppol", "ep"))
        await store.claim_jobs("w1")
        receipt = Receipt("as4-receipt", b"<eb:Receipt/>", "application/xml", {"nonrepudiation": 1})
        await store.complete_job(job.id, "w1", receipt)
        clock.advance(1)
        await store.add_receipt(job.id, Receipt("mls", b"{}", "application/json"))
        by_job = await store.list_receipts(job_id=job.id)
        assert [(r.kind, r.data, r.detail) for r in by_job] == [
            ("as4-receipt", b"<eb:Receipt/>", {"nonrepudiation": 1}),
            ("mls", b"{}", {}),
        ]
        assert await store.list_receipts(submission_id=sub_id) == by_job
        with pytest.raises(NotFoundError):
            await store.add_receipt("missing", receipt)

    async def test_many_concurrent_claimers_never_share_a_job(
        self, store_factory: StoreFactory, store: Store, clock: FakeClock
    ) -> None:
        sub_ids = [await self._submission(store) for _ in range(10)]
        for sub_id in sub_ids:
            for adapter in ("a", "b", "c", "d"):
                await store.enqueue_job(sub_id, JobSpec("deliver", adapter, adapter))
        second = await store_factory(clock)
        seen: list[str] = []

        async def claimer(instance: Store, worker: str) -> None:
            while batch := await instance.claim_jobs(worker, limit=3):
                seen.extend(job.id for job in batch)

        try:
            await asyncio.gather(*(claimer(store if i % 2 else second, f"w{i}") for i in range(8)))
        finally:
            await second.close()
        assert len(seen) == len(set(seen)) == 40

    async def test_wait_for_jobs_wakes_after_enqueue(self, store: Store) -> None:
        sub_id = await self._submission(store)
        await store.wait_for_jobs(0.01)
        await store.enqueue_job(sub_id, JobSpec("deliver", "peppol", "ep"))
        assert await store.wait_for_jobs(30) is True

    # -- breakers --------------------------------------------------------------------

    async def test_breaker_compare_and_set(self, store: Store, clock: FakeClock) -> None:
        fresh = await store.get_breaker("ep")
        assert fresh == BreakerState("ep")
        opened = BreakerState("ep", BreakerPhase.OPEN, failures=5, opened_at=clock.now)
        assert await store.update_breaker(opened, 0)
        assert not await store.update_breaker(opened, 0)
        stored = await store.get_breaker("ep")
        assert stored.phase is BreakerPhase.OPEN and stored.version == 1
        assert stored.opened_at == clock.now and stored.failures == 5
        assert [b.endpoint for b in await store.open_breakers()] == ["ep"]
        assert await store.update_breaker(BreakerState("ep"), 1)
        assert await store.open_breakers() == []

    # -- inbound ---------------------------------------------------------------------

    async def test_inbound_keys_are_shared_between_instances(
        self, store_factory: StoreFactory, store: Store, clock: FakeClock
    ) -> None:
        other = await store_factory(clock)
        try:
            assert await store.remember_inbound("as4:msg-1@sender") is True
            assert await other.remember_inbound("as4:msg-1@sender") is False
            assert await other.remember_inbound("as4:msg-2@sender") is True
            first, new = await store.receive_inbound(
                channel="as4", message_id="m1", data=b"<Invoice/>", media_type="application/xml"
            )
            dup, dup_new = await other.receive_inbound(
                channel="as4", message_id="m1", data=b"changed", media_type="application/xml"
            )
        finally:
            await other.close()
        assert new and not dup_new and dup == first and dup.data == b"<Invoice/>"
        assert await store.get_inbound(first.id) == first
        assert [m.id for m in await store.list_inbound()] == [first.id]

    async def test_inbound_message_and_its_job_are_stored_together(self, store: Store) -> None:
        await store.wait_for_jobs(0)
        receive = JobSpec("receive", message_id="in-1@x")
        message, new = await store.receive_inbound(
            channel="as4", message_id="m1", data=b"<Invoice/>", media_type="application/xml",
            sender="0195:SGUEN1", enqueue=receive,
        )  # fmt: skip
        assert new and await store.wait_for_jobs(30) is True
        [job] = await store.list_jobs(submission_id=message.id)
        assert (job.kind, job.adapter, job.endpoint) == ("receive", "", "")
        assert (job.message_id, job.state) == ("in-1@x", JobState.PENDING)
        again, again_new = await store.receive_inbound(
            channel="as4", message_id="m1", data=b"<Invoice/>", media_type="application/xml",
            enqueue=receive,
        )  # fmt: skip
        assert again == message and not again_new
        assert await store.list_jobs(submission_id=message.id) == [job]
        [claimed] = await store.claim_jobs("w1", kinds=["receive"])
        assert claimed.id == job.id and claimed.submission_id == message.id
        done = await store.complete_job(job.id, "w1", None)
        assert done.state is JobState.DONE
        plain, _ = await store.receive_inbound(
            channel="as4", message_id="m2", data=b"x", media_type="application/xml"
        )
        assert await store.list_jobs(submission_id=plain.id) == []

    async def test_a_duplicate_inbound_message_gets_the_first_answer_at_any_replica(
        self, store_factory: StoreFactory, store: Store, clock: FakeClock
    ) -> None:
        other = await store_factory(clock)
        try:
            first, new = await store.receive_inbound(
                channel="as4", message_id="r1", data=b"<Invoice/>", media_type="application/xml",
                enqueue=JobSpec("receive"), answer=b"<receipt>1</receipt>",
            )  # fmt: skip
            again, again_new = await other.receive_inbound(
                channel="as4", message_id="r1", data=b"<Invoice/>", media_type="application/xml",
                enqueue=JobSpec("receive"), answer=b"<receipt>2</receipt>",
            )  # fmt: skip
        finally:
            await other.close()
        assert new and not again_new and again.id == first.id
        assert first.answer == again.answer == b"<receipt>1</receipt>"
        assert len(await store.list_jobs(submission_id=first.id)) == 1
