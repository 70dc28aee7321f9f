"""Pieces of transaction scripts that several store operations share (see
:mod:`gateway.store.connector` for what a script is). Each is a generator to ``yield from``
inside a script; none does I/O."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from gateway.store.connector import JsonValue, Notify, Query, QueryMany, Row, Script
from gateway.store.records import (
    JobSpec,
    LeaseLostError,
    NotFoundError,
    OutputSpec,
    Receipt,
    StateChange,
    new_id,
)


def one(name: str, params: Mapping[str, Any]) -> Script[Row]:
    """The first row of a query that must return one (e.g. ``INSERT … RETURNING``)."""
    row: Row | None = yield Query(name, params, "one")
    assert row is not None, name
    return row


def fenced(name: str, params: Mapping[str, Any]) -> Script[Row]:
    """Run an owner-fenced job update (``params`` hold ``id`` and ``worker_id``); raise
    :class:`NotFoundError` for an unknown job, :class:`LeaseLostError` when the worker no
    longer holds the lease."""
    row: Row | None = yield Query(name, params, "one")
    if row is None:
        yield from lease_lost(params["id"], params["worker_id"])
    assert row is not None
    return row


def lease_lost(job_id: str, worker_id: str) -> Script[None]:
    """Raise why an owner-fenced update of ``job_id`` changed nothing: :class:`NotFoundError`
    for an unknown job, else :class:`LeaseLostError`."""
    if (yield Query("get_job", {"id": job_id}, "one")) is None:
        raise NotFoundError(f"unknown job {job_id!r}")
    raise LeaseLostError(f"job {job_id} is not leased to {worker_id}")


def due_at(spec: JobSpec, at: datetime | None) -> datetime | None:
    """When ``spec``'s job is due, queued at the queue time ``at`` (see
    :meth:`~gateway.store.connector.Connector.queue_time`): its ``not_before``, else
    ``at`` or its ``ordered_at``, whichever is earlier. ``None`` when the database's
    clock decides: the SQL then does the same with its own ``now()``."""
    if spec.not_before is not None:
        return spec.not_before
    if at is None or spec.ordered_at is None:
        return at
    return min(spec.ordered_at, at)


def later(at: datetime | None, seconds: float | None) -> datetime | None:
    """``seconds`` after the queue time ``at``; ``None`` when either is (the database then
    adds the seconds to its own ``now()``, or there is no such time)."""
    return None if at is None or seconds is None else at + timedelta(seconds=seconds)


def lease_params(at: datetime | None, seconds: float | None) -> dict[str, Any]:
    """A lease of ``seconds`` (``None``: no lease) granted at the queue time ``at``: its
    ``lease_expires_at`` computed here when ``at`` is known, else ``None`` and the database
    adds ``lease_seconds`` to its own ``now()``."""
    return {"lease_seconds": seconds, "lease_expires_at": later(at, seconds)}


def job_params(
    submission_id: str, spec: JobSpec, now: datetime, at: datetime | None
) -> dict[str, Any]:
    """The parameters of ``insert_job`` for ``spec`` on ``submission_id``, stamped ``now``
    and due by the queue time ``at`` (see :func:`due_at`)."""
    return {
        "id": new_id(),
        "kind": spec.kind,
        "submission_id": submission_id,
        "adapter": spec.adapter,
        "endpoint": spec.endpoint,
        "payload_ref": spec.payload_ref,
        "message_id": spec.message_id or f"{new_id()}@lingang",
        "next_attempt_at": due_at(spec, at),
        "ordered_at": spec.ordered_at,
        "now": now,
    }


def insert_job(
    submission_id: str, spec: JobSpec, now: datetime, at: datetime | None
) -> Script[tuple[Row, bool]]:
    """Queue ``spec`` on ``submission_id`` (and wake workers) unless a job of the same kind
    and adapter is there already; ``(row, new)``."""
    params = job_params(submission_id, spec, now, at)
    row: Row | None = yield Query("insert_job", params, "one")
    if row is not None:
        yield Notify()
        return row, True
    return (yield from one("job_by_key", params)), False


def hand_off(
    spec: JobSpec, now: datetime, lease: tuple[str, float] | None
) -> tuple[str, float] | None:
    """The lease (worker id, seconds) ``spec`` is queued with: ``lease``, when it asks for a
    hand-off and the job is due now; ``None``: queued pending. A ``not_before`` is compared
    with this process's ``now``: a job handed a little early runs a little early, while
    its lease is the database's like any other."""
    if lease is None or (spec.not_before is not None and spec.not_before > now):
        return None
    return lease


def leased_params(handed: tuple[str, float] | None, at: datetime | None) -> dict[str, Any]:
    """A new job's state, attempts and lease: leased to ``handed`` (worker id, seconds, see
    :func:`hand_off`) from the queue time ``at`` as its first attempt, else pending."""
    owner, seconds = handed if handed is not None else (None, None)
    return {
        "job_state": "pending" if handed is None else "leased",
        "attempts": 0 if handed is None else 1,
        "lease_owner": owner,
        **lease_params(at, seconds),
    }


