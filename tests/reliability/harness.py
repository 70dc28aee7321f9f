"""Shared by the reliability tests: a submitting client that never gives up on a document
until it is acknowledged, and the final exactly-once check.

Deadlines follow progress, not the wall clock: a run fails when nothing was acknowledged (or
delivered) for ``stall`` seconds, however long a loaded machine makes the whole run. And a
gateway process that ends without the test ending it fails the run at once
(:func:`supervised`), with its exit code and the end of its log, instead of a stall later.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import random
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import aiohttp

from gateway.store import JobState, Store, open_store
from gateway.testing.cluster import GatewayProcess
from gateway.testing.receiver import Receiver

T = TypeVar("T")

WATCH_SECONDS = 0.2
"""How often :func:`supervised` looks at the gateway processes."""

SAMPLES = (
    "invoice-precheck_gaode-js-taxi.xml",
    "invoice-precheck_official-gd-special.xml",
    "sta-spec-v5.002_example-template_v0.35.xml",
)


RESEND = {"resend": "true"}
"""Submission metadata of a deliberate resend: the harness sends its few samples over and over
(without it each fapiao is sent once and its copies are refused, ``already-sent``)."""


def sample_bodies(reference: Path) -> list[bytes]:
    """The reference 数电票 XML samples (their buyers are in tests/data/partners.toml)."""
    folder = reference / "fapiao" / "samples" / "xml"
    return [(folder / name).read_bytes() for name in SAMPLES]


async def new_tenant(store_url: str) -> tuple[str, str]:
    """Create a tenant and an API key in the store; ``(tenant id, key)``."""
    store = await open_store(store_url)
    try:
        tenant = await store.create_tenant("reliability")
        key, _ = await store.issue_api_key(tenant.id, label="test")
        return tenant.id, key
    finally:
        await store.close()


@dataclass
class Submitter:
    """Posts documents until each one is acknowledged (202 or an idempotent 200).

    A connection error, a reset or a 5xx is retried with the same Idempotency-Key, so a
    document the server stored but could not acknowledge is never stored twice. The few
    samples are sent over and over, each time on purpose (``resend=true``): otherwise the
    gateway sends each fapiao once and refuses the rest as ``already-sent``.
    """

    base_url: str
    api_key: str
    acked: dict[str, str] = field(default_factory=dict)
    """Idempotency key → submission id of its first acknowledgement."""
    acked_ids: dict[str, set[str]] = field(default_factory=dict)
    """Idempotency key → every submission id it was ever acknowledged with (one, unless
    idempotency broke)."""
    attempts: int = 0
    errors: int = 0
    submitted_at: dict[str, float] = field(default_factory=dict)
    """Submission id → wall-clock time of its first acknowledgement."""
    statuses: Counter[int] = field(default_factory=Counter)
    """HTTP status → how many answers had it (a 500 is a defect, whatever the crash)."""
    on_post: Callable[[str], None] | None = None
    """Called with the idempotency key as each post is about to be sent."""
    on_ack: Callable[[str, str], None] | None = None
    """Called with the idempotency key and the submission id on each acknowledgement."""
    key_prefix: str = "doc"
    """Idempotency keys are ``{key_prefix}-{index}``."""

    async def submit_all(
        self, bodies: Sequence[bytes], count: int, *, concurrency: int, stall: float = 120.0
    ) -> None:
        """Submit ``count`` documents; fail when none was acknowledged for ``stall`` seconds."""
        self._last_progress = asyncio.get_running_loop().time()
        queue: asyncio.Queue[int] = asyncio.Queue()
        for index in range(count):
            queue.put_nowait(index)
        timeout = aiohttp.ClientTimeout(total=10)
        headers = {"Authorization": f"Bearer {self.api_key}"}
        async with aiohttp.ClientSession(
            self.base_url, headers=headers, timeout=timeout
        ) as session:

            async def run() -> None:
                while not queue.empty():
                    index = queue.get_nowait()
                    key = f"{self.key_prefix}-{index}"
                    await self._one(session, key, bodies[index % len(bodies)], stall)

            await asyncio.gather(*(run() for _ in range(concurrency)))

    async def _one(
        self, session: aiohttp.ClientSession, key: str, body: bytes, stall: float
    ) -> None:
        import time

        loop = asyncio.get_running_loop()
        while loop.time() - self._last_progress < stall:
            self.attempts += 1
            if self.on_post is not None:
                self.on_post(key)
            try:
                async with session.post(
                    "/v1/documents?resend=true",
                    data=body,
                    headers={"Content-Type": "application/xml", "Idempotency-Key": key},
                ) as response:
                    self.statuses[response.status] += 1
                    if response.status in (200, 202):
                        answer = await response.json()
                        submission_id = str(answer["id"])
                        self.acked.setdefault(key, submission_id)
                        self.acked_ids.setdefault(key, set()).add(submission_id)
                        self.submitted_at.setdefault(submission_id, time.time())
                        self._last_progress = loop.time()
                        if self.on_ack is not None:
                            self.on_ack(key, submission_id)
                        return
                    self.errors += 1
            except (aiohttp.ClientError, OSError, TimeoutError):
                self.errors += 1
            await asyncio.sleep(random.uniform(0.05, 0.3))
        raise AssertionError(f"{key} was never acknowledged (nothing acknowledged for {stall}s)")


async def supervised(
    work: Awaitable[T],
    processes: Sequence[GatewayProcess],
    *,
    companions: Sequence[asyncio.Task[Any]] = (),
) -> T:
    """Await ``work`` while watching ``processes`` and ``companions`` (e.g. the task that
    kills and restarts them): when a process ends on its own
    (:meth:`GatewayProcess.check`) or a companion fails, ``work`` is cancelled and that
    failure raised at once, whatever ``work`` was waiting for. A failed assertion of
    ``work`` itself (a stall) gains each process's :meth:`GatewayProcess.status`."""
    task = asyncio.ensure_future(work)
    try:
        while not task.done():
            running = [c for c in companions if not c.done()]
            await asyncio.wait([task, *running], timeout=WATCH_SECONDS)
            for process in processes:
                process.check()
            for companion in companions:
                if companion.done() and not companion.cancelled():
                    error = companion.exception()
                    if error is not None:
                        raise error
        for process in processes:
            process.check()  # a death explains a failure of ``work`` better than itself
        try:
            return task.result()
        except AssertionError as failed:  # a stall: say where each process stands
            report = "\n".join(process.status() for process in processes)
            raise AssertionError(f"{failed}\n{report}" if report else str(failed)) from failed
    finally:
        if not task.done():
            task.cancel()
            with contextlib.suppress(BaseException):
                await task


