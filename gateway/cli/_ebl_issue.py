"""``lingang ebl issue FILE --to PLATFORM:PARTY``: issue a DCSA transport document as an eBL.

The carrier's platform signs the issuance manifest (carrier key) and the first chain entry
(``ISSUE``). To a party of this platform the eBL is held here; to a party of another platform
it is sent there at once by the ``transfer`` job (the worker of ``lingang serve``), unless
the export gate holds it. ``--visualisation FILE`` is the carrier's rendering of the eBL
(e.g. the PDF of the B/L): its checksum is signed in the issuance manifest, and it goes with
every transfer of the eBL from then on.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from gateway.cli._io import UsageError
from gateway.cli._pint import (
    add_document_arguments,
    add_platform_arguments,
    answer_line,
    attachment,
    attachments,
    pint_platform,
    read_json,
)


def register(actions: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = actions.add_parser(
        "issue",
        help="issue a DCSA transport document (JSON) as an eBL to PLATFORM:PARTY",
        description="Issue FILE (a DCSA eBL 3.0 TransportDocument, checked against the official "
        "schema) to a party: held here, or sent to the party's platform over DCSA PINT.",
    )
    parser.add_argument("file", type=Path, metavar="FILE")
    parser.add_argument("--to", required=True, metavar="PLATFORM:PARTY", help="the issue-to party")
    parser.add_argument("--name", default="", help="the issue-to party's name")
    add_document_arguments(parser)
    parser.add_argument(
        "--visualisation",
        type=Path,
        metavar="FILE",
        help="the carrier's visualisation of the eBL (signed in the issuance manifest; sent "
        "with every transfer of the eBL)",
    )
    parser.add_argument(
        "--visualisation-type",
        metavar="MEDIA_TYPE",
        help="its media type (default: from the file name, e.g. .pdf application/pdf)",
    )
    add_platform_arguments(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if args.visualisation_type is not None and args.visualisation is None:
        raise UsageError("--visualisation-type is the media type of --visualisation FILE")
    document = read_json(args.file)
    out = asyncio.run(_issue(args, document))
    print(json.dumps(out, indent=2) if args.json else answer_line(out))
    return 0


async def _issue(args: argparse.Namespace, document: Any) -> dict[str, Any]:
    from adapters.dcsa_pint.platform import parse_party, transfer_accepted
    from gateway.store.ebl import Outbound

    to = parse_party(args.to, name=args.name)
    async with pint_platform(args) as platform:
        documents = attachments(platform, args.document)
        visualisation = None
        if args.visualisation is not None:
            visualisation = attachment(
                platform, args.visualisation, "--visualisation", args.visualisation_type
            )
        done = await platform.issue(
            document, to=to, attachments=documents, visualisation=visualisation
        )
    if isinstance(done, Outbound):
        return {"reference": document.get("transportDocumentReference"), **transfer_accepted(done)}
    print(f"issued to {to.label()}, held on this platform", file=sys.stderr)
    return {"reference": done.reference, "checksum": done.td_checksum, "state": done.state}
