"""The one claim loop: claim due jobs with a lease, run them by kind, record the outcome.

One :class:`Worker` is one claimer (one ``worker_id``) with up to ``concurrency`` jobs in
flight; while some run, it claims once a quarter of its slots are free (or after
``poll_seconds``), so a busy worker leases jobs in batches. For each claimed job it

1. asks the per-endpoint :class:`~gateway.jobs.breaker.CircuitBreaker` (jobs with an
   ``endpoint``, i.e. deliveries): an open endpoint's jobs are not claimed at all, and one
   claimed anyway is deferred without counting the attempt;
2. runs the job's kind (:mod:`gateway.jobs.kinds`) while renewing the lease at a third of its
   length (a store hiccup is retried at the next tick). When the lease is lost (another
   worker claimed the job) or no renewal has gone through for a whole lease length (by then
   another worker may have claimed it), the run is stopped: its outcome would be refused by
   the store's fencing anyway, and a delivery not sent yet is then not sent a second time;
3. completes it (a store error recording it is tried again for up to a lease length: the
   delivery went out), or fails it with a backoff time from the
   :class:`~gateway.jobs.retry.RetryPolicy` or to the dead letter, by the error's
   ``retryable`` (an unexpected exception counts as retryable, bounded by the policy).

Exactly-once bookkeeping comes from the store's fencing: only the lease owner may record an
outcome. A worker that dies stops renewing; its jobs are claimed again when the lease
expires. Delivery itself is at-least-once, under a transport message id that never changes,
so receivers drop the duplicate.

Graceful stop (:meth:`Worker.stop`, e.g. on SIGTERM): claim nothing more, give in-flight jobs
``grace`` seconds, then cancel them and release their leases so another worker takes them at
once. A job in a part of its run that has no effect outside this process yet (a processing
job's flow, see :func:`abandonable`) is not waited for: it is cancelled and given back, due
now, when the stop comes (or when it enters that part after it).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from gateway.errors import ConfigError, DeliveryError, LingangError
from gateway.jobs.breaker import CircuitBreaker
from gateway.jobs.kinds import Completed, JobKinds
from gateway.jobs.metrics import JobMetrics, Outcome
from gateway.jobs.retry import RetryPolicy
from gateway.store import Job, JobState, LeaseLostError, Store, StoreError

log = logging.getLogger("lingang.jobs")


@dataclass(slots=True)
class _Slot:
    """The worker running the current job, and the task its slot runs in."""

    worker: Worker
    task: asyncio.Task[Any]


_SLOT: ContextVar[_Slot | None] = ContextVar("lingang_job_slot", default=None)
"""Set in each job's task by :meth:`Worker.run_job` (a kind's run sees it too)."""


@contextlib.asynccontextmanager
async def abandonable() -> AsyncIterator[None]:
    """Mark a part of a job's run that may be dropped when its worker stops: nothing outside
    this process has been changed yet (e.g. a processing job's flow: its outcome is recorded
    in one transaction after it). A stop cancels the job there (or as it enters it) and
    gives it back, due now, instead of waiting for it. Outside a worker, it does nothing."""
    slot = _SLOT.get()
    if slot is None:
        yield
        return
    slot.worker._abandonable.add(slot.task)
    try:
        if slot.worker._stopping.is_set():
            slot.worker._abandon(slot.task)
        yield
    finally:
        slot.worker._abandonable.discard(slot.task)


def default_worker_id(index: int = 0, prefix: str = "") -> str:
    """``[prefix]host:pid:index``: unique per worker across processes and replicas."""
    return f"{prefix}{socket.gethostname()}:{os.getpid()}:{index}"


def is_retryable(error: BaseException) -> bool:
    """Whether another attempt can help: the error says so; an unexpected one might."""
    if isinstance(error, LingangError):
        return bool(error.retryable)
    return True


class Worker:
    """Claims and runs jobs of the registered kinds until stopped."""

    def __init__(
        self,
        store: Store,
        kinds: JobKinds,
        *,
        worker_id: str | None = None,
        concurrency: int = 8,
        lease_seconds: float = 30.0,
        poll_seconds: float = 0.5,
        policy: RetryPolicy | None = None,
        breaker: CircuitBreaker | None = None,
        grace: float = 10.0,
        error_pause: float = 1.0,
        metrics: JobMetrics | None = None,
    ) -> None:
        self.store = store
        self.kinds = kinds
        self.worker_id = worker_id or default_worker_id()
        self.concurrency = max(1, concurrency)
        self.lease_seconds = lease_seconds
        self.poll_seconds = poll_seconds
        self.policy = policy or RetryPolicy()
        self.breaker = breaker or CircuitBreaker(store)
        self.grace = grace
        self.error_pause = error_pause
        """Seconds to wait after the store failed before claiming again (no busy loop)."""
        self.metrics = metrics
        """Where each run's outcome is counted (``None``: nowhere)."""
        self.claim_batch = max(1, self.concurrency // 4)
        """While jobs run, a claim waits until this many slots are free (or for
        ``poll_seconds``): under a deep queue each claim then leases several jobs instead of
        one per finished job, while an idle worker still claims at once."""
        self._stopping = asyncio.Event()
        self._in_flight: set[asyncio.Task[None]] = set()
        self._slot_free = asyncio.Event()
        self._running = False
        self._reserved = 0
        """Slots reserved for jobs being handed to this worker at ingest (see :meth:`take`)."""
        self._abandonable: set[asyncio.Task[Any]] = set()
        """Tasks of jobs now in a part that a stop may drop (see :func:`abandonable`)."""
        self._abandoned: set[asyncio.Task[Any]] = set()
        """Tasks a stop cancelled there: their jobs are given back, not left leased."""

    # -- the loop ---------------------------------------------------------------------

    def stop(self) -> None:
        """Stop claiming; :meth:`run` returns once in-flight jobs are finished or released
        (those in an :func:`abandonable` part are cancelled and given back at once)."""
        self._stopping.set()
        self._slot_free.set()
        for task in list(self._abandonable):
            self._abandon(task)

    def _abandon(self, task: asyncio.Task[Any]) -> None:
        """Cancel a job's task that a stop drops (see :func:`abandonable`)."""
        self._abandoned.add(task)
        task.cancel()

    async def run(self) -> None:
        """Claim and run until stopped."""
        log.info("worker started", extra={"worker_id": self.worker_id, "kinds": self.kinds.names()})
        loop = asyncio.get_running_loop()
        linger_until: float | None = None
        self._running = True
        try:
            while not self._stopping.is_set():
                free = self.spare_slots()
                if free <= 0:
                    self._slot_free.clear()
                    await self._slot_free.wait()
                    continue
                if self._in_flight and free < self.claim_batch:
                    if linger_until is None:
                        linger_until = loop.time() + self.poll_seconds
                    if await self._wait_for_slot(linger_until - loop.time()):
                        continue
                linger_until = None
                jobs = await self._claim(free)
                for job in jobs:
                    self._spawn(job)
                if not jobs:
                    await self._idle()
        finally:
            self._running = False
            await self._drain()
            log.info("worker stopped", extra={"worker_id": self.worker_id})

    # -- jobs handed to this worker at ingest -----------------------------------------

    def running_jobs(self) -> int:
        """Jobs running in this worker now (the in-flight gauge)."""
        return len(self._in_flight)

    def spare_slots(self) -> int:
        """Slots neither running a job nor reserved for one being handed over."""
        return self.concurrency - len(self._in_flight) - self._reserved

    def reserve_slot(self) -> bool:
        """Reserve a slot for a job about to be handed to this worker (queued leased to
        it, see :class:`~gateway.jobs.handoff.IngestHandOffs`); ``False`` when it has none
        free or is not running. Every reservation ends with one :meth:`take`."""
        if not self._running or self._stopping.is_set() or self.spare_slots() <= 0:
            return False
        self._reserved += 1
        return True

    def take(self, job: Job | None) -> None:
        """Run ``job``, handed to this worker already leased to it, in the slot reserved
        for it, with no claim; ``None`` (nothing was handed after all) frees the slot. A
        worker stopping meanwhile gives the job back at once (due now, for any worker)."""
        self._reserved -= 1
        if job is None:
            self._slot_free.set()
            return
        self._spawn(self._take_over(job))

    async def _wait_for_slot(self, seconds: float) -> bool:
        """Wait up to ``seconds`` for a running job to end; whether one did."""
        if seconds <= 0:
            return False
        self._slot_free.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._slot_free.wait(), seconds)
            return True
        return False

    async def run_once(self) -> int:
        """Claim one batch and run it to the end; how many jobs were claimed (tests, tools)."""
        jobs = await self._claim_due(self.concurrency)
        await asyncio.gather(*(self.run_job(job) for job in jobs))
        return len(jobs)

    async def _claim_due(self, limit: int) -> list[Job]:
        """Lease up to ``limit`` due jobs of this worker's kinds, open breakers' left alone."""
        return await self.store.claim_jobs(
            self.worker_id,
            limit=limit,
            lease_seconds=self.lease_seconds,
            exclude_endpoints=await self.breaker.blocked_endpoints(),
            kinds=self.kinds.names(),
        )

    async def _claim(self, limit: int) -> list[Job]:
        try:
            return await self._claim_due(limit)
        except StoreError as exc:
            log.warning("claim failed", extra={"worker_id": self.worker_id, "error": str(exc)})
            await self._pause(self.error_pause)
            return []

    async def _idle(self) -> None:
        """Wait for a wake-up (new job, a notification) or for :meth:`stop`."""
        waiter = asyncio.ensure_future(self.store.wait_for_jobs(self.poll_seconds))
        stopper = asyncio.ensure_future(self._stopping.wait())
        try:
            await asyncio.wait({waiter, stopper}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (waiter, stopper):
                task.cancel()
            await asyncio.gather(waiter, stopper, return_exceptions=True)
        if waiter.done() and not waiter.cancelled() and waiter.exception() is not None:
            log.warning("waiting for jobs failed", extra={"error": str(waiter.exception())})
            await self._pause(self.error_pause)

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)

    def _spawn(self, job: Job | Coroutine[Any, Any, None]) -> None:
        """Run a claimed job (or a coroutine running a handed one) in a slot."""
        run = self.run_job(job) if isinstance(job, Job) else job
        task = asyncio.create_task(run)
        self._in_flight.add(task)

        def done(finished: asyncio.Task[None]) -> None:
            self._in_flight.discard(finished)
            self._slot_free.set()

        task.add_done_callback(done)

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

    # -- one job ----------------------------------------------------------------------

    async def run_job(self, job: Job) -> None:
        """Run one claimed job and record its outcome (never raises but cancellation)."""
        task = asyncio.current_task()
        if task is not None:
            _SLOT.set(_Slot(self, task))
        started = asyncio.get_running_loop().time()
        try:
            await self._run_job(job, started)
        except asyncio.CancelledError:
            self._count(job, Outcome.RELEASED, started)
            if task is not None and task in self._abandoned:
                self._abandoned.discard(task)
                await self._give_back(job)
            raise

    def _count(self, job: Job, outcome: Outcome, started: float) -> None:
        """Count one run of ``job`` that began at loop time ``started``."""
        if self.metrics is not None:
            seconds = asyncio.get_running_loop().time() - started
            self.metrics.ran(job.kind, job.adapter, outcome, seconds)

    async def _give_back(self, job: Job) -> None:
        """Hand a job dropped by a stop back to the queue, due now (its attempt uncounted)."""
        try:
            await self.store.defer_job(job.id, self.worker_id)
        except (StoreError, LeaseLostError) as exc:  # its lease is released or expires
            log.warning("could not give a job back", extra={"job_id": job.id, "error": str(exc)})

    async def _run_job(self, job: Job, started: float) -> None:
        try:
            if job.endpoint and not await self.breaker.allow(job.endpoint):
                state = await self.store.get_breaker(job.endpoint)
                await self.store.defer_job(
                    job.id, self.worker_id, self.breaker.defer_seconds(state)
                )
                self._count(job, Outcome.DEFERRED, started)
                return
            await self._run_claimed(job, started)
        except LeaseLostError:
            self._count(job, Outcome.LEASE_LOST, started)
            log.warning("lease lost; another worker owns the job", extra={"job_id": job.id})
        except StoreError as exc:
            self._count(job, Outcome.STORE_ERROR, started)
            log.error("could not record the outcome", extra={"job_id": job.id, "error": str(exc)})

    async def _run_claimed(self, job: Job, started: float) -> None:
        kind = self.kinds.get(job.kind)
        if kind is None:  # claims ask only for registered kinds; a store bug otherwise
            failed = ConfigError(f"no job kind {job.kind!r} in this worker")
            self._count(job, await self._failed(job, failed), started)
            return
        running = asyncio.ensure_future(kind.run(job, self.worker_id))
        renewer = asyncio.create_task(self._keep_lease(job, running))
        try:
            result = await running
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                raise  # this worker is stopping (or its caller cancelled it)
            raise LeaseLostError(
                f"job {job.id}: run stopped, its lease lost or not renewed"
            ) from None
        except LeaseLostError:
            raise  # a lost lease is no failure of the job: its holder finishes it
        except LingangError as exc:
            self._count(job, await self._failed(job, exc), started)
            return
        except Exception as exc:
            log.exception("job crashed", extra={"job_id": job.id, "kind": job.kind})
            self._count(job, await self._failed(job, exc), started)
            return
        finally:
            running.cancel()
            renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewer
        if isinstance(result, Completed):
            await self._complete(job, result)
        if job.endpoint:
            try:
                await self.breaker.record_success(job.endpoint)
            except StoreError as exc:  # the outcome is recorded; the breaker catches up
                log.warning("breaker not updated", extra={"job_id": job.id, "error": str(exc)})
        self._count(job, Outcome.COMPLETED, started)
        if not isinstance(result, Completed) and result.then is not None:
            await self._take_over(result.then)

    async def _complete(self, job: Job, result: Completed) -> None:
        """Record a finished run: its receipt, its event, the job done. A store error is
        tried again, ``error_pause`` apart, for up to a lease length: the delivery went out,
        and a job left leased is run (sent) again once its lease expires. Owner-fenced, so
        trying again never records twice (a lease lost meanwhile: :class:`LeaseLostError`)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.lease_seconds
        while True:
            try:
                await self.store.complete_job(
                    job.id, self.worker_id, result.receipt, event=result.event
                )
                return
            except LeaseLostError:
                raise
            except StoreError as exc:
                if loop.time() + self.error_pause > deadline:
                    raise
                log.warning(
                    "could not record the outcome; trying again",
                    extra={"job_id": job.id, "error": str(exc)},
                )
                await asyncio.sleep(self.error_pause)

    async def _take_over(self, job: Job) -> None:
        """Run a job handed to this worker already leased (by a kind, see
        :class:`Recorded`, or at ingest, see :meth:`take`); one this worker cannot run, or
        not leased to it, is left to the claim loop."""
        if job.state != JobState.LEASED or job.lease_owner != self.worker_id:
            return
        if self.kinds.get(job.kind) is None or self._stopping.is_set():
            try:
                await self.store.defer_job(job.id, self.worker_id)
            except StoreError as exc:  # its lease expires, then any worker claims it
                log.warning(
                    "could not give a job back", extra={"job_id": job.id, "error": str(exc)}
                )
            return
        await self.run_job(job)

    async def _keep_lease(self, job: Job, running: asyncio.Future[Any]) -> None:
        """Renew the lease of ``job`` at a third of its length while ``running`` runs it;
        stop the run when the lease is lost, or when no renewal has gone through for a
        whole lease length since the last one was sent (the run's start counts as one):
        the lease may have expired and the job been claimed by another worker."""
        loop = asyncio.get_running_loop()
        interval = max(self.lease_seconds / 3, 0.05)
        confirmed = loop.time()
        while True:
            await asyncio.sleep(interval)
            sent = loop.time()
            try:
                await self.store.renew_lease(job.id, self.worker_id, self.lease_seconds)
            except LeaseLostError:
                log.warning("lease lost while running: run stopped", extra={"job_id": job.id})
                running.cancel()
                return
            except StoreError as exc:
                log.warning("lease renewal failed", extra={"job_id": job.id, "error": str(exc)})
                if loop.time() - confirmed >= self.lease_seconds:
                    log.warning(
                        "lease not renewed for a lease length: run stopped",
                        extra={"job_id": job.id, "lease_seconds": self.lease_seconds},
                    )
                    running.cancel()
                    return
            else:
                confirmed = sent

    async def _failed(self, job: Job, error: BaseException) -> Outcome:
        """Record a failed run: retried after a backoff, or dead-lettered; which."""
        retryable = is_retryable(error)
        if job.endpoint and isinstance(error, DeliveryError):
            if retryable:
                await self.breaker.record_failure(job.endpoint)
            else:
                await self.breaker.record_success(job.endpoint)  # it answered: it is up
        asked = error.retry_after if isinstance(error, DeliveryError) else None
        retry_after = self.policy.retry_after(job, retryable=retryable, asked=asked)
        reason = f"{type(error).__name__}: {error}"
        extra = {
            "job_id": job.id,
            "kind": job.kind,
            "adapter": job.adapter,
            "attempt": job.attempts,
        }
        event = None
        if retry_after is None:
            log.warning("job dead-lettered", extra={**extra, "reason": reason})
            kind = self.kinds.get(job.kind)
            event = kind.dead_event(job, reason, retryable=retryable) if kind else None
        else:
            log.info(
                "job will be retried",
                extra={**extra, "reason": reason, "delay_seconds": round(retry_after, 3)},
            )
        await self.store.fail_job(
            job.id,
            self.worker_id,
            reason,
            retryable=retryable,
            retry_after=retry_after,
            event=event,
        )
        return Outcome.DEAD if retry_after is None else Outcome.RETRY


class WorkerPool:
    """Several workers in one process (``lingang worker --count N`` / ``lingang serve``)."""

    def __init__(
        self, workers: list[Worker], *, on_start: Callable[[], Awaitable[object]] | None = None
    ) -> None:
        self.workers = workers
        self.on_start = on_start
        """Run once when the pool starts (e.g. queueing orphaned submissions)."""
        self._tasks: list[asyncio.Task[object]] = []

    def start(self) -> None:
        """Start every worker's loop as a task, and ``on_start`` beside them."""
        self._tasks = [asyncio.create_task(w.run(), name=w.worker_id) for w in self.workers]
        if self.on_start is not None:
            self._tasks.append(asyncio.create_task(self._start_hook(), name="on-start"))

    async def _start_hook(self) -> None:
        assert self.on_start is not None
        try:
            await self.on_start()
        except (StoreError, LingangError) as exc:
            log.warning("start-up task failed", extra={"error": str(exc)})

    async def stop(self) -> None:
        """Stop gracefully and wait for every loop to end."""
        for worker in self.workers:
            worker.stop()
        await self.wait()

    async def wait(self) -> None:
        """Wait for every loop to end (after :meth:`stop` from elsewhere)."""
        await asyncio.gather(*self._tasks, return_exceptions=True)
