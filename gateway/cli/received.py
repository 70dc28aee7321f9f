"""``lingang received``: the operator's list of received documents, those no tenant claims
included.

A tenant sees its received documents under ``/v1/received`` and in the console. A document
whose receiver no tenant registered (a gateway without ``[peppol] local_participants``, an
https inbox without ``inbound_tenant`` and no receiver named) is kept all the same, but no
tenant's key reads it: ``--unclaimed`` lists those, for the operator on this host. One line
per document (tab-separated: id, status, MLS code, receiver, sender, channel, message id,
received at), newest first; ``--status rejected`` finds what the gateway refused.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from gateway.cli.migrate import add_database_arguments, database_url, shown_url
from gateway.store import open_store
from gateway.store.received import STATUSES, ReceivedStore, ReceivedSummary


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "received",
        help="list received documents (a tenant's, or those no tenant claims)",
        description="List received documents newest first, one tab-separated line each: id, "
        "status, MLS code, receiver, sender, channel, message id, received at. Give --tenant "
        "ID for a tenant's, or --unclaimed for those whose receiver no tenant registered.",
    )
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--tenant", metavar="ID", help="the tenant whose documents to list")
    which.add_argument(
        "--unclaimed", action="store_true", help="documents no tenant claims (operators only)"
    )
    parser.add_argument("--status", choices=STATUSES, help="only documents in this status")
    parser.add_argument("--limit", type=int, default=200, help="at most this many (default 200)")
    add_database_arguments(parser)
    parser.set_defaults(handler=run, parser=parser)


def run(args: argparse.Namespace) -> int:
    if args.limit < 1:
        args.parser.print_usage(sys.stderr)
        print("lingang received: --limit is at least 1", file=sys.stderr)
        return 2
    url = database_url(args)
    tenant = None if args.unclaimed else str(args.tenant)
    found = asyncio.run(_list(url, tenant, args.status, args.limit))
    for summary in found:
        print(line(summary))
    if not found:  # said on stderr: stdout stays one line per document, for scripts
        whose = "no tenant claims" if tenant is None else f"of tenant {tenant!r}"
        print(f"lingang received: no received documents {whose} in the store {shown_url(url)}",
              file=sys.stderr)  # fmt: skip
    return 0


def line(summary: ReceivedSummary) -> str:
    """One document as one tab-separated line (an empty field for what it has not)."""
    fields = (
        summary.id,
        summary.status,
        summary.mls or "",
        summary.receiver or "",
        summary.sender or "",
        summary.channel,
        summary.message_id,
        summary.received_at.isoformat(),
    )
    return "\t".join(fields)


async def _list(
    url: str, tenant: str | None, status: str | None, limit: int
) -> list[ReceivedSummary]:
    store = await open_store(url)
    try:
        return await ReceivedStore(store.connector).list(tenant, limit=limit, status=status)
    finally:
        await store.close()
