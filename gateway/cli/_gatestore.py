"""Opening the export gate's store for the ``policy`` and ``ledger`` commands."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from gateway.store import Store, open_store
from gateway.store.ledger import LedgerStore


@asynccontextmanager
async def gate_store(url: str) -> AsyncIterator[tuple[Store, LedgerStore]]:
    """The store at ``url`` and its export-gate store, closed afterwards."""
    store = await open_store(url)
    try:
        yield store, LedgerStore(store.connector, clock=store.clock)
    finally:
        await store.close()
