"""Workers: claim outbox jobs (processing and deliveries), run them, record the outcome.

One :class:`Worker` is one claimer with up to ``concurrency`` jobs in flight. It claims due
jobs with a lease, runs them through :meth:`Pipeline.handle`, and completes or fails them
(fenced by the lease: a worker whose lease was taken over cannot complete the job). Failures
are retried with exponential backoff and jitter (:class:`gateway.outbox.RetryPolicy`) until
``max_attempts``; a permanent error (or the last attempt) dead-letters the job with its
reason. Deliveries go through the per-endpoint :class:`gateway.outbox.CircuitBreaker`: jobs
of an open endpoint are not claimed, and a claimed one is deferred without counting. A job whose worker died is
claimed again once its lease expires.

Graceful stop (:meth:`Worker.stop`, e.g. on SIGTERM): claim nothing more, let in-flight jobs
finish for ``grace`` seconds, then cancel the rest and release their leases so another
worker takes them at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket

from gateway.errors import DeliveryError, LingangError
from gateway.outbox import CircuitBreaker, RetryPolicy
from gateway.pipeline.orchestrator import PROCESS_KIND, Pipeline
from gateway.store import Job, LeaseLostError, Store, StoreError

log = logging.getLogger("lingang.worker")


def default_worker_id(index: int = 0) -> str:
    """``host:pid:index`` — unique per worker task across processes and replicas."""
    return f"{socket.gethostname()}:{os.getpid()}:{index}"


class Worker:
    """Claims and runs jobs until stopped."""

    def __init__(
        self,
        store: Store,
        pipeline: Pipeline,
        *,
        worker_id: str | None = None,
        concurrency: int = 8,
        lease_seconds: float = 30.0,
        poll_seconds: float = 0.5,
        policy: RetryPolicy | None = None,
        breaker: CircuitBreaker | None = None,
        grace: float = 10.0,
    ) -> None:
        self.store = store
        self.pipeline = pipeline
        self.worker_id = worker_id or default_worker_id()
        self.concurrency = max(1, concurrency)
        self.lease_seconds = lease_seconds
        self.poll_seconds = poll_seconds
        self.policy = policy or RetryPolicy()
        self.breaker = breaker or CircuitBreaker(store)
        self.grace = grace
        self._stopping = asyncio.Event()
        self._in_flight: set[asyncio.Task[None]] = set()
        self._slot_free = asyncio.Event()

    def stop(self) -> None:
        """Stop claiming; :meth:`run` returns once in-flight jobs are finished or released."""
        self._stopping.set()
        self._slot_free.set()

    async def run(self) -> None:
        """The claim loop."""
        log.info("worker started", extra={"worker_id": self.worker_id})
        try:
            while not self._stopping.is_set():
                free = self.concurrency - len(self._in_flight)
                if free <= 0:
                    self._slot_free.clear()
                    await self._slot_free.wait()
                    continue
                jobs = await self._claim(free)
                for job in jobs:
                    self._spawn(job)
                if not jobs:
                    await self._idle()
        finally:
            await self._drain()
            log.info("worker stopped", extra={"worker_id": self.worker_id})

    async def _claim(self, limit: int) -> list[Job]:
        try:
            blocked = await self.breaker.blocked_endpoints()
            return await self.store.claim_jobs(
                self.worker_id,
                limit=limit,
                lease_seconds=self.lease_seconds,
                exclude_endpoints=blocked,
            )
        except StoreError as exc:
            log.warning("claim failed", extra={"worker_id": self.worker_id, "error": str(exc)})
            await asyncio.sleep(self.poll_seconds)
            return []

    async def _idle(self) -> None:
        waiter = asyncio.ensure_future(self.store.wait_for_jobs(self.poll_seconds))
        stopper = asyncio.ensure_future(self._stopping.wait())
        try:
            await asyncio.wait({waiter, stopper}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (waiter, stopper):
                task.cancel()
            with contextlib.suppress(asyncio.CancelledError, StoreError):
                await waiter

    def _spawn(self, job: Job) -> None:
        task = asyncio.create_task(self._run_job(job), name=f"job-{job.id}")
        self._in_flight.add(task)

        def done(finished: asyncio.Task[None]) -> None:
            self._in_flight.discard(finished)
            self._slot_free.set()

        task.add_done_callback(done)

    async def _run_job(self, job: Job) -> None:
        delivery = job.kind != PROCESS_KIND
        try:
            if delivery and not await self.breaker.allow(job.endpoint):
                state = await self.store.get_breaker(job.endpoint)
                await self.store.defer_job(job.id, self.worker_id, self.breaker.reopens_at(state))
                return
            await self._run_claimed(job, delivery)
        except LeaseLostError:
            log.warning("lease lost; another worker owns the job", extra={"job_id": job.id})
        except StoreError as exc:
            log.error("could not record the outcome", extra={"job_id": job.id, "error": str(exc)})

    async def _run_claimed(self, job: Job, delivery: bool) -> None:
        renewer = asyncio.create_task(self._keep_lease(job))
        try:
            receipt = await self.pipeline.handle(job)
        except asyncio.CancelledError:
            raise
        except LingangError as exc:
            await self._failed(job, exc)
            return
        except Exception as exc:
            log.exception("job crashed", extra={"job_id": job.id, "worker_id": self.worker_id})
            await self._failed(job, exc)
            return
        finally:
            renewer.cancel()
        if not delivery:
            return  # the pipeline completed it with its result, in one transaction
        await self.breaker.record_success(job.endpoint)
        event = self.pipeline.delivered_event(job)
        await self.store.complete_job(job.id, self.worker_id, receipt, event=event)

    async def _keep_lease(self, job: Job) -> None:
        """Renew the lease at a third of its length while the job runs."""
        with contextlib.suppress(LeaseLostError, StoreError):
            while True:
                await asyncio.sleep(self.lease_seconds / 3)
                await self.store.renew_lease(job.id, self.worker_id, self.lease_seconds)

    async def _failed(self, job: Job, error: BaseException) -> None:
        retryable = error.retryable if isinstance(error, DeliveryError) else True
        delivery = job.kind != PROCESS_KIND
        if delivery and isinstance(error, DeliveryError):
            if retryable:
                await self.breaker.record_failure(job.endpoint)
            else:
                await self.breaker.record_success(job.endpoint)  # it answered: it is up
        when = self.policy.next_attempt(job, self.store.clock(), retryable=retryable)
        reason = f"{type(error).__name__}: {error}"
        extra = {"job_id": job.id, "adapter": job.adapter, "attempt": job.attempts}
        event = None
        if when is None:
            log.warning("job dead-lettered", extra={**extra, "reason": reason})
            event = self.pipeline.dead_event(job, reason, retryable=retryable)
        else:
            log.info("job will be retried", extra={**extra, "reason": reason})
        await self.store.fail_job(
            job.id, self.worker_id, reason, retryable=retryable, next_attempt_at=when, event=event
        )

    async def _drain(self) -> None:
        if self._in_flight:
            _, pending = await asyncio.wait(set(self._in_flight), timeout=self.grace)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.gather(*pending, return_exceptions=True)
        with contextlib.suppress(StoreError):
            released = await self.store.release_jobs(self.worker_id)
            if released:
                log.info("leases released", extra={"worker_id": self.worker_id, "jobs": released})


async def _recover(pipeline: Pipeline) -> None:
    try:
        await pipeline.recover_orphans()
    except StoreError as exc:
        log.warning("orphan recovery failed", extra={"error": str(exc)})


class WorkerPool:
    """Several workers in one process (``lingang worker --count N`` / ``lingang serve``)."""

    def __init__(self, workers: list[Worker]) -> None:
        self.workers = workers
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        """Start every worker's loop as a task (the first also recovers orphans once)."""
        self._tasks = [asyncio.create_task(w.run(), name=w.worker_id) for w in self.workers]
        if self.workers:
            first = self.workers[0]
            self._tasks.append(asyncio.create_task(_recover(first.pipeline), name="recover"))

    async def stop(self) -> None:
        """Stop gracefully and wait for every loop to end."""
        for worker in self.workers:
            worker.stop()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def wait(self) -> None:
        """Wait for every loop to end (after :meth:`stop` from elsewhere)."""
        await asyncio.gather(*self._tasks, return_exceptions=True)
