"""The outbox worker loop: claim due jobs, deliver them, record what happened.

One :class:`Dispatcher` is one claimer (one ``worker_id``) with up to ``concurrency``
deliveries in flight. For each claimed job it asks the circuit breaker, calls
``deliver(job)``, and in one store transaction either completes the job with its receipt
or fails it with a backoff time (or dead-letters it). Leases are renewed while a delivery
runs, so a slow receiver does not let another worker take the job; a worker that dies
simply stops renewing and its jobs are claimed again when the lease expires.

Exactly-once bookkeeping comes from the store's fencing: only the lease owner may
complete a job. Delivery itself is at-least-once (a worker can die after sending and
before recording); the job's transport message id never changes, so receivers drop the
duplicate.

Errors: :class:`~gateway.errors.DeliveryError` says through ``retryable`` whether a retry
can help; any other :class:`~gateway.errors.LingangError` is permanent (the document or
configuration is wrong); an unexpected exception is retried (bounded by the policy).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from gateway.errors import DeliveryError, LingangError
from gateway.outbox.breaker import CircuitBreaker
from gateway.outbox.retry import RetryPolicy
from gateway.store.base import (
    Job,
    JobState,
    LeaseLostError,
    Receipt,
    StateChange,
    Store,
    StoreError,
)

log = logging.getLogger("lingang.outbox")

DELIVER_KIND = "deliver"
"""The job kind a dispatcher claims."""

Deliver = Callable[[Job], Awaitable[Receipt | None]]
"""Sends one job's payload; returns the receipt (or ``None``) or raises."""


def make_worker_id(prefix: str = "dispatcher") -> str:
    """``prefix:host:pid:random`` — unique across tasks, processes and replicas."""
    return f"{prefix}:{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def classify(exc: BaseException) -> bool:
    """Whether a failed delivery is worth retrying."""
    if isinstance(exc, DeliveryError):
        return exc.retryable
    return not isinstance(exc, LingangError)


