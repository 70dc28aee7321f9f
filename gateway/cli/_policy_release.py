"""``lingang policy release ID --basis … --officer …``: release a held document."""

from __future__ import annotations

import argparse
import asyncio

from gateway.cli._gatestore import cli_principal, gate_store
from gateway.cli.migrate import add_database_arguments, database_url
from gateway.store.ledger import Hold


def register(actions: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = actions.add_parser(
        "release",
        help="release a held document on a recorded legal basis",
        description="Record the legal basis a compliance officer releases a held document on "
        "(e.g. a standard-contract filing or an approval) and queue its release: a worker "
        "writes the export-ledger entry, attributed to the officer (and to cli:<account>, the "
        "system account running this command), and queues the delivery.",
    )
    parser.add_argument("id", metavar="ID", help="the held document (submission id)")
    parser.add_argument("--basis", required=True, help="the legal basis, e.g. 'SCC filing SH-1'")
    parser.add_argument("--officer", required=True, help="who decides (recorded in the ledger)")
    add_database_arguments(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    hold = asyncio.run(_release(database_url(args), args.id, args.officer, args.basis))
    print(f"{hold.submission_id} {hold.state}: released by {hold.decided_by} on {hold.basis}")
    return 0


async def _release(url: str, ident: str, officer: str, basis: str) -> Hold:
    async with gate_store(url) as (_, ledger):
        return await ledger.release(ident, officer, basis, principal=cli_principal())
