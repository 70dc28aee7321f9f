"""``lingang prune``: delete now what ``[retention]`` lets go, as the hourly
``housekeeping`` job does (:mod:`gateway.store.retention`); ``--dry-run`` counts it."""

from __future__ import annotations

import argparse
import asyncio
from dataclasses import replace

from gateway.cli._io import UsageError
from gateway.cli._stores import open_command_store
from gateway.cli.migrate import add_database_arguments, database_url
from gateway.store.retention import Pruned, Retention, RetentionPolicy


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "prune",
        help="delete finished jobs and documents past [retention]",
        description="Delete what [retention] lets go, as the workers do every hour: "
        "finished housekeeping jobs older than jobs_days, and (when documents_days is set) "
        "finished documents whole — document, outputs, events, jobs, receipts — a "
        "document holding a receipt only once receipts_days has passed too. Never deleted: "
        "the export ledger and its checkpoints (it verifies after pruning), export holds "
        "and counts, the Peppol transmissions the monthly reports count, received messages "
        "and the receipts answered to them, Message Level Status documents, dead-lettered, "
        "held and unfinished documents. Safe while serving. A day count given here "
        "replaces the setting's for this run.",
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="count what would be deleted, delete nothing"
    )
    parser.add_argument(
        "--jobs-days",
        type=_days,
        metavar="DAYS",
        help="finished housekeeping jobs older than this go (0: none)",
    )
    parser.add_argument(
        "--documents-days",
        type=_days,
        metavar="DAYS",
        help="finished documents unchanged this long go (0: none)",
    )
    parser.add_argument(
        "--receipts-days",
        type=_days,
        metavar="DAYS",
        help="a document's newest receipt must be this old too (0: such documents stay)",
    )
    add_database_arguments(parser)
    parser.set_defaults(handler=run)


def _days(text: str) -> float:
    """A day count: a number, 0 (keep for good) or more."""
    try:
        days = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number of days, got {text!r}") from None
    if not days >= 0 or days == float("inf"):
        raise argparse.ArgumentTypeError(f"must be 0 (keep for good) or more days, got {text}")
    return days


def run(args: argparse.Namespace) -> int:
    from gateway.service import retention_policy
    from gateway.settings import Settings

    policy = retention_policy(Settings.load(args.config))
    given = {
        name: getattr(args, name)
        for name in ("jobs_days", "documents_days", "receipts_days")
        if getattr(args, name) is not None
    }
    policy = replace(policy, **given)
    if policy.jobs_days <= 0 and policy.documents_days <= 0:
        raise UsageError(
            "nothing to prune: [retention] jobs_days and documents_days are both 0 (kept for "
            "good); give --jobs-days or --documents-days"
        )
    pruned = asyncio.run(_prune(database_url(args), policy, args.dry_run))
    print(_summary(pruned, policy, dry_run=args.dry_run))
    return 0


async def _prune(url: str, policy: RetentionPolicy, dry_run: bool) -> Pruned:
    store = await open_command_store(url)
    try:
        return await Retention.of(store).prune(policy, dry_run=dry_run)
    finally:
        await store.close()


def _summary(pruned: Pruned, policy: RetentionPolicy, *, dry_run: bool) -> str:
    """What was (or would be) deleted, and under which policy."""
    verb = "would delete" if dry_run else "deleted"
    documents = (
        f"{pruned.documents} finished document(s) older than {policy.documents_days:g} days"
        if policy.documents_days > 0
        else "no documents (documents_days = 0: kept for good)"
    )
    if policy.documents_days > 0 and not dry_run:
        documents += f" with {pruned.document_jobs} job(s)"
    jobs = (
        f"{pruned.housekeeping_jobs} housekeeping job(s) finished over "
        f"{policy.jobs_days:g} days ago"
        if policy.jobs_days > 0
        else "no housekeeping jobs (jobs_days = 0)"
    )
    receipts = "" if dry_run else f"; {pruned.receipts} receipt(s) went with them"
    return f"{verb} {documents}; {jobs}{receipts}; the export ledger is kept whole"
