"""Group commit for the SQLite store: one writer thread, many writes per ``fsync``.

With ``synchronous=FULL`` every SQLite commit waits for the disk (about 0.3–3 ms here), and
a single connection commits one transaction at a time; at several writes per document that
wait, not the CPU, capped the gateway. :class:`GroupCommitter` keeps each write its own
unit (a ``SAVEPOINT``: a failing write is rolled back alone) but commits every write that
queued up meanwhile in one transaction, so one ``fsync`` makes a whole group durable.

Durability is unchanged: a caller's future resolves only after the ``COMMIT`` that contains
its write returned, i.e. after the ``fsync``; if that commit fails, every write of the group
fails. Writes run one after another in queue order, so they see each other's effects
exactly as with one transaction each (an idempotency key used twice in one group still
makes one submission; two claims in one group never lease the same job).

Writes from an event loop (:meth:`GroupCommitter.submit_from`) get an ``asyncio`` future,
and a group's outcomes are handed to each loop in **one** ``call_soon_threadsafe``: one
wake-up of the loop per group instead of one per write (each a self-pipe write and read,
a ``concurrent.futures.Future`` with its lock, and a second future chained to it).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

log = logging.getLogger("lingang.store")

Conn = sqlite3.Connection

MAX_GROUP = 64
"""Most writes committed together (bounds how long the write lock is held)."""


@dataclass(slots=True)
class _Write:
    work: Callable[[Conn], Any]
    future: Future[Any] | asyncio.Future[Any]
    loop: asyncio.AbstractEventLoop | None = None
    """The event loop that owns ``future``; ``None``: a thread-safe ``Future``."""
    settled: bool = False

    def wanted(self) -> bool:
        """Whether the caller still waits (a cancelled write is not run)."""
        if self.loop is None:
            assert isinstance(self.future, Future)
            return self.future.set_running_or_notify_cancel()
        return not self.future.cancelled()


def _settle_all(outcomes: list[tuple[asyncio.Future[Any], Any, BaseException | None]]) -> None:
    """On the event loop: resolve a group's futures (those still waited for)."""
    for future, result, error in outcomes:
        if future.done():
            continue
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)


class GroupCommitter:
    """A writer thread owning one connection; :meth:`submit` queues a write."""

    def __init__(self, connect: Callable[[], Conn], *, max_group: int = MAX_GROUP) -> None:
        self._connect = connect
        self._conn: Conn | None = None
        self.max_group = max(1, max_group)
        self._queue: queue.SimpleQueue[_Write | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="lingang-sqlite-writer", daemon=True)
        self._thread.start()
        self.groups = 0
        """Transactions committed (for tests and diagnostics)."""
        self._outcomes: list[tuple[_Write, Any, BaseException | None]] = []
        """The current group's outcomes, handed back once the group is done."""

    def submit(self, work: Callable[[Conn], Any]) -> Future[Any]:
        """Queue ``work(conn)``; the future holds its result once its group is committed."""
        future: Future[Any] = Future()
        self._queue.put(_Write(work, future))
        return future

    def submit_from(
        self, loop: asyncio.AbstractEventLoop, work: Callable[[Conn], Any]
    ) -> asyncio.Future[Any]:
        """Like :meth:`submit`, for a caller on ``loop``: an ``asyncio`` future, resolved on
        the loop together with the rest of its group."""
        future: asyncio.Future[Any] = loop.create_future()
        self._queue.put(_Write(work, future, loop))
        return future

    def close(self) -> None:
        """Commit what is queued, stop the thread and close the connection."""
        self._queue.put(None)
        self._thread.join()

    def _run(self) -> None:
        try:
            running = True
            while running:
                first = self._queue.get()
                if first is None:
                    break
                group = [first]
                while len(group) < self.max_group:
                    try:
                        following = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if following is None:
                        running = False
                        break
                    group.append(following)
                pending = [w for w in group if w.wanted()]
                while pending:
                    try:
                        pending = self._commit(pending)
                    except BaseException as exc:  # the connection broke: fail, reconnect
                        log.error("sqlite writer: %s", exc)
                        for write in pending:
                            if not write.settled:
                                self._fail(write, exc)
                        self._reset()
                        pending = []
                self._hand_back()
        finally:
            self._reset()

    def _done(self, write: _Write, result: Any) -> None:
        write.settled = True
        self._outcomes.append((write, result, None))

    def _fail(self, write: _Write, error: BaseException) -> None:
        write.settled = True
        self._outcomes.append((write, None, error))

    def _hand_back(self) -> None:
        """Resolve the group's futures: thread-safe ones here, each event loop's in one
        call on that loop."""
        by_loop: dict[asyncio.AbstractEventLoop, list[Any]] = {}
        for write, result, error in self._outcomes:
            if write.loop is not None:
                by_loop.setdefault(write.loop, []).append((write.future, result, error))
                continue
            assert isinstance(write.future, Future)
            if error is not None:
                write.future.set_exception(error)
            else:
                write.future.set_result(result)
        self._outcomes = []
        for loop, outcomes in by_loop.items():
            with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits
                loop.call_soon_threadsafe(_settle_all, outcomes)

    def _reset(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(sqlite3.Error):
                self._conn.close()
            self._conn = None

    def _commit(self, group: list[_Write]) -> list[_Write]:
        """Run ``group`` in one transaction; return the writes still to run if SQLite
        aborted the transaction part-way (the writes before it fail with the error)."""
        try:
            if self._conn is None:
                self._conn = self._connect()
            conn = self._conn
            conn.execute("BEGIN IMMEDIATE")
        except BaseException as exc:
            for write in group:
                self._fail(write, exc)
            return []
        done: list[tuple[_Write, Any]] = []
        for index, write in enumerate(group):
            try:
                conn.execute("SAVEPOINT one_write")
                result = write.work(conn)
            except BaseException as exc:
                self._fail(write, exc)
                if not self._undo_one(conn):  # SQLite rolled the whole group back
                    for earlier, _ in done:
                        self._fail(earlier, exc)
                    return group[index + 1 :]
                continue
            conn.execute("RELEASE one_write")
            done.append((write, result))
        try:
            conn.execute("COMMIT")
        except BaseException as exc:
            with contextlib.suppress(sqlite3.Error):
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
            for write, _ in done:
                self._fail(write, exc)
            return []
        self.groups += 1
        for write, result in done:
            self._done(write, result)
        return []

    @staticmethod
    def _undo_one(conn: Conn) -> bool:
        """Roll back the failed write only; ``False`` when the transaction is gone."""
        try:
            if conn.in_transaction:
                conn.execute("ROLLBACK TO one_write")
                conn.execute("RELEASE one_write")
                return True
        except sqlite3.Error:
            with contextlib.suppress(sqlite3.Error):
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
        return False
