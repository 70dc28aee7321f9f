"""The durable store: its transaction logic, written once over a database connector.

Everything the gateway must not lose lives here: tenants and their API keys (hashed), the
partner directory, submissions with their original bytes, rendered outputs, state-change
events, the job queue (the outbox), receipts and inbound messages with their duplicate keys
(the records are in :mod:`gateway.store.records`, re-exported here).

Every operation of :class:`Store` is a *transaction script* (:mod:`gateway.store.connector`):
a generator yielding named queries and receiving their results, run as one transaction by
the database's connector — :class:`gateway.store.sqlite.SqliteStore` (embedded, WAL, one
writer thread with group commit) or :class:`gateway.store.postgres.PostgresStore` (many
replicas; ``FOR UPDATE SKIP LOCKED`` claims, ``LISTEN/NOTIFY`` wake-ups). The decorators
:func:`reads`, :func:`writes` and :func:`writes_one` turn each script into the ``async``
method callers see.
The SQL is in ``queries/<backend>.sql``. Open a store with
:func:`gateway.store.open_store`; both pass the same conformance suite,
:class:`gateway.store.testing.StoreContract`.

Job state machine (each transition is one transaction inside the store)::

    pending ──claim──► leased ──complete──► done
       ▲                 │ │
       │   fail(retry)   │ └──fail(no retry / next_attempt_at None)──► dead
       └─────────────────┘                                              │
       ▲  lease expired: another claim takes it over                    │
       └───────────────────────── retry_job (manual) ◄──────────────────┘

A leased job can only be completed, failed or renewed by its current lease owner
(fencing): a worker whose lease expired and was taken over gets :class:`LeaseLostError`.
``attempts`` counts claims; the transport message id never changes, so a receiver can drop
the duplicate a retry may cause.

All times are timezone-aware UTC ``datetime``. Identifiers are opaque strings.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable, Collection, Coroutine, Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar

from gateway.store import rows
from gateway.store.connector import (
    Connector,
    JsonValue,
    Migrate,
    Notify,
    Query,
    QueryMany,
    Script,
)
from gateway.store.migrations import Migration, load_migrations
from gateway.store.records import (
    JSON,
    ROLES,
    SUBMITTER,
    ApiKey,
    BreakerPhase,
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
    OutputSummary,
    Receipt,
    StateChange,
    StoredReceipt,
    StoreError,
    Submission,
    SubmissionSummary,
    Tenant,
    hash_api_key,
    new_api_key,
    new_id,
    utcnow,
)
from gateway.store.scripts import (
    change_state,
    ensure_job,
    fenced,
    finish_and_queue,
    finish_job_with_outputs,
    hand_off,
    insert_job,
    job_params,
    later,
    lease_params,
    leased_params,
    one,
    put_outputs,
    queue_job,
    receipt_params,
    state_params,
    with_job,
    with_jobs,
)
from gateway.store.sent_documents import Claim, claim_sent, with_resend

__all__ = [
    "JSON",
    "ApiKey",
    "BreakerPhase",
    "BreakerState",
    "Clock",
    "ConflictError",
    "DirectoryEntry",
    "Event",
    "HasConnector",
    "InboundMessage",
    "Job",
    "JobSpec",
    "JobState",
    "LeaseLostError",
    "NotFoundError",
    "Output",
    "OutputSpec",
    "OutputSummary",
    "Receipt",
    "StateChange",
    "Store",
    "StoreError",
    "StoredReceipt",
    "Submission",
    "SubmissionSummary",
    "Tenant",
    "hash_api_key",
    "new_api_key",
    "new_id",
    "utcnow",
]

P = ParamSpec("P")
T = TypeVar("T")
S = TypeVar("S", bound="HasConnector")
Operation = Callable[Concatenate[S, P], Coroutine[Any, Any, T]]

log = logging.getLogger("lingang.store")

READY_SECONDS = 2.0
"""How long each statement of :meth:`Store.ready` may wait for a lock or run."""


class HasConnector(Protocol):
    """What the :func:`reads` / :func:`writes` decorators need: :class:`Store`, or a
    feature's own store class over the same connector (``gateway/store/<feature>.py``, its
    SQL in ``queries/<feature>.<backend>.sql``)."""

    connector: Connector
    clock: Clock


def _operation(
    script: Callable[Concatenate[S, P], Script[T]],
    run_on: Callable[[Connector, Script[Any]], Awaitable[Any]],
) -> Operation[S, P, T]:
    async def run(store: S, /, *args: P.args, **kwargs: P.kwargs) -> T:
        result: T = await run_on(store.connector, script(store, *args, **kwargs))
        return result

    functools.update_wrapper(run, script)
    return run


def reads(script: Callable[Concatenate[S, P], Script[T]]) -> Operation[S, P, T]:
    """Make a read-only transaction script the ``async`` store method that runs it."""
    return _operation(script, lambda connector, run: connector.read(run))


def writes(script: Callable[Concatenate[S, P], Script[T]]) -> Operation[S, P, T]:
    """Make a transaction script that writes the ``async`` store method that runs it
    (durable when it returns)."""
    return _operation(script, lambda connector, run: connector.write(run))


def writes_one(script: Callable[Concatenate[S, P], Script[T]]) -> Operation[S, P, T]:
    """Like :func:`writes`, for a script whose first statement is its only change (what
    follows only reads, e.g. to tell why nothing changed): see
    :meth:`Connector.write_one`."""
    return _operation(script, lambda connector, run: connector.write_one(run))


def _seen_at(at: datetime | None, row: Mapping[str, Any] | None) -> datetime | None:
    """When a breaker was read: the queue time ``at``, or where the database's clock decides
    (``at`` is ``None``) the ``seen_at`` its query returned."""
    if at is not None or row is None:
        return at
    return rows.to_opt_time(row.get("seen_at"))


class Store:
    """The durable store. Every method is one transaction; every read is tenant-scoped
    where the record belongs to a tenant.

    Another database is another :class:`~gateway.store.connector.Connector` with its
    ``queries/<backend>.sql`` and ``migrations/<backend>/``; nothing here changes. A new
    operation is one script here, its named queries in each ``.sql`` file, and a test in
    :class:`gateway.store.testing.StoreContract`. A feature with tables of its own keeps
    its scripts in a class of its own over ``store.connector`` (see :class:`HasConnector`)."""

    def __init__(self, connector: Connector, *, clock: Clock = utcnow) -> None:
        self.connector = connector
        """The database behind the store."""
        self.clock = clock
        """This process's "now" (:func:`utcnow` unless a test injects a fake one): the time
        records are stamped with; on SQLite (one host) also the job queue's time. On
        PostgreSQL leases and due jobs go by the database's clock, shared by every replica
        (see :meth:`~gateway.store.connector.Connector.queue_time`)."""

    def queue_time(self) -> datetime | None:
        """The time this transaction's job-queue decisions are made at: ``None`` where the
        database's own clock decides (PostgreSQL), else this process's (see
        :meth:`~gateway.store.connector.Connector.queue_time`)."""
        return self.connector.queue_time(self.clock)

    # -- life cycle ------------------------------------------------------------------

    async def migrate(self) -> int:
        """Apply pending schema migrations; return the schema version now in place."""
        return await self.connector.migrate(self._migrate(load_migrations(self.connector.backend)))

    def _migrate(self, migrations: list[Migration]) -> Script[int]:
        """Take the migration lock (saying so when another process holds it: a replica or
        ``lingang migrate`` migrating, for as long as that takes), then apply what is missing,
        each migration named in the log."""
        if not (yield from one("migration_try_lock", {}))["locked"]:
            log.info(
                "waiting for another process to finish migrating the store schema "
                "(`lingang migrate` or a replica starting)"
            )
            yield Query("migration_lock")
        yield Query("schema_version_table")
        version = int((yield from one("schema_version", {}))["version"])
        if version > len(migrations):
            raise StoreError(f"database schema {version} is newer than this gateway")
        if version < len(migrations):
            log.info(
                "migrating the store schema",
                extra={"from_version": version, "to_version": len(migrations)},
            )
        for migration in migrations[version:]:
            log.info(
                "applying migration",
                extra={"version": migration.version, "migration": migration.name},
            )
            yield Migrate(migration.sql)
            step = migration.data_step()
            if step is not None:
                yield from step(self.clock())
            params = {"version": migration.version, "name": migration.name, "now": self.clock()}
            yield Query("insert_schema_version", params)
        return len(migrations)

    @reads
    def schema_version(self) -> Script[int]:
        """The applied schema version (0 for an empty database)."""
        if not (yield from one("schema_version_exists", {}))["present"]:
            return 0
        return int((yield from one("schema_version", {}))["version"])

    async def ping(self) -> None:
        """Raise :class:`StoreError` unless the store answers."""
        await self.connector.read(one("ping", {}))

    async def ready(self, *, within: float = READY_SECONDS) -> None:
        """Raise :class:`StoreError` unless what serving reads first (the schema version,
        the submissions and the outbox) can be read now: each statement gives up after
        ``within`` seconds of waiting for a lock or running, so a migration holding those
        tables (``ALTER TABLE``'s exclusive lock) fails the check quickly, its connection
        back in the pool, where :meth:`ping`'s ``SELECT 1`` answered at once."""
        await self.connector.read_bounded(one("ready", {}), within)

    async def close(self) -> None:
        """Release connections and threads. Idempotent."""
        await self.connector.close()

    async def __aenter__(self) -> Store:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- tenants and API keys --------------------------------------------------------

    @writes_one
    def create_tenant(self, name: str, *, tenant_id: str | None = None) -> Script[Tenant]:
        """Create a tenant (``tenant_id`` chosen by the caller or generated)."""
        params = {"id": tenant_id or new_id(), "name": name, "now": self.clock()}
        return rows.tenant((yield from one("insert_tenant", params)))

    @reads
    def get_tenant(self, tenant_id: str) -> Script[Tenant | None]:
        """The tenant, or ``None``."""
        row = yield Query("get_tenant", {"id": tenant_id}, "one")
        return None if row is None else rows.tenant(row)

    @reads
    def list_tenants(self) -> Script[list[Tenant]]:
        """All tenants, oldest first."""
        return [rows.tenant(r) for r in (yield Query("list_tenants", {}, "all"))]

    @writes_one
    def add_api_key(
        self, tenant_id: str, key_hash: str, *, label: str = "", role: str = SUBMITTER
    ) -> Script[ApiKey]:
        """Store an API key's hash (see :func:`hash_api_key`) for a tenant, with its ``role``
        (:data:`~gateway.store.records.ROLES`)."""
        if role not in ROLES:
            raise ValueError(f"an API key's role is one of {', '.join(ROLES)}, not {role!r}")
        params = {
            "id": new_id(),
            "tenant_id": tenant_id,
            "key_hash": key_hash,
            "label": label,
            "role": role,
            "now": self.clock(),
        }
        return rows.api_key((yield from one("insert_api_key", params)))

    @reads
    def tenant_for_key_hash(self, key_hash: str) -> Script[Tenant | None]:
        """The tenant owning a non-revoked key with this hash, or ``None``."""
        row = yield Query("tenant_for_key_hash", {"key_hash": key_hash}, "one")
        return None if row is None else rows.tenant(row)

    @reads
    def api_key_for_hash(self, key_hash: str) -> Script[tuple[Tenant, ApiKey] | None]:
        """The tenant and the non-revoked key with this hash (its role, its id), or
        ``None``."""
        row = yield Query("api_key_for_hash", {"key_hash": key_hash}, "one")
        if row is None:
            return None
        owner = {"id": row["t_id"], "name": row["t_name"], "created_at": row["t_created_at"]}
        return rows.tenant(owner), rows.api_key(row)

    @reads
    def count_officer_keys(self) -> Script[int]:
        """How many live API keys of any tenant have the officer role."""
        row = yield from one("count_officer_keys", {})
        return int(row["n"])

    @reads
    def list_api_keys(self, tenant_id: str) -> Script[list[ApiKey]]:
        """A tenant's keys (revoked ones included), oldest first (same instant: by id)."""
        found = yield Query("list_api_keys", {"tenant_id": tenant_id}, "all")
        return [rows.api_key(r) for r in found]

    @writes_one
    def revoke_api_key(self, key_id: str) -> Script[None]:
        """Revoke a key; later lookups by its hash find nothing."""
        yield Query("revoke_api_key", {"id": key_id, "now": self.clock()})

    async def issue_api_key(
        self, tenant_id: str, *, label: str = "", role: str = SUBMITTER
    ) -> tuple[str, ApiKey]:
        """Generate a key with ``role``, store its hash, return ``(plain key, stored
        record)``.

        The plain key is returned once and never kept; do not log it.
        """
        key = new_api_key()
        record = await self.add_api_key(tenant_id, hash_api_key(key), label=label, role=role)
        return key, record

    async def authenticate(self, key: str) -> Tenant | None:
        """The tenant a presented API key belongs to, or ``None``."""
        return await self.tenant_for_key_hash(hash_api_key(key))

    # -- partner directory -----------------------------------------------------------

    @writes_one
    def put_directory_entry(
        self, tenant_id: str, kind: str, key: str, document: Mapping[str, Any]
    ) -> Script[DirectoryEntry]:
        """Insert or replace one directory entry."""
        params = self._directory_params(tenant_id, kind, key, document)
        return rows.directory_entry((yield from one("put_directory_entry", params)))

    @reads
    def get_directory_entry(
        self, tenant_id: str, kind: str, key: str
    ) -> Script[DirectoryEntry | None]:
        """One entry, or ``None``."""
        params = {"tenant_id": tenant_id, "kind": kind, "key": key}
        row = yield Query("get_directory_entry", params, "one")
        return None if row is None else rows.directory_entry(row)

    @reads
    def list_directory(
        self, tenant_id: str, kind: str | None = None
    ) -> Script[list[DirectoryEntry]]:
        """A tenant's entries (of one kind, or all), ordered by kind then key."""
        params = {"tenant_id": tenant_id, "kind": kind}
        return [rows.directory_entry(r) for r in (yield Query("list_directory", params, "all"))]

    @writes_one
    def delete_directory_entry(self, tenant_id: str, kind: str, key: str) -> Script[bool]:
        """Delete an entry; ``True`` if it existed."""
        params = {"tenant_id": tenant_id, "kind": kind, "key": key}
        return bool((yield Query("delete_directory_entry", params, "rowcount")))

    @writes
    def replace_directory(
        self, tenant_id: str, entries: Sequence[tuple[str, str, Mapping[str, Any]]]
    ) -> Script[int]:
        """Make ``entries`` ((kind, key, document) each) the tenant's whole directory, in one
        transaction: readers see the old directory or the new one, never a mix; a crash
        leaves the old one. Returns the number of entries removed."""
        puts = [self._directory_params(tenant_id, kind, key, doc) for kind, key, doc in entries]
        keep = {(kind, key) for kind, key, _ in entries}
        yield Query("lock_tenant_directory", {"tenant_id": tenant_id})
        yield QueryMany("put_directory_entry", puts)
        listed = yield Query("list_directory", {"tenant_id": tenant_id, "kind": None}, "all")
        gone = [
            {"tenant_id": tenant_id, "kind": r["kind"], "key": r["key"]}
            for r in listed
            if (r["kind"], r["key"]) not in keep
        ]
        yield QueryMany("delete_directory_entry", gone)
        return len(gone)

    def _directory_params(
        self, tenant_id: str, kind: str, key: str, document: Mapping[str, Any]
    ) -> dict[str, Any]:
        return {
            "tenant_id": tenant_id,
            "kind": kind,
            "key": key,
            "document": JsonValue.of(document, "document"),
            "now": self.clock(),
        }

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
        """Store a submission durably and record its first event.

        Returns ``(submission, created)``. When ``idempotency_key`` was already used by the
        same tenant, nothing is written and the first submission is returned with
        ``created=False`` (even under concurrent calls). Keys are per tenant.

        ``enqueue`` queues a job (e.g. the processing job) in the same transaction, so a
        stored submission never lacks it; on an idempotent repeat the job is ensured too
        (queueing is idempotent per ``(submission, kind, adapter)``). Workers are woken.
        A new submission with its job is one statement (``insert_submission_with_job``).
        """
        params = self._submission_params(
            tenant_id, data, content_type, filename, idempotency_key, metadata, state, reason
        )
        if enqueue is not None:
            created = await self._insert_submission_with_job(params, enqueue, None)
            if created is not None:
                return created[0], True
        return await self._create_submission(params, enqueue)

    async def create_submission_handed(
        self,
        tenant_id: str,
        data: bytes,
        *,
        content_type: str,
        enqueue: JobSpec,
        lease: tuple[str, float],
        filename: str | None = None,
        idempotency_key: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        state: str = "received",
        reason: str | None = None,
    ) -> tuple[Submission, bool, Job | None]:
        """:meth:`create_submission` with its job **handed to a worker at ingest**: queued
        already leased to ``lease`` (worker id, seconds) as its first attempt, so that worker
        runs it at once without a claim or a wake-up (see :func:`scripts.hand_off`). If the
        worker dies first, the lease expires and any worker claims it, as after any crash.

        ``(submission, created, job)``: ``job`` is the job as queued leased, ``None`` when
        it was not (an idempotent repeat: the first submission's job is ensured, pending,
        and workers are woken)."""
        params = self._submission_params(
            tenant_id, data, content_type, filename, idempotency_key, metadata, state, reason
        )
        created = await self._insert_submission_with_job(params, enqueue, lease)
        if created is not None:
            return created[0], True, created[1]
        submission, new = await self._create_submission(params, enqueue)
        return submission, new, None

    def _submission_params(
        self,
        tenant_id: str,
        data: bytes,
        content_type: str,
        filename: str | None,
        idempotency_key: str | None,
        metadata: Mapping[str, Any] | None,
        state: str,
        reason: str | None,
    ) -> dict[str, Any]:
        return {
            "id": new_id(),
            "tenant_id": tenant_id,
            "idempotency_key": idempotency_key,
            "data": bytes(data),
            "content_type": content_type,
            "filename": filename,
            "metadata": JsonValue.of(metadata, "metadata"),
            "state": state,
            "reason": reason,
            "now": self.clock(),
        }

    @writes_one
    def _insert_submission_with_job(
        self, params: dict[str, Any], enqueue: JobSpec, lease: tuple[str, float] | None
    ) -> Script[tuple[Submission, Job | None] | None]:
        """The new submission with its job, that job when it was queued leased (``lease``,
        and due now); ``None`` when the submission was not inserted."""
        now = params["now"]
        at = self.queue_time()
        job = job_params(params["id"], enqueue, now, at)
        handed = hand_off(enqueue, now, lease)
        job |= leased_params(handed, at)
        job["job_id"] = job.pop("id")
        row = yield Query("insert_submission_with_job", {**job, **params}, "one")
        if row is None:
            return None
        if handed is None:
            yield Notify()
            return rows.submission(row), None
        queued = job | {"id": job["job_id"], "state": job["job_state"], "created_at": now}
        queued |= {"updated_at": now, "last_error": None, "retryable": None}
        queued |= {  # as the database decided them (its clock, on PostgreSQL)
            "next_attempt_at": row["job_next_attempt_at"],
            "lease_expires_at": row["job_lease_expires_at"],
        }
        return rows.submission(row), rows.job(queued)

    @writes
    def _create_submission(
        self, params: dict[str, Any], enqueue: JobSpec | None
    ) -> Script[tuple[Submission, bool]]:
        row = yield Query("insert_submission", params, "one")  # only for a known tenant
        created = row is not None
        if row is None:
            row = yield Query("submission_by_key", params, "one")
            if row is None:
                raise NotFoundError(f"unknown tenant {params['tenant_id']!r}", field="tenant_id")
        else:
            event = {**params, "submission_id": row["id"], "detail": None}
            yield Query("insert_event", event)
        if enqueue is not None:
            yield from ensure_job(row["id"], enqueue, params["now"], self.queue_time())
        return rows.submission(row), created

    @reads
    def get_submission(self, tenant_id: str, submission_id: str) -> Script[Submission | None]:
        """The submission if it belongs to ``tenant_id``, else ``None``."""
        params = {"id": submission_id, "tenant_id": tenant_id}
        row = yield Query("get_submission", params, "one")
        return None if row is None else rows.submission(row)

    @reads
    def get_submission_summary(
        self, tenant_id: str, submission_id: str
    ) -> Script[SubmissionSummary | None]:
        """:meth:`get_submission` without the bytes (their length instead): for status pages,
        which must not read a large document to say where it stands."""
        params = {"id": submission_id, "tenant_id": tenant_id}
        row = yield Query("get_submission_summary", params, "one")
        return None if row is None else rows.submission_summary(row)

    @reads
    def get_submission_any_tenant(self, submission_id: str) -> Script[Submission | None]:
        """The submission regardless of tenant: for workers and the CLI only, never the API."""
        row = yield Query("get_submission_any_tenant", {"id": submission_id}, "one")
        return None if row is None else rows.submission(row)

    @reads
    def list_submissions(
        self,
        tenant_id: str,
        *,
        state: str | None = None,
        limit: int = 50,
        before: datetime | None = None,
        before_id: str | None = None,
    ) -> Script[list[SubmissionSummary]]:
        """A tenant's submissions, newest first, without their bytes. ``before`` pages by
        ``created_at``; with ``before_id`` (the last row seen), by ``(created_at, id)``, so
        submissions created at the same instant as a page's last row are not skipped."""
        params = {
            "tenant_id": tenant_id,
            "state": state,
            "limit": limit,
            "before": before,
            "before_id": before_id if before is not None else None,
        }
        found = yield Query("list_submissions", params, "all")
        return [rows.submission_summary(r) for r in found]

    @reads
    def count_submissions_by_state(self) -> Script[dict[str, int]]:
        """How many submissions are in each state, over all tenants (for metrics).

        On PostgreSQL the cost is bounded by the work in progress, not the history: each
        state is counted exactly on an index, except ``delivered`` and ``converted``, which
        are the table statistics' estimate once the table has statistics."""
        found = yield Query("count_submissions_by_state", {}, "all")
        return {r["state"]: int(r["n"]) for r in found}

    @writes
    def record_event(
        self,
        submission_id: str,
        state: str,
        *,
        reason: str | None = None,
        detail: Mapping[str, Any] | None = None,
    ) -> Script[Event]:
        """Append a state-change event and set the submission's current state."""
        params = {
            "submission_id": submission_id,
            "state": state,
            "reason": reason,
            "detail": None if detail is None else JsonValue.of(detail, "detail"),
            "now": self.clock(),
        }
        if not (yield Query("set_submission_state", params, "rowcount")):
            raise NotFoundError(f"unknown submission {submission_id!r}")
        return rows.event((yield from one("insert_event", params)))

    @reads
    def list_events(self, submission_id: str) -> Script[list[Event]]:
        """A submission's events, oldest first."""
        found = yield Query("list_events", {"submission_id": submission_id}, "all")
        return [rows.event(r) for r in found]

    @reads
    def invoice_issue_dates(self, tenant_id: str, number: str) -> Script[list[date]]:
        """The issue dates the invoice flow recorded for the tenant's *invoices* (not credit
        notes) numbered ``number`` that it processed (a ``queued`` event: validated and
        passed on, by the export gate or, after a hold, by an officer's release, whose event
        carries the held facts on; a refused one has none), distinct, newest first; facts
        ``document_type`` and ``issue_date``. Another tenant's documents are never read."""
        params = {"tenant_id": tenant_id, "number": number}
        found = yield Query("queued_details_by_number", params, "all")
        dates: list[date] = []
        for row in found:
            detail = rows.to_opt_json(row["detail"]) or {}
            issued = detail.get("issue_date")
            if detail.get("document_type") != "invoice" or not isinstance(issued, str):
                continue
            try:
                day = date.fromisoformat(issued)
            except ValueError:
                continue
            if day not in dates:
                dates.append(day)
        return dates

    @reads
    def unrecorded_documents(self, tenant_id: str, number: str) -> Script[list[str]]:
        """The ids of the tenant's processed documents numbered ``number`` (a ``queued``
        event, as for :meth:`invoice_issue_dates`) whose event recorded no kind or no issue
        date: processed, or held and released, before the flow recorded them. The caller
        reads those facts from the stored document; newest first, each id once."""
        params = {"tenant_id": tenant_id, "number": number}
        found = yield Query("queued_details_by_number", params, "all")
        ids: list[str] = []
        for row in found:
            detail = rows.to_opt_json(row["detail"]) or {}
            recorded = isinstance(detail.get("issue_date"), str) and "document_type" in detail
            if not recorded and row["submission_id"] not in ids:
                ids.append(str(row["submission_id"]))
        return ids

    @writes_one
    def put_output(
        self, submission_id: str, kind: str, media_type: str, data: bytes
    ) -> Script[Output]:
        """Insert or replace the output of one ``kind`` (e.g. ``ubl``, ``signed``, ``envelope``)."""
        params = {
            "submission_id": submission_id,
            "kind": kind,
            "media_type": media_type,
            "data": bytes(data),
            "now": self.clock(),
        }
        return rows.output((yield from one("put_output", params)))

    @reads
    def get_output(self, submission_id: str, kind: str) -> Script[Output | None]:
        """One output, or ``None``."""
        params = {"submission_id": submission_id, "kind": kind}
        row = yield Query("get_output", params, "one")
        return None if row is None else rows.output(row)

    @reads
    def get_outputs(self, submission_id: str, kinds: Sequence[str]) -> Script[dict[str, Output]]:
        """The outputs of the named ``kinds`` of one submission, by kind, read in one query
        (e.g. a delivery's stored envelope with its body). Kinds not stored are absent."""
        params = {"submission_id": submission_id, "kinds": list(kinds)}
        found = yield Query("get_outputs", params, "all")
        return {r["kind"]: rows.output(r) for r in found}

    @reads
    def list_outputs(self, submission_id: str) -> Script[list[Output]]:
        """All outputs of a submission, ordered by kind."""
        found = yield Query("list_outputs", {"submission_id": submission_id}, "all")
        return [rows.output(r) for r in found]

    @reads
    def list_output_summaries(
        self, submission_id: str, *, read: Sequence[str] = ()
    ) -> Script[list[OutputSummary]]:
        """All outputs of a submission, ordered by kind, with their sizes; the bytes only of
        the kinds named in ``read`` (a status answer needs the report, not the documents)."""
        params = {"submission_id": submission_id, "kinds": list(read)}
        found = yield Query("list_output_summaries", params, "all")
        return [rows.output_summary(r) for r in found]

    # -- outbox ----------------------------------------------------------------------

    @writes
    def enqueue_job(
        self, submission_id: str, spec: JobSpec, *, event: StateChange | None = None
    ) -> Script[Job]:
        """Queue the job ``spec`` describes on ``submission_id`` and wake waiting workers.

        Idempotent per ``(submission_id, kind, adapter)``: a second call returns the
        existing job unchanged.

        ``event`` (e.g. ``queued``) is recorded on the submission in the same transaction,
        before any worker can see the job, so a fast delivery's ``delivered`` event can
        never be overtaken by it; its detail gains ``job_id`` and ``message_id``. It is
        written only when the job is new.
        """
        now = self.clock()
        row, created = yield from insert_job(submission_id, spec, now, self.queue_time())
        if created:
            yield from change_state(submission_id, with_job(event, row), now)
        return rows.job(row)

    @reads
    def get_job(self, job_id: str) -> Script[Job | None]:
        """One job, or ``None``."""
        row = yield Query("get_job", {"id": job_id}, "one")
        return None if row is None else rows.job(row)

    @reads
    def list_jobs(
        self,
        *,
        submission_id: str | None = None,
        state: JobState | None = None,
        limit: int = 100,
    ) -> Script[list[Job]]:
        """Jobs filtered by submission and/or state, oldest first."""
        params = {"submission_id": submission_id, "state": state, "limit": limit}
        return [rows.job(r) for r in (yield Query("list_jobs", params, "all"))]

    @reads
    def count_jobs_by_state(self) -> Script[dict[JobState, int]]:
        """How many outbox jobs are in each state (every state present, zeros included).

        On PostgreSQL ``pending``, ``leased`` and ``dead`` are counted exactly on their
        partial indexes; ``done`` is the table statistics' estimate less those, once the
        table has statistics."""
        found = yield Query("count_jobs_by_state", {}, "all")
        return {state: 0 for state in JobState} | {JobState(r["state"]): int(r["n"]) for r in found}

    @writes_one
    def claim_jobs(
        self,
        worker_id: str,
        *,
        limit: int = 10,
        lease_seconds: float = 60.0,
        exclude_endpoints: Collection[str] = (),
        kinds: Collection[str] | None = None,
    ) -> Script[list[Job]]:
        """Lease up to ``limit`` due jobs to ``worker_id`` and return them, oldest due
        first.

        Due: ``pending`` with ``next_attempt_at <= now``, or ``leased`` with an expired
        lease; now and the new lease's expiry are the queue's time (:meth:`queue_time`:
        the database's clock on PostgreSQL). Each claim increments ``attempts``.
        Concurrent claimers (tasks, processes, replicas) never receive the same job while
        its lease is valid, whatever their own clocks say. Jobs whose
        endpoint is in ``exclude_endpoints`` (open breakers) are left alone; jobs without
        an endpoint (``""``) are never excluded. ``kinds`` restricts the claim to jobs of
        those kinds (``None``: any kind; empty: none).
        """
        if kinds is not None and not kinds:
            return []
        at = self.queue_time()
        params = {
            "worker_id": worker_id,
            "limit": limit,
            "now": self.clock(),
            "at": at,
            **lease_params(at, lease_seconds),
            "excluded": sorted(set(exclude_endpoints) - {""}),
            "kinds": None if kinds is None else sorted(kinds),
        }
        found = yield Query("claim_jobs", params, "all")
        return sorted((rows.job(r) for r in found), key=lambda j: (j.next_attempt_at, j.id))

    @writes_one
    def renew_lease(self, job_id: str, worker_id: str, lease_seconds: float) -> Script[Job]:
        """Extend the lease of a job the worker still owns to ``lease_seconds`` from now
        (the queue's time, see :meth:`queue_time`); else :class:`LeaseLostError`."""
        params = {
            "id": job_id,
            "worker_id": worker_id,
            "now": self.clock(),
            **lease_params(self.queue_time(), lease_seconds),
        }
        return rows.job((yield from fenced("renew_lease", params)))

    async def complete_job(
        self,
        job_id: str,
        worker_id: str,
        receipt: Receipt | None,
        *,
        event: StateChange | None = None,
    ) -> Job:
        """Mark the job ``done``, store its receipt and (optionally) record ``event`` on
        its submission, all in one transaction.

        Only the current lease owner may do it (:class:`LeaseLostError` otherwise), so a
        job is completed at most once. The usual delivery (a receipt and an event) is one
        statement (``complete_delivery``), so it needs no ``BEGIN``/``COMMIT`` round trips.
        """
        if receipt is not None and event is not None:
            return await self._complete_delivery(job_id, worker_id, receipt, event)
        return await self._complete_job(job_id, worker_id, receipt, event)

    @writes_one
    def _complete_delivery(
        self, job_id: str, worker_id: str, receipt: Receipt, event: StateChange
    ) -> Script[Job]:
        now = self.clock()
        stored = receipt_params(job_id, receipt, now)
        params = {
            **state_params("", event, now),
            "id": job_id,
            "worker_id": worker_id,
            "receipt_id": stored["id"],
            "kind": stored["kind"],
            "data": stored["data"],
            "media_type": stored["media_type"],
            "receipt_detail": stored["detail"],
        }
        return rows.job((yield from fenced("complete_delivery", params)))

    @writes
    def _complete_job(
        self, job_id: str, worker_id: str, receipt: Receipt | None, event: StateChange | None
    ) -> Script[Job]:
        now = self.clock()
        row = yield from fenced("complete_job", {"id": job_id, "worker_id": worker_id, "now": now})
        if receipt is not None:
            yield Query("insert_receipt", receipt_params(job_id, receipt, now))
        yield from change_state(row["submission_id"], event, now)
        return rows.job(row)

    @writes
    def fail_job(
        self,
        job_id: str,
        worker_id: str,
        error: str,
        *,
        retryable: bool,
        retry_after: float | None,
        event: StateChange | None = None,
    ) -> Script[Job]:
        """Record a failed attempt: back to ``pending``, due ``retry_after`` seconds from
        now (the queue's time, see :meth:`queue_time`), or ``dead`` (dead letter, ``error``
        kept as the reason) when ``retry_after`` is ``None``. ``event`` (e.g. the
        dead-letter state) is recorded on the submission in the same transaction.
        Owner-fenced like :meth:`complete_job`."""
        now = self.clock()
        params = {
            "id": job_id,
            "worker_id": worker_id,
            "error": error,
            "retryable": retryable,
            "state": (JobState.DEAD if retry_after is None else JobState.PENDING).value,
            "retry_after": retry_after,
            "next_attempt_at": later(self.queue_time(), retry_after),
            "now": now,
        }
        row = yield from fenced("fail_job", params)
        yield from change_state(row["submission_id"], event, now)
        return rows.job(row)

    @writes
    def finish_processing(
        self,
        job_id: str,
        worker_id: str,
        *,
        outputs: Sequence[OutputSpec] = (),
        event: StateChange | None = None,
        enqueue: JobSpec | None = None,
        hand_off_seconds: float | None = None,
        claim: Claim | None = None,
    ) -> Script[Job | None]:
        """Record a processing job's whole result in one transaction: replace ``outputs``
        (per kind), queue ``enqueue`` (idempotent per ``(submission, kind, adapter)`` like
        :meth:`enqueue_job`; workers are woken), record ``event`` (its detail gains the
        queued job's ``job_id`` and ``message_id``) and mark the job ``done``.

        With ``claim``, the fapiao is registered as sent first
        (:func:`~gateway.store.sent_documents.claim_sent`): one this tenant sent already is
        :class:`~gateway.store.sent_documents.AlreadySent` and nothing is written; a
        deliberate resend's ``event`` names the submission it resends.

        With ``hand_off_seconds``, a job due now is queued already leased to ``worker_id``
        for that long (its first attempt), so the same worker runs it next without a claim
        or a wake-up; if the worker dies, the lease expires and any worker claims it.

        Owner-fenced like :meth:`complete_job`: a worker whose lease was taken over gets
        :class:`LeaseLostError` and nothing is written, so a crash at any point leaves
        either none or all of the result. Returns the queued (or already existing) job,
        or ``None`` without ``enqueue``."""
        now = self.clock()
        lease = None if hand_off_seconds is None else (worker_id, hand_off_seconds)
        earlier = yield from claim_sent(claim, now)
        if event is not None:
            event = with_resend(event, claim, earlier)
        if enqueue is not None and event is not None:  # the usual end: one statement
            row = yield from finish_and_queue(
                job_id, worker_id, enqueue, event, now, self.queue_time(), lease=lease
            )
            yield from put_outputs(str(row["submission_id"]), outputs, now)
            return rows.job(row)
        submission_id = yield from finish_job_with_outputs(job_id, worker_id, outputs, now)
        if enqueue is None:
            yield from change_state(submission_id, event, now)
            return None
        row, _ = yield from queue_job(submission_id, enqueue, now, self.queue_time(), lease=lease)
        yield from change_state(submission_id, with_job(event, row), now)
        return rows.job(row)

    @writes_one
    def defer_job(self, job_id: str, worker_id: str, seconds: float = 0.0) -> Script[Job]:
        """Give a claimed job back without counting the attempt (e.g. its breaker is
        open), due again ``seconds`` from now (the queue's time, see :meth:`queue_time`).
        Owner-fenced."""
        params = {
            "id": job_id,
            "worker_id": worker_id,
            "seconds": seconds,
            "until": later(self.queue_time(), seconds),
            "now": self.clock(),
        }
        return rows.job((yield from fenced("defer_job", params)))

    @writes
    def retry_job(self, job_id: str) -> Script[Job]:
        """Manual retry: a ``dead`` (or waiting ``pending``) job becomes due now with
        ``attempts`` reset; the message id is kept. :class:`NotFoundError` if unknown,
        :class:`ConflictError` if it is ``done`` or currently ``leased``."""
        params = {"id": job_id, "now": self.clock(), "at": self.queue_time()}
        row = yield Query("retry_job", params, "one")
        if row is None:
            current = yield Query("get_job", params, "one")
            if current is None:
                raise NotFoundError(f"unknown job {job_id!r}")
            raise ConflictError(
                f"job {job_id} is {current['state']}; only dead or waiting jobs can be retried"
            )
        yield Notify()
        return rows.job(row)

    @writes
    def retry_submission(
        self, submission_id: str, *, event: StateChange | None = None, skip_kind: str = ""
    ) -> Script[list[Job]]:
        """Manual retry of every ``dead`` job of a submission (but those of kind
        ``skip_kind``); returns the retried jobs.

        ``event`` is recorded on the submission in the same transaction when at least one
        job was retried (its detail gains ``jobs``, the retried job ids)."""
        now = self.clock()
        params = {
            "submission_id": submission_id,
            "now": now,
            "at": self.queue_time(),
            "skip_kind": skip_kind,
        }
        found = yield Query("retry_submission", params, "all")
        if found:
            yield from change_state(submission_id, with_jobs(event, [r["id"] for r in found]), now)
            yield Notify()
        return [rows.job(r) for r in found]

    @writes_one
    def release_jobs(self, worker_id: str) -> Script[int]:
        """Graceful shutdown: give back every job leased to ``worker_id`` (due now, the
        claim not counted). Returns how many."""
        params = {"worker_id": worker_id, "now": self.clock(), "at": self.queue_time()}
        released: int = yield Query("release_jobs", params, "rowcount")
        if released:
            yield Notify()
        return released

    async def wait_for_jobs(self, timeout: float) -> bool:
        """Wait until jobs may be due (a NOTIFY on PostgreSQL, a short poll on SQLite) or
        ``timeout`` seconds pass. ``True`` if woken by a notification."""
        return await self.connector.wait_for_jobs(timeout)

    # -- receipts --------------------------------------------------------------------

    @writes
    def add_receipt(self, job_id: str, receipt: Receipt) -> Script[StoredReceipt]:
        """Attach a receipt to a job outside completion (e.g. an asynchronous AS4 receipt)."""
        if (yield Query("get_job", {"id": job_id}, "one")) is None:
            raise NotFoundError(f"unknown job {job_id!r}")
        params = receipt_params(job_id, receipt, self.clock())
        return rows.receipt((yield from one("insert_receipt", params)))

    @reads
    def list_receipts(
        self, *, job_id: str | None = None, submission_id: str | None = None
    ) -> Script[list[StoredReceipt]]:
        """Receipts of one job or of every job of a submission, oldest first."""
        params = {"job_id": job_id, "submission_id": submission_id}
        return [rows.receipt(r) for r in (yield Query("list_receipts", params, "all"))]

    # -- circuit breakers ------------------------------------------------------------

    @reads
    def get_breaker(self, endpoint: str) -> Script[BreakerState]:
        """The endpoint's breaker record (a fresh closed one, version 0, if none), seen at
        the queue's time (``seen_at``)."""
        at = self.queue_time()
        row = yield Query("get_breaker", {"endpoint": endpoint}, "one")
        state = BreakerState(endpoint) if row is None or not row["endpoint"] else rows.breaker(row)
        return replace(state, seen_at=_seen_at(at, row))

    @writes_one
    def update_breaker(self, state: BreakerState, expected_version: int) -> Script[bool]:
        """Compare-and-set: write ``state`` (with ``version = expected_version + 1``) only
        if the stored version is ``expected_version``. ``True`` when written."""
        params = {
            "endpoint": state.endpoint,
            "phase": state.phase.value,
            "failures": state.failures,
            "opened_at": state.opened_at,
            "expected_version": expected_version,
        }
        name = "insert_breaker" if expected_version == 0 else "update_breaker"
        return bool((yield Query(name, params, "rowcount")))

    @reads
    def open_breakers(self) -> Script[list[BreakerState]]:
        """Every breaker not closed (open or half-open), seen at the queue's time."""
        at = self.queue_time()
        found = yield Query("open_breakers", {}, "all")
        return [replace(rows.breaker(r), seen_at=_seen_at(at, r)) for r in found]

    # -- inbound ---------------------------------------------------------------------

    @writes_one
    def remember_inbound(self, key: str) -> Script[bool]:
        """Record a duplicate-detection key; ``True`` the first time it is seen (across
        restarts, replicas and store instances), ``False`` afterwards."""
        params = {"key": key, "now": self.clock()}
        return bool((yield Query("remember_inbound", params, "rowcount")))

    @writes
    def receive_inbound(
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
        enqueue: JobSpec | None = None,
        answer: bytes | None = None,
    ) -> Script[tuple[InboundMessage, bool]]:
        """Store an inbound message unless ``(channel, message_id)`` was seen before.

        Returns ``(message, first_seen)``; a duplicate returns the first stored message.
        ``enqueue`` (e.g. kind ``receive``) queues a job on the message in the same
        transaction: its ``submission_id`` is the inbound message's id. On a duplicate the
        job is ensured too (idempotent per ``(message, kind, adapter)``); workers are woken.
        ``answer`` (what the adapter answers the sender, e.g. a signed AS4 receipt) is kept
        with a first-seen message; the returned message carries the first message's answer,
        so a duplicate is answered exactly as the original was.
        """
        now = self.clock()
        params = {
            "id": new_id(),
            "tenant_id": tenant_id,
            "channel": channel,
            "message_id": message_id,
            "sender": sender,
            "receiver": receiver,
            "data": bytes(data),
            "media_type": media_type,
            "metadata": JsonValue.of(metadata, "metadata"),
            "now": now,
        }
        row = yield Query("insert_inbound", params, "one")
        first_seen = row is not None
        if row is None:
            row = yield from one("inbound_by_message_id", params)
        if enqueue is not None:
            yield from ensure_job(row["id"], enqueue, now, self.queue_time())
        key = {"inbound_id": row["id"], "answer": None if answer is None else bytes(answer)}
        if first_seen and answer is not None:
            yield Query("insert_inbound_answer", key)
            kept: bytes | None = bytes(answer)
        else:
            found = yield Query("inbound_answer", key, "one")
            kept = None if found is None else rows.to_bytes(found["answer"])
        return replace(rows.inbound(row), answer=kept), first_seen

    @reads
    def get_inbound(self, inbound_id: str) -> Script[InboundMessage | None]:
        """One inbound message, or ``None``."""
        row = yield Query("get_inbound", {"id": inbound_id}, "one")
        return None if row is None else rows.inbound(row)

    @writes_one
    def claim_inbound(self, inbound_id: str, tenant_id: str) -> Script[bool]:
        """Give an inbound message no tenant claims to ``tenant_id`` (a received Message
        Level Status, once it is known whose sent document it answers); ``False`` when it
        has a tenant already (that one stands) or does not exist."""
        params = {"id": inbound_id, "tenant_id": tenant_id}
        return (yield Query("claim_inbound", params, "one")) is not None

    @reads
    def spis_inbound_with_tenant(self) -> Script[list[tuple[str, str]]]:
        """``(inbound id, tenant id)`` of every inbound message addressed to an SPIS
        participant (``0242:``, a service provider: where Message Level Statuses go) that a
        tenant holds, oldest first (see :mod:`gateway.delivery.mls_attribution`)."""
        found = yield Query("spis_inbound_with_tenant", {}, "all")
        return [(str(row["id"]), str(row["tenant_id"])) for row in found]

    @writes_one
    def move_inbound(
        self, inbound_id: str, from_tenant: str, to_tenant: str | None
    ) -> Script[bool]:
        """Give an inbound message ``from_tenant`` holds to ``to_tenant`` (``None``: to no
        tenant); ``False`` when ``from_tenant`` does not hold it (any more)."""
        params = {"id": inbound_id, "from_tenant": from_tenant, "to_tenant": to_tenant}
        return (yield Query("move_inbound", params, "one")) is not None

    @reads
    def list_inbound(
        self, *, tenant_id: str | None = None, limit: int = 50
    ) -> Script[list[InboundMessage]]:
        """Inbound messages, newest first (optionally one tenant's)."""
        params = {"tenant_id": tenant_id, "limit": limit}
        return [rows.inbound(r) for r in (yield Query("list_inbound", params, "all"))]
