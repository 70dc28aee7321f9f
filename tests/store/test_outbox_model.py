"""Property test: random sequences of outbox operations on a real SQLite store behave like
a small in-memory model of the state machine (claims, leases, fencing, retry, release)."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import Coroutine
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from gateway.store.base import ConflictError, JobSpec, JobState, LeaseLostError, Store
from gateway.store.postgres import PostgresStore
from gateway.store.sqlite import SqliteStore
from gateway.store.testing import FakeClock
from tests.pg import PgServer

T = TypeVar("T")
WORKERS = st.sampled_from(["w1", "w2", "w3"])


@dataclass
class ModelJob:
    id: str
    message_id: str
    due: datetime
    state: JobState = JobState.PENDING
    attempts: int = 0
    owner: str | None = None
    lease_until: datetime | None = None
    order: int = field(default=0)


class OutboxMachine(RuleBasedStateMachine):
    """Runs on SQLite; :func:`test_postgres_outbox_model` points it at PostgreSQL."""

    postgres: PgServer | None = None
    template = "template1"

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.folder = Path(tempfile.mkdtemp(prefix="lingang-model-"))
        self.clock = FakeClock()
        self.database: str | None = None
        if self.postgres is None:
            url = f"sqlite:///{self.folder}/m.db"
            self.store: Store = self.run(SqliteStore.open(url, clock=self.clock))
        else:
            self.database = self.postgres.create_database(self.template)
            url = self.postgres.url(self.database)
            self.store = self.run(
                PostgresStore.open(url, clock=self.clock, queue_clock=self.clock, max_size=2)
            )
        self.run(self.store.migrate())
        self.run(self.store.create_tenant("T", tenant_id="t"))
        self.submissions: list[str] = []
        self.jobs: dict[str, ModelJob] = {}

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(coro)

    def teardown(self) -> None:
        self.run(self.store.close())
        self.loop.close()
        shutil.rmtree(self.folder, ignore_errors=True)
        if self.postgres is not None and self.database is not None:
            self.postgres.drop_database(self.database)

    def claimable(self) -> list[ModelJob]:
        now = self.clock.now
        due = [
            j
            for j in self.jobs.values()
            if (j.state is JobState.PENDING and j.due <= now)
            or (j.state is JobState.LEASED and j.lease_until is not None and j.lease_until <= now)
        ]
        return sorted(due, key=lambda j: (j.due, j.id))

    @initialize(count=st.integers(1, 4))
    def some_jobs(self, count: int) -> None:
        for n in range(count):
            self.enqueue("peppol", new=n % 2 == 0)

    @rule(adapter=st.sampled_from(["peppol", "folder"]), new=st.booleans())
    def enqueue(self, adapter: str, new: bool) -> None:
        if new or not self.submissions:
            sub, _ = self.run(self.store.create_submission("t", b"x", content_type="text/plain"))
            self.submissions.append(sub.id)
        sub_id = self.submissions[-1]
        job = self.run(self.store.enqueue_job(sub_id, JobSpec("deliver", adapter, adapter)))
        if job.id not in self.jobs:
            self.jobs[job.id] = ModelJob(job.id, job.message_id, job.next_attempt_at)

    @rule(worker=WORKERS, limit=st.integers(1, 3), lease=st.integers(1, 30))
    def claim(self, worker: str, limit: int, lease: int) -> None:
        expected = self.claimable()[:limit]
        claimed = self.run(self.store.claim_jobs(worker, limit=limit, lease_seconds=lease))
        assert sorted(j.id for j in claimed) == sorted(j.id for j in expected)
        for job in expected:
            job.state, job.owner, job.attempts = JobState.LEASED, worker, job.attempts + 1
            job.lease_until = self.clock.now + timedelta(seconds=lease)

    def pick(self, index: int) -> ModelJob | None:
        if not self.jobs:
            return None
        return list(self.jobs.values())[index % len(self.jobs)]

    def owned_by(self, job: ModelJob, worker: str) -> bool:
        return job.state is JobState.LEASED and job.owner == worker

    @rule(worker=WORKERS, index=st.integers(0, 50))
    def complete(self, worker: str, index: int) -> None:
        job = self.pick(index)
        if job is None:
            return
        try:
            self.run(self.store.complete_job(job.id, worker, None))
        except LeaseLostError:
            assert not self.owned_by(job, worker)
            return
        assert self.owned_by(job, worker)
        job.state, job.owner, job.lease_until = JobState.DONE, None, None

    @rule(worker=WORKERS, index=st.integers(0, 50), delay=st.none() | st.integers(0, 20))
    def fail(self, worker: str, index: int, delay: int | None) -> None:
        job = self.pick(index)
        if job is None:
            return
        when = None if delay is None else self.clock.now + timedelta(seconds=delay)
        try:
            self.run(self.store.fail_job(job.id, worker, "e", retryable=True, retry_after=delay))
        except LeaseLostError:
            assert not self.owned_by(job, worker)
            return
        assert self.owned_by(job, worker)
        job.owner, job.lease_until = None, None
        job.state = JobState.DEAD if when is None else JobState.PENDING
        job.due = when or job.due

    @rule(index=st.integers(0, 50))
    def retry(self, index: int) -> None:
        job = self.pick(index)
        if job is None:
            return
        try:
            self.run(self.store.retry_job(job.id))
        except ConflictError:
            assert job.state in (JobState.DONE, JobState.LEASED)
            return
        assert job.state in (JobState.PENDING, JobState.DEAD)
        job.state, job.attempts, job.due = JobState.PENDING, 0, self.clock.now

    @rule(worker=WORKERS)
    def release(self, worker: str) -> None:
        released = self.run(self.store.release_jobs(worker))
        mine = [j for j in self.jobs.values() if self.owned_by(j, worker)]
        assert released == len(mine)
        for job in mine:
            job.state, job.owner, job.lease_until = JobState.PENDING, None, None
            job.attempts, job.due = max(job.attempts - 1, 0), self.clock.now

    @rule(seconds=st.integers(0, 40))
    def tick(self, seconds: int) -> None:
        self.clock.advance(seconds)

    @invariant()
    def store_matches_model(self) -> None:
        stored = {j.id: j for j in self.run(self.store.list_jobs(limit=1000))}
        assert stored.keys() == self.jobs.keys()
        for job_id, model in self.jobs.items():
            real = stored[job_id]
            view = replace(model, order=0)
            assert (real.state, real.attempts, real.lease_owner, real.message_id) == (
                view.state,
                view.attempts,
                view.owner,
                view.message_id,
            )
            if real.state is JobState.PENDING:
                assert real.next_attempt_at == model.due


MODEL_SETTINGS = settings(
    max_examples=25,
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

TestOutboxModel = OutboxMachine.TestCase
TestOutboxModel.settings = MODEL_SETTINGS


class PostgresOutboxMachine(OutboxMachine):
    pass


@pytest.mark.postgres
def test_postgres_outbox_model(pg_server: PgServer, pg_template: str) -> None:
    PostgresOutboxMachine.postgres = pg_server
    PostgresOutboxMachine.template = pg_template
    run_state_machine_as_test(
        PostgresOutboxMachine, settings=settings(MODEL_SETTINGS, max_examples=15)
    )
