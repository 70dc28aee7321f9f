"""``lingang retry ID``: send a dead-lettered delivery again (same transport message id), or
hand a received document whose hand-over to the local system was dead-lettered on again.

``lingang retry --list`` shows the dead letter: every dead job with its reason.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from gateway.cli._stores import open_command_store
from gateway.cli.migrate import add_database_arguments, database_url, shown_url
from gateway.jobs import Submissions, SubmissionState
from gateway.store import Job, JobState, NotFoundError, Store


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "retry",
        help="retry a dead-lettered delivery job (or every dead job of a submission)",
        description="Make a dead (or waiting) outbox job due now with its attempts reset. "
        "ID is a job id, a submission id or a received document's id; the receiver sees the "
        "same message id. "
        "--list shows the dead letter instead.",
    )
    parser.add_argument("id", metavar="ID", nargs="?", help="job id or submission id")
    parser.add_argument("--list", action="store_true", help="list dead jobs and their reasons")
    add_database_arguments(parser)
    parser.set_defaults(handler=run, parser=parser)


def run(args: argparse.Namespace) -> int:
    if args.list == bool(args.id):
        args.parser.print_usage(sys.stderr)
        print("lingang retry: give either ID or --list", file=sys.stderr)
        return 2
    url = database_url(args)
    if args.list:
        dead = asyncio.run(_dead(url))
        for job in dead:
            print(f"{job.id} {job.kind} submission {job.submission_id} {job.adapter} -> {job.endpoint} "
                  f"after {job.attempts} attempts: {job.last_error}")  # fmt: skip
        if not dead:  # said on stderr: stdout stays one line per dead job, for scripts
            print(f"lingang retry: no dead jobs in the store {shown_url(url)}", file=sys.stderr)
        return 0
    jobs = asyncio.run(_retry(url, args.id))
    for job in jobs:
        print(f"{job.id} {job.adapter} -> {job.endpoint}: {job.state} (message {job.message_id})")
    if not jobs:
        print(f"{args.id} has no dead jobs")
    return 0


async def _dead(url: str) -> list[Job]:
    store = await open_command_store(url)
    try:
        return await store.list_jobs(state=JobState.DEAD, limit=10_000)
    finally:
        await store.close()


async def _retry(url: str, ident: str) -> list[Job]:
    store = await open_command_store(url)
    try:
        return await retry_by_id(store, ident)
    finally:
        await store.close()


async def retry_by_id(store: Store, ident: str) -> list[Job]:
    """Retry the job ``ident``, or the dead jobs of the submission or received document
    ``ident``. A submission's history records the ``queued`` event, as the API's retry does;
    a received document has no such history (its ``receive`` job runs again: the hand-over
    to the local system is tried anew, and its sender is not answered a second time)."""
    job = await store.get_job(ident)
    if job is not None:
        retried = await store.retry_job(ident)
        if await store.get_submission_any_tenant(job.submission_id) is not None:
            await store.record_event(
                job.submission_id,
                SubmissionState.QUEUED,
                reason="manual retry",
                detail={"jobs": [ident]},
            )
        return [retried]
    if await store.get_submission_any_tenant(ident) is not None:
        return await Submissions(store).retry_any_tenant(ident)
    if await store.get_inbound(ident) is not None:
        dead = await store.list_jobs(submission_id=ident, state=JobState.DEAD)
        return [await store.retry_job(job.id) for job in dead]
    raise NotFoundError(f"no job, submission or received document with id {ident!r}", field="id")
