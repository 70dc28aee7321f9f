"""``lingang policy refuse ID --reason … --officer …``: refuse a held document for good."""

from __future__ import annotations

import argparse
import asyncio

from gateway.cli._gatestore import cli_principal, gate_store
from gateway.cli.migrate import add_database_arguments, database_url
from gateway.store.ledger import Hold


def register(actions: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = actions.add_parser(
        "refuse",
        help="refuse a held document for good",
        description="A compliance officer refuses a held document: it never leaves (state "
        "refused); the decision and its reason are recorded with the officer's name (and "
        "cli:<account>, the system account running this command).",
    )
    parser.add_argument("id", metavar="ID", help="the held document (submission id)")
    parser.add_argument("--reason", required=True)
    parser.add_argument("--officer", required=True, help="who decides (recorded)")
    add_database_arguments(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    hold = asyncio.run(_refuse(database_url(args), args.id, args.officer, args.reason))
    print(f"{hold.submission_id} {hold.state} by {hold.decided_by}: {hold.basis}")
    return 0


async def _refuse(url: str, ident: str, officer: str, reason: str) -> Hold:
    async with gate_store(url) as (_, ledger):
        return await ledger.refuse(ident, officer, reason, principal=cli_principal())
