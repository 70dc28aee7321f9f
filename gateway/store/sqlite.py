"""The embedded store: one SQLite file in WAL mode.

:class:`SqliteConnector` runs each transaction script on a connection owned by a thread,
so the event loop never blocks on disk: writes go to one writer thread that commits
whatever writes queued up together (:mod:`gateway.store.sqlite_commit`: each write its own
savepoint, one ``fsync`` per group, ``synchronous=FULL``); reads run on a second
connection, which in WAL mode never waits for a writer. Writers start with ``BEGIN
IMMEDIATE``, which makes SQLite serialise them across connections and processes (the busy
timeout makes the others wait). Several stores, or processes, may share one file;
``wait_for_jobs`` is then a short poll, woken at once by jobs this store queues.

Times are stored as ISO 8601 UTC text with microseconds (they sort as text), JSON as text,
lists (claim filters, output kinds) as JSON arrays read with ``json_each``.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import sqlite3
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import unquote, urlsplit

from gateway.private_files import private_dir, touch_private
from gateway.store.base import Store
from gateway.store.connector import (
    Connector,
    JsonValue,
    Notify,
    Query,
    QueryMany,
    Request,
    Row,
    Script,
    drive,
)
from gateway.store.ledger_chain import sha256_hex
from gateway.store.records import Clock, ConflictError, StoreError, utcnow
from gateway.store.sql import load_queries, split_statements
from gateway.store.sqlite_commit import GroupCommitter

T = TypeVar("T")
Conn = sqlite3.Connection

STATEMENT_CACHE = 256
"""Prepared statements kept per connection (more than the store's queries)."""


def _dict_row(cursor: sqlite3.Cursor, values: tuple[Any, ...]) -> Row:
    return {column[0]: value for column, value in zip(cursor.description, values, strict=True)}


def _sql_sha256(text: str | None) -> str | None:
    """SQL ``lingang_sha256(text)``: the export ledger chain's hash function
    (:func:`~gateway.store.ledger_chain.sha256_hex`; see ``queries/ledger.sqlite.sql``)."""
    return None if text is None else sha256_hex(text)


def sqlite_path(url: str) -> Path:
    """The file named by ``sqlite:///relative.db`` or ``sqlite:////absolute.db``
    (a plain path is accepted too)."""
    if not url.startswith("sqlite:"):
        return Path(url)
    parts = urlsplit(url)
    path = unquote(parts.path)
    if parts.netloc:
        raise StoreError(f"sqlite URL must not name a host: {parts.netloc!r}", field="url")
    if path.startswith("/"):
        path = path[1:]  # "sqlite:///x" is relative, "sqlite:////x" absolute
    if not path:
        raise StoreError("sqlite URL names no file", field="url")
    return Path(path)


@functools.lru_cache(maxsize=1024)
def ts(value: datetime) -> str:
    """A time as stored: ISO 8601 UTC with microseconds (sorts as text).

    Remembered for recent times: a transaction passes its one ``now`` to most of its
    statements (equal datetimes are the same instant, so they share one text)."""
    return value.astimezone(UTC).isoformat(timespec="microseconds")


class SqliteConnector(Connector):
    """Runs transaction scripts on one SQLite file (see the module docstring)."""

    backend = "sqlite"

    def __init__(self, path: Path, *, poll_interval: float, busy_timeout: float) -> None:
        self.path = path
        self.poll_interval = poll_interval
        self.busy_timeout = busy_timeout
        self._queries = {
            name: split_statements(text if text.endswith(";") else f"{text};")
            for name, text in load_queries("sqlite").items()
        }
        """Each named query's statements: SQLite writes one table per statement, so a query
        that PostgreSQL runs as one statement (a data-modifying ``WITH``) is several here,
        run in order in the same transaction; the last one's rows are the result."""
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="lingang-sqlite-reader")
        self._reader: Conn | None = None
        """The reader connection (on the executor's thread)."""
        self.writer = GroupCommitter(self._connect)
        """The writer thread (its ``groups`` counts commits)."""
        self._wake = asyncio.Event()
        self._closed = False

    def _connect(self) -> Conn:
        """A connection as every thread of the store uses it.

        ``temp_store=MEMORY`` keeps the savepoint journal of a group commit (each write is a
        ``SAVEPOINT``, :mod:`gateway.store.sqlite_commit`) in memory: otherwise SQLite
        spills it, past 64 KiB, to a temporary file it creates, writes page by page and
        unlinks in every group — thousands of ``pwrite`` calls a second under load, on the
        writer thread. That journal only rolls back one write inside the open transaction;
        crash recovery uses the WAL, so durability is unchanged. The statement cache holds
        every query the store has (about 140 statements), so none is prepared twice."""
        conn = sqlite3.connect(
            self.path,
            timeout=self.busy_timeout,
            isolation_level=None,
            check_same_thread=False,
            cached_statements=STATEMENT_CACHE,
        )
        conn.row_factory = _dict_row
        conn.create_function("lingang_sha256", 1, _sql_sha256, deterministic=True)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA temp_store=MEMORY")
        return conn

    def adapt(self, value: Any) -> Any:
        if isinstance(value, datetime):
            return ts(value)
        if isinstance(value, JsonValue):
            return value.text
        if isinstance(value, list | tuple):
            return json.dumps(list(value))
        return value

    # -- running scripts ------------------------------------------------------------

    def _run(self, conn: Conn, script: Script[T]) -> tuple[T, bool]:
        """Drive ``script`` on ``conn`` (inside a transaction the caller manages);
        ``(result, whether it asked to wake workers)``."""
        notified = False

        def execute(request: Request) -> Any:
            nonlocal notified
            if isinstance(request, Query):
                *leading, last = self._queries[request.name]
                bound = self.bind(request.params)
                for statement in leading:
                    conn.execute(statement, bound).fetchall()
                cursor = conn.execute(last, bound)
                if request.fetch == "one":
                    return cursor.fetchone()
                if request.fetch == "all":
                    return cursor.fetchall()
                cursor.fetchall()  # run a statement with RETURNING to its end
                return cursor.rowcount if request.fetch == "rowcount" else None
            if isinstance(request, QueryMany):
                statements = (
                    self._queries.get(f"{request.name}_rows") or self._queries[request.name]
                )
                for params in request.params:
                    bound = self.bind(params)
                    for statement in statements:
                        conn.execute(statement, bound).fetchall()
            elif isinstance(request, Notify):
                notified = True
            else:
                for statement in split_statements(request.sql):
                    conn.execute(statement)
            return None

        return drive(script, execute), notified

    def _read_on_thread(self, script: Script[T]) -> T:
        if self._reader is None:
            self._reader = self._connect()
        self._reader.execute("BEGIN")
        try:
            return self._run(self._reader, script)[0]
        finally:
            self._reader.execute("COMMIT")

    def _migrate_on_thread(self, script: Script[T]) -> T:
        """Migrations run on a connection of their own with foreign keys off: SQLite
        changes a table's constraints by rebuilding it, and with foreign keys on, dropping
        the old table would cascade. ``foreign_key_check`` then proves nothing broke."""
        conn = self._connect()
        try:
            conn.execute("PRAGMA foreign_keys=OFF")
            conn.execute("BEGIN IMMEDIATE")
            result = self._run(conn, script)[0]
            if conn.execute("PRAGMA foreign_key_check").fetchone() is not None:
                raise StoreError("a migration left rows breaking a foreign key")
            conn.execute("COMMIT")
            return result
        finally:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            conn.close()

    async def read(self, script: Script[T]) -> T:
        self._check_open()
        loop = asyncio.get_running_loop()
        with _translated_errors(self):
            return await loop.run_in_executor(self._executor, self._read_on_thread, script)

    async def write(self, script: Script[T]) -> T:
        self._check_open()
        with _translated_errors(self):
            result, notified = await self.writer.submit_from(
                asyncio.get_running_loop(), lambda conn: self._run(conn, script)
            )
        if notified:
            self._wake.set()
        return result  # type: ignore[no-any-return]

    async def migrate(self, script: Script[T]) -> T:
        self._check_open()
        loop = asyncio.get_running_loop()
        with _translated_errors(self):
            return await loop.run_in_executor(None, self._migrate_on_thread, script)

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError("store is closed")

    # -- wake-ups and life cycle ----------------------------------------------------

    async def wait_for_jobs(self, timeout: float) -> bool:
        try:
            await asyncio.wait_for(self._wake.wait(), max(0.0, min(timeout, self.poll_interval)))
        except TimeoutError:
            return False
        self._wake.clear()
        return True

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True

        def shut() -> None:
            if self._reader is not None:
                self._reader.close()
                self._reader = None

        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, self.writer.close)
        await loop.run_in_executor(self._executor, shut)
        self._executor.shutdown(wait=True)


