"""The durable store: one abstract interface, typed records, two implementations.

Everything the gateway must not lose lives here: tenants and their API keys (hashed), the
partner directory, submissions with their original bytes, rendered outputs, state-change
events, the delivery outbox, receipts and inbound messages with their duplicate keys.

Implementations: :class:`gateway.store.sqlite.SqliteStore` (embedded, WAL) and
:class:`gateway.store.postgres.PostgresStore` (many replicas; ``FOR UPDATE SKIP LOCKED``
claims, ``LISTEN/NOTIFY`` wake-ups). Open either with :func:`gateway.store.open_store`.
Both pass the same conformance suite, :class:`gateway.store.testing.StoreContract`.

Outbox state machine (each transition is one transaction inside the store)::

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

import abc
import hashlib
import secrets
import uuid
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from gateway.errors import LingangError

JSON = dict[str, Any]
"""A JSON object as Python data (what the store keeps in JSON columns)."""

Clock = Callable[[], datetime]
"""A function returning the current time (timezone-aware, UTC); injectable for tests."""


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


def new_id() -> str:
    """A fresh opaque identifier (32 hex digits)."""
    return uuid.uuid4().hex


# --------------------------------------------------------------------------- errors


class StoreError(LingangError):
    """The store could not do what was asked (connection, schema, constraint)."""

    code = "store"


class NotFoundError(StoreError):
    """The row the operation refers to does not exist."""

    code = "not-found"


class ConflictError(StoreError):
    """The row is in a state that does not allow the operation (e.g. retrying a done job)."""

    code = "conflict"


class LeaseLostError(ConflictError):
    """The worker no longer holds the job's lease (it expired and another worker took it)."""

    code = "lease-lost"


# --------------------------------------------------------------------------- API keys

API_KEY_PREFIX = "lgk_"


def new_api_key() -> str:
    """A fresh high-entropy API key (256 bits). Show it once; store only its hash."""
    return API_KEY_PREFIX + secrets.token_urlsafe(32)


def hash_api_key(key: str) -> str:
    """The at-rest form of an API key: hex SHA-256. Safe because keys are high-entropy."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


# --------------------------------------------------------------------------- records


class JobState(StrEnum):
    """Where an outbox job is in its life."""

    PENDING = "pending"
    LEASED = "leased"
    DONE = "done"
    DEAD = "dead"


class BreakerPhase(StrEnum):
    """Circuit-breaker phase of one delivery endpoint."""

    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass(frozen=True, slots=True)
class Tenant:
    """A customer of the gateway; every submission belongs to one."""

    id: str
    name: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ApiKey:
    """An API key's stored form. The key itself is never stored, only ``key_hash``."""

    id: str
    tenant_id: str
    key_hash: str
    label: str
    created_at: datetime
    revoked_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class DirectoryEntry:
    """One partner-directory entry of a tenant.

    ``kind`` is ``"partner"`` (a buyer/receiver) or ``"exporter"`` (a sender identity);
    ``key`` identifies it within the kind (e.g. the buyer's tax id or the seller USCC);
    ``document`` is the entry as JSON (its schema belongs to the directory module).
    """

    tenant_id: str
    kind: str
    key: str
    document: JSON
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Submission:
    """A document handed to the gateway, kept with its original bytes.

    ``state`` is the pipeline's current state (free text owned by the pipeline, e.g.
    ``received``, ``validated``, ``queued``, ``delivered``, ``failed``, ``held``); it is
    changed only through :meth:`Store.record_event`, which also writes the history.
    """

    id: str
    tenant_id: str
    idempotency_key: str | None
    data: bytes
    content_type: str
    filename: str | None
    metadata: JSON
    state: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Output:
    """A rendered, signed or enveloped artefact of a submission (one per ``kind``)."""

    submission_id: str
    kind: str
    media_type: str
    data: bytes
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Event:
    """One state change of a submission, with why and (optionally) stage timings."""

    id: int
    submission_id: str
    state: str
    at: datetime
    reason: str | None = None
    detail: JSON | None = None