def queue_job(
    submission_id: str,
    spec: JobSpec,
    now: datetime,
    at: datetime | None,
    *,
    lease: tuple[str, float] | None = None,
) -> Script[tuple[Row, bool]]:
    """Queue ``spec`` like :func:`insert_job`; with ``lease`` (worker id, seconds) a job due
    now is queued already leased to that worker (its first attempt), so the worker that
    made it runs it at once without a claim (a hand-off). A job of the same kind and adapter
    that is there already is returned untouched. ``(row, new)``."""
    handed = hand_off(spec, now, lease)
    if handed is None:
        return (yield from insert_job(submission_id, spec, now, at))
    params = job_params(submission_id, spec, now, at) | leased_params(handed, at)
    row: Row | None = yield Query("insert_job_leased", params, "one")
    if row is not None:
        return row, True
    return (yield from one("job_by_key", params)), False


def finish_job_with_outputs(
    job_id: str, worker_id: str, outputs: Sequence[OutputSpec], now: datetime
) -> Script[str]:
    """Mark a leased job ``done`` (owner-fenced, see :func:`fenced`) and replace its
    submission's ``outputs`` (per kind); the submission id."""
    done = yield from fenced("complete_job", {"id": job_id, "worker_id": worker_id, "now": now})
    submission_id = str(done["submission_id"])
    yield from put_outputs(submission_id, outputs, now)
    return submission_id


def put_outputs(submission_id: str, outputs: Sequence[OutputSpec], now: datetime) -> Script[None]:
    """Replace the submission's ``outputs`` (per kind: the last of a kind wins), reading
    nothing back (on PostgreSQL it travels with the next request that waits)."""
    latest = {output.kind: output for output in outputs}
    puts = [
        {
            "submission_id": submission_id,
            "kind": output.kind,
            "media_type": output.media_type,
            "data": bytes(output.data),
            "now": now,
        }
        for output in latest.values()
    ]
    yield QueryMany("put_output", puts)


def finish_and_queue(
    job_id: str,
    worker_id: str,
    spec: JobSpec,
    event: StateChange,
    now: datetime,
    at: datetime | None,
    *,
    lease: tuple[str, float] | None = None,
) -> Script[Row]:
    """End a leased job and queue the next one in **one statement** (``finish_and_queue``):
    the job ``done`` (owner-fenced, see :func:`fenced`), ``spec`` queued on its submission
    like :func:`queue_job` (with ``lease``, a job due now is queued leased to that worker; a
    job of the same kind and adapter already there is kept as it is), and ``event``
    recorded with that job's ``job_id`` and ``message_id`` in its detail (as
    :func:`with_job` adds them). Workers are woken for a new job not leased. The row of the
    job queued or found (with ``submission_id``)."""
    params = job_params("", spec, now, at)
    handed = hand_off(spec, now, lease)
    params |= leased_params(handed, at)
    params |= {
        "done_id": job_id,
        "worker_id": worker_id,
        "state": event.state,
        "reason": event.reason,
        "detail": None if event.detail is None else JsonValue.of(event.detail, "detail"),
    }
    row: Row | None = yield Query("finish_and_queue", params, "one")
    if row is None:
        yield from lease_lost(job_id, worker_id)
    assert row is not None
    if row["inserted"] and handed is None:
        yield Notify()
    return row


def ensure_job(
    submission_id: str, spec: JobSpec, now: datetime, at: datetime | None
) -> Script[None]:
    """Queue ``spec`` on ``submission_id`` unless it is there already, and wake workers,
    without reading anything back (on PostgreSQL it rides along with the commit)."""
    yield Query("insert_job", job_params(submission_id, spec, now, at))
    yield Notify()


def state_params(submission_id: str, event: StateChange, now: datetime) -> dict[str, Any]:
    """The parameters of ``record_state`` (and of the queries that embed it)."""
    return {
        "submission_id": submission_id,
        "state": event.state,
        "reason": event.reason,
        "detail": None if event.detail is None else JsonValue.of(event.detail, "detail"),
        "now": now,
    }


def change_state(submission_id: str, event: StateChange | None, now: datetime) -> Script[None]:
    """Record ``event`` on the submission (its state and its history: one statement where
    the database can write both at once), if there is one."""
    if event is None:
        return
    yield Query("record_state", state_params(submission_id, event, now))


def receipt_params(job_id: str, receipt: Receipt, now: datetime) -> dict[str, Any]:
    """The parameters of ``insert_receipt`` for ``receipt`` of the job."""
    return {
        "id": new_id(),
        "job_id": job_id,
        "kind": receipt.kind,
        "data": bytes(receipt.data),
        "media_type": receipt.media_type,
        "detail": JsonValue.of(receipt.detail, "receipt.detail"),
        "now": now,
    }


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
