"""The shared store: PostgreSQL, for many gateway replicas and workers.

:class:`PostgresConnector` runs each transaction script on a pooled psycopg 3 (async)
connection, as one transaction. Workers claim jobs with ``FOR UPDATE SKIP LOCKED``
(concurrent claimers skip each other's rows instead of waiting) and are woken by ``NOTIFY
lingang_outbox`` sent in the transaction that queued the job, received on one dedicated
``LISTEN`` connection per store. Migrations take a transaction-scoped advisory lock, so
replicas starting together apply them once.

Times (leases, schedules) come from the gateway's clock, like on SQLite, so tests can move
it; replicas therefore need synchronised clocks (NTP: skew far below the lease length). A
replica running ahead would take over leases early, which fencing keeps harmless to the
bookkeeping but which can cost a duplicate send (dropped by the receiver's message id).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any, TypeVar

import psycopg
from psycopg.rows import DictRow, dict_row
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

from gateway.store.base import Store
from gateway.store.connector import (
    Connector,
    JsonValue,
    Notify,
    Query,
    QueryMany,
    Request,
    Script,
    drive_async,
)
from gateway.store.records import Clock, ConflictError, StoreError, utcnow
from gateway.store.sql import load_queries

T = TypeVar("T")
Conn = psycopg.AsyncConnection[DictRow]
CHANNEL = "lingang_outbox"

log = logging.getLogger("lingang.store")


def _encoded(text: str) -> str:
    return text


class PostgresConnector(Connector):
    """Runs transaction scripts on a PostgreSQL connection pool (see the module docstring)."""

    backend = "postgres"

    def __init__(self, pool: AsyncConnectionPool[Conn], conninfo: str) -> None:
        self._pool = pool
        self._conninfo = conninfo
        self._queries = load_queries("postgres.sql")
        self._listener: Conn | None = None
        self._reader: asyncio.Task[None] | None = None
        self._listen_lock = asyncio.Lock()
        self._notified = asyncio.Event()
        self._pending = False
        self._closed = False

    def adapt(self, value: Any) -> Any:
        if isinstance(value, JsonValue):
            return Jsonb(value.text, dumps=_encoded)
        if isinstance(value, tuple):
            return list(value)
        return value

    # -- running scripts ------------------------------------------------------------

    async def _run(self, conn: Conn, script: Script[T]) -> T:
        async def execute(request: Request) -> Any:
            if isinstance(request, Query):
                cursor = await conn.execute(self._queries[request.name], self.bind(request.params))
                if request.fetch == "one":
                    return await cursor.fetchone()
                if request.fetch == "all":
                    return await cursor.fetchall()
                return cursor.rowcount if request.fetch == "rowcount" else None
            if isinstance(request, QueryMany):
                if request.params:  # one pipelined round trip for every parameter set
                    async with conn.cursor() as cursor:
                        await cursor.executemany(
                            self._queries[request.name], [self.bind(p) for p in request.params]
                        )
            elif isinstance(request, Notify):
                await conn.execute(self._queries["notify_jobs"])
            else:
                await conn.execute(request.sql.encode())
            return None

        return await drive_async(script, execute)

    @contextlib.asynccontextmanager
    async def _transaction(self) -> AsyncIterator[Conn]:
        """A pooled connection inside a transaction; driver errors become store errors."""
        if self._closed:
            raise StoreError("store is closed")
        try:
            async with self._pool.connection() as conn, conn.transaction():
                yield conn
        except (psycopg.errors.UniqueViolation, psycopg.errors.ForeignKeyViolation) as exc:
            raise ConflictError(f"constraint violated: {exc}") from exc
        except psycopg.Error as exc:
            raise StoreError(f"postgresql: {exc}") from exc

    async def read(self, script: Script[T]) -> T:
        async with self._transaction() as conn:
            return await self._run(conn, script)

    async def write(self, script: Script[T]) -> T:
        async with self._transaction() as conn:
            return await self._run(conn, script)

    async def migrate(self, script: Script[T]) -> T:
        return await self.write(script)  # the script's migration_lock query serialises it

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        await self._drop_listener()
        await self._pool.close()

    # -- wake-ups -------------------------------------------------------------------

    async def wait_for_jobs(self, timeout: float) -> bool:
        """Wait for a ``NOTIFY`` (or return at once if one came since the last wait).

        One ``LISTEN`` connection per store feeds every waiter of this process: a
        notification wakes all of them.
        """
        await self._ensure_listener()
        if not self._pending:
            try:
                await asyncio.wait_for(self._notified.wait(), max(timeout, 0.0))
            except TimeoutError:
                return False
        self._pending = False
        return True

    async def _ensure_listener(self) -> None:
        """Start (or restart after an error) the connection that LISTENs for jobs."""
        async with self._listen_lock:
            if self._reader is not None and not self._reader.done():
                return
            await self._drop_listener()
            try:
                conn = await psycopg.AsyncConnection.connect(
                    self._conninfo, autocommit=True, row_factory=dict_row
                )
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
            async for _ in conn.notifies():
                self._pending = True
                woken, self._notified = self._notified, asyncio.Event()
                woken.set()
        except psycopg.Error as exc:
            log.warning("LISTEN connection lost: %s", exc)

    async def _drop_listener(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, psycopg.Error):
                await self._reader
            self._reader = None
        if self._listener is not None:
            await self._listener.close()
            self._listener = None


class PostgresStore(Store):
    """The store on a PostgreSQL database."""

    @classmethod
    async def open(
        cls,
        url: str,
        *,
        clock: Clock = utcnow,
        min_size: int = 1,
        max_size: int = 10,
        timeout: float = 30.0,
    ) -> PostgresStore:
        """Open a pool on ``postgresql://...`` and wait for a first connection."""
        pool: AsyncConnectionPool[Conn] = AsyncConnectionPool(
            url,
            connection_class=psycopg.AsyncConnection[DictRow],
            kwargs={"row_factory": dict_row},
            min_size=min_size,
            max_size=max_size,
            timeout=timeout,
            open=False,
        )
        try:
            await pool.open(wait=True, timeout=timeout)
        except Exception as exc:
            await pool.close()
            raise StoreError(f"cannot connect to PostgreSQL: {exc}") from exc
        return cls(PostgresConnector(pool, url), clock=clock)
