"""Opening the export gate's store for the ``policy`` and ``ledger`` commands."""

from __future__ import annotations

import getpass
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from gateway.cli._stores import open_command_store
from gateway.store import Store
from gateway.store.ledger import LedgerStore


@asynccontextmanager
async def gate_store(url: str) -> AsyncIterator[tuple[Store, LedgerStore]]:
    """The store at ``url`` (one that exists: a compliance officer pointed at the wrong place
    is told so, not shown an empty ledger) and its export-gate store, closed afterwards."""
    store = await open_command_store(url)
    try:
        yield store, LedgerStore(store.connector, clock=store.clock)
    finally:
        await store.close()


def cli_principal() -> str:
    """Who decides a hold from the command line: ``cli:<account>``, the operating-system
    account the command runs as (by its uid, not the environment's ``USER``, which the caller
    sets), ``cli:uid-<n>`` when the account has no name. Whoever runs the command holds the
    store's credentials; this names them in the hold and the ledger."""
    getuid = getattr(os, "getuid", None)
    if getuid is None:  # not POSIX
        return f"cli:{getpass.getuser()}"
    uid = getuid()
    try:
        import pwd

        name = pwd.getpwuid(uid).pw_name
    except (ImportError, KeyError):
        name = ""
    return f"cli:{name}" if name and name.isprintable() else f"cli:uid-{uid}"