STAGE_DEATHS = 3
"""Jobs whose last attempt ended in a dead stage process before :func:`watch_jobs` fails."""


async def watch_jobs(store_url: str, *, every: float = 3.0) -> None:
    """Fail (as a companion of :func:`supervised`) once the store shows that documents will
    not get through, however long a stall deadline would still wait: a job dead-lettered
    (nothing in these runs should be), or :data:`STAGE_DEATHS` jobs failed by a stage
    process that died while its gateway lived (an engine crash: a stage process the test
    killed dies with its parent, which then records nothing)."""
    store = await open_store(store_url)
    try:
        while True:
            dead = await store.list_jobs(state=JobState.DEAD, limit=5)
            assert not dead, "jobs dead-lettered: " + "; ".join(
                f"{j.kind} job {j.id} after {j.attempts} attempts: {j.last_error}" for j in dead
            )
            jobs = await store.list_jobs(limit=100_000)
            died = [j for j in jobs if (j.last_error or "").startswith("StageProcessDied")]
            assert len(died) < STAGE_DEATHS, (
                f"{len(died)} jobs failed by a stage process that died on its own (see the "
                f"gateway logs): {died[0].last_error}"
            )
            await asyncio.sleep(every)
    finally:
        await store.close()


async def stop_tasks(*tasks: asyncio.Task[Any]) -> None:
    """Cancel ``tasks`` and wait until each has run its clean-up."""
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


