"""``lingang ebl list``: the eBLs this platform knows, most recently changed first."""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

from gateway.cli._io import positive_int
from gateway.cli._pint import add_platform_arguments, pint_platform

STATES = ("held", "sending", "transferred", "surrendered")


def register(actions: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = actions.add_parser(
        "list",
        help="list the eBLs of this platform: state, possessor, holder",
        description="Most recently changed first; an eBL received from another platform is "
        "found here without knowing its reference.",
    )
    parser.add_argument("--state", choices=STATES, help="only eBLs in this state here")
    parser.add_argument(
        "--limit", type=positive_int, default=50, help="at most this many (default 50)"
    )
    add_platform_arguments(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    found = asyncio.run(_listing(args))
    if args.json:
        print(json.dumps(found, indent=2, ensure_ascii=False))
        return 0
    for item in found:
        holder = f"; holder {item['holder']}" if item["holder"] else ""
        may = " (may be transferred)" if item["mayTransfer"] else ""
        print(
            f"{item['transportDocumentReference']}  {item['state']:<11} "
            f"possessor {item['possessor']}{holder}{may}"
        )
    return 0


async def _listing(args: argparse.Namespace) -> list[dict[str, Any]]:
    async with pint_platform(args, create=False) as platform:
        return await platform.listing(state=args.state, limit=args.limit)
