"""The durable store (submissions, outputs, outbox, receipts, inbound) and its factory.

``open_store(url)`` opens ``sqlite:///path.db`` or ``postgresql://...``; see
:mod:`gateway.store.base` for the interface and records.
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
    JobState,
    LeaseLostError,
    NotFoundError,
    Output,
    Receipt,
    Store,
    StoredReceipt,
    StoreError,
    Submission,
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
    "JobState",
    "LeaseLostError",
    "NotFoundError",
    "Output",
    "Receipt",
    "Store",
    "StoreError",
    "StoredReceipt",
    "Submission",
    "Tenant",
    "hash_api_key",
    "new_api_key",
    "open_store",
]


async def open_store(url: str, *, migrate: bool = True) -> Store:
    """Open the store named by ``url`` and (by default) apply pending migrations.

    ``sqlite:///relative/or/absolute/path.db`` (``sqlite:////abs/path.db`` also works) or
    ``postgresql://user@host:port/db`` (``postgres://`` too). Unknown schemes raise
    :class:`StoreError`.
    """
    import importlib

    if url.startswith("sqlite:"):
        module = importlib.import_module("gateway.store.sqlite")
        store: Store = await module.SqliteStore.open(url)
    elif url.startswith(("postgresql:", "postgres:")):
        module = importlib.import_module("gateway.store.postgres")
        store = await module.PostgresStore.open(url)
    else:
        raise StoreError(f"unsupported store URL scheme in {url.split(':', 1)[0]!r}", field="url")
    if migrate:
        await store.migrate()
    return store
