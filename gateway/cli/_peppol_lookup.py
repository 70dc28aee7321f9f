"""``lingang peppol lookup PARTICIPANT [--doctype ID]``: what discovery finds.

Asks the SML (U-NAPTR) for the participant's SMP and the SMP for the endpoint of the document
type (default: the PINT SG invoice), with the configured trust, and prints the endpoint or the
typed error (not registered, document type not supported, DNS failure, SMP unavailable, SMP
answer invalid). Exit codes: 0 found, 1 a definite "no" or an untrusted answer, 3 a failure a
retry may get past (DNS, SMP down), 2 usage or configuration error.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

from adapters.peppol.discovery import LookupReport
from adapters.peppol.errors import DiscoveryError
from adapters.peppol.identifiers import (
    PINT_PROCESS,
    PINT_SG_INVOICE,
    DocumentTypeId,
    ParticipantId,
    ProcessId,
)
from gateway.cli._peppol import add_peppol_arguments, sender_from
from gateway.errors import ConfigError, InputError

RETRY_LATER = 3


def register(actions: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``peppol lookup``."""
    parser = actions.add_parser("lookup", help="find a participant's AS4 endpoint (SML, SMP)")
    parser.add_argument("participant", help="ICD:VALUE, e.g. 0195:SGUEN201234567A")
    parser.add_argument(
        "--doctype", help="document type (scheme::value or value); default PINT SG invoice"
    )
    parser.add_argument("--process", help="process id (default: PINT's urn:peppol:bis:billing)")
    add_peppol_arguments(parser)
    parser.set_defaults(handler=_lookup)


def _lookup(args: argparse.Namespace) -> int:
    try:
        participant = ParticipantId.parse(args.participant)
        doctype = DocumentTypeId.parse(args.doctype) if args.doctype else PINT_SG_INVOICE
        process = ProcessId(args.process) if args.process else PINT_PROCESS
        sender = sender_from(args)
    except (InputError, ConfigError) as exc:
        print(f"lingang peppol lookup: {exc}", file=sys.stderr)
        return 2
    report = LookupReport(participant.value, doctype.uri(), process.uri())

    async def run() -> None:
        try:
            await sender.discovery.find(participant, doctype, process, report)
        finally:
            await sender.aclose()

    try:
        asyncio.run(run())
    except DiscoveryError as exc:
        if args.json:
            print(json.dumps(report.as_dict(), indent=2))
        else:
            kind = "retry later" if exc.retryable else "final"
            print(f"lingang peppol lookup: {exc.code} ({kind}): {exc.message}", file=sys.stderr)
        return RETRY_LATER if exc.retryable else 1
    if args.json:
        print(json.dumps(report.as_dict(), indent=2))
    else:
        endpoint = report.endpoint
        print(f"participant   {participant}")
        print(f"document type {doctype.uri()}")
        print(f"SMP           {report.smp_url or '(static route)'}")
        print(f"endpoint      {endpoint['url']} ({endpoint['transport_profile']})")
        print(
            f"AP cert       {endpoint['certificate_subject']} (issuer {endpoint['certificate_issuer']})"
        )
        print(f"process       {endpoint['process']}")
    return 0
