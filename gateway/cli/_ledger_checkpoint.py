"""``lingang ledger checkpoint``: sign the ledger's head now with the gateway's key."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from gateway.cli._gatestore import gate_store
from gateway.cli._io import UsageError
from gateway.cli.migrate import add_database_arguments
from gateway.jobs.gate import Sign
from gateway.store.ledger_anchor import append_anchor


def register(actions: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = actions.add_parser(
        "checkpoint",
        help="sign the ledger's current head (done every [policy] checkpoint_every entries)",
        description="Sign the export ledger's head with the configured [signing] key, so "
        "nothing up to it can be rewritten unnoticed; the checkpoint is appended to the "
        "configured [policy] ledger_anchor file too (not with --database: another ledger's).",
    )
    add_database_arguments(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from gateway.service import checkpoint_signer
    from gateway.settings import Settings

    settings = Settings.load(args.config)
    sign = checkpoint_signer(settings)
    if sign is None:
        raise UsageError("no [signing] key and cert configured to sign a checkpoint")
    url = str(args.database) if args.database else settings.store.url
    mark = asyncio.run(_checkpoint(url, sign))
    if mark is None:
        print("the ledger is empty")
        return 0
    if not args.database:
        anchor = settings.policy.anchor_path(settings.data_dir)
        append_anchor(anchor, mark)
        print(f"checkpoint signed at entry {mark['seq']} (anchored in {anchor})")
    else:
        print(f"checkpoint signed at entry {mark['seq']}")
    return 0


async def _checkpoint(url: str, sign: Sign) -> dict[str, Any] | None:
    async with gate_store(url) as (_, ledger):
        return await ledger.checkpoint(sign)
