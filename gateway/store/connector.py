"""What the store's transaction logic asks of a database, and the connectors that answer.

The logic (:mod:`gateway.store.scripts`) is written once, as *transaction scripts*: each
store operation is a generator that yields requests — run the named query of the
database's ``.sql`` file (:class:`Query`), run it once per parameter set
(:class:`QueryMany`), wake the workers once committed (:class:`Notify`), apply a migration
(:class:`Migrate`) — and is sent each result back. It does no I/O itself, so the same
script runs on SQLite's writer thread (driven synchronously, :func:`drive`) and on
PostgreSQL's async driver (:func:`drive_async`).

A :class:`Connector` is the thin, database-specific part: it runs one script as one
transaction, turns parameter values into what its driver takes (:meth:`Connector.adapt`:
times, JSON, lists), maps driver errors to :class:`~gateway.store.records.StoreError`,
and waits for job wake-ups. Nothing above it imports a database driver.
"""

from __future__ import annotations

import abc
from collections.abc import Awaitable, Callable, Generator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any, ClassVar, Literal, TypeVar

from gateway.store import rows
from gateway.store.records import Clock, StoreError

T = TypeVar("T")
Row = dict[str, Any]
"""A result row: column name to value."""

PLAIN_TYPES: frozenset[type] = frozenset({str, int, float, bool, bytes, type(None)})
"""Parameter types bound unchanged by every connector (exact types: an enumeration that is
also a ``str`` is not one of them)."""

Fetch = Literal["one", "all", "none", "rowcount"]
"""What a :class:`Query` sends back: the first row (or ``None``), every row, nothing, or
the number of rows it changed."""


@dataclass(frozen=True, slots=True)
class Query:
    """Run the named query of the database's ``.sql`` file with ``params``."""

    name: str
    params: Mapping[str, Any] = field(default_factory=dict)
    fetch: Fetch = "none"
    last: bool = False
    """The script's last request (it yields nothing after it): a database may send it
    together with the ``COMMIT`` and answer it once committed, so the row locks it takes
    are held for no round trip (PostgreSQL: queued in the pipeline with the ``COMMIT``, one
    sync, see :meth:`~gateway.store.postgres.PostgresConnector.write`). A script that yields again
    after it is a programming error: SQLite refuses it before the commit (rolled back),
    PostgreSQL only once committed."""


@dataclass(frozen=True, slots=True)
class QueryMany:
    """Run the named query once per parameter set (sends back nothing). Every set has
    the same keys. A query file may have a ``<name>_rows`` block, the form used here:
    PostgreSQL's takes each parameter as an array and sends all sets as one statement (one
    to plan and execute instead of one per set); SQLite's, stepped once per set in process,
    leaves out the ``RETURNING`` (it would copy each row, documents included, back out)."""

    name: str
    params: Sequence[Mapping[str, Any]]


@dataclass(frozen=True, slots=True)
class Notify:
    """Wake the workers waiting for jobs (:meth:`Connector.wait_for_jobs`) once the
    transaction has committed (sends back nothing)."""


@dataclass(frozen=True, slots=True)
class Migrate:
    """Run one migration script (several statements; sends back nothing)."""

    sql: str


Request = Query | QueryMany | Notify | Migrate

Script = Generator[Request, Any, T]
"""A transaction script: yields requests, is sent their results, returns its outcome."""


@dataclass(frozen=True, slots=True)
class JsonValue:
    """A JSON column's value, already encoded (strict JSON, see
    :func:`gateway.store.rows.encode_json`): a value that is not JSON is refused naming
    the field before anything is written."""

    text: str

    @classmethod
    def of(cls, value: Mapping[str, Any] | None, what: str) -> JsonValue:
        return cls(rows.encode_json(value, what))


def is_last(request: Request) -> bool:
    """Whether ``request`` is a :class:`Query` marked as its script's last."""
    return isinstance(request, Query) and request.last


def after_last(request: Request) -> StoreError:
    """The error for a script that yielded ``request`` after its ``last`` query."""
    return StoreError(f"a transaction script yielded {request!r} after its last query")


