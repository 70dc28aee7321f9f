"""``lingang migrate``: bring the store's schema up to date (also done on every start)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from gateway.store import open_store


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "migrate",
        help="apply pending store schema migrations",
        description="Apply the versioned schema migrations to the store (SQLite or "
        "PostgreSQL). Safe to run again and from several replicas at once.",
    )
    add_database_arguments(parser)
    parser.set_defaults(handler=run)


def add_database_arguments(parser: argparse.ArgumentParser) -> None:
    """``--database URL`` and ``--config`` (the URL defaults to the configured store)."""
    parser.add_argument(
        "--database",
        metavar="URL",
        help="sqlite:///path.db or postgresql://... (default: [store].url of the configuration)",
    )
    parser.add_argument("--config", type=Path, help="lingang.toml (default: $LINGANG_CONFIG)")


def database_url(args: argparse.Namespace) -> str:
    """The store URL from ``--database``, else from the settings."""
    if args.database:
        return str(args.database)
    from gateway.settings import Settings

    return Settings.load(args.config).store.url


def shown_url(url: str) -> str:
    """A store URL fit to print: any password replaced by ``***``."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def run(args: argparse.Namespace) -> int:
    url = database_url(args)
    version, left = asyncio.run(_migrate(url))
    print(f"store schema at version {version}")
    for line in left:
        print(f"warning: not migrated, left as an older gateway wrote it: {line}", file=sys.stderr)
    return 0


async def _migrate(url: str) -> tuple[int, list[str]]:
    from gateway.store.ebl import EblRegistry

    store = await open_store(url, migrate=False)
    try:
        version = await store.migrate()
        left = await EblRegistry.of(store).left_by_migrations()
        return version, [row.describe() for row in left]
    finally:
        await store.close()
