"""Job wake-ups between PostgreSQL store instances: ``NOTIFY`` out, ``LISTEN`` in.

A write that queued or freed a job asks for a wake-up (the :class:`~gateway.store.connector.
Notify` request). :class:`Wakeups` wakes this process's waiters at once and sends ``NOTIFY
lingang_outbox`` *after* the commit, on a connection of its own, coalescing: while one
``NOTIFY`` is on its way, any number of further requests make one more, sent when it is
done. So every committed job is followed by a ``NOTIFY`` that starts after its commit (no
waiter can miss it), yet a burst of writes costs a few notifications instead of one each;
and the writing transactions no longer take PostgreSQL's notification lock, which
serialises the commits of every transaction that notifies.

Waiters of other instances are woken by one dedicated ``LISTEN`` connection per store,
restarted after an error. Losing it wakes this store's waiters: whatever was notified until
the next wait listens again is lost, so they claim once instead of sleeping through their
poll interval. The ``NOTIFY`` connection is replaced before use when the server has ended it
while idle (:mod:`~gateway.store.postgres_idle`), so a restarted server loses no wake-up. A store's own ``NOTIFY`` coming back to its listener wakes nobody:
its waiters were woken when the wake-up was asked for, and a second wake-up would only make
each idle worker claim again and find nothing. A notification that is lost (a crash between
commit and ``NOTIFY``) only delays the job until the workers' next poll.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import psycopg

from gateway.store.postgres_idle import ended_by_server
from gateway.store.records import StoreError

CHANNEL = "lingang_outbox"

log = logging.getLogger("lingang.store")

Conn = psycopg.AsyncConnection[Any]


class Wakeups:
    """Sends and receives the job wake-ups of one store."""

    def __init__(self, conninfo: str) -> None:
        self._conninfo = conninfo
        self._listener: Conn | None = None
        self._reader: asyncio.Task[None] | None = None
        self._listen_lock = asyncio.Lock()
        self._notified = asyncio.Event()
        self._pending = False
        self._notifier: Conn | None = None
        self._sender: asyncio.Task[None] | None = None
        self._wanted = False

    # -- sending --------------------------------------------------------------------

    def jobs_queued(self) -> None:
        """Wake the local waiters now and every listener soon (after the caller's commit)."""
        self._wake_local()
        self._wanted = True
        if self._sender is None or self._sender.done():
            self._sender = asyncio.create_task(self._send())

    async def _send(self) -> None:
        while self._wanted:
            self._wanted = False
            try:
                if self._notifier is None or ended_by_server(self._notifier):
                    await self._close_notifier()
                    self._notifier = await psycopg.AsyncConnection.connect(
                        self._conninfo, autocommit=True
                    )
                await self._notifier.execute(f"NOTIFY {CHANNEL}")
            except psycopg.Error as exc:
                log.warning("NOTIFY failed (workers will poll): %s", exc)
                await self._close_notifier()
                return

    async def _close_notifier(self) -> None:
        if self._notifier is not None:
            with contextlib.suppress(psycopg.Error):
                await self._notifier.close()
            self._notifier = None

    # -- receiving ------------------------------------------------------------------

    async def wait(self, timeout: float) -> bool:
        """Wait for a wake-up (or return at once if one came since the last wait).

        One ``LISTEN`` connection per store feeds every waiter of this process: a
        notification wakes all of them."""
        await self._ensure_listener()
        if not self._pending:
            try:
                await asyncio.wait_for(self._notified.wait(), max(timeout, 0.0))
            except TimeoutError:
                return False
        self._pending = False
        return True

    def _wake_local(self) -> None:
        self._pending = True
        woken, self._notified = self._notified, asyncio.Event()
        woken.set()

    async def _ensure_listener(self) -> None:
        """Start (or restart after an error) the connection that LISTENs for jobs."""
        async with self._listen_lock:
            if self._reader is not None and not self._reader.done():
                return
            await self._drop_listener()
            try:
                conn = await psycopg.AsyncConnection.connect(self._conninfo, autocommit=True)
            except psycopg.Error as exc:
                raise StoreError(f"postgresql LISTEN failed: {exc}") from exc
            try:
                await conn.execute(f"LISTEN {CHANNEL}")
            except BaseException as exc:
                await conn.close()
                if isinstance(exc, psycopg.Error):
                    raise StoreError(f"postgresql LISTEN failed: {exc}") from exc
                raise
            self._listener = conn
            self._reader = asyncio.create_task(self._read_notifications(conn))

    async def _read_notifications(self, conn: Conn) -> None:
        try:
            async for note in conn.notifies():
                if note.pid != self._own_pid():
                    self._wake_local()
        except psycopg.Error as exc:
            log.warning("LISTEN connection lost: %s", exc)
            self._wake_local()  # what was notified until it listens again is lost: claim once

    def _own_pid(self) -> int | None:
        """The server process of this store's ``NOTIFY`` connection, if it has one."""
        notifier = self._notifier
        return None if notifier is None or notifier.closed else notifier.info.backend_pid

    async def _drop_listener(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, psycopg.Error):
                await self._reader
            self._reader = None
        if self._listener is not None:
            await self._listener.close()
            self._listener = None

    async def close(self) -> None:
        """Send what is still wanted, then close both connections."""
        if self._sender is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._sender
        await self._close_notifier()
        await self._drop_listener()
