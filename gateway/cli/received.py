"""``lingang received``: the operator's list of received documents, those no tenant claims
included.

A tenant sees its received documents under ``/v1/received`` and in the console. A document
whose receiver no tenant registered (a gateway without ``[peppol] local_participants``, an
https inbox without ``inbound_tenant`` and no receiver named) is kept all the same, but no
tenant's key reads it: ``--unclaimed`` lists those, for the operator on this host. One line
per document (tab-separated: id, status, MLS code, receiver, sender, channel, message id,
received at), newest first; ``--status rejected`` finds what the gateway refused.

``--reattribute-mls`` gives the Message Level Statuses received before they were attributed
per tenant (kept under ``[peppol] report_tenant``) to the tenant whose sent document each
answers, or to no tenant (:mod:`gateway.delivery.mls_attribution`); one line per message
(id, the tenant that held it, the one it now belongs to or ``-``, the submission it
answers or ``-``); ``--dry-run`` only lists them.
"""

from __future__ import annotations

import argparse
import sys

from gateway.cli.migrate import add_database_arguments, database_url, shown_url
from gateway.cli.tenants import tenant_named, with_store
from gateway.delivery.mls_attribution import Misattributed, reattribute_mls
from gateway.store import Store
from gateway.store.received import STATUSES, ReceivedStore, ReceivedSummary


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "received",
        help="list received documents (a tenant's, or those no tenant claims)",
        description="List received documents newest first, one tab-separated line each: id, "
        "status, MLS code, receiver, sender, channel, message id, received at. Give --tenant "
        "(an id or a name) for a tenant's, or --unclaimed for those whose receiver no tenant "
        "registered.",
    )
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument(
        "--tenant", metavar="TENANT", help="the tenant whose documents to list (id or name)"
    )
    which.add_argument(
        "--unclaimed", action="store_true", help="documents no tenant claims (operators only)"
    )
    which.add_argument(
        "--reattribute-mls",
        action="store_true",
        help="give Message Level Statuses received before per-tenant attribution to the "
        "tenant whose document each answers (or to none); one line per message moved",
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="with --reattribute-mls: list, move nothing"
    )
    parser.add_argument("--status", choices=STATUSES, help="only documents in this status")
    parser.add_argument("--limit", type=int, default=200, help="at most this many (default 200)")
    add_database_arguments(parser)
    parser.set_defaults(handler=run, parser=parser)


def run(args: argparse.Namespace) -> int:
    if args.dry_run and not args.reattribute_mls:
        args.parser.print_usage(sys.stderr)
        print("lingang received: --dry-run goes with --reattribute-mls", file=sys.stderr)
        return 2
    if args.reattribute_mls:
        return reattribute(args)
    if args.limit < 1:
        args.parser.print_usage(sys.stderr)
        print("lingang received: --limit is at least 1", file=sys.stderr)
        return 2

    async def work(store: Store) -> tuple[str | None, list[ReceivedSummary]]:
        tenant = None if args.unclaimed else (await tenant_named(store, str(args.tenant))).id
        found = await ReceivedStore(store.connector).list(
            tenant, limit=args.limit, status=args.status
        )
        return tenant, found

    tenant, found = with_store(args, work)
    for summary in found:
        print(line(summary))
    if not found:  # said on stderr: stdout stays one line per document, for scripts
        whose = "no tenant claims" if tenant is None else f"of tenant {tenant!r}"
        where = shown_url(database_url(args))
        print(f"lingang received: no received documents {whose} in the store {where}",
              file=sys.stderr)  # fmt: skip
    return 0


def reattribute(args: argparse.Namespace) -> int:
    """``--reattribute-mls``: move (or, ``--dry-run``, list) the misattributed MLS."""

    async def work(store: Store) -> list[Misattributed]:
        return await reattribute_mls(store, apply=not args.dry_run)

    found = with_store(args, work)
    for item in found:
        print("\t".join((item.inbound_id, item.held_by, item.belongs_to or "-",
                         item.submission_id or "-")))  # fmt: skip
    moved = sum(item.moved for item in found)
    where = shown_url(database_url(args))
    if args.dry_run:
        print(f"lingang received: {len(found)} Message Level Status(es) to move in {where} "
              "(dry run: nothing moved)", file=sys.stderr)  # fmt: skip
    else:
        print(f"lingang received: {moved} of {len(found)} Message Level Status(es) moved in "
              f"{where}", file=sys.stderr)  # fmt: skip
    return 0 if args.dry_run or moved == len(found) else 1


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
