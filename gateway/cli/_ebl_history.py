"""``lingang ebl history REF``: the eBL's state here and its transfer chain, re-verified."""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

from gateway.cli._pint import add_platform_arguments, pint_platform


def register(actions: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = actions.add_parser(
        "history",
        help="show an eBL's state and its verified transfer chain",
        description="Every chain entry's signature (and the carrier's issuance manifest) is "
        "verified again; the title rules are replayed over the chain.",
    )
    parser.add_argument("reference", metavar="REF", help="transportDocumentReference or checksum")
    add_platform_arguments(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    history = asyncio.run(_history(args))
    if args.json:
        print(json.dumps(history, indent=2, ensure_ascii=False))
        return 0
    print(f"{history['transportDocumentReference']} ({history['transportDocumentChecksum'][:16]}…)")
    print(f"  state here: {history['state']}; possessor: {history['possessor']}")
    for number, entry in enumerate(history["chain"], 1):
        if entry["signatureVerified"]:
            checked = f"signature verified, kid {entry['kid'][:12]}…"
        else:
            checked = f"signature not verified now: {entry['signatureProblem']}"
        print(f"  {number}. entry by {entry['platform']} ({checked})")
        for t in entry["transactions"]:
            to = f" → {t['recipient']}" if t["recipient"] else ""
            print(f"       {t['actionDateTime']}  {t['actionCode']:<24} {t['actor']}{to}")
    for document in history["documents"]:
        held = "" if document["size"] is not None else ", bytes not held here"
        print(
            f"  carries {document['name']} ({document['mediaType']}, "
            f"{document['documentChecksum'][:16]}…, {document['origin']} here{held})"
        )
    for transfer in history["transfers"]:
        print(f"  sent to {transfer['to']}: {transfer['state']} {transfer['responseCode'] or ''}")
        if transfer["held"]:
            print(f"       held by the export gate: {transfer['held']}")
        if transfer["reason"]:
            print(f"       {transfer['reason']}")
    return 0


async def _history(args: argparse.Namespace) -> dict[str, Any]:
    async with pint_platform(args, create=False) as platform:
        return await platform.history(args.reference)
