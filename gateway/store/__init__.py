"""The durable store (submissions, outputs, jobs, receipts, inbound) and its factory.

``open_store(url)`` opens ``sqlite:///path.db`` or ``postgresql://...``; see
:mod:`gateway.store.base` for the store (its transaction logic, written once),
:mod:`gateway.store.records` for the records, :mod:`gateway.store.connector` for what a
database has to provide.
"""

from __future__ import annotations

from gateway.store.base import (
    ApiKey,
    BreakerPhase,
    BreakerState,
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
    Store,
    StoredReceipt,
    StoreError,
    Submission,
    SubmissionSummary,
    Tenant,
    hash_api_key,
    new_api_key,
)

__all__ = [
    "ApiKey",
    "BreakerPhase",
    "BreakerState",
    "ConflictError",
    "DirectoryEntry",
    "Event",
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
    "open_store",
]


async def open_store(
    url: str, *, migrate: bool = True, idle_transaction_seconds: float | None = None
) -> Store:
    """Open the store named by ``url`` and (by default) apply pending migrations.

    ``sqlite:///relative/or/absolute/path.db`` (``sqlite:////abs/path.db`` also works) or
    ``postgresql://user@host:port/db`` (``postgres://`` too). Unknown schemes raise
    :class:`StoreError`. ``idle_transaction_seconds`` (PostgreSQL; ``None``: the default)
    bounds how long a transaction may sit idle
    (:data:`~gateway.store.postgres.IDLE_TRANSACTION_SECONDS`).
    """
    if url.startswith("sqlite:"):
        from gateway.store.sqlite import SqliteStore

        store: Store = await SqliteStore.open(url)
    elif url.startswith(("postgresql:", "postgres:")):
        from gateway.store.postgres import IDLE_TRANSACTION_SECONDS, PostgresStore

        if idle_transaction_seconds is None:
            idle_transaction_seconds = IDLE_TRANSACTION_SECONDS
        store = await PostgresStore.open(url, idle_transaction_seconds=idle_transaction_seconds)
    else:
        raise StoreError(f"unsupported store URL scheme in {url.split(':', 1)[0]!r}", field="url")
    if migrate:
        try:
            await store.migrate()
        except BaseException:
            await store.close()
            raise
    return store