class Dispatcher:
    """Claims outbox jobs and delivers them until :meth:`stop` is called."""

    def __init__(
        self,
        store: Store,
        deliver: Deliver,
        worker_id: str | None = None,
        *,
        concurrency: int = 4,
        lease_seconds: float = 60.0,
        idle_wait: float = 5.0,
        retry: RetryPolicy | None = None,
        breaker: CircuitBreaker | None = None,
        record_events: bool = False,
        error_pause: float = 1.0,
    ) -> None:
        self.store = store
        self.deliver = deliver
        self.worker_id = worker_id or make_worker_id()
        self.concurrency = max(1, concurrency)
        self.lease_seconds = lease_seconds
        self.idle_wait = idle_wait
        self.retry = retry or RetryPolicy()
        self.breaker = breaker or CircuitBreaker(store)
        self.record_events = record_events
        """Also write ``delivered`` / ``delivery-retry`` / ``dead-letter`` submission events."""
        self.error_pause = error_pause
        """Seconds to wait after the store failed before trying again."""
        self._stopping = asyncio.Event()
        self._in_flight: set[asyncio.Task[None]] = set()

    # -- the loop --------------------------------------------------------------------

    async def run(self) -> None:
        """Claim and deliver until stopped; returns once stopped."""
        log.info("dispatcher started", extra={"worker": self.worker_id})
        while not self._stopping.is_set():
            try:
                started = await self.claim_and_start()
            except StoreError as exc:
                log.warning("claim failed: %s", exc, extra={"worker": self.worker_id})
                await self._pause(self.error_pause)
                continue
            if started == 0:
                await self._idle()

    async def run_once(self) -> int:
        """Claim one batch, deliver it completely; returns how many jobs were handled."""
        started = await self.claim_and_start()
        await self.drain()
        return started

    async def claim_and_start(self) -> int:
        """Claim as many due jobs as there are free slots and start delivering them."""
        free = self.concurrency - len(self._in_flight)
        if free <= 0:
            return 0
        blocked = await self.breaker.blocked_endpoints()
        jobs = await self.store.claim_jobs(
            self.worker_id,
            limit=free,
            lease_seconds=self.lease_seconds,
            exclude_endpoints=blocked,
            kinds=(DELIVER_KIND,),
        )
        for job in jobs:
            task = asyncio.create_task(self._handle(job), name=f"deliver {job.id}")
            self._in_flight.add(task)
            task.add_done_callback(self._in_flight.discard)
        return len(jobs)

    async def _idle(self) -> None:
        """Wait for a wake-up (new job, a free slot) or for :meth:`stop`."""
        waker = asyncio.ensure_future(self.store.wait_for_jobs(self.idle_wait))
        waits: set[asyncio.Future[Any]] = {asyncio.ensure_future(self._stopping.wait()), waker}
        if len(self._in_flight) >= self.concurrency:
            slot = asyncio.wait(set(self._in_flight), return_when=asyncio.FIRST_COMPLETED)
            waits.add(asyncio.ensure_future(slot))
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiting in waits:
                waiting.cancel()
            await asyncio.gather(*waits, return_exceptions=True)
        if waker.done() and not waker.cancelled() and waker.exception() is not None:
            log.warning("waiting for jobs failed: %s", waker.exception())
            await self._pause(self.error_pause)

    async def _pause(self, seconds: float) -> None:
        """Sleep ``seconds`` unless stopped first (after store errors: no busy loop)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)

    async def drain(self) -> None:
        """Wait until every delivery in flight has finished."""
        while self._in_flight:
            await asyncio.gather(*set(self._in_flight), return_exceptions=True)

    async def stop(self, grace: float = 10.0) -> None:
        """Claim nothing more; give in-flight deliveries ``grace`` seconds, then cancel
        them and release their leases so another worker takes them at once."""
        self._stopping.set()
        if self._in_flight:
            _, pending = await asyncio.wait(set(self._in_flight), timeout=grace)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        released = await self.store.release_jobs(self.worker_id)
        log.info("dispatcher stopped", extra={"worker": self.worker_id, "released": released})

    # -- one job ---------------------------------------------------------------------

    async def _handle(self, job: Job) -> None:
        try:
            if not await self.breaker.allow(job.endpoint):
                state = await self.store.get_breaker(job.endpoint)
                await self.store.defer_job(job.id, self.worker_id, self.breaker.defer_until(state))
                return
            renewer = asyncio.create_task(self._keep_lease(job))
            try:
                receipt = await self.deliver(job)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                await self._failed(job, exc)
                return
            finally:
                renewer.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await renewer
            await self._delivered(job, receipt)
        except LeaseLostError:
            log.warning("lease lost; another worker owns the job", extra={"job": job.id})
        except StoreError as exc:
            log.error("could not record outcome: %s", exc, extra={"job": job.id})

    async def _keep_lease(self, job: Job) -> None:
        """Renew the lease every third of its length while the delivery runs. Never raises:
        a lost lease ends renewing (completion will then be refused), a store hiccup is
        retried at the next tick."""
        interval = max(self.lease_seconds / 3, 0.05)
        while True:
            await asyncio.sleep(interval)
            try:
                await self.store.renew_lease(job.id, self.worker_id, self.lease_seconds)
            except LeaseLostError:
                log.warning("lease lost during delivery", extra={"job": job.id})
                return
            except StoreError as exc:
                log.warning("lease renewal failed: %s", exc, extra={"job": job.id})

    async def _delivered(self, job: Job, receipt: Receipt | None) -> None:
        await self.breaker.record_success(job.endpoint)
        event = None
        if self.record_events:
            detail = {"job": job.id, "adapter": job.adapter, "message_id": job.message_id}
            event = StateChange("delivered", f"delivered by {job.adapter}", detail)
        done = await self.store.complete_job(job.id, self.worker_id, receipt, event=event)
        log.info("delivered", extra={"job": job.id, "attempts": done.attempts})

    async def _failed(self, job: Job, exc: Exception) -> None:
        retryable = classify(exc)
        if retryable:
            await self.breaker.record_failure(job.endpoint)
        when = self.retry.next_attempt(job, self.store.clock(), retryable=retryable)
        reason = f"{type(exc).__name__}: {exc}"
        event = None
        if self.record_events:
            detail = {"job": job.id, "adapter": job.adapter, "attempts": job.attempts}
            event = StateChange("dead-letter" if when is None else "delivery-retry", reason, detail)
        failed = await self.store.fail_job(
            job.id, self.worker_id, reason, retryable=retryable, next_attempt_at=when, event=event
        )
        log.log(
            logging.ERROR if failed.state is JobState.DEAD else logging.WARNING,
            "delivery failed",
            extra={"job": job.id, "attempts": job.attempts, "retry_at": when, "error": reason},
        )
