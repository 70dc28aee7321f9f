"""Opening the store for a command that runs once (``tenants``, ``ledger``, ``policy``,
``received``, ``retry``, ``partners``, ``peppol report``) and then ends.

Two things differ from ``lingang serve``, which opens a store for hours:

- A command that reads an SQLite store does not make one. ``open_store`` creates the file
  and its folder, so a mistyped ``LINGANG_HOME`` or ``--database`` used to answer "no
  tenants" or "ledger ok: 0 entries" about a store made that instant, and left it behind.
  Only ``lingang tenants create`` (and ``lingang migrate``, ``serve``, ``worker``) make one.
- A PostgreSQL server that cannot be reached is said at once, in one line. The pool of
  ``lingang serve`` waits up to 30 s for a server that is starting, printing each failed
  attempt as a warning: right for a replica starting beside its database, but a person at
  a terminal got a dozen warnings and the reason only after half a minute.
"""

from __future__ import annotations

from gateway.cli._io import UsageError
from gateway.store import Store, StoreError, open_store


async def open_command_store(url: str, *, create: bool = False) -> Store:
    """The store at ``url``, migrated; with ``create`` an SQLite file that is not there yet is
    made, else it is a :class:`UsageError` naming it and where its path came from."""
    if url.startswith("sqlite:") and not create:
        from gateway.store.sqlite import sqlite_path

        path = sqlite_path(url)
        if str(path) != ":memory:" and not path.is_file():
            raise UsageError(
                f"no store at {path}: check --database, [store] url or LINGANG_HOME "
                "(to make a new store: lingang migrate)"
            )
    elif url.startswith(("postgresql:", "postgres:")):
        from gateway.store.postgres import unreachable_reason

        why = await unreachable_reason(url)
        if why is not None:
            raise StoreError(f"cannot connect to PostgreSQL: {why}", field="url")
    return await open_store(url)
