"""``lingang ebl transfer REF [--to PLATFORM:PARTY] [--action …]``: pass a held eBL on.

REF is the ``transportDocumentReference`` or the transport document checksum. The action
defaults to ``TRANSFER`` (possession moves); ``ENDORSE``, ``ENDORSE_TO_ORDER``,
``BLANK_ENDORSE``, ``SIGN``, ``SURRENDER_FOR_DELIVERY``, ``SURRENDER_FOR_AMENDMENT`` and the
carrier's answers ``SACC`` / ``SREJ`` are checked against the title rules first. ``--to`` may
be left out for a surrender (the issuing carrier) and for ``SACC`` / ``SREJ`` (the party that
asked); ``SIGN`` and ``BLANK_ENDORSE`` have no recipient and are recorded here. To a party of this platform the transaction is recorded at once. To another platform
the eBL is locked here and the ``transfer`` job sends it; only a signed ``RECE``/``DUPE`` ends
this platform's control. The envelope announces the documents given by ``--document``, those
attached to the eBL here before and the carrier's visualisation (when the eBL has one: always);
the supporting documents received with the eBL from other platforms only with
``--forward-documents``.
"""

from __future__ import annotations

import argparse
import asyncio
import json

from gateway.cli._pint import (
    add_document_arguments,
    add_platform_arguments,
    answer_line,
    attachments,
    pint_platform,
)
from gateway.pint.codes import ActionCode
from gateway.store.ebl import TitleRecord


def register(actions: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = actions.add_parser(
        "transfer",
        help="transfer (endorse, surrender, answer a surrender) a held eBL to PLATFORM:PARTY",
        description="Sign the next chain entry: recorded here for a party of this platform, "
        "sent over DCSA PINT to another platform's party.",
    )
    parser.add_argument("reference", metavar="REF", help="transportDocumentReference or checksum")
    parser.add_argument(
        "--to",
        metavar="PLATFORM:PARTY",
        help="the recipient (implied for a surrender: the carrier; for SACC/SREJ: the "
        "requester; SIGN and BLANK_ENDORSE have none and are recorded here)",
    )
    parser.add_argument("--name", default="", help="the recipient's name")
    parser.add_argument(
        "--action",
        default=ActionCode.TRANSFER.value,
        choices=[a.value for a in ActionCode if a is not ActionCode.ISSUE],
    )
    parser.add_argument(
        "--reason-code",
        choices=["SWTP", "COD", "SWI"],
        help="why a SURRENDER_FOR_AMENDMENT is asked: switch to paper, change of destination, "
        "switch BL",
    )
    parser.add_argument(
        "--comments", default="", help="a line for the recipient (at most 255 characters)"
    )
    add_document_arguments(parser)
    parser.add_argument(
        "--forward-documents",
        action="store_true",
        help="also send on the supporting documents received with the eBL from other "
        "platforms (not by default: they were the earlier platforms' to share; the carrier's "
        "visualisation and the documents attached here always go)",
    )
    parser.add_argument(  # the default now; kept so that scripts written for it still run
        "--no-forward-documents",
        dest="forward_documents",
        action="store_false",
        help=argparse.SUPPRESS,
    )
    add_platform_arguments(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    out = asyncio.run(_transfer(args))
    print(json.dumps(out, indent=2) if args.json else answer_line(out))
    return 0


async def _transfer(args: argparse.Namespace) -> dict[str, str]:
    from adapters.dcsa_pint.platform import parse_party, transfer_accepted

    to = None if args.to is None else parse_party(args.to, name=args.name)
    async with pint_platform(args) as platform:
        sent = await platform.transfer(
            args.reference,
            to=to,
            action=ActionCode(args.action),
            attachments=attachments(platform, args.document),
            forward_documents=args.forward_documents,
            reason_code=args.reason_code,
            comments=args.comments,
        )
    if isinstance(sent, TitleRecord):
        return {"checksum": sent.td_checksum, "state": sent.state, "possessor": sent.possessor}
    return transfer_accepted(sent)
