"""``lingang backup FILE`` and ``lingang restore FILE``: an online copy of the SQLite store
and its return (:mod:`gateway.store.sqlite_backup`). PostgreSQL is backed up with its own
tools (``pg_dump``); README says what else a backup needs (keys, the ledger anchor)."""

from __future__ import annotations

import argparse
from pathlib import Path

from gateway.cli._io import UsageError
from gateway.cli.migrate import add_database_arguments, database_url, shown_url
from gateway.store.sqlite import sqlite_path


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    made = sub.add_parser(
        "backup",
        help="copy the SQLite store to a file while the gateway runs",
        description="Copy the SQLite store, as committed when the copy starts, to FILE (a "
        "new file, never overwritten) while the gateway keeps serving, and check the copy "
        "(SQLite's integrity check, the schema version). Back up the keys and the ledger "
        "anchor beside it (see README). PostgreSQL: use pg_dump.",
    )
    made.add_argument("file", type=Path, metavar="FILE", help="the backup file to write")
    add_database_arguments(made)
    made.set_defaults(handler=run_backup)
    back = sub.add_parser(
        "restore",
        help="replace the SQLite store with a backup (gateway stopped)",
        description="Check the backup FILE and replace the SQLite store with it, its "
        "write-ahead log included. Stop every gateway process of the store first. Then run "
        "'lingang ledger verify' (README: what the anchor says after a restore).",
    )
    back.add_argument("file", type=Path, metavar="FILE", help="a file 'lingang backup' wrote")
    add_database_arguments(back)
    back.set_defaults(handler=run_restore)


def _sqlite_file(url: str) -> Path:
    if not url.startswith("sqlite:"):
        raise UsageError(
            f"{shown_url(url)} is no SQLite store: back up PostgreSQL with pg_dump "
            "(README: Backups)"
        )
    return sqlite_path(url)


def run_backup(args: argparse.Namespace) -> int:
    from gateway.store.sqlite_backup import backup

    url = database_url(args)
    folder = args.file.parent
    if not folder.is_dir():
        raise UsageError(f"{args.file}: the folder {folder} does not exist (make it first)")
    facts = backup(_sqlite_file(url), args.file)
    print(
        f"backed up {shown_url(url)} to {facts.path} "
        f"(schema version {facts.version}, {facts.bytes} bytes, checked)"
    )
    return 0


def run_restore(args: argparse.Namespace) -> int:
    from gateway.store.sqlite_backup import restore

    url = database_url(args)
    if not args.file.is_file():
        raise UsageError(f"no backup file at {args.file}")
    facts = restore(args.file, _sqlite_file(url))
    print(
        f"restored {shown_url(url)} from {facts.path} (schema version {facts.version}); "
        "check the ledger: lingang ledger verify"
    )
    return 0
