"""The embedded store: one SQLite file in WAL mode.

Every operation is one transaction on a connection owned by a thread, so the event loop
never blocks on disk: writes go to one writer thread that commits whatever writes queued up
together (:mod:`gateway.store.sqlite_commit`: each write its own savepoint, one ``fsync``
per group, ``synchronous=FULL``); reads run on a second connection, which in WAL mode
never waits for a writer. Writers start with ``BEGIN IMMEDIATE``, which makes SQLite
serialise them across connections and processes (the busy timeout makes the others wait). Several :class:`SqliteStore` instances, or processes, may share
one file; ``wait_for_jobs`` is then a short poll, woken at once by jobs this instance
enqueues.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Callable, Collection, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import unquote, urlsplit

from gateway.private_files import private_dir, touch_private
from gateway.store import rows
from gateway.store.base import (
    ApiKey,
    BreakerState,
    Clock,
    ConflictError,
    DirectoryEntry,
    Event,
    InboundMessage,
    Job,
    JobSpec,
    JobState,
    LeaseLostError,
    NotFoundError,
    Output,
    OutputSpec,
    Receipt,
    StateChange,
    Store,
    StoredReceipt,
    StoreError,
    Submission,
    Tenant,
    new_id,
    utcnow,
    with_job,
    with_jobs,
)
from gateway.store.migrations import load_migrations
from gateway.store.sql import load_queries, split_statements
from gateway.store.sqlite_commit import GroupCommitter

T = TypeVar("T")
Params = Mapping[str, Any]
Conn = sqlite3.Connection
Row = dict[str, Any]


def _dict_row(cursor: sqlite3.Cursor, values: tuple[Any, ...]) -> Row:
    return {column[0]: value for column, value in zip(cursor.description, values, strict=True)}


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


def ts(value: datetime) -> str:
    """A time as stored: ISO 8601 UTC with microseconds (sorts as text)."""
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def opt_ts(value: datetime | None) -> str | None:
    return None if value is None else ts(value)


def dump_json(value: Mapping[str, Any] | None, what: str) -> str:
    """Encode a JSON column (see :func:`gateway.store.rows.encode_json`)."""
    return rows.encode_json(value, what)


class SqliteStore(Store):
    """The SQLite implementation of :class:`Store`."""

    def __init__(
        self,
        path: str | Path,
        *,
        clock: Clock = utcnow,
        poll_interval: float = 0.5,
        busy_timeout: float = 30.0,
    ) -> None:
        self.path = Path(path)
        self.clock = clock
        self.poll_interval = poll_interval
        self.busy_timeout = busy_timeout
        self._q = load_queries("sqlite.sql")
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="lingang-sqlite-reader")
        self._conn: Conn | None = None
        """The reader connection (on the executor's thread)."""
        self._writer = GroupCommitter(self._open_connection)
        self._wake = asyncio.Event()
        self._closed = False

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

    # -- plumbing --------------------------------------------------------------------

    def _open_connection(self) -> Conn:
        conn = sqlite3.connect(
            self.path, timeout=self.busy_timeout, isolation_level=None, check_same_thread=False
        )
        conn.row_factory = _dict_row
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA foreign_keys=ON")
        return conn

    def _read(self, work: Callable[[Conn], T]) -> T:
        """A read-only transaction on the reader connection (WAL: never waits for writes)."""
        if self._conn is None:
            self._conn = self._open_connection()
        conn = self._conn
        conn.execute("BEGIN")
        try:
            return work(conn)
        finally:
            conn.execute("COMMIT")

    async def _tx(self, work: Callable[[Conn], T], *, write: bool = True) -> T:
        """Run ``work(conn)`` as one transaction: a write through the group committer
        (durable when this returns), a read on the reader thread."""
        if self._closed:
            raise StoreError("store is closed")
        try:
            if write:
                result: T = await asyncio.wrap_future(self._writer.submit(work))
                return result
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._executor, self._read, work)
        except sqlite3.IntegrityError as exc:
            raise ConflictError(f"constraint violated: {exc}") from exc
        except sqlite3.Error as exc:
            raise StoreError(f"sqlite: {exc}") from exc

    def _one(self, conn: Conn, name: str, params: Params) -> Row | None:
        row: Row | None = conn.execute(self._q[name], params).fetchone()
        return row

    def _all(self, conn: Conn, name: str, params: Params) -> list[Row]:
        return conn.execute(self._q[name], params).fetchall()

    def _now(self) -> str:
        return ts(self.clock())

    # -- life cycle ------------------------------------------------------------------

    async def migrate(self) -> int:
        migrations = load_migrations("sqlite")

        def work(conn: Conn) -> int:
            conn.execute(self._q["schema_version_table"])
            version = int(conn.execute(self._q["schema_version"]).fetchone()["version"])
            if version > len(migrations):
                raise StoreError(f"database schema {version} is newer than this gateway")
            for migration in migrations[version:]:
                for statement in split_statements(migration.sql):
                    conn.execute(statement)
                conn.execute(
                    self._q["insert_schema_version"],
                    {"version": migration.version, "name": migration.name, "now": self._now()},
                )
            return len(migrations)

        return await self._tx(work)

    async def schema_version(self) -> int:
        def work(conn: Conn) -> int:
            exists = conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'"
            ).fetchone()
            if not exists:
                return 0
            return int(conn.execute(self._q["schema_version"]).fetchone()["version"])

        return await self._tx(work, write=False)

    async def ping(self) -> None:
        await self._tx(lambda conn: conn.execute("SELECT 1").fetchone(), write=False)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True

        def shut() -> None:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, self._writer.close)
        await loop.run_in_executor(self._executor, shut)
        self._executor.shutdown(wait=True)

    # -- tenants and API keys --------------------------------------------------------

    async def create_tenant(self, name: str, *, tenant_id: str | None = None) -> Tenant:
        params = {"id": tenant_id or new_id(), "name": name, "now": self._now()}
        row = await self._tx(lambda c: self._one(c, "insert_tenant", params))
        assert row is not None
        return rows.tenant(row)

    async def get_tenant(self, tenant_id: str) -> Tenant | None:
        row = await self._tx(lambda c: self._one(c, "get_tenant", {"id": tenant_id}), write=False)
        return None if row is None else rows.tenant(row)

    async def list_tenants(self) -> list[Tenant]:
        found = await self._tx(lambda c: self._all(c, "list_tenants", {}), write=False)
        return [rows.tenant(r) for r in found]

    async def add_api_key(self, tenant_id: str, key_hash: str, *, label: str = "") -> ApiKey:
        params = {
            "id": new_id(),
            "tenant_id": tenant_id,
            "key_hash": key_hash,
            "label": label,
            "now": self._now(),
        }
        row = await self._tx(lambda c: self._one(c, "insert_api_key", params))
        assert row is not None
        return rows.api_key(row)

    async def tenant_for_key_hash(self, key_hash: str) -> Tenant | None:
        params = {"key_hash": key_hash}
        row = await self._tx(lambda c: self._one(c, "tenant_for_key_hash", params), write=False)
        return None if row is None else rows.tenant(row)

    async def list_api_keys(self, tenant_id: str) -> list[ApiKey]:
        params = {"tenant_id": tenant_id}
        found = await self._tx(lambda c: self._all(c, "list_api_keys", params), write=False)
        return [rows.api_key(r) for r in found]

    async def revoke_api_key(self, key_id: str) -> None:
        params = {"id": key_id, "now": self._now()}
        await self._tx(lambda c: c.execute(self._q["revoke_api_key"], params))

    # -- partner directory -----------------------------------------------------------

    async def put_directory_entry(
        self, tenant_id: str, kind: str, key: str, document: Mapping[str, Any]
    ) -> DirectoryEntry:
        params = {
            "tenant_id": tenant_id,
            "kind": kind,
            "key": key,
            "document": dump_json(document, "document"),
            "now": self._now(),
        }
        row = await self._tx(lambda c: self._one(c, "put_directory_entry", params))
        assert row is not None
        return rows.directory_entry(row)

    async def get_directory_entry(
        self, tenant_id: str, kind: str, key: str
    ) -> DirectoryEntry | None:
        params = {"tenant_id": tenant_id, "kind": kind, "key": key}
        row = await self._tx(lambda c: self._one(c, "get_directory_entry", params), write=False)
        return None if row is None else rows.directory_entry(row)

    async def list_directory(self, tenant_id: str, kind: str | None = None) -> list[DirectoryEntry]:
        params = {"tenant_id": tenant_id, "kind": kind}
        found = await self._tx(lambda c: self._all(c, "list_directory", params), write=False)
        return [rows.directory_entry(r) for r in found]

    async def delete_directory_entry(self, tenant_id: str, kind: str, key: str) -> bool:
        params = {"tenant_id": tenant_id, "kind": kind, "key": key}
        cursor = await self._tx(lambda c: c.execute(self._q["delete_directory_entry"], params))
        return cursor.rowcount > 0

    async def replace_directory(
        self, tenant_id: str, entries: Sequence[tuple[str, str, Mapping[str, Any]]]
    ) -> int:
        now = self._now()
        puts = [
            {
                "tenant_id": tenant_id,
                "kind": kind,
                "key": key,
                "document": dump_json(document, "document"),
                "now": now,
            }
            for kind, key, document in entries
        ]
        keep = {(kind, key) for kind, key, _ in entries}

        def work(conn: Conn) -> int:
            for params in puts:
                self._one(conn, "put_directory_entry", params)
            listed = self._all(conn, "list_directory", {"tenant_id": tenant_id, "kind": None})
            gone = [r for r in map(rows.directory_entry, listed) if (r.kind, r.key) not in keep]
            for entry in gone:
                params = {"tenant_id": tenant_id, "kind": entry.kind, "key": entry.key}
                conn.execute(self._q["delete_directory_entry"], params)
            return len(gone)

        return await self._tx(work)

    # -- submissions, outputs, events ------------------------------------------------

    async def create_submission(
        self,
        tenant_id: str,
        data: bytes,
        *,
        content_type: str,
        filename: str | None = None,
        idempotency_key: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        state: str = "received",
        reason: str | None = None,
        enqueue: JobSpec | None = None,
    ) -> tuple[Submission, bool]:
        now = self.clock()
        params = {
            "id": new_id(),
            "tenant_id": tenant_id,
            "idempotency_key": idempotency_key,
            "data": bytes(data),
            "content_type": content_type,
            "filename": filename,
            "metadata": dump_json(metadata, "metadata"),
            "state": state,
            "now": ts(now),
        }

        def work(conn: Conn) -> tuple[Row, bool]:
            if self._one(conn, "get_tenant", {"id": tenant_id}) is None:
                raise NotFoundError(f"unknown tenant {tenant_id!r}", field="tenant_id")
            row = self._one(conn, "insert_submission", params)
            created = row is not None
            if row is None:
                row = self._one(conn, "submission_by_key", params)
                assert row is not None
            else:
                event = {**params, "submission_id": row["id"], "reason": reason, "detail": None}
                conn.execute(self._q["insert_event"], event)
            if enqueue is not None:
                self._insert_job(conn, row["id"], enqueue, enqueue.not_before or now, now)
            return row, created

        row, created = await self._tx(work)
        if enqueue is not None:
            self._wake.set()
        return rows.submission(row), created

    async def get_submission(self, tenant_id: str, submission_id: str) -> Submission | None:
        params = {"id": submission_id, "tenant_id": tenant_id}
        row = await self._tx(lambda c: self._one(c, "get_submission", params), write=False)
        return None if row is None else rows.submission(row)

    async def get_submission_any_tenant(self, submission_id: str) -> Submission | None:
        params = {"id": submission_id}
        row = await self._tx(
            lambda c: self._one(c, "get_submission_any_tenant", params), write=False
        )
        return None if row is None else rows.submission(row)

    async def list_submissions(
        self,
        tenant_id: str,
        *,
        state: str | None = None,
        limit: int = 50,
        before: datetime | None = None,
    ) -> list[Submission]:
        params = {"tenant_id": tenant_id, "state": state, "limit": limit, "before": opt_ts(before)}
        found = await self._tx(lambda c: self._all(c, "list_submissions", params), write=False)
        return [rows.submission(r) for r in found]

    async def count_submissions_by_state(self) -> dict[str, int]:
        found = await self._tx(
            lambda c: self._all(c, "count_submissions_by_state", {}), write=False
        )
        return {r["state"]: int(r["n"]) for r in found}

    async def count_jobs_by_state(self) -> dict[JobState, int]:
        found = await self._tx(lambda c: self._all(c, "count_jobs_by_state", {}), write=False)
        return {state: 0 for state in JobState} | {JobState(r["state"]): int(r["n"]) for r in found}

    async def record_event(
        self,
        submission_id: str,
        state: str,
        *,
        reason: str | None = None,
        detail: Mapping[str, Any] | None = None,
    ) -> Event:
        params = {
            "submission_id": submission_id,
            "state": state,
            "reason": reason,
            "detail": None if detail is None else dump_json(detail, "detail"),
            "now": self._now(),
        }

        def work(conn: Conn) -> Row:
            updated = conn.execute(self._q["set_submission_state"], params).rowcount
            if not updated:
                raise NotFoundError(f"unknown submission {submission_id!r}")
            row = self._one(conn, "insert_event", params)
            assert row is not None
            return row

        return rows.event(await self._tx(work))

    async def list_events(self, submission_id: str) -> list[Event]:
        params = {"submission_id": submission_id}
        found = await self._tx(lambda c: self._all(c, "list_events", params), write=False)
        return [rows.event(r) for r in found]

    async def put_output(
        self, submission_id: str, kind: str, media_type: str, data: bytes
    ) -> Output:
        params = {
            "submission_id": submission_id,
            "kind": kind,
            "media_type": media_type,
            "data": bytes(data),
            "now": self._now(),
        }
        row = await self._tx(lambda c: self._one(c, "put_output", params))
        assert row is not None
        return rows.output(row)

    async def get_output(self, submission_id: str, kind: str) -> Output | None:
        params = {"submission_id": submission_id, "kind": kind}
        row = await self._tx(lambda c: self._one(c, "get_output", params), write=False)
        return None if row is None else rows.output(row)

    async def list_outputs(self, submission_id: str) -> list[Output]:
        params = {"submission_id": submission_id}
        found = await self._tx(lambda c: self._all(c, "list_outputs", params), write=False)
        return [rows.output(r) for r in found]

    # -- outbox ----------------------------------------------------------------------

    async def enqueue_job(
        self,
        submission_id: str,
        adapter: str,
        endpoint: str,
        *,
        message_id: str | None = None,
        payload_ref: str | None = None,
        not_before: datetime | None = None,
        event: StateChange | None = None,
    ) -> Job:
        now = self.clock()
        spec = JobSpec(adapter, endpoint, payload_ref, message_id)

        def work(conn: Conn) -> Row:
            row, created = self._insert_job(conn, submission_id, spec, not_before or now, now)
            if created:
                self._change_state(conn, submission_id, with_job(event, row), ts(now))
            return row

        job = rows.job(await self._tx(work))
        self._wake.set()
        return job

    def _insert_job(
        self, conn: Conn, submission_id: str, spec: JobSpec, due: datetime, now: datetime
    ) -> tuple[Row, bool]:
        """Queue ``spec`` unless the submission has a job on that adapter; ``(row, new)``."""
        params = {
            "id": new_id(),
            "submission_id": submission_id,
            "adapter": spec.adapter,
            "endpoint": spec.endpoint,
            "payload_ref": spec.payload_ref,
            "message_id": spec.message_id or f"{new_id()}@lingang",
            "next_attempt_at": ts(due),
            "now": ts(now),
        }
        row = self._one(conn, "insert_job", params)
        if row is not None:
            return row, True
        existing = self._one(conn, "job_by_submission_adapter", params)
        assert existing is not None
        return existing, False

    async def get_job(self, job_id: str) -> Job | None:
        row = await self._tx(lambda c: self._one(c, "get_job", {"id": job_id}), write=False)
        return None if row is None else rows.job(row)

    async def list_jobs(
        self,
        *,
        submission_id: str | None = None,
        state: JobState | None = None,
        limit: int = 100,
    ) -> list[Job]:
        params = {"submission_id": submission_id, "state": state, "limit": limit}
        found = await self._tx(lambda c: self._all(c, "list_jobs", params), write=False)
        return [rows.job(r) for r in found]

    async def claim_jobs(
        self,
        worker_id: str,
        *,
        limit: int = 10,
        lease_seconds: float = 60.0,
        exclude_endpoints: Collection[str] = (),
    ) -> list[Job]:
        now = self.clock()
        params = {
            "worker_id": worker_id,
            "limit": limit,
            "now": ts(now),
            "lease_expires_at": ts(now + timedelta(seconds=lease_seconds)),
            "excluded": json.dumps(sorted(exclude_endpoints)),
        }
        found = await self._tx(lambda c: self._all(c, "claim_jobs", params))
        return sorted((rows.job(r) for r in found), key=lambda j: (j.next_attempt_at, j.id))

    def _fenced(self, conn: Conn, name: str, params: Params) -> Row:
        """Run an owner-fenced update; raise when the job is unknown or the lease lost."""
        row = self._one(conn, name, params)
        if row is None:
            if self._one(conn, "get_job", params) is None:
                raise NotFoundError(f"unknown job {params['id']!r}")
            raise LeaseLostError(f"job {params['id']} is not leased to {params['worker_id']}")
        return row

    async def renew_lease(self, job_id: str, worker_id: str, lease_seconds: float) -> Job:
        now = self.clock()
        params = {
            "id": job_id,
            "worker_id": worker_id,
            "now": ts(now),
            "lease_expires_at": ts(now + timedelta(seconds=lease_seconds)),
        }
        return rows.job(await self._tx(lambda c: self._fenced(c, "renew_lease", params)))

    async def complete_job(
        self,
        job_id: str,
        worker_id: str,
        receipt: Receipt | None,
        *,
        event: StateChange | None = None,
    ) -> Job:
        params = {"id": job_id, "worker_id": worker_id, "now": self._now()}

        def work(conn: Conn) -> Row:
            row = self._fenced(conn, "complete_job", params)
            if receipt is not None:
                self._insert_receipt(conn, job_id, receipt, params["now"])
            self._change_state(conn, row["submission_id"], event, params["now"])
            return row

        return rows.job(await self._tx(work))

    async def finish_processing(
        self,
        job_id: str,
        worker_id: str,
        *,
        outputs: Sequence[OutputSpec] = (),
        event: StateChange | None = None,
        enqueue: JobSpec | None = None,
    ) -> Job | None:
        now = self.clock()
        params = {"id": job_id, "worker_id": worker_id, "now": ts(now)}

        def work(conn: Conn) -> Row | None:
            done = self._fenced(conn, "complete_job", params)
            submission_id = done["submission_id"]
            for output in outputs:
                conn.execute(
                    self._q["put_output"],
                    {
                        "submission_id": submission_id,
                        "kind": output.kind,
                        "media_type": output.media_type,
                        "data": bytes(output.data),
                        "now": params["now"],
                    },
                ).fetchall()
            if enqueue is None:
                self._change_state(conn, submission_id, event, params["now"])
                return None
            due = enqueue.not_before or now
            row, _ = self._insert_job(conn, submission_id, enqueue, due, now)
            self._change_state(conn, submission_id, with_job(event, row), params["now"])
            return row

        row = await self._tx(work)
        if row is None:
            return None
        self._wake.set()
        return rows.job(row)

    def _change_state(
        self, conn: Conn, submission_id: str, event: StateChange | None, now: str
    ) -> None:
        if event is None:
            return
        params = {
            "submission_id": submission_id,
            "state": event.state,
            "reason": event.reason,
            "detail": None if event.detail is None else dump_json(event.detail, "detail"),
            "now": now,
        }
        conn.execute(self._q["set_submission_state"], params)
        conn.execute(self._q["insert_event"], params)

    def _insert_receipt(self, conn: Conn, job_id: str, receipt: Receipt, now: str) -> Row:
        params = {
            "id": new_id(),
            "job_id": job_id,
            "kind": receipt.kind,
            "data": bytes(receipt.data),
            "media_type": receipt.media_type,
            "detail": dump_json(receipt.detail, "receipt.detail"),
            "now": now,
        }
        row = self._one(conn, "insert_receipt", params)
        assert row is not None
        return row

    async def fail_job(
        self,
        job_id: str,
        worker_id: str,
        error: str,
        *,
        retryable: bool,
        next_attempt_at: datetime | None,
        event: StateChange | None = None,
    ) -> Job:
        now = self._now()
        params = {
            "id": job_id,
            "worker_id": worker_id,
            "error": error,
            "retryable": int(retryable),
            "state": JobState.DEAD if next_attempt_at is None else JobState.PENDING,
            "next_attempt_at": opt_ts(next_attempt_at),
            "now": now,
        }

        def work(conn: Conn) -> Row:
            row = self._fenced(conn, "fail_job", params)
            self._change_state(conn, row["submission_id"], event, now)
            return row

        return rows.job(await self._tx(work))

    async def defer_job(self, job_id: str, worker_id: str, until: datetime) -> Job:
        params = {"id": job_id, "worker_id": worker_id, "until": ts(until), "now": self._now()}
        return rows.job(await self._tx(lambda c: self._fenced(c, "defer_job", params)))

    async def retry_job(self, job_id: str) -> Job:
        params = {"id": job_id, "now": self._now()}

        def work(conn: Conn) -> Row:
            row = self._one(conn, "retry_job", params)
            if row is None:
                current = self._one(conn, "get_job", params)
                if current is None:
                    raise NotFoundError(f"unknown job {job_id!r}")
                raise ConflictError(
                    f"job {job_id} is {current['state']}; only dead or waiting jobs can be retried"
                )
            return row

        job = rows.job(await self._tx(work))
        self._wake.set()
        return job

    async def retry_submission(
        self, submission_id: str, *, event: StateChange | None = None
    ) -> list[Job]:
        params = {"submission_id": submission_id, "now": self._now()}

        def work(conn: Conn) -> list[Row]:
            found = self._all(conn, "retry_submission", params)
            if found:
                change = with_jobs(event, [r["id"] for r in found])
                self._change_state(conn, submission_id, change, params["now"])
            return found

        found = await self._tx(work)
        self._wake.set()
        return [rows.job(r) for r in found]

    async def release_jobs(self, worker_id: str) -> int:
        params = {"worker_id": worker_id, "now": self._now()}
        cursor = await self._tx(lambda c: c.execute(self._q["release_jobs"], params))
        if cursor.rowcount:
            self._wake.set()
        return int(cursor.rowcount)

    async def wait_for_jobs(self, timeout: float) -> bool:
        try:
            await asyncio.wait_for(self._wake.wait(), max(0.0, min(timeout, self.poll_interval)))
        except TimeoutError:
            return False
        self._wake.clear()
        return True

    # -- receipts --------------------------------------------------------------------

    async def add_receipt(self, job_id: str, receipt: Receipt) -> StoredReceipt:
        now = self._now()

        def work(conn: Conn) -> Row:
            if self._one(conn, "get_job", {"id": job_id}) is None:
                raise NotFoundError(f"unknown job {job_id!r}")
            return self._insert_receipt(conn, job_id, receipt, now)

        return rows.receipt(await self._tx(work))

    async def list_receipts(
        self, *, job_id: str | None = None, submission_id: str | None = None
    ) -> list[StoredReceipt]:
        params = {"job_id": job_id, "submission_id": submission_id}
        found = await self._tx(lambda c: self._all(c, "list_receipts", params), write=False)
        return [rows.receipt(r) for r in found]

    # -- circuit breakers ------------------------------------------------------------

    async def get_breaker(self, endpoint: str) -> BreakerState:
        params = {"endpoint": endpoint}
        row = await self._tx(lambda c: self._one(c, "get_breaker", params), write=False)
        return BreakerState(endpoint=endpoint) if row is None else rows.breaker(row)

    async def update_breaker(self, state: BreakerState, expected_version: int) -> bool:
        params = {
            "endpoint": state.endpoint,
            "phase": state.phase.value,
            "failures": state.failures,
            "opened_at": opt_ts(state.opened_at),
            "expected_version": expected_version,
        }
        name = "insert_breaker" if expected_version == 0 else "update_breaker"
        cursor = await self._tx(lambda c: c.execute(self._q[name], params))
        return bool(cursor.rowcount)

    async def open_breakers(self) -> list[BreakerState]:
        found = await self._tx(lambda c: self._all(c, "open_breakers", {}), write=False)
        return [rows.breaker(r) for r in found]

    # -- inbound ---------------------------------------------------------------------

    async def remember_inbound(self, key: str) -> bool:
        params = {"key": key, "now": self._now()}
        cursor = await self._tx(lambda c: c.execute(self._q["remember_inbound"], params))
        return bool(cursor.rowcount)

    async def receive_inbound(
        self,
        *,
        channel: str,
        message_id: str,
        data: bytes,
        media_type: str,
        sender: str | None = None,
        receiver: str | None = None,
        tenant_id: str | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> tuple[InboundMessage, bool]:
        params = {
            "id": new_id(),
            "tenant_id": tenant_id,
            "channel": channel,
            "message_id": message_id,
            "sender": sender,
            "receiver": receiver,
            "data": bytes(data),
            "media_type": media_type,
            "metadata": dump_json(metadata, "metadata"),
            "now": self._now(),
        }

        def work(conn: Conn) -> tuple[Row, bool]:
            row = self._one(conn, "insert_inbound", params)
            if row is not None:
                return row, True
            first = self._one(conn, "inbound_by_message_id", params)
            assert first is not None
            return first, False

        row, first_seen = await self._tx(work)
        return rows.inbound(row), first_seen

    async def get_inbound(self, inbound_id: str) -> InboundMessage | None:
        row = await self._tx(lambda c: self._one(c, "get_inbound", {"id": inbound_id}), write=False)
        return None if row is None else rows.inbound(row)

    async def list_inbound(
        self, *, tenant_id: str | None = None, limit: int = 50
    ) -> list[InboundMessage]:
        params = {"tenant_id": tenant_id, "limit": limit}
        found = await self._tx(lambda c: self._all(c, "list_inbound", params), write=False)
        return [rows.inbound(r) for r in found]
