"""``lingang policy holds``: the documents the export gate holds, with their reasons."""

from __future__ import annotations

import argparse
import asyncio
import json

from gateway.cli._gatestore import gate_store
from gateway.cli.migrate import add_database_arguments, database_url
from gateway.store.ledger import LISTED_STATES, Hold


def register(actions: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = actions.add_parser(
        "holds",
        help="list held documents and why",
        description="Documents the export policy holds (or, with --state, released or "
        "refused ones), oldest first, with the reason and the policy version that held them. "
        "A hold whose release job failed for good is listed as release_failed, with the held "
        "ones: release it again or refuse it.",
    )
    parser.add_argument("--state", choices=LISTED_STATES, default="held")
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    add_database_arguments(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    holds = asyncio.run(_holds(database_url(args), args.state))
    for hold in holds:
        if args.json:
            print(json.dumps(hold.to_json(), ensure_ascii=False))
            continue
        who = f" — {hold.decided_by}: {hold.basis}" if hold.decided_by else ""
        print(
            f"{hold.submission_id} {hold.state} {hold.record.exporter} -> "
            f"{hold.record.destination} {hold.record.recipient} (policy {hold.policy_version}): "
            f"{hold.reason}{who}"
        )
        for enclosure in hold.enclosures:  # what leaves with a held eBL transfer
            print(f"    with {enclosure.document_id} [{','.join(enclosure.categories)}]")
    if not holds and not args.json:
        print(f"no {args.state} documents")
    return 0


async def _holds(url: str, state: str) -> list[Hold]:
    async with gate_store(url) as (_, ledger):
        return await ledger.list_holds(state=state, limit=10_000)