def delivered_submissions(receiver: Receiver) -> dict[str, list[str]]:
    """Submission id → the message ids the receiver accepted for it."""
    out: dict[str, list[str]] = {}
    for message_id, submission_id in receiver.submissions.items():
        out.setdefault(submission_id, []).append(message_id)
    return out


async def wait_all_delivered(receiver: Receiver, ids: set[str], stall: float) -> set[str]:
    """Wait until every id was delivered; return those still missing once no new delivery
    came for ``stall`` seconds (``0``: look once)."""
    loop = asyncio.get_running_loop()
    last_progress, seen = loop.time(), -1
    while True:
        delivered = set(delivered_submissions(receiver))
        missing = ids - delivered
        if len(delivered) != seen:
            last_progress, seen = loop.time(), len(delivered)
        if not missing or loop.time() - last_progress >= stall:
            return missing
        await asyncio.sleep(0.25)


def one_id_per_key(acked_ids: Mapping[str, set[str]]) -> set[str]:
    """The acknowledged submission ids, after checking every idempotency key was answered
    with one submission only (a retry after a crash never made a second one)."""
    split = {key: sorted(ids) for key, ids in acked_ids.items() if len(ids) != 1}
    assert not split, f"idempotency keys acknowledged as several submissions: {split}"
    return {next(iter(ids)) for ids in acked_ids.values()}


async def check_exactly_once(
    store_url: str,
    receiver: Receiver,
    acked: set[str],
    *,
    documents: int | None = None,
    stall: float = 60.0,
) -> None:
    """The receiver saw exactly the acknowledged submissions — no more, no fewer — each under
    one message id and with the very bytes the store kept as delivered; every one of them
    ends ``delivered`` (failing once none got there for ``stall`` seconds: a worker killed
    between the receiver's answer and its store write delivers again after its lease); and,
    when ``documents`` is given, that many distinct deliveries."""
    by_submission = delivered_submissions(receiver)
    missing = sorted(acked - set(by_submission))
    assert not missing, f"{len(missing)} acknowledged submissions never delivered: {missing[:5]}"
    extra = sorted(set(by_submission) - acked)
    assert not extra, f"{len(extra)} deliveries of submissions nobody acknowledged: {extra[:5]}"
    doubled = {s: m for s, m in by_submission.items() if len(m) > 1}
    assert not doubled, f"submissions delivered under several message ids: {doubled}"
    if documents is not None:
        assert len(by_submission) == documents, (
            f"{len(by_submission)} distinct deliveries for {documents} documents sent"
        )
    store: Store = await open_store(store_url)
    try:
        for submission_id, (message_id,) in by_submission.items():
            stored = await store.get_output(submission_id, "signed")
            assert stored is not None, f"{submission_id} delivered but nothing stored as sent"
            digest = hashlib.sha256(stored.data).hexdigest()
            assert receiver.accepted[message_id] == digest, (
                f"{submission_id}: the receiver got other bytes than the store kept"
            )
        loop = asyncio.get_running_loop()
        pending, last_progress = set(acked), loop.time()
        while pending and loop.time() - last_progress < stall:
            for submission_id in list(pending):
                submission = await store.get_submission_any_tenant(submission_id)
                assert submission is not None, f"acknowledged submission {submission_id} missing"
                if submission.state == "delivered":
                    pending.discard(submission_id)
                    last_progress = loop.time()
            if pending:
                await asyncio.sleep(0.5)
        assert not pending, (
            f"{len(pending)} submissions not in state delivered (none became so for "
            f"{stall:.0f}s): {sorted(pending)[:5]}"
        )
    finally:
        await store.close()