def drive(script: Script[T], execute: Callable[[Request], Any]) -> T:
    """Run ``script`` to its end, answering each request with ``execute`` (synchronous)."""
    try:
        request = next(script)
        while True:
            answered = execute(request)
            if is_last(request):
                raise after_last(script.send(answered))
            request = script.send(answered)
    except StopIteration as finished:
        result: T = finished.value
        return result
    finally:
        script.close()


async def drive_async(script: Script[T], execute: Callable[[Request], Awaitable[Any]]) -> T:
    """Run ``script`` to its end, answering each request with ``await execute``."""
    try:
        request = next(script)
        while True:
            answered = await execute(request)
            if is_last(request):
                raise after_last(script.send(answered))
            request = script.send(answered)
    except StopIteration as finished:
        result: T = finished.value
        return result
    finally:
        script.close()


class Connector(abc.ABC):
    """One database behind the store: runs transaction scripts, nothing else."""

    backend: str
    """The name of its migrations folder and ``.sql`` file (``sqlite``, ``postgres``)."""

    database_clock: ClassVar[bool] = False
    """Whether the job queue runs on the database's own clock (PostgreSQL, which every
    replica shares): a script then passes no time for a lease or a due check and the SQL
    reads the database's ``now()``, so hosts whose clocks disagree still agree on which
    lease is live and which job is due. ``False`` (SQLite, one host): the store's clock."""

    queue_clock: Clock | None = None
    """A clock deciding the job queue's times instead (tests: a fake clock moves leases and
    schedules on PostgreSQL too); ``None`` in service."""

    def queue_time(self, clock: Clock) -> datetime | None:
        """The time one transaction's job-queue decisions (lease grants and expiry, due
        jobs, retry times) are made at: :attr:`queue_clock`'s when set, else ``None`` where
        the database's own clock decides (:attr:`database_clock`), else ``clock``'s."""
        if self.queue_clock is not None:
            return self.queue_clock()
        return None if self.database_clock else clock()

    @abc.abstractmethod
    async def read(self, script: Script[T]) -> T:
        """Run a script that only reads, as one transaction."""

    @abc.abstractmethod
    async def write(self, script: Script[T]) -> T:
        """Run a script as one transaction, durable when this returns."""

    async def write_one(self, script: Script[T]) -> T:
        """Run a script whose first statement is its only change (what follows only
        reads): a database may then skip the transaction block around it (one statement
        is atomic on its own). Durable when this returns, like :meth:`write`."""
        return await self.write(script)

    async def read_bounded(self, script: Script[T], seconds: float) -> T:
        """Run a script that only reads, each statement giving up after ``seconds`` of
        waiting for a lock or running (a :class:`~gateway.store.records.StoreError`), so a
        check of the store fails fast and gives its connection back while a migration
        holds a table. The default is :meth:`read`: SQLite's reader, in WAL mode, waits for
        no writer, a migration's included."""
        return await self.read(script)

    @abc.abstractmethod
    async def migrate(self, script: Script[T]) -> T:
        """Run the migration script as one transaction, excluding concurrent migrations."""

    @abc.abstractmethod
    async def wait_for_jobs(self, timeout: float) -> bool:
        """Wait until jobs may be due or ``timeout`` seconds pass; ``True`` if woken."""

    @abc.abstractmethod
    async def close(self) -> None:
        """Release connections and threads. Idempotent."""

    @abc.abstractmethod
    def adapt(self, value: Any) -> Any:
        """A parameter value as the driver takes it (``datetime``, :class:`JsonValue`,
        lists and tuples are the values that differ between databases)."""

    def bind(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """Every parameter :meth:`adapt`-ed (enumerations by their value). Values of the
        types every driver takes as they are (:data:`PLAIN_TYPES`: most of them) skip the
        checks: this runs for every parameter of every statement."""
        adapt = self.adapt
        return {
            key: value
            if type(value) in PLAIN_TYPES
            else adapt(value.value if isinstance(value, Enum) else value)
            for key, value in params.items()
        }