@contextlib.contextmanager
def _translated_errors(connector: SqliteConnector) -> Iterator[None]:
    """Turns sqlite3 errors into store errors (a violated constraint is a conflict; a file
    another process kept locked past the busy timeout is named, with what to do)."""
    try:
        yield
    except sqlite3.IntegrityError as exc:
        raise ConflictError(f"constraint violated: {exc}") from exc
    except sqlite3.OperationalError as exc:
        if getattr(exc, "sqlite_errorcode", 0) & 0xFF == sqlite3.SQLITE_BUSY:
            raise StoreError(
                f"sqlite: {connector.path} is locked: another process kept it locked for "
                f"{connector.busy_timeout:g} s (a long write, or a program holding a "
                "transaction open); try again once it has finished"
            ) from exc
        raise StoreError(f"sqlite: {exc}") from exc
    except sqlite3.Error as exc:
        raise StoreError(f"sqlite: {exc}") from exc


class SqliteStore(Store):
    """The store on an SQLite file."""

    def __init__(
        self,
        path: str | Path,
        *,
        clock: Clock = utcnow,
        queue_clock: Clock | None = None,
        poll_interval: float = 0.5,
        busy_timeout: float = 30.0,
    ) -> None:
        connector = SqliteConnector(
            Path(path), poll_interval=poll_interval, busy_timeout=busy_timeout
        )
        connector.queue_clock = queue_clock
        super().__init__(connector, clock=clock)
        self.writer = connector.writer
        """The group committer (for tests and diagnostics)."""

    @classmethod
    async def open(cls, url: str, **options: Any) -> SqliteStore:
        """Open (creating the file and its folder if needed) and check the connection.

        A new folder is ``0700``; the database file is ``0600`` (SQLite gives its WAL and
        shared-memory files the database file's mode)."""
        path = sqlite_path(url)
        if not path.parent.exists():
            private_dir(path.parent)
        if str(path) != ":memory:":
            for companion in (
                path,
                path.with_name(path.name + "-wal"),
                path.with_name(path.name + "-shm"),
            ):
                if companion == path or companion.exists():
                    touch_private(companion)
        store = cls(path, **options)
        await store.ping()
        return store
