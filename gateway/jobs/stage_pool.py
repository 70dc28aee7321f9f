"""Stage processes driven straight from the event loop: one pipe per child, no helper threads.

:class:`StagePool` keeps ``N`` child processes (``spawn``), each owning one end of a duplex
pipe. A call queues its request — the pickled ``(flow, source, directory)`` — and an idle
child takes what is queued, up to :attr:`StagePool.batch` requests, in **one** message; it
runs them one after another and answers them all in one message, which the event loop reads
on its own selector (``add_reader``) and hands back to each caller: the outcome as plain data
(:meth:`~gateway.flows.FlowOutcome.to_wire`). Below saturation a message carries one
request; under a deep queue a child goes from document to document without waiting for the
serving process to take its answer and hand it the next one (a wake-up of each side, and the
child's caches cooling meanwhile, per document). :class:`concurrent.futures.ProcessPoolExecutor`
would add a management thread, a queue feeder thread and a wake-up pipe on the way, i.e. four
thread hand-offs (each a GIL switch) and two more pipe writes per call, in the process that
also serves the API and the store.

A child that dies (killed, out of memory) fails only the calls it was running, with a
retryable :class:`StageProcessDied` (the job loop tries those documents again), and is
replaced by a fresh one; the other children go on. The event loop never waits for a dead
child: one still running (it broke the protocol) is killed, and its exit is collected by the
next start. When a replacement cannot be started (the system is out of processes or
memory), its slot is tried again later, after :data:`RESPAWN_FIRST` seconds at first and
twice as long each time up to :data:`RESPAWN_MOST`; queued calls wait for a child
meanwhile. A caller that stops waiting (cancelled) leaves its request out if no child has
taken it yet, else its answer is dropped. Large
messages (above :data:`INLINE_BYTES`) are written from a helper thread so the event loop
never blocks on a full pipe.

With ``cpus``, child ``n`` (and the processes it starts, its Schematron JVM) runs only on
core ``cpus[n % len(cpus)]``, and a replacement takes its slot's core.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import pickle
import struct
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

from gateway.errors import TransientError

INLINE_BYTES = 32 * 1024
"""Messages up to this size are written on the event loop (an idle child's empty pipe takes
them at once); larger ones from a helper thread."""

BATCH = 4
"""Most requests a child takes in one message: enough to keep it busy between two visits of
the serving process's event loop, few enough that no document waits long behind others."""

STOP = b""
"""The message that tells a child to exit."""

Handler = Callable[[bytes], bytes]
"""What a child does with one request: its reply (both pickled)."""

RESPAWN_FIRST = 0.5
"""Seconds before a slot whose replacement could not be started is tried again."""

RESPAWN_MOST = 30.0
"""The longest wait between two tries of such a slot."""

_LENGTH = struct.Struct(">I")
log = logging.getLogger(__name__)


def pack(parts: Sequence[bytes]) -> bytes:
    """Several requests (or replies) as one message: each preceded by its length."""
    return b"".join(_LENGTH.pack(len(part)) + part for part in parts)


def unpack(message: bytes) -> list[bytes]:
    """The requests (or replies) :func:`pack` put in ``message``."""
    parts, at, view = [], 0, memoryview(message)
    while at < len(message):
        (size,) = _LENGTH.unpack_from(message, at)
        at += _LENGTH.size
        parts.append(bytes(view[at : at + size]))
        at += size
    return parts


class StageProcessDied(TransientError):
    """A stage process ended while it ran a document (another attempt can succeed)."""

    code = "stage-process-died"


Call = tuple[bytes, "asyncio.Future[bytes]"]
"""A queued request and its caller's future."""


@dataclass(slots=True)
class _Child:
    """One stage process and the parent's end of its pipe."""

    process: Any
    conn: Connection
    running: list[Call] = field(default_factory=list)
    """The calls of the message it is working on (empty: idle)."""
    alive: bool = True
    watched: asyncio.AbstractEventLoop | None = None
    """The event loop whose selector watches the pipe (registered once, at first use)."""


def child_main(conn: Connection, setup: Callable[[], Handler]) -> None:
    """A child's life: build its handler once, then answer messages until told to stop or
    the parent's end closes."""
    handle = setup()
    while True:
        try:
            message = conn.recv_bytes()
        except (EOFError, OSError):
            return
        if message == STOP:
            return
        conn.send_bytes(pack([handle(request) for request in unpack(message)]))