@dataclass(frozen=True, slots=True)
class Job:
    """An outbox job: deliver one submission's payload through one adapter to one endpoint.

    ``endpoint`` is the circuit-breaker key (e.g. a receiver's AS4 URL or participant id);
    ``payload_ref`` tells the deliverer what to send (e.g. an :class:`Output` kind);
    ``message_id`` is the transport message id, stable across retries.
    """

    id: str
    submission_id: str
    adapter: str
    endpoint: str
    payload_ref: str | None
    message_id: str
    state: JobState
    attempts: int
    next_attempt_at: datetime
    lease_owner: str | None
    lease_expires_at: datetime | None
    last_error: str | None
    retryable: bool | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class StateChange:
    """A submission event to write in the same transaction as an outbox transition.

    Passing it to :meth:`Store.complete_job` or :meth:`Store.fail_job` means a crash can
    never leave a job ``done`` while its submission still looks undelivered.
    """

    state: str
    reason: str | None = None
    detail: JSON | None = None


@dataclass(frozen=True, slots=True)
class JobSpec:
    """An outbox job to queue in the same transaction as other writes.

    ``not_before`` is when it becomes due (default: now). A time in the past makes it due
    at once but orders it among the due jobs by that time (claims take the oldest first):
    e.g. a delivery queued with its submission's arrival time goes before the processing
    of documents that arrived later."""

    adapter: str
    endpoint: str
    payload_ref: str | None = None
    message_id: str | None = None
    not_before: datetime | None = None


@dataclass(frozen=True, slots=True)
class OutputSpec:
    """An output to write as part of a processing result (see :meth:`Store.finish_processing`)."""

    kind: str
    media_type: str
    data: bytes


def with_job(event: StateChange | None, job: Mapping[str, Any]) -> StateChange | None:
    """``event`` with the new job's ``job_id`` and ``message_id`` added to its detail."""
    if event is None:
        return None
    detail = {"job_id": job["id"], "message_id": job["message_id"], **(event.detail or {})}
    return StateChange(event.state, event.reason, detail)


def with_jobs(event: StateChange | None, job_ids: list[str]) -> StateChange | None:
    """``event`` with the affected ``jobs`` added to its detail."""
    if event is None:
        return None
    return StateChange(event.state, event.reason, {"jobs": job_ids, **(event.detail or {})})


@dataclass(frozen=True, slots=True)
class Receipt:
    """What a delivery produced as proof (an AS4 signal, a DCSA signed response, ...).

    This is what a deliverer returns; the store keeps it as a :class:`StoredReceipt`.
    """

    kind: str
    data: bytes = b""
    media_type: str = "application/octet-stream"
    detail: JSON = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class StoredReceipt:
    """A receipt as kept by the store, attached to the job it proves."""

    id: str
    job_id: str
    kind: str
    data: bytes
    media_type: str
    detail: JSON
    received_at: datetime


@dataclass(frozen=True, slots=True)
class InboundMessage:
    """A document received from a counterpart (AS4, DCSA PINT, ...)."""

    id: str
    tenant_id: str | None
    channel: str
    message_id: str
    sender: str | None
    receiver: str | None
    data: bytes
    media_type: str
    metadata: JSON
    received_at: datetime


@dataclass(frozen=True, slots=True)
class BreakerState:
    """The shared circuit-breaker record of one endpoint.

    ``version`` increases with every update; :meth:`Store.update_breaker` is a
    compare-and-set on it, so replicas sharing a store agree on the phase.
    """

    endpoint: str
    phase: BreakerPhase = BreakerPhase.CLOSED
    failures: int = 0
    opened_at: datetime | None = None
    version: int = 0


# --------------------------------------------------------------------------- the interface


