"""The shared store: PostgreSQL, for many gateway replicas and workers.

psycopg 3 (async) with a connection pool; each operation is one transaction. Workers
claim jobs with ``FOR UPDATE SKIP LOCKED`` (concurrent claimers skip each other's rows
instead of waiting) and are woken by ``NOTIFY lingang_outbox`` sent in the transaction
that queued the job, received on one dedicated ``LISTEN`` connection per store.
Migrations take a transaction-scoped advisory lock, so replicas starting together apply
them once.

Times (leases, schedules) come from the gateway's clock, like on SQLite, so tests can move
it; replicas therefore need synchronised clocks (NTP: skew far below the lease length). A
replica running ahead would take over leases early, which fencing keeps harmless to the
bookkeeping but which can cost a duplicate send (dropped by the receiver's message id).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar

import psycopg
from psycopg.rows import DictRow, dict_row
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

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
from gateway.store.sql import load_queries

T = TypeVar("T")
Conn = psycopg.AsyncConnection[DictRow]
Params = Mapping[str, Any]
CHANNEL = "lingang_outbox"

log = logging.getLogger("lingang.store")


def jsonb(value: Mapping[str, Any] | None, what: str) -> Jsonb:
    """A JSON column value, naming the field when it is not JSON-serialisable."""
    text = rows.encode_json(value, what)
    return Jsonb(dict(value or {}), dumps=lambda _: text)


class PostgresStore(Store):
    """The PostgreSQL implementation of :class:`Store`."""

    def __init__(self, pool: AsyncConnectionPool[Conn], conninfo: str, *, clock: Clock) -> None:
        self.clock = clock
        self._pool = pool
        self._conninfo = conninfo
        self._q = load_queries("postgres.sql")
        self._listener: Conn | None = None
        self._reader: asyncio.Task[None] | None = None
        self._listen_lock = asyncio.Lock()
        self._notified = asyncio.Event()
        self._pending = False
        self._closed = False

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
        return cls(pool, url, clock=clock)

    # -- plumbing --------------------------------------------------------------------

    async def _tx(self, work: Callable[[Conn], Awaitable[T]]) -> T:
        """Run ``work(conn)`` as one transaction on a pooled connection."""
        if self._closed:
            raise StoreError("store is closed")
        try:
            async with self._pool.connection() as conn, conn.transaction():
                return await work(conn)
        except (psycopg.errors.UniqueViolation, psycopg.errors.ForeignKeyViolation) as exc:
            raise ConflictError(f"constraint violated: {exc}") from exc
        except psycopg.Error as exc:
            raise StoreError(f"postgresql: {exc}") from exc

    async def _one(self, conn: Conn, name: str, params: Params) -> DictRow | None:
        cursor = await conn.execute(self._q[name], params)
        return await cursor.fetchone()

    async def _all(self, conn: Conn, name: str, params: Params) -> list[DictRow]:
        cursor = await conn.execute(self._q[name], params)
        return await cursor.fetchall()

    async def _count(self, conn: Conn, name: str, params: Params) -> int:
        cursor = await conn.execute(self._q[name], params)
        return cursor.rowcount

    def _first(self, name: str, params: Params) -> Callable[[Conn], Awaitable[DictRow | None]]:
        return lambda conn: self._one(conn, name, params)

    def _every(self, name: str, params: Params) -> Callable[[Conn], Awaitable[list[DictRow]]]:
        return lambda conn: self._all(conn, name, params)

    async def _must(self, name: str, params: Params) -> DictRow:
        row = await self._tx(self._first(name, params))
        assert row is not None, name
        return row

    # -- life cycle ------------------------------------------------------------------

    async def migrate(self) -> int:
        migrations = load_migrations("postgres")

        async def work(conn: Conn) -> int:
            await conn.execute(self._q["migration_lock"])
            await conn.execute(self._q["schema_version_table"])
            row = await self._one(conn, "schema_version", {})
            version = int(row["version"]) if row else 0
            if version > len(migrations):
                raise StoreError(f"database schema {version} is newer than this gateway")
            for migration in migrations[version:]:
                await conn.execute(migration.sql.encode())
                params = {"version": migration.version, "name": migration.name, "now": self.clock()}
                await conn.execute(self._q["insert_schema_version"], params)
            return len(migrations)

        return await self._tx(work)

    async def schema_version(self) -> int:
        async def work(conn: Conn) -> int:
            cursor = await conn.execute("SELECT to_regclass('schema_version') AS t")
            exists = await cursor.fetchone()
            if not exists or exists["t"] is None:
                return 0
            row = await self._one(conn, "schema_version", {})
            return int(row["version"]) if row else 0

        return await self._tx(work)

    async def ping(self) -> None:
        await self._tx(lambda conn: conn.execute("SELECT 1"))

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        await self._drop_listener()
        await self._pool.close()

    # -- tenants and API keys --------------------------------------------------------

    async def create_tenant(self, name: str, *, tenant_id: str | None = None) -> Tenant:
        params = {"id": tenant_id or new_id(), "name": name, "now": self.clock()}
        return rows.tenant(await self._must("insert_tenant", params))

    async def get_tenant(self, tenant_id: str) -> Tenant | None:
        row = await self._tx(self._first("get_tenant", {"id": tenant_id}))
        return None if row is None else rows.tenant(row)

    async def list_tenants(self) -> list[Tenant]:
        return [rows.tenant(r) for r in await self._tx(self._every("list_tenants", {}))]

    async def add_api_key(self, tenant_id: str, key_hash: str, *, label: str = "") -> ApiKey:
        params = {
            "id": new_id(),
            "tenant_id": tenant_id,
            "key_hash": key_hash,
            "label": label,
            "now": self.clock(),
        }
        return rows.api_key(await self._must("insert_api_key", params))

    async def tenant_for_key_hash(self, key_hash: str) -> Tenant | None:
        row = await self._tx(self._first("tenant_for_key_hash", {"key_hash": key_hash}))
        return None if row is None else rows.tenant(row)

    async def list_api_keys(self, tenant_id: str) -> list[ApiKey]:
        found = await self._tx(self._every("list_api_keys", {"tenant_id": tenant_id}))
        return [rows.api_key(r) for r in found]

    async def revoke_api_key(self, key_id: str) -> None:
        params = {"id": key_id, "now": self.clock()}
        await self._tx(lambda conn: self._count(conn, "revoke_api_key", params))

    # -- partner directory -----------------------------------------------------------

    async def put_directory_entry(
        self, tenant_id: str, kind: str, key: str, document: Mapping[str, Any]
    ) -> DirectoryEntry:
        params = {
            "tenant_id": tenant_id,
            "kind": kind,
            "key": key,
            "document": jsonb(document, "document"),
            "now": self.clock(),
        }
        return rows.directory_entry(await self._must("put_directory_entry", params))

    async def get_directory_entry(
        self, tenant_id: str, kind: str, key: str
    ) -> DirectoryEntry | None:
        params = {"tenant_id": tenant_id, "kind": kind, "key": key}
        row = await self._tx(self._first("get_directory_entry", params))
        return None if row is None else rows.directory_entry(row)

    async def list_directory(self, tenant_id: str, kind: str | None = None) -> list[DirectoryEntry]:
        found = await self._tx(
            self._every("list_directory", {"tenant_id": tenant_id, "kind": kind})
        )
        return [rows.directory_entry(r) for r in found]

    async def delete_directory_entry(self, tenant_id: str, kind: str, key: str) -> bool:
        params = {"tenant_id": tenant_id, "kind": kind, "key": key}
        return await self._tx(lambda conn: self._count(conn, "delete_directory_entry", params)) > 0

    async def replace_directory(
        self, tenant_id: str, entries: Sequence[tuple[str, str, Mapping[str, Any]]]
    ) -> int:
        now = self.clock()
        puts = [
            {
                "tenant_id": tenant_id,
                "kind": kind,
                "key": key,
                "document": jsonb(document, "document"),
                "now": now,
            }
            for kind, key, document in entries
        ]
        keep = {(kind, key) for kind, key, _ in entries}

        async def work(conn: Conn) -> int:
            await conn.execute(self._q["lock_tenant_directory"], {"tenant_id": tenant_id})
            for params in puts:
                await self._one(conn, "put_directory_entry", params)
            listed = await self._all(conn, "list_directory", {"tenant_id": tenant_id, "kind": None})
            gone = [r for r in map(rows.directory_entry, listed) if (r.kind, r.key) not in keep]
            for entry in gone:
                params = {"tenant_id": tenant_id, "kind": entry.kind, "key": entry.key}
                await self._count(conn, "delete_directory_entry", params)
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
        params = {
            "id": new_id(),
            "tenant_id": tenant_id,
            "idempotency_key": idempotency_key,
            "data": bytes(data),
            "content_type": content_type,
            "filename": filename,
            "metadata": jsonb(metadata, "metadata"),
            "state": state,
            "now": self.clock(),
        }

        async def work(conn: Conn) -> tuple[DictRow, bool]:
            if await self._one(conn, "get_tenant", {"id": tenant_id}) is None:
                raise NotFoundError(f"unknown tenant {tenant_id!r}", field="tenant_id")
            row = await self._one(conn, "insert_submission", params)
            created = row is not None
            if row is None:
                row = await self._one(conn, "submission_by_key", params)
                assert row is not None
            else:
                event = {**params, "submission_id": row["id"], "reason": reason, "detail": None}
                await conn.execute(self._q["insert_event"], event)
            if enqueue is not None:
                await self._insert_job(conn, row["id"], enqueue, enqueue.not_before or self.clock())
            return row, created

        row, created = await self._tx(work)
        return rows.submission(row), created

    async def get_submission(self, tenant_id: str, submission_id: str) -> Submission | None:
        params = {"id": submission_id, "tenant_id": tenant_id}
        row = await self._tx(self._first("get_submission", params))
        return None if row is None else rows.submission(row)

    async def get_submission_any_tenant(self, submission_id: str) -> Submission | None:
        row = await self._tx(self._first("get_submission_any_tenant", {"id": submission_id}))
        return None if row is None else rows.submission(row)

    async def list_submissions(
        self,
        tenant_id: str,
        *,
        state: str | None = None,
        limit: int = 50,
        before: datetime | None = None,
    ) -> list[Submission]:
        params = {"tenant_id": tenant_id, "state": state, "limit": limit, "before": before}
        return [rows.submission(r) for r in await self._tx(self._every("list_submissions", params))]

    async def count_submissions_by_state(self) -> dict[str, int]:
        found = await self._tx(self._every("count_submissions_by_state", {}))
        return {r["state"]: int(r["n"]) for r in found}

    async def count_jobs_by_state(self) -> dict[JobState, int]:
        found = await self._tx(self._every("count_jobs_by_state", {}))
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
            "detail": None if detail is None else jsonb(detail, "detail"),
            "now": self.clock(),
        }

        async def work(conn: Conn) -> DictRow:
            if not await self._count(conn, "set_submission_state", params):
                raise NotFoundError(f"unknown submission {submission_id!r}")
            row = await self._one(conn, "insert_event", params)
            assert row is not None
            return row

        return rows.event(await self._tx(work))

    async def list_events(self, submission_id: str) -> list[Event]:
        found = await self._tx(self._every("list_events", {"submission_id": submission_id}))
        return [rows.event(r) for r in found]

    async def put_output(
        self, submission_id: str, kind: str, media_type: str, data: bytes
    ) -> Output:
        params = {
            "submission_id": submission_id,
            "kind": kind,
            "media_type": media_type,
            "data": bytes(data),
            "now": self.clock(),
        }
        return rows.output(await self._must("put_output", params))

    async def get_output(self, submission_id: str, kind: str) -> Output | None:
        params = {"submission_id": submission_id, "kind": kind}
        row = await self._tx(self._first("get_output", params))
        return None if row is None else rows.output(row)

    async def list_outputs(self, submission_id: str) -> list[Output]:
        found = await self._tx(self._every("list_outputs", {"submission_id": submission_id}))
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

        async def work(conn: Conn) -> DictRow:
            row, created = await self._insert_job(conn, submission_id, spec, not_before or now)
            if created:
                await self._change_state(conn, submission_id, with_job(event, row))
            return row

        return rows.job(await self._tx(work))

    async def _insert_job(
        self, conn: Conn, submission_id: str, spec: JobSpec, due: datetime
    ) -> tuple[DictRow, bool]:
        """Queue ``spec`` (and NOTIFY) unless the submission has a job on that adapter;
        ``(row, new)``."""
        params = {
            "id": new_id(),
            "submission_id": submission_id,
            "adapter": spec.adapter,
            "endpoint": spec.endpoint,
            "payload_ref": spec.payload_ref,
            "message_id": spec.message_id or f"{new_id()}@lingang",
            "next_attempt_at": due,
            "now": self.clock(),
        }
        row = await self._one(conn, "insert_job", params)
        if row is not None:
            await conn.execute(self._q["notify_jobs"])
            return row, True
        existing = await self._one(conn, "job_by_submission_adapter", params)
        assert existing is not None
        return existing, False

    async def get_job(self, job_id: str) -> Job | None:
        row = await self._tx(self._first("get_job", {"id": job_id}))
        return None if row is None else rows.job(row)

    async def list_jobs(
        self,
        *,
        submission_id: str | None = None,
        state: JobState | None = None,
        limit: int = 100,
    ) -> list[Job]:
        params = {"submission_id": submission_id, "state": state, "limit": limit}
        return [rows.job(r) for r in await self._tx(self._every("list_jobs", params))]

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
            "now": now,
            "lease_expires_at": now + timedelta(seconds=lease_seconds),
            "excluded": sorted(exclude_endpoints),
        }
        found = await self._tx(self._every("claim_jobs", params))
        return sorted((rows.job(r) for r in found), key=lambda j: (j.next_attempt_at, j.id))

    async def _fenced(self, conn: Conn, name: str, params: Params) -> DictRow:
        """Run an owner-fenced update; raise when the job is unknown or the lease lost."""
        row = await self._one(conn, name, params)
        if row is None:
            if await self._one(conn, "get_job", params) is None:
                raise NotFoundError(f"unknown job {params['id']!r}")
            raise LeaseLostError(f"job {params['id']} is not leased to {params['worker_id']}")
        return row

    async def renew_lease(self, job_id: str, worker_id: str, lease_seconds: float) -> Job:
        now = self.clock()
        params = {
            "id": job_id,
            "worker_id": worker_id,
            "now": now,
            "lease_expires_at": now + timedelta(seconds=lease_seconds),
        }
        return rows.job(await self._tx(lambda conn: self._fenced(conn, "renew_lease", params)))

    async def complete_job(
        self,
        job_id: str,
        worker_id: str,
        receipt: Receipt | None,
        *,
        event: StateChange | None = None,
    ) -> Job:
        params = {"id": job_id, "worker_id": worker_id, "now": self.clock()}

        async def work(conn: Conn) -> DictRow:
            row = await self._fenced(conn, "complete_job", params)
            if receipt is not None:
                await self._insert_receipt(conn, job_id, receipt)
            await self._change_state(conn, row["submission_id"], event)
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
        params = {"id": job_id, "worker_id": worker_id, "now": now}

        async def work(conn: Conn) -> DictRow | None:
            done = await self._fenced(conn, "complete_job", params)
            submission_id = done["submission_id"]
            rows_to_put = [
                {
                    "submission_id": submission_id,
                    "kind": output.kind,
                    "media_type": output.media_type,
                    "data": bytes(output.data),
                    "now": now,
                }
                for output in outputs
            ]
            if rows_to_put:  # one pipelined round trip for every output
                async with conn.cursor() as cursor:
                    await cursor.executemany(self._q["put_output"], rows_to_put)
            if enqueue is None:
                await self._change_state(conn, submission_id, event)
                return None
            due = enqueue.not_before or now
            row, _ = await self._insert_job(conn, submission_id, enqueue, due)
            await self._change_state(conn, submission_id, with_job(event, row))
            return row

        row = await self._tx(work)
        return None if row is None else rows.job(row)

    async def _change_state(
        self, conn: Conn, submission_id: str, event: StateChange | None
    ) -> None:
        if event is None:
            return
        params = {
            "submission_id": submission_id,
            "state": event.state,
            "reason": event.reason,
            "detail": None if event.detail is None else jsonb(event.detail, "detail"),
            "now": self.clock(),
        }
        await conn.execute(self._q["set_submission_state"], params)
        await conn.execute(self._q["insert_event"], params)

    async def _insert_receipt(self, conn: Conn, job_id: str, receipt: Receipt) -> DictRow:
        params = {
            "id": new_id(),
            "job_id": job_id,
            "kind": receipt.kind,
            "data": bytes(receipt.data),
            "media_type": receipt.media_type,
            "detail": jsonb(receipt.detail, "receipt.detail"),
            "now": self.clock(),
        }
        row = await self._one(conn, "insert_receipt", params)
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
        params = {
            "id": job_id,
            "worker_id": worker_id,
            "error": error,
            "retryable": retryable,
            "state": JobState.DEAD.value if next_attempt_at is None else JobState.PENDING.value,
            "next_attempt_at": next_attempt_at,
            "now": self.clock(),
        }

        async def work(conn: Conn) -> DictRow:
            row = await self._fenced(conn, "fail_job", params)
            await self._change_state(conn, row["submission_id"], event)
            return row

        return rows.job(await self._tx(work))

    async def defer_job(self, job_id: str, worker_id: str, until: datetime) -> Job:
        params = {"id": job_id, "worker_id": worker_id, "until": until, "now": self.clock()}
        return rows.job(await self._tx(lambda conn: self._fenced(conn, "defer_job", params)))

    async def retry_job(self, job_id: str) -> Job:
        params = {"id": job_id, "now": self.clock()}

        async def work(conn: Conn) -> DictRow:
            row = await self._one(conn, "retry_job", params)
            if row is None:
                current = await self._one(conn, "get_job", params)
                if current is None:
                    raise NotFoundError(f"unknown job {job_id!r}")
                raise ConflictError(
                    f"job {job_id} is {current['state']}; only dead or waiting jobs can be retried"
                )
            await conn.execute(self._q["notify_jobs"])
            return row

        return rows.job(await self._tx(work))

    async def retry_submission(
        self, submission_id: str, *, event: StateChange | None = None
    ) -> list[Job]:
        params = {"submission_id": submission_id, "now": self.clock()}

        async def work(conn: Conn) -> list[DictRow]:
            found = await self._all(conn, "retry_submission", params)
            if found:
                change = with_jobs(event, [r["id"] for r in found])
                await self._change_state(conn, submission_id, change)
                await conn.execute(self._q["notify_jobs"])
            return found

        return [rows.job(r) for r in await self._tx(work)]

    async def release_jobs(self, worker_id: str) -> int:
        params = {"worker_id": worker_id, "now": self.clock()}

        async def work(conn: Conn) -> int:
            released = await self._count(conn, "release_jobs", params)
            if released:
                await conn.execute(self._q["notify_jobs"])
            return released

        return await self._tx(work)

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

    # -- receipts --------------------------------------------------------------------

    async def add_receipt(self, job_id: str, receipt: Receipt) -> StoredReceipt:
        async def work(conn: Conn) -> DictRow:
            if await self._one(conn, "get_job", {"id": job_id}) is None:
                raise NotFoundError(f"unknown job {job_id!r}")
            return await self._insert_receipt(conn, job_id, receipt)

        return rows.receipt(await self._tx(work))

    async def list_receipts(
        self, *, job_id: str | None = None, submission_id: str | None = None
    ) -> list[StoredReceipt]:
        params = {"job_id": job_id, "submission_id": submission_id}
        return [rows.receipt(r) for r in await self._tx(self._every("list_receipts", params))]

    # -- circuit breakers ------------------------------------------------------------

    async def get_breaker(self, endpoint: str) -> BreakerState:
        row = await self._tx(self._first("get_breaker", {"endpoint": endpoint}))
        return BreakerState(endpoint=endpoint) if row is None else rows.breaker(row)

    async def update_breaker(self, state: BreakerState, expected_version: int) -> bool:
        params = {
            "endpoint": state.endpoint,
            "phase": state.phase.value,
            "failures": state.failures,
            "opened_at": state.opened_at,
            "expected_version": expected_version,
        }
        name = "insert_breaker" if expected_version == 0 else "update_breaker"
        return await self._tx(lambda conn: self._count(conn, name, params)) > 0

    async def open_breakers(self) -> list[BreakerState]:
        return [rows.breaker(r) for r in await self._tx(self._every("open_breakers", {}))]

    # -- inbound ---------------------------------------------------------------------

    async def remember_inbound(self, key: str) -> bool:
        params = {"key": key, "now": self.clock()}
        return await self._tx(lambda conn: self._count(conn, "remember_inbound", params)) > 0

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
            "metadata": jsonb(metadata, "metadata"),
            "now": self.clock(),
        }

        async def work(conn: Conn) -> tuple[DictRow, bool]:
            row = await self._one(conn, "insert_inbound", params)
            if row is not None:
                return row, True
            first = await self._one(conn, "inbound_by_message_id", params)
            assert first is not None
            return first, False

        row, first_seen = await self._tx(work)
        return rows.inbound(row), first_seen

    async def get_inbound(self, inbound_id: str) -> InboundMessage | None:
        row = await self._tx(self._first("get_inbound", {"id": inbound_id}))
        return None if row is None else rows.inbound(row)

    async def list_inbound(
        self, *, tenant_id: str | None = None, limit: int = 50
    ) -> list[InboundMessage]:
        params = {"tenant_id": tenant_id, "limit": limit}
        return [rows.inbound(r) for r in await self._tx(self._every("list_inbound", params))]
