"""Stage processes driven straight from the event loop: one pipe per child, no helper threads.

:class:`StagePool` keeps ``N`` child processes (``spawn``), each owning one end of a duplex
pipe. A call takes an idle child, writes one message to its pipe — the pickled ``(flow,
source, directory)`` — and waits, on the event loop's own selector (``add_reader``), for the
one message that comes back: the outcome as plain data
(:meth:`~gateway.flows.FlowOutcome.to_wire`). One round trip per document, and nothing in
between: :class:`concurrent.futures.ProcessPoolExecutor` adds a management thread, a queue
feeder thread and a wake-up pipe on the way, i.e. four thread hand-offs (each a GIL switch)
and two more pipe writes per call, in the process that also serves the API and the store.

A child that dies (killed, out of memory) fails only the call it was running, with a
retryable :class:`StageProcessDied` (the job loop tries that document again), and is replaced
by a fresh one; the other children go on. Large messages (above :data:`INLINE_BYTES`) are
written from a helper thread so the event loop never blocks on a full pipe.

With ``cpus``, child ``n`` (and the processes it starts, its Schematron JVM) runs only on
core ``cpus[n % len(cpus)]``, and a replacement takes its slot's core.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import pickle
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from gateway.errors import TransientError

INLINE_BYTES = 32 * 1024
"""Requests up to this size are written on the event loop (an idle child's empty pipe takes
them at once); larger ones from a helper thread."""

STOP = b""
"""The message that tells a child to exit."""

Handler = Callable[[bytes], bytes]
"""What a child does with one request: its reply (both pickled)."""


class StageProcessDied(TransientError):
    """A stage process ended while it ran a document (another attempt can succeed)."""

    code = "stage-process-died"


@dataclass(slots=True)
class _Child:
    """One stage process and the parent's end of its pipe."""

    process: Any
    conn: Connection
    waiting: asyncio.Future[bytes] | None = None
    alive: bool = True
    watched: asyncio.AbstractEventLoop | None = None
    """The event loop whose selector watches the pipe (registered once, at first use)."""


def child_main(conn: Connection, setup: Callable[[], Handler]) -> None:
    """A child's life: build its handler once, then answer requests until told to stop or
    the parent's end closes."""
    handle = setup()
    while True:
        try:
            request = conn.recv_bytes()
        except (EOFError, OSError):
            return
        if request == STOP:
            return
        conn.send_bytes(handle(request))


class StagePool:
    """``size`` stage processes answering one request at a time each (see the module
    docstring). ``target(conn, *args)`` is the child's main (:func:`child_main` underneath);
    ``cpus``: the cores the children are pinned to in turn (empty: not pinned)."""

    def __init__(
        self,
        size: int,
        target: Callable[..., None],
        args: tuple[Any, ...],
        *,
        cpus: Sequence[int] = (),
    ) -> None:
        import multiprocessing

        self._context = multiprocessing.get_context("spawn")
        self._target = target
        self._args = args
        self._cpus = tuple(cpus)
        self.size = max(1, size)
        self._children: list[_Child] = []
        """Spawned at the first call, as :class:`ProcessPoolExecutor` does: a child's start
        (its tools, its JVM) then does not compete with the gateway's own start."""
        self._idle: list[_Child] = []
        self._waiters: deque[asyncio.Future[_Child]] = deque()
        self._closed = False

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

    @property
    def pids(self) -> list[int]:
        """The children's process ids (tests, diagnostics)."""
        return [c.process.pid for c in self._children]

    async def call(self, request: bytes) -> bytes:
        """Send ``request`` to an idle child and return its reply."""
        if self._closed:
            raise RuntimeError("the stage pool is closed")
        child = await self._take()
        try:
            return await self._exchange(child, request)
        finally:
            self._give_back(child)

    async def _take(self) -> _Child:
        if not self._children:
            self._children = [self._spawn(slot) for slot in range(self.size)]
            self._idle = list(self._children)
        if self._idle:
            child = self._idle.pop()
            return child if child.alive else self._replace(child)
        handed: asyncio.Future[_Child] = asyncio.get_running_loop().create_future()
        self._waiters.append(handed)
        try:
            return await handed
        except asyncio.CancelledError:
            if handed.done() and not handed.cancelled():
                self._give_back(handed.result())
            raise

    def _give_back(self, child: _Child) -> None:
        """An idle child goes to the longest waiting call, else back to the idle list."""
        if self._closed:
            return
        if not child.alive:
            child = self._replace(child)
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(child)
                return
        self._idle.append(child)

    def _replace(self, dead: _Child) -> _Child:
        self._unwatch(dead)
        with contextlib.suppress(OSError):
            dead.conn.close()
        dead.process.join(timeout=1.0)
        slot = self._children.index(dead)
        fresh = self._spawn(slot)
        self._children[slot] = fresh
        return fresh

    async def _exchange(self, child: _Child, request: bytes) -> bytes:
        loop = asyncio.get_running_loop()
        reply: asyncio.Future[bytes] = loop.create_future()
        child.waiting = reply
        if child.watched is not loop:
            self._unwatch(child)
            loop.add_reader(child.conn.fileno(), self._readable, child)
            child.watched = loop
        try:
            if len(request) <= INLINE_BYTES:
                child.conn.send_bytes(request)
            else:
                await loop.run_in_executor(None, child.conn.send_bytes, request)
            return await reply
        except (OSError, EOFError) as exc:
            child.alive = False
            raise self._died(child) from exc
        except asyncio.CancelledError:
            # The child is busy with a request nobody waits for: replace it rather than
            # read a stale reply later.
            child.alive = False
            with contextlib.suppress(Exception):
                child.process.kill()
            raise
        finally:
            child.waiting = None

    @staticmethod
    def _unwatch(child: _Child) -> None:
        if child.watched is not None:
            with contextlib.suppress(ValueError, OSError, RuntimeError):
                child.watched.remove_reader(child.conn.fileno())
            child.watched = None

    def _readable(self, child: _Child) -> None:
        """The child's pipe has data (or was closed): its one reply, read whole. Readable
        with no call waiting means the child ended (or broke the protocol): it is marked
        dead, no longer watched, and replaced when next taken."""
        waiting = child.waiting
        if waiting is None or waiting.done():
            child.alive = False
            self._unwatch(child)
            return
        try:
            waiting.set_result(child.conn.recv_bytes())
        except (EOFError, OSError) as exc:
            child.alive = False
            waiting.set_exception(self._died(child, exc))

    @staticmethod
    def _died(child: _Child, exc: BaseException | None = None) -> StageProcessDied:
        child.process.join(timeout=1.0)
        code = child.process.exitcode
        error = StageProcessDied(
            f"stage process {child.process.pid} ended (exit code {code}) while running a "
            "document; it is replaced and the document tried again"
        )
        if exc is not None:
            error.__cause__ = exc
        return error

    def close(self) -> None:
        """Tell every child to stop (those busy are killed) and forget them."""
        if self._closed:
            return
        self._closed = True
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_exception(RuntimeError("the stage pool is closed"))
        for child in self._children:
            if child.waiting is None and child.alive:
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


def dumps(value: Any) -> bytes:
    """A message as it crosses the pipe."""
    return pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)


def loads(data: bytes) -> Any:
    """A message as it arrived (only ever from this gateway's own processes)."""
    return pickle.loads(data)
