"""The store's records, errors and identifiers (what :class:`gateway.store.base.Store` takes
and returns).

Everything the gateway must not lose is one of these: tenants and their API keys (hashed),
the partner directory, submissions with their original bytes, rendered outputs, state-change
events, the job queue (the outbox), receipts and inbound messages with their duplicate keys.

All times are timezone-aware UTC ``datetime``. Identifiers are opaque strings.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from gateway.errors import InputError, LingangError

JSON = dict[str, Any]
"""A JSON object as Python data (what the store keeps in JSON columns)."""

Clock = Callable[[], datetime]
"""A function returning the current time (timezone-aware, UTC); injectable for tests."""


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


def new_id() -> str:
    """A fresh opaque identifier (32 hex digits), time-ordered: the milliseconds since the
    epoch (12 digits), then 80 random bits from the operating system (unguessable).

    Rows keyed by these ids (submissions, jobs, receipts, and the outputs, events and facts
    keyed by submission) go in near the end of every index on them, so the rows a group
    commit writes share their index pages: with random ids each row dirtied a page of its
    own per index (about a third of the pages written per document on SQLite)."""
    return f"{time.time_ns() // 1_000_000:012x}{os.urandom(10).hex()}"


# --------------------------------------------------------------------------- errors


class StoreError(LingangError):
    """The store could not do what was asked (connection, schema, constraint)."""

    code = "store"
    retryable = True


class UnstorableError(StoreError, InputError):
    """A value the store cannot keep (PostgreSQL: a NUL in text, a key longer than an index
    entry may be): the input's fault, so sending it again cannot help (422, not 503)."""

    code = "unstorable"
    retryable = False


class NotFoundError(StoreError):
    """The row the operation refers to does not exist."""

    code = "not-found"
    retryable = False


class ConflictError(StoreError):
    """The row is in a state that does not allow the operation (e.g. retrying a done job)."""

    code = "conflict"
    retryable = False


class LeaseLostError(ConflictError):
    """The worker no longer holds the job's lease (it expired and another worker took it)."""

    code = "lease-lost"
    retryable = False


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


SUBMITTER = "submitter"
"""The role of an ordinary API key: submits documents and reads the tenant's records."""
OFFICER = "officer"
"""The role of a compliance officer's API key: also releases and refuses the tenant's held
documents (a submitter's key cannot, unless ``[policy] submitter_decisions`` says so)."""
ROLES = (SUBMITTER, OFFICER)


@dataclass(frozen=True, slots=True)
class ApiKey:
    """An API key's stored form. The key itself is never stored, only ``key_hash``."""

    id: str
    tenant_id: str
    key_hash: str
    label: str
    created_at: datetime
    revoked_at: datetime | None = None
    role: str = SUBMITTER
    """:data:`SUBMITTER` or :data:`OFFICER`."""

    @property
    def principal(self) -> str:
        """How the key is named where it decided something (a hold, a ledger entry)."""
        return f"api-key:{self.id}"


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
class SubmissionSummary:
    """A submission without its bytes, with the bytes' length: what a listing or a status
    page shows, so neither reads the documents themselves."""

    id: str
    tenant_id: str
    idempotency_key: str | None
    size: int
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
class OutputSummary:
    """An output as a status answer lists it: its bytes' length, and its bytes only when
    asked for (``data`` is ``None`` otherwise)."""

    submission_id: str
    kind: str
    media_type: str
    size: int
    created_at: datetime
    data: bytes | None


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
    """A queued unit of work: process a submission, deliver its payload through one
    adapter to one endpoint, receive an inbound message, ...

    ``kind`` names the work (``process``, ``deliver``, ``receive``, ``transfer``,
    ``release``, ``report``): workers claim the kinds they run (see
    :meth:`Store.claim_jobs`). ``submission_id`` is the submission, or for kind
    ``receive`` the inbound message, the job works on. ``adapter`` and ``endpoint`` are
    set for deliveries and empty (``""``) otherwise: ``endpoint`` is the circuit-breaker
    key (e.g. a receiver's AS4 URL or participant id); ``payload_ref`` tells the worker
    what to use (e.g. an :class:`Output` kind); ``message_id`` is the transport message
    id, stable across retries.
    """

    id: str
    kind: str
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
    """A job to queue (see :meth:`Store.enqueue_job`), possibly in the same transaction as
    other writes.

    ``kind`` is the job kind (``"process"``, ``"deliver"``, ...); ``adapter`` and
    ``endpoint`` name a delivery's adapter and receiving endpoint (``""`` for jobs that
    are not deliveries); see :class:`Job`. ``message_id`` defaults to a fresh
    ``uuid@lingang`` style id. ``not_before`` is when it becomes due (default: now). A
    time in the past makes it due at once but orders it among the due jobs by that time
    (claims take the oldest first). ``ordered_at`` asks for that order without a schedule:
    the job is due now, ordered as if queued at ``ordered_at`` — or now, when that is
    later (a time another host stamped by a clock running ahead never delays it). E.g. a
    delivery queued with its submission's arrival time goes before the processing of
    documents that arrived later."""

    kind: str
    adapter: str = ""
    endpoint: str = ""
    payload_ref: str | None = None
    message_id: str | None = None
    not_before: datetime | None = None
    ordered_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class OutputSpec:
    """An output to write as part of a processing result (see :meth:`Store.finish_processing`)."""

    kind: str
    media_type: str
    data: bytes


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
    answer: bytes | None = None
    """What the receiving adapter answered the sender when the message was first stored
    (AS4: the signed receipt), if it kept one; filled by :meth:`Store.receive_inbound`."""


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
    seen_at: datetime | None = field(default=None, compare=False)
    """When the store read it, by the queue's clock (:meth:`Store.queue_time`: the
    database's on PostgreSQL): what the breaker stamps ``opened_at`` with and measures the
    cool-down by, so replicas whose clocks disagree agree on it. Not stored."""
