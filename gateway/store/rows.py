"""Turning database rows (SQLite or PostgreSQL) into the store's records.

Both backends hand over mappings; the differences (times as ISO text or ``datetime``,
JSON as text or already decoded, booleans as ``0/1``) are smoothed out here.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from gateway.store.records import (
    JSON,
    ApiKey,
    BreakerPhase,
    BreakerState,
    DirectoryEntry,
    Event,
    InboundMessage,
    Job,
    JobState,
    Output,
    OutputSummary,
    StoredReceipt,
    StoreError,
    Submission,
    SubmissionSummary,
    Tenant,
)

Row = Mapping[str, Any]


def encode_json(value: Mapping[str, Any] | None, what: str) -> str:
    """A JSON column's text: strict JSON (no NaN/Infinity), keys sorted. A value that is
    not JSON (odd types, NaN, absurd nesting) is refused naming the field."""
    try:
        return json.dumps(dict(value or {}), ensure_ascii=False, sort_keys=True, allow_nan=False)
    except (TypeError, ValueError, RecursionError) as exc:
        raise StoreError(f"{what} is not JSON-serialisable: {exc}", field=what) from exc


def to_time(value: Any) -> datetime:
    """A stored time as aware UTC ``datetime``."""
    if isinstance(value, str):
        return _parsed_time(value)
    if not isinstance(value, datetime):
        raise TypeError(f"not a time: {value!r}")
    return value.astimezone(UTC)


@functools.lru_cache(maxsize=1024)
def _parsed_time(text: str) -> datetime:
    """A time stored as text (SQLite), parsed; recent ones remembered (a row's times, and
    the rows of one transaction, repeat the same few)."""
    return datetime.fromisoformat(text).astimezone(UTC)


def to_opt_time(value: Any) -> datetime | None:
    """Like :func:`to_time`, passing ``None`` through."""
    return None if value is None else to_time(value)


def to_json(value: Any) -> JSON:
    """A stored JSON object as a dict."""
    if isinstance(value, str | bytes):
        value = json.loads(value)
    if not isinstance(value, dict):
        raise TypeError(f"not a JSON object: {value!r}")
    return value


def to_opt_json(value: Any) -> JSON | None:
    """Like :func:`to_json`, passing ``None`` through."""
    return None if value is None else to_json(value)


def to_bytes(value: Any) -> bytes:
    """A stored blob as ``bytes``."""
    return bytes(value)


def tenant(row: Row) -> Tenant:
    return Tenant(id=row["id"], name=row["name"], created_at=to_time(row["created_at"]))


def api_key(row: Row) -> ApiKey:
    return ApiKey(
        id=row["id"],
        tenant_id=row["tenant_id"],
        key_hash=row["key_hash"],
        label=row["label"],
        created_at=to_time(row["created_at"]),
        revoked_at=to_opt_time(row["revoked_at"]),
        role=row["role"],
    )


def directory_entry(row: Row) -> DirectoryEntry:
    return DirectoryEntry(
        tenant_id=row["tenant_id"],
        kind=row["kind"],
        key=row["key"],
        document=to_json(row["document"]),
        updated_at=to_time(row["updated_at"]),
    )


def submission(row: Row) -> Submission:
    return Submission(
        id=row["id"],
        tenant_id=row["tenant_id"],
        idempotency_key=row["idempotency_key"],
        data=to_bytes(row["data"]),
        content_type=row["content_type"],
        filename=row["filename"],
        metadata=to_json(row["metadata"]),
        state=row["state"],
        created_at=to_time(row["created_at"]),
        updated_at=to_time(row["updated_at"]),
    )


def submission_summary(row: Row) -> SubmissionSummary:
    return SubmissionSummary(
        id=row["id"],
        tenant_id=row["tenant_id"],
        idempotency_key=row["idempotency_key"],
        size=int(row["size"]),
        content_type=row["content_type"],
        filename=row["filename"],
        metadata=to_json(row["metadata"]),
        state=row["state"],
        created_at=to_time(row["created_at"]),
        updated_at=to_time(row["updated_at"]),
    )


def output(row: Row) -> Output:
    return Output(
        submission_id=row["submission_id"],
        kind=row["kind"],
        media_type=row["media_type"],
        data=to_bytes(row["data"]),
        created_at=to_time(row["created_at"]),
    )


def output_summary(row: Row) -> OutputSummary:
    return OutputSummary(
        submission_id=row["submission_id"],
        kind=row["kind"],
        media_type=row["media_type"],
        size=int(row["size"]),
        created_at=to_time(row["created_at"]),
        data=None if row["data"] is None else to_bytes(row["data"]),
    )


def event(row: Row) -> Event:
    return Event(
        id=int(row["id"]),
        submission_id=row["submission_id"],
        state=row["state"],
        at=to_time(row["at"]),
        reason=row["reason"],
        detail=to_opt_json(row["detail"]),
    )


def job(row: Row) -> Job:
    retryable = row["retryable"]
    return Job(
        id=row["id"],
        kind=row["kind"],
        submission_id=row["submission_id"],
        adapter=row["adapter"],
        endpoint=row["endpoint"],
        payload_ref=row["payload_ref"],
        message_id=row["message_id"],
        state=JobState(row["state"]),
        attempts=int(row["attempts"]),
        next_attempt_at=to_time(row["next_attempt_at"]),
        lease_owner=row["lease_owner"],
        lease_expires_at=to_opt_time(row["lease_expires_at"]),
        last_error=row["last_error"],
        retryable=None if retryable is None else bool(retryable),
        created_at=to_time(row["created_at"]),
        updated_at=to_time(row["updated_at"]),
    )


def receipt(row: Row) -> StoredReceipt:
    return StoredReceipt(
        id=row["id"],
        job_id=row["job_id"],
        kind=row["kind"],
        data=to_bytes(row["data"]),
        media_type=row["media_type"],
        detail=to_json(row["detail"]),
        received_at=to_time(row["received_at"]),
    )


def breaker(row: Row) -> BreakerState:
    return BreakerState(
        endpoint=row["endpoint"],
        phase=BreakerPhase(row["phase"]),
        failures=int(row["failures"]),
        opened_at=to_opt_time(row["opened_at"]),
        version=int(row["version"]),
    )


def inbound(row: Row) -> InboundMessage:
    return InboundMessage(
        id=row["id"],
        tenant_id=row["tenant_id"],
        channel=row["channel"],
        message_id=row["message_id"],
        sender=row["sender"],
        receiver=row["receiver"],
        data=to_bytes(row["data"]),
        media_type=row["media_type"],
        metadata=to_json(row["metadata"]),
        received_at=to_time(row["received_at"]),
    )
