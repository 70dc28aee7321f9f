"""``lingang retry ID``: send a dead-lettered delivery again (same transport message id)."""

from __future__ import annotations

import argparse
import asyncio

from gateway.cli.migrate import add_database_arguments, database_url
from gateway.store import Job, NotFoundError, Store, open_store


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "retry",
        help="retry a dead-lettered delivery job (or every dead job of a submission)",
        description="Make a dead (or waiting) outbox job due now with its attempts reset. "
        "ID is a job id or a submission id; the receiver sees the same message id.",
    )
    parser.add_argument("id", metavar="ID", help="job id or submission id")
    add_database_arguments(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    jobs = asyncio.run(_retry(database_url(args), args.id))
    for job in jobs:
        print(f"{job.id} {job.adapter} -> {job.endpoint}: {job.state} (message {job.message_id})")
    if not jobs:
        print(f"submission {args.id} has no dead jobs")
    return 0


async def _retry(url: str, ident: str) -> list[Job]:
    store = await open_store(url)
    try:
        return await retry_by_id(store, ident)
    finally:
        await store.close()


async def retry_by_id(store: Store, ident: str) -> list[Job]:
    """Retry the job ``ident``, or the dead jobs of the submission ``ident``."""
    if await store.get_job(ident) is not None:
        return [await store.retry_job(ident)]
    if await store.get_submission_any_tenant(ident) is not None:
        return await store.retry_submission(ident)
    raise NotFoundError(f"no job or submission with id {ident!r}", field="id")