class Store(abc.ABC):
    """The durable store. Every method is one transaction; every read is tenant-scoped
    where the record belongs to a tenant."""

    clock: Clock
    """Source of "now" for leases and schedules (implementations take it as a constructor
    argument defaulting to :func:`utcnow`; tests inject a fake one)."""

    # -- life cycle ------------------------------------------------------------------

    @abc.abstractmethod
    async def migrate(self) -> int:
        """Apply pending schema migrations; return the schema version now in place."""

    @abc.abstractmethod
    async def schema_version(self) -> int:
        """The applied schema version (0 for an empty database)."""

    @abc.abstractmethod
    async def ping(self) -> None:
        """Raise :class:`StoreError` unless the store answers."""

    @abc.abstractmethod
    async def close(self) -> None:
        """Release connections and threads. Idempotent."""

    async def __aenter__(self) -> Store:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- tenants and API keys --------------------------------------------------------

    @abc.abstractmethod
    async def create_tenant(self, name: str, *, tenant_id: str | None = None) -> Tenant:
        """Create a tenant (``tenant_id`` chosen by the caller or generated)."""

    @abc.abstractmethod
    async def get_tenant(self, tenant_id: str) -> Tenant | None:
        """The tenant, or ``None``."""

    @abc.abstractmethod
    async def list_tenants(self) -> list[Tenant]:
        """All tenants, oldest first."""

    @abc.abstractmethod
    async def add_api_key(self, tenant_id: str, key_hash: str, *, label: str = "") -> ApiKey:
        """Store an API key's hash (see :func:`hash_api_key`) for a tenant."""

    @abc.abstractmethod
    async def tenant_for_key_hash(self, key_hash: str) -> Tenant | None:
        """The tenant owning a non-revoked key with this hash, or ``None``."""

    @abc.abstractmethod
    async def list_api_keys(self, tenant_id: str) -> list[ApiKey]:
        """A tenant's keys (revoked ones included), oldest first (same instant: by id)."""

    @abc.abstractmethod
    async def revoke_api_key(self, key_id: str) -> None:
        """Revoke a key; later lookups by its hash find nothing."""

    async def issue_api_key(self, tenant_id: str, *, label: str = "") -> tuple[str, ApiKey]:
        """Generate a key, store its hash, return ``(plain key, stored record)``.

        The plain key is returned once and never kept; do not log it.
        """
        key = new_api_key()
        record = await self.add_api_key(tenant_id, hash_api_key(key), label=label)
        return key, record

    async def authenticate(self, key: str) -> Tenant | None:
        """The tenant a presented API key belongs to, or ``None``."""
        return await self.tenant_for_key_hash(hash_api_key(key))

    # -- partner directory -----------------------------------------------------------

    @abc.abstractmethod
    async def put_directory_entry(
        self, tenant_id: str, kind: str, key: str, document: Mapping[str, Any]
    ) -> DirectoryEntry:
        """Insert or replace one directory entry."""

    @abc.abstractmethod
    async def get_directory_entry(
        self, tenant_id: str, kind: str, key: str
    ) -> DirectoryEntry | None:
        """One entry, or ``None``."""

    @abc.abstractmethod
    async def list_directory(self, tenant_id: str, kind: str | None = None) -> list[DirectoryEntry]:
        """A tenant's entries (of one kind, or all), ordered by kind then key."""

    @abc.abstractmethod
    async def delete_directory_entry(self, tenant_id: str, kind: str, key: str) -> bool:
        """Delete an entry; ``True`` if it existed."""

    @abc.abstractmethod
    async def replace_directory(
        self, tenant_id: str, entries: Sequence[tuple[str, str, Mapping[str, Any]]]
    ) -> int:
        """Make ``entries`` ((kind, key, document) each) the tenant's whole directory, in one
        transaction: readers see the old directory or the new one, never a mix; a crash
        leaves the old one. Returns the number of entries removed."""

    # -- submissions, outputs, events ------------------------------------------------

    @abc.abstractmethod
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
        (queueing is idempotent per ``(submission, adapter)``). Workers are woken.
        """

    @abc.abstractmethod
    async def get_submission(self, tenant_id: str, submission_id: str) -> Submission | None:
        """The submission if it belongs to ``tenant_id``, else ``None``."""

    @abc.abstractmethod
    async def get_submission_any_tenant(self, submission_id: str) -> Submission | None:
        """The submission regardless of tenant: for workers and the CLI only, never the API."""

    @abc.abstractmethod
    async def list_submissions(
        self,
        tenant_id: str,
        *,
        state: str | None = None,
        limit: int = 50,
        before: datetime | None = None,
    ) -> list[Submission]:
        """A tenant's submissions, newest first (``before`` pages by ``created_at``)."""

    @abc.abstractmethod
    async def count_submissions_by_state(self) -> dict[str, int]:
        """How many submissions are in each state, over all tenants (for metrics)."""

    @abc.abstractmethod
    async def record_event(
        self,
        submission_id: str,
        state: str,
        *,
        reason: str | None = None,
        detail: Mapping[str, Any] | None = None,
    ) -> Event:
        """Append a state-change event and set the submission's current state."""

    @abc.abstractmethod
    async def list_events(self, submission_id: str) -> list[Event]:
        """A submission's events, oldest first."""

    @abc.abstractmethod
    async def put_output(
        self, submission_id: str, kind: str, media_type: str, data: bytes
    ) -> Output:
        """Insert or replace the output of one ``kind`` (e.g. ``ubl``, ``signed``, ``envelope``)."""

    @abc.abstractmethod
    async def get_output(self, submission_id: str, kind: str) -> Output | None:
        """One output, or ``None``."""

    @abc.abstractmethod
    async def list_outputs(self, submission_id: str) -> list[Output]:
        """All outputs of a submission, ordered by kind."""

    # -- outbox ----------------------------------------------------------------------

    @abc.abstractmethod
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
        """Queue a delivery and wake waiting workers.

        Idempotent per ``(submission_id, adapter)``: a second call returns the existing
        job unchanged. ``message_id`` defaults to a fresh ``uuid4@lingang`` style id.

        ``event`` (e.g. ``queued``) is recorded on the submission in the same transaction,
        before any worker can see the job, so a fast delivery's ``delivered`` event can
        never be overtaken by it; its detail gains ``job_id`` and ``message_id``. It is
        written only when the job is new.
        """

    @abc.abstractmethod
    async def get_job(self, job_id: str) -> Job | None:
        """One job, or ``None``."""

    @abc.abstractmethod
    async def list_jobs(
        self,
        *,
        submission_id: str | None = None,
        state: JobState | None = None,
        limit: int = 100,
    ) -> list[Job]:
        """Jobs filtered by submission and/or state, oldest first."""

    @abc.abstractmethod
    async def count_jobs_by_state(self) -> dict[JobState, int]:
        """How many outbox jobs are in each state (every state present, zeros included)."""

    @abc.abstractmethod
    async def claim_jobs(
        self,
        worker_id: str,
        *,
        limit: int = 10,
        lease_seconds: float = 60.0,
        exclude_endpoints: Collection[str] = (),
    ) -> list[Job]:
        """Lease up to ``limit`` due jobs to ``worker_id`` and return them.

        Due: ``pending`` with ``next_attempt_at <= now``, or ``leased`` with an expired
        lease. Each claim increments ``attempts``. Concurrent claimers (tasks, processes,
        replicas) never receive the same job while its lease is valid. Jobs whose
        endpoint is in ``exclude_endpoints`` (open breakers) are left alone.
        """

    @abc.abstractmethod
    async def renew_lease(self, job_id: str, worker_id: str, lease_seconds: float) -> Job:
        """Extend the lease of a job the worker still owns; else :class:`LeaseLostError`."""

    @abc.abstractmethod
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
        job is completed at most once.
        """

    @abc.abstractmethod
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
        """Record a failed attempt: back to ``pending`` at ``next_attempt_at``, or ``dead``
        (dead letter, ``error`` kept as the reason) when ``next_attempt_at`` is ``None``.
        ``event`` (e.g. the dead-letter state) is recorded on the submission in the same
        transaction. Owner-fenced like :meth:`complete_job`."""

    @abc.abstractmethod
    async def finish_processing(
        self,
        job_id: str,
        worker_id: str,
        *,
        outputs: Sequence[OutputSpec] = (),
        event: StateChange | None = None,
        enqueue: JobSpec | None = None,
    ) -> Job | None:
        """Record a processing job's whole result in one transaction: replace ``outputs``
        (per kind), queue ``enqueue`` (idempotent per ``(submission, adapter)`` like
        :meth:`enqueue_job`; workers are woken), record ``event`` (its detail gains the
        queued job's ``job_id`` and ``message_id``) and mark the job ``done``.

        Owner-fenced like :meth:`complete_job`: a worker whose lease was taken over gets
        :class:`LeaseLostError` and nothing is written, so a crash at any point leaves
        either none or all of the result. Returns the queued (or already existing) job,
        or ``None`` without ``enqueue``."""

    @abc.abstractmethod
    async def defer_job(self, job_id: str, worker_id: str, until: datetime) -> Job:
        """Give a claimed job back without counting the attempt (e.g. its breaker is
        open), due again at ``until``. Owner-fenced."""

    @abc.abstractmethod
    async def retry_job(self, job_id: str) -> Job:
        """Manual retry: a ``dead`` (or waiting ``pending``) job becomes due now with
        ``attempts`` reset; the message id is kept. :class:`NotFoundError` if unknown,
        :class:`ConflictError` if it is ``done`` or currently ``leased``."""

    @abc.abstractmethod
    async def retry_submission(
        self, submission_id: str, *, event: StateChange | None = None
    ) -> list[Job]:
        """Manual retry of every ``dead`` job of a submission; returns the retried jobs.

        ``event`` is recorded on the submission in the same transaction when at least one
        job was retried (its detail gains ``jobs``, the retried job ids)."""

    @abc.abstractmethod
    async def release_jobs(self, worker_id: str) -> int:
        """Graceful shutdown: give back every job leased to ``worker_id`` (due now, the
        claim not counted). Returns how many."""

    @abc.abstractmethod
    async def wait_for_jobs(self, timeout: float) -> bool:
        """Wait until jobs may be due (a NOTIFY on PostgreSQL, a short poll on SQLite) or
        ``timeout`` seconds pass. ``True`` if woken by a notification."""

    # -- receipts --------------------------------------------------------------------

    @abc.abstractmethod
    async def add_receipt(self, job_id: str, receipt: Receipt) -> StoredReceipt:
        """Attach a receipt to a job outside completion (e.g. an asynchronous AS4 receipt)."""

    @abc.abstractmethod
    async def list_receipts(
        self, *, job_id: str | None = None, submission_id: str | None = None
    ) -> list[StoredReceipt]:
        """Receipts of one job or of every job of a submission, oldest first."""

    # -- circuit breakers ------------------------------------------------------------

    @abc.abstractmethod
    async def get_breaker(self, endpoint: str) -> BreakerState:
        """The endpoint's breaker record (a fresh closed one, version 0, if none)."""

    @abc.abstractmethod
    async def update_breaker(self, state: BreakerState, expected_version: int) -> bool:
        """Compare-and-set: write ``state`` (with ``version = expected_version + 1``) only
        if the stored version is ``expected_version``. ``True`` when written."""

    @abc.abstractmethod
    async def open_breakers(self) -> list[BreakerState]:
        """Every breaker not closed (open or half-open)."""

    # -- inbound ---------------------------------------------------------------------

    @abc.abstractmethod
    async def remember_inbound(self, key: str) -> bool:
        """Record a duplicate-detection key; ``True`` the first time it is seen (across
        restarts, replicas and store instances), ``False`` afterwards."""

    @abc.abstractmethod
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
        """Store an inbound message unless ``(channel, message_id)`` was seen before.

        Returns ``(message, first_seen)``; a duplicate returns the first stored message.
        """

    @abc.abstractmethod
    async def get_inbound(self, inbound_id: str) -> InboundMessage | None:
        """One inbound message, or ``None``."""

    @abc.abstractmethod
    async def list_inbound(
        self, *, tenant_id: str | None = None, limit: int = 50
    ) -> list[InboundMessage]:
        """Inbound messages, newest first (optionally one tenant's)."""
