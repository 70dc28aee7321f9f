"""The shared store: PostgreSQL, for many gateway replicas and workers.

:class:`PostgresConnector` runs each transaction script on a pooled psycopg 3 (async)
connection, as one transaction. Workers claim jobs with ``FOR UPDATE SKIP LOCKED``
(concurrent claimers skip each other's rows instead of waiting) and are woken by ``NOTIFY
lingang_outbox`` sent after the transaction that queued the job, received on one dedicated
``LISTEN`` connection per store (:mod:`gateway.store.postgres_wake`). Migrations take a transaction-scoped advisory lock, so
replicas starting together apply them once.

The job queue runs on the database's clock: lease grants, renewals and expiry, due jobs and
retry times are the SQL's ``now()`` (the gateway passes durations, not times), so replicas
whose clocks disagree still agree on which lease is live; a host running ahead no longer
takes over a job another worker is running. Records are stamped with the gateway's clock
(``created_at``, events). Tests move the queue's time with ``queue_clock``.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any, Generic, TypeVar, cast

import psycopg
from psycopg import AsyncPipeline as Pipeline
from psycopg.pq import TransactionStatus
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
    after_last,
    drive_async,
    is_last,
)
from gateway.store.postgres_idle import ended_by_server
from gateway.store.postgres_wake import Wakeups
from gateway.store.records import Clock, ConflictError, StoreError, UnstorableError, utcnow
from gateway.store.sql import load_queries

T = TypeVar("T")
Conn = psycopg.AsyncConnection[DictRow]

log = logging.getLogger("lingang.store")

RECONNECT_SECONDS = 10.0
"""How long, once open, the pool keeps trying to replace a lost connection before that
attempt ends (psycopg_pool's ``reconnect_timeout``).

The pool waits 1, 2, 4, 8 ... seconds between tries, with no ceiling, for as long as an
attempt lasts (five minutes by default): a server back after an outage of a minute was
reached only about a minute later, while every request waited for a 503. An attempt that
ends lets the next request that needs a connection start a new one, from a one-second wait:
the gateway is back within a few seconds of the server. (While the pool opens, the default
stands: start-up waits ``timeout`` for its first connection, as before.)"""

IDLE_TRANSACTION_SECONDS = 30.0
"""How long PostgreSQL lets a gateway session sit idle inside an open transaction before it
ends the session and rolls the transaction back (``idle_in_transaction_session_timeout``,
set on each pooled connection; ``[store] idle_transaction_seconds``).

A write keeps its transaction open across round trips (a script reads a row, then writes on
what it read), and the rows it touched stay locked meanwhile. A replica that stops between
two of them — frozen (a paused VM, SIGSTOP, a stalled host) or cut off from the database by a
network that drops packets without a reset — leaves its session idle in the transaction,
which PostgreSQL by default keeps for as long as the TCP connection seems alive (the
kernel's keep-alive: two hours and more). Its job rows stay locked all that time: the other
replicas' claims (``FOR UPDATE SKIP LOCKED``) pass over them once the lease has expired, so
nobody takes the job over, and a locked exporter's row of counts stops every other
replica's export of that exporter. The gateway's own transactions are never idle for more
than an event-loop pause (no script waits for anything but the database), so a bound of
this size ends only those of a replica that is gone: its rows are free again, its jobs are
taken over after their leases, and what it had not committed it never committed."""

UNREACHABLE_WAIT_SECONDS = 2.0
"""How long a request waits for a connection once an attempt to reach the server has
failed (:class:`Reachability`), instead of the pool's ``timeout``: during an outage the API
answers 503 within seconds rather than after holding each request for 30."""


def _encoded(text: str) -> str:
    return text


class Reachability:
    """Whether the pool could reach the server lately, from its own callbacks: unreachable
    once an attempt to make a connection has ended without one (:data:`RECONNECT_SECONDS`),
    reachable again with the next connection made.

    Only a pool with no connection in use is taken as cut off: an attempt to *grow* the pool
    can fail while its connections work (the server at ``max_connections``), and a request
    then waits for one of them to come back, for the pool's whole timeout, as before."""

    def __init__(self, idle_transaction_seconds: float = IDLE_TRANSACTION_SECONDS) -> None:
        self.unreachable = False
        self.in_use = 0
        """Connections handed out by :meth:`PostgresConnector._pooled` and not yet back."""
        self.idle_transaction_seconds = idle_transaction_seconds
        """:data:`IDLE_TRANSACTION_SECONDS` of each new connection (0: the server's own)."""

    async def connected(self, conn: Conn) -> None:
        """The pool's ``configure`` callback (each new connection): bound how long its
        transactions may sit idle (:data:`IDLE_TRANSACTION_SECONDS`)."""
        if self.idle_transaction_seconds > 0:
            bound = f"{max(1, round(self.idle_transaction_seconds * 1000))}ms"
            await conn.execute(
                "SELECT set_config('idle_in_transaction_session_timeout', %(bound)s, false)",
                {"bound": bound},
            )
        if self.unreachable:
            log.warning("PostgreSQL reachable again")
        self.unreachable = False

    async def gave_up(self, pool: AsyncConnectionPool[Conn]) -> None:
        """The pool's ``reconnect_failed`` callback."""
        if not self.unreachable:
            log.warning(
                "PostgreSQL unreachable: requests now wait %gs for a connection, not %gs",
                UNREACHABLE_WAIT_SECONDS,
                pool.timeout,
            )
        self.unreachable = True

    def wait_seconds(self) -> float | None:
        """How long a request waits for a pooled connection (``None``: the pool's timeout)."""
        return UNREACHABLE_WAIT_SECONDS if self.unreachable and not self.in_use else None


class PostgresConnector(Connector):
    """Runs transaction scripts on a PostgreSQL connection pool (see the module docstring)."""

    backend = "postgres"
    database_clock = True

    def __init__(
        self,
        pool: AsyncConnectionPool[Conn],
        conninfo: str,
        reachability: Reachability | None = None,
    ) -> None:
        self._pool = pool
        self._reachability = reachability or Reachability()
        self._conninfo = conninfo
        self._queries = load_queries("postgres")
        self._wakeups = Wakeups(conninfo)
        self._closed = False

    def adapt(self, value: Any) -> Any:
        if isinstance(value, JsonValue):
            return Jsonb(value.text, dumps=_encoded)
        if isinstance(value, tuple):
            return list(value)
        return value

    # -- running scripts ------------------------------------------------------------

    async def _run(
        self, conn: Conn, script: Script[T], pipeline: Pipeline | None
    ) -> tuple[T, bool]:
        """Drive ``script`` on ``conn`` (in ``pipeline`` mode as :class:`_Sender` says).
        :class:`Notify` is sent once the script's transaction has committed
        (:mod:`postgres_wake`); returns ``(result, whether it asked to wake workers)``."""
        notified: list[bool] = []
        execute = _Sender(self, conn, pipeline, notified)
        return await drive_async(script, execute), bool(notified)

    async def answer(self, conn: Conn, request: Request | bytes, pipeline: Pipeline | None) -> Any:
        """Run one request (or a plain statement) on ``conn`` and return what the script
        reads of it. In ``pipeline`` mode a request whose result is read ends with a
        ``Sync``, not a mere flush: only a session that has answered a ``Sync`` counts for
        the server as idle in its transaction, which :data:`IDLE_TRANSACTION_SECONDS`
        bounds (one left mid-pipeline waits for its client as "active", for ever)."""
        if isinstance(request, bytes):
            await conn.execute(request)
        elif isinstance(request, Query):
            cursor = await conn.execute(self._queries[request.name], self.bind(request.params))
            if request.fetch != "none" and pipeline is not None:
                await pipeline.sync()  # the session waits idle in the transaction now
            if request.fetch == "one":
                return await cursor.fetchone()
            if request.fetch == "all":
                return await cursor.fetchall()
            if request.fetch == "rowcount":
                return cursor.rowcount
        elif isinstance(request, QueryMany):
            await self._execute_many(conn, request)
        elif not isinstance(request, Notify):
            await conn.execute(request.sql.encode())
        return None

    async def _execute_many(self, conn: Conn, request: QueryMany) -> None:
        """Run every parameter set of ``request``: as one statement when the query file
        has ``<name>_rows`` (each parameter an array, one element per set, read back with
        ``unnest``), else once per set."""
        if not request.params:
            return
        bound = [self.bind(p) for p in request.params]
        rows_query = self._queries.get(f"{request.name}_rows")
        if rows_query is not None:
            await conn.execute(rows_query, {key: [b[key] for b in bound] for key in bound[0]})
            return
        async with conn.cursor() as cursor:
            await cursor.executemany(self._queries[request.name], bound)

    @contextlib.asynccontextmanager
    async def _connection(self) -> AsyncIterator[Conn]:
        """A pooled connection (autocommit); driver errors become store errors."""
        if self._closed:
            raise StoreError("store is closed")
        try:
            async with self._pooled() as conn:
                yield conn
        except (psycopg.errors.UniqueViolation, psycopg.errors.ForeignKeyViolation) as exc:
            raise ConflictError(f"constraint violated: {exc}") from exc
        except (psycopg.DataError, psycopg.errors.ProgramLimitExceeded) as exc:
            raise UnstorableError(
                "a value cannot be stored: it holds a NUL character or is too long for the "
                f"store ({type(exc).__name__})"
            ) from exc
        except psycopg.Error as exc:
            raise StoreError(f"postgresql: {exc}") from exc

    @contextlib.asynccontextmanager
    async def _pooled(self) -> AsyncIterator[Conn]:
        """A pooled connection the server has not ended while it sat idle (see
        :mod:`~gateway.store.postgres_idle`): each one found is closed, so the pool drops
        and replaces it, and the next is taken. After a server restart, a failover or
        ``pg_terminate_backend`` the first request on each stale connection no longer fails.
        While the server is unreachable (:class:`Reachability`) a request waits only
        :data:`UNREACHABLE_WAIT_SECONDS` for a connection, then fails (the API's 503)."""
        reachability = self._reachability
        wait = reachability.wait_seconds()
        conn = await self._pool.getconn(wait)
        for _ in range(self._pool.max_size):
            if not ended_by_server(conn):
                break
            log.info("dropping a pooled connection the server has ended")
            await conn.close()
            await self._pool.putconn(conn)
            conn = await self._pool.getconn(wait)
        reachability.in_use += 1
        try:
            async with conn:
                yield conn
        finally:
            reachability.in_use -= 1
            await self._pool.putconn(conn)

    async def read(self, script: Script[T]) -> T:
        """Each query of a read runs on its own (autocommit): one round trip for the
        usual single-query read, no ``BEGIN``/``COMMIT``."""
        async with self._connection() as conn:
            return (await self._run(conn, script, None))[0]

    async def read_bounded(self, script: Script[T], seconds: float) -> T:
        """One transaction whose ``lock_timeout`` and ``statement_timeout`` are ``seconds``
        (``set_config(..., true)``: for this transaction only, the pooled connection keeps
        its own): a statement waiting for a table a migration holds is ended by the
        server, the connection goes back to the pool idle and usable."""
        bound = f"{max(1, round(seconds * 1000))}ms"
        async with self._connection() as conn, conn.transaction():
            await conn.execute(
                "SELECT set_config('lock_timeout', %(bound)s, true),"
                " set_config('statement_timeout', %(bound)s, true)",
                {"bound": bound},
            )
            return (await self._run(conn, script, None))[0]

    async def write(self, script: Script[T]) -> T:
        """One transaction in pipeline mode: ``BEGIN`` goes with the first query and the
        queries whose results are not read go with the next one that is, or with the
        ``COMMIT``. Returns once the ``COMMIT`` has been answered.

        A query marked ``last`` goes **with the** ``COMMIT``: both are queued in the
        pipeline behind whatever the script has not waited for yet and sent with one sync,
        so the server runs them back to back — the row locks that query takes are released
        without waiting for the gateway — and the whole tail of the transaction costs one
        round trip. The query is a prepared statement like the others (psycopg prepares it
        once it has run ``prepare_threshold`` times on the connection). Its row is answered
        to the script once committed."""
        notified: list[bool] = []
        steps = _Steps(script)
        try:
            async with self._connection() as conn:
                try:
                    result = await self._write_on(conn, steps, notified)
                except Exception:
                    if conn.info.transaction_status != TransactionStatus.IDLE:
                        with contextlib.suppress(psycopg.Error):
                            await conn.execute(b"ROLLBACK")
                    raise
        finally:
            steps.close()
        if notified:
            self._wakeups.jobs_queued()
        return result

    async def _write_on(self, conn: Conn, steps: _Steps[T], notified: list[bool]) -> T:
        async with conn.pipeline() as pipeline:
            execute = _Sender(self, conn, pipeline, notified)
            execute.hold(b"BEGIN")
            request = steps.send(None)
            while request is not None and not is_last(request):
                request = steps.send(await execute(request))
            await execute.send_held()
            if request is None:
                await conn.execute(b"COMMIT")
                return steps.result
            query = cast(Query, request)
            cursor = await conn.execute(self._queries[query.name], self.bind(query.params))
            await conn.execute(b"COMMIT")
            await pipeline.sync()
            row = await cursor.fetchone()
        return steps.finish(row)

    async def write_one(self, script: Script[T]) -> T:
        """The statement in autocommit, its own transaction (no ``BEGIN``/``COMMIT``
        round trips); its commit is as durable as an explicit one."""
        async with self._connection() as conn:
            result, notify = await self._run(conn, script, None)
        if notify:
            self._wakeups.jobs_queued()
        return result

    async def migrate(self, script: Script[T]) -> T:
        """One plain transaction (a migration is several statements in one string, which
        pipeline mode cannot send); its ``migration_lock`` query serialises replicas."""
        async with self._connection() as conn, conn.transaction():
            return (await self._run(conn, script, None))[0]

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        await self._wakeups.close()
        await self._pool.close()

    # -- wake-ups -------------------------------------------------------------------

    async def wait_for_jobs(self, timeout: float) -> bool:
        return await self._wakeups.wait(timeout)


class _Sender:
    """Answers a script's requests on one connection (:meth:`PostgresConnector.answer`).

    In pipeline mode a request whose result the script does not read (``fetch="none"``,
    :class:`QueryMany`, and the ``BEGIN``) is held here, and sent with the next request
    whose result it reads, or with the ``COMMIT``: those travel together and end with a
    ``Sync``. So whenever the gateway computes between two round trips, the server holds
    nothing half-sent: the session is idle in its transaction, the state
    :data:`IDLE_TRANSACTION_SECONDS` bounds. (Sent at once, a statement left the session
    "active", waiting for the rest of the pipeline with the rows it had locked, for as long
    as the gateway was stopped there.)"""

    def __init__(
        self,
        connector: PostgresConnector,
        conn: Conn,
        pipeline: Pipeline | None,
        notified: list[bool],
    ) -> None:
        self._connector = connector
        self._conn = conn
        self._pipeline = pipeline
        self._notified = notified
        self._held: list[Request | bytes] = []

    def hold(self, request: Request | bytes) -> None:
        """Keep ``request`` until the next one that is sent."""
        self._held.append(request)

    async def send_held(self) -> None:
        """Send what is held, in order."""
        held, self._held = self._held, []
        for request in held:
            await self._connector.answer(self._conn, request, self._pipeline)

    async def __call__(self, request: Request) -> Any:
        if isinstance(request, Notify):
            self._notified.append(True)
            return None
        read = isinstance(request, Query) and request.fetch != "none"
        if self._pipeline is not None and not read:
            self.hold(request)
            return None
        await self.send_held()
        return await self._connector.answer(self._conn, request, self._pipeline)


class _Steps(Generic[T]):
    """A transaction script driven one request at a time, its return value kept."""

    def __init__(self, script: Script[T]) -> None:
        self._script = script
        self.result: T

    def send(self, answer: Any) -> Request | None:
        """The script's next request, or ``None`` once it has returned."""
        try:
            return self._script.send(answer)
        except StopIteration as finished:
            self.result = finished.value
            return None

    def finish(self, answer: Any) -> T:
        """Answer the ``last`` query (after the commit): the script must return."""
        request = self.send(answer)
        if request is not None:
            raise after_last(request)
        return self.result

    def close(self) -> None:
        self._script.close()


async def unreachable_reason(url: str) -> str | None:
    """Why a first connection to ``url`` fails, in the server's or the network's words
    (refused, unknown host, a password or database the server refuses), or ``None`` when one
    succeeds now. The pool's own error only says it waited (``pool initialization incomplete
    after 30.0 sec``); its attempts' reasons went to warnings an operator has to look for."""
    try:
        conn = await psycopg.AsyncConnection.connect(url, connect_timeout=5)
    except psycopg.Error as exc:
        return " ".join(str(exc).split()) or type(exc).__name__
    await conn.close()
    return None


class PostgresStore(Store):
    """The store on a PostgreSQL database."""

    @classmethod
    async def open(
        cls,
        url: str,
        *,
        clock: Clock = utcnow,
        queue_clock: Clock | None = None,
        min_size: int = 1,
        max_size: int = 20,
        timeout: float = 30.0,
        reconnect_seconds: float = RECONNECT_SECONDS,
        idle_transaction_seconds: float = IDLE_TRANSACTION_SECONDS,
    ) -> PostgresStore:
        """Open a pool on ``postgresql://...`` and wait for a first connection; lost
        connections are then replaced as :data:`RECONNECT_SECONDS` says. Each connection's
        transactions may sit idle for ``idle_transaction_seconds`` (0: as long as the
        server's own setting lets them; see :data:`IDLE_TRANSACTION_SECONDS`).

        ``queue_clock`` (tests only) decides the job queue's times instead of the
        database's clock (see :attr:`~gateway.store.connector.Connector.queue_clock`)."""
        reachability = Reachability(idle_transaction_seconds)
        pool: AsyncConnectionPool[Conn] = AsyncConnectionPool(
            url,
            connection_class=psycopg.AsyncConnection[DictRow],
            kwargs={"row_factory": dict_row, "autocommit": True},
            min_size=min_size,
            max_size=max_size,
            timeout=timeout,
            configure=reachability.connected,
            reconnect_failed=reachability.gave_up,
            open=False,
        )
        try:
            await pool.open(wait=True, timeout=timeout)
        except Exception as exc:
            await pool.close()
            why = await unreachable_reason(url) or str(exc)
            raise StoreError(f"cannot connect to PostgreSQL: {why}") from exc
        pool.reconnect_timeout = reconnect_seconds
        connector = PostgresConnector(pool, url, reachability)
        connector.queue_clock = queue_clock
        return cls(connector, clock=clock)
