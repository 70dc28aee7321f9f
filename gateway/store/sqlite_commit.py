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
"""

from __future__ import annotations

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
    future: Future[Any]


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

    def submit(self, work: Callable[[Conn], Any]) -> Future[Any]:
        """Queue ``work(conn)``; the future holds its result once its group is committed."""
        future: Future[Any] = Future()
        self._queue.put(_Write(work, future))
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
                pending = [w for w in group if w.future.set_running_or_notify_cancel()]
                while pending:
                    try:
                        pending = self._commit(pending)
                    except BaseException as exc:  # the connection broke: fail, reconnect
                        log.error("sqlite writer: %s", exc)
                        for write in pending:
                            if not write.future.done():
                                write.future.set_exception(exc)
                        self._reset()
                        pending = []
        finally:
            self._reset()

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
                write.future.set_exception(exc)
            return []
        done: list[tuple[_Write, Any]] = []
        for index, write in enumerate(group):
            try:
                conn.execute("SAVEPOINT one_write")
                result = write.work(conn)
            except BaseException as exc:
                write.future.set_exception(exc)
                if not self._undo_one(conn):  # SQLite rolled the whole group back
                    for earlier, _ in done:
                        earlier.future.set_exception(exc)
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
                write.future.set_exception(exc)
            return []
        self.groups += 1
        for write, result in done:
            write.future.set_result(result)
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
