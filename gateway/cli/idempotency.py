"""``lingang idempotency expire``: forget the idempotency keys older than the retention now,
as the hourly ``housekeeping`` job does (:mod:`gateway.store.idempotency`)."""

from __future__ import annotations

import argparse
import asyncio

from gateway.cli._io import UsageError
from gateway.cli._stores import open_command_store
from gateway.cli.migrate import add_database_arguments, database_url
from gateway.store.idempotency import Forgotten, IdempotencyExpiry


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "idempotency",
        help="forget idempotency keys past their retention",
        description="Idempotency-Keys (POST /v1/documents, the eBL actions) are remembered "
        "for [limits] idempotency_hours; the workers forget older ones every hour.",
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    expire = actions.add_parser(
        "expire",
        help="forget the keys older than the retention now",
        description="Forget the idempotency keys first used more than --hours ago (default: "
        "[limits] idempotency_hours). The documents, eBLs, receipts and ledger entries stay; "
        "a later request with a forgotten key is a new request. The gateway's own keys "
        "(Message Level Status, monthly Peppol reports) are kept. Safe while serving.",
    )
    expire.add_argument(
        "--hours", type=float, help="retention in hours (default: [limits] idempotency_hours)"
    )
    add_database_arguments(expire)
    expire.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    hours = args.hours
    if hours is None:
        from gateway.settings import Settings

        hours = Settings.load(args.config).limits.idempotency_hours
    if hours <= 0:
        raise UsageError("--hours must be more than 0 (keys are kept for good with 0)")
    forgotten = asyncio.run(_expire(database_url(args), hours))
    print(
        f"forgot {forgotten.submissions} document key(s) and {forgotten.ebl_answers} eBL "
        f"answer(s) older than {hours:g} h"
    )
    return 0


async def _expire(url: str, hours: float) -> Forgotten:
    store = await open_command_store(url)
    try:
        return await IdempotencyExpiry.of(store).expire(hours)
    finally:
        await store.close()