class StagePool:
    """``size`` stage processes answering up to ``batch`` queued requests per message each
    (see the module docstring). ``target(conn, *args)`` is the child's main
    (:func:`child_main` underneath); ``cpus``: the cores the children are pinned to in turn
    (empty: not pinned)."""

    def __init__(
        self,
        size: int,
        target: Callable[..., None],
        args: tuple[Any, ...],
        *,
        cpus: Sequence[int] = (),
        batch: int = BATCH,
    ) -> None:
        import multiprocessing

        self._context = multiprocessing.get_context("spawn")
        self._target = target
        self._args = args
        self._cpus = tuple(cpus)
        self.size = max(1, size)
        self.batch = max(1, batch)
        self._children: list[_Child] = []
        """Spawned at the first call, as :class:`ProcessPoolExecutor` does: a child's start
        (its tools, its JVM) then does not compete with the gateway's own start."""
        self._idle: list[_Child] = []
        self._queue: deque[Call] = deque()
        self._closed = False
        self.deaths = 0
        """Children that died (killed, out of memory, broke the protocol) since the start."""

    def _spawn(self, slot: int) -> _Child:
        parent_end, child_end = self._context.Pipe(duplex=True)
        process = self._context.Process(
            target=self._target, args=(child_end, *self._args), daemon=True
        )
        process.start()
        child_end.close()
        if self._cpus and process.pid is not None:
            # before the child has loaded its tools, so the JVM it starts inherits it
            with contextlib.suppress(OSError):  # the child already ended: nothing to pin
                os.sched_setaffinity(process.pid, {self._cpus[slot % len(self._cpus)]})
        return _Child(process, parent_end)

    def _start_all(self) -> None:
        """The first call's start of every child; if one cannot start, those already
        started are stopped again and the error is the call's (nothing was queued yet)."""
        started: list[_Child] = []
        try:
            for slot in range(self.size):
                started.append(self._spawn(slot))
        except BaseException:
            for child in started:
                self._discard(child)
            raise
        self._children = started
        self._idle = list(started)

    @property
    def alive(self) -> int:
        """Children running now (they start with the first call)."""
        return sum(1 for child in self._children if child.alive)

    @property
    def pids(self) -> list[int]:
        """The children's process ids (tests, diagnostics)."""
        return [c.process.pid for c in self._children]

    async def call(self, request: bytes) -> bytes:
        """Queue ``request`` for the next idle child and return its reply."""
        if self._closed:
            raise RuntimeError("the stage pool is closed")
        loop = asyncio.get_running_loop()
        if not self._children:
            self._start_all()
        reply: asyncio.Future[bytes] = loop.create_future()
        call = (request, reply)
        self._queue.append(call)
        self._dispatch(loop)
        try:
            return await reply
        except asyncio.CancelledError:
            with contextlib.suppress(ValueError):  # not taken yet: leave it out
                self._queue.remove(call)
            raise

    def _dispatch(self, loop: asyncio.AbstractEventLoop) -> None:
        """Hand queued requests to idle children, up to :attr:`batch` each."""
        while self._idle and self._queue and not self._closed:
            popped = self._idle.pop()
            # a dead child is replaced before any request is taken off the queue
            child = popped if popped.alive else self._replace(popped, loop)
            if child is None:  # its slot is tried again later
                continue
            taken: list[Call] = []
            while self._queue and len(taken) < self.batch:
                call = self._queue.popleft()
                if not call[1].done():  # a cancelled caller's request is left out
                    taken.append(call)
            if not taken:
                self._idle.append(child)
                return
            self._send(loop, child, taken)

    def _send(self, loop: asyncio.AbstractEventLoop, child: _Child, calls: list[Call]) -> None:
        child.running = calls
        if child.watched is not loop:
            self._unwatch(child)
            loop.add_reader(child.conn.fileno(), self._readable, child)
            child.watched = loop
        message = pack([request for request, _ in calls])
        try:
            if len(message) <= INLINE_BYTES:
                child.conn.send_bytes(message)
                return
            written = loop.run_in_executor(None, child.conn.send_bytes, message)
        except (OSError, EOFError) as exc:
            self._lost(child, exc)
            return
        written.add_done_callback(lambda done: self._written(child, calls, done))

    def _written(self, child: _Child, calls: list[Call], done: asyncio.Future[None]) -> None:
        """A large message's write ended: if it failed, the child is lost."""
        if done.cancelled() or done.exception() is None or child.running is not calls:
            return
        self._lost(child, done.exception())

    def _readable(self, child: _Child) -> None:
        """The child's pipe has data (or was closed): its one reply, read whole. Readable
        with no message outstanding means the child ended (or broke the protocol): it is
        marked dead, no longer watched, and replaced when next taken."""
        calls = child.running
        if not calls:
            child.alive = False
            self._unwatch(child)
            return
        try:
            replies = unpack(child.conn.recv_bytes())
        except (EOFError, OSError, struct.error) as exc:
            self._lost(child, exc)
            return
        child.running = []
        if len(replies) != len(calls):
            child.alive = False
            _fail(calls, RuntimeError(f"stage process answered {len(replies)} of {len(calls)}"))
        else:
            for (_, reply), answer in zip(calls, replies, strict=True):
                if not reply.done():
                    reply.set_result(answer)
        self._back(child)

    def _lost(self, child: _Child, exc: BaseException | None) -> None:
        """The child is gone (or its pipe broke): its calls fail retryably; a fresh child
        takes its place when next needed."""
        calls, child.running = child.running, []
        if child.alive:
            self.deaths += 1
        child.alive = False
        self._unwatch(child)
        _fail(calls, self._died(child, exc))
        self._back(child)

    def _back(self, child: _Child) -> None:
        """The child is free again (a dead one replaced at once): it takes what is queued,
        else waits idle."""
        if self._closed:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no running loop: nothing queued either; replaced when taken
            self._idle.append(child)
            return
        fresh = child if child.alive else self._replace(child, loop)
        if fresh is not None:
            self._idle.append(fresh)
        self._dispatch(loop)

    def _replace(self, dead: _Child, loop: asyncio.AbstractEventLoop) -> _Child | None:
        """A fresh child in ``dead``'s slot; ``None`` when it cannot be started now (the
        slot is tried again later, see :meth:`_restart`)."""
        self._discard(dead)
        return self._restart(self._children.index(dead), loop)

    def _restart(
        self, slot: int, loop: asyncio.AbstractEventLoop, waited: float = 0.0
    ) -> _Child | None:
        """A fresh child in ``slot``; ``None`` when it cannot start now, and then it is tried
        again after twice ``waited`` (:data:`RESPAWN_FIRST` at first, :data:`RESPAWN_MOST`
        at most)."""
        try:
            fresh = self._spawn(slot)
        except OSError as exc:
            wait = min(max(2 * waited, RESPAWN_FIRST), RESPAWN_MOST)
            log.warning(
                "stage process for slot %d cannot start (%s); again in %.1f s", slot, exc, wait
            )
            loop.call_later(wait, self._respawn, loop, slot, wait)
            return None
        self._children[slot] = fresh
        return fresh

    def _respawn(self, loop: asyncio.AbstractEventLoop, slot: int, waited: float) -> None:
        """The later try of a slot whose child could not start: the fresh one takes what
        is queued."""
        if self._closed:
            return
        fresh = self._restart(slot, loop, waited)
        if fresh is not None:
            log.info("stage process for slot %d started again", slot)
            self._idle.append(fresh)
            self._dispatch(loop)

    def _discard(self, child: _Child) -> None:
        """Let go of ``child`` without waiting for it: no longer watched, its pipe closed,
        killed if it still runs (its exit is collected when a process next starts)."""
        self._unwatch(child)
        with contextlib.suppress(OSError):
            child.conn.close()
        with contextlib.suppress(OSError, ValueError, AttributeError):
            if child.process.is_alive():
                child.process.kill()

    @staticmethod
    def _unwatch(child: _Child) -> None:
        if child.watched is not None:
            with contextlib.suppress(ValueError, OSError, RuntimeError):
                child.watched.remove_reader(child.conn.fileno())
            child.watched = None

    @staticmethod
    def _died(child: _Child, exc: BaseException | None = None) -> StageProcessDied:
        """The error for the calls ``child`` was running when it was lost (its exit code
        when it has ended by now: its pipe closes a moment before it can be collected)."""
        child.process.join(timeout=0.05)
        code = child.process.exitcode
        error = StageProcessDied(
            f"stage process {child.process.pid} ended (exit code {code}) while running a "
            "document; it is replaced and the document tried again"
        )
        if exc is not None:
            error.__cause__ = exc
        return error

    def close(self) -> None:
        """Tell every child to stop (those busy are killed) and forget them; queued calls
        fail."""
        if self._closed:
            return
        self._closed = True
        closed = RuntimeError("the stage pool is closed")
        _fail(self._queue, closed)
        self._queue.clear()
        for child in self._children:
            if not child.running and child.alive:
                with contextlib.suppress(OSError, ValueError):
                    child.conn.send_bytes(STOP)
            else:
                with contextlib.suppress(Exception):
                    child.process.kill()
        for child in self._children:
            self._unwatch(child)
            child.process.join(timeout=2.0)
            if child.process.is_alive():
                child.process.kill()
                child.process.join(timeout=1.0)
            with contextlib.suppress(OSError):
                child.conn.close()
            _fail(child.running, closed)


def _fail(calls: Iterable[Call], error: BaseException) -> None:
    """Fail every caller of ``calls`` still waiting with ``error``."""
    for _, reply in calls:
        if not reply.done():
            reply.set_exception(error)


def dumps(value: Any) -> bytes:
    """A message as it crosses the pipe."""
    return pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)


def loads(data: bytes) -> Any:
    """A message as it arrived (only ever from this gateway's own processes)."""
    return pickle.loads(data)
