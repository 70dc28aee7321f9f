"""``lingang convert FILE --to PROFILE --partners FILE``: a fapiao to UBL / CII.

Validates the document against the official artefacts (unless ``--no-validate``), then writes
it to stdout or ``-o OUT`` — only when it converted and has no fatal finding, and atomically
(see :mod:`gateway.cli._io`). Exit codes: 0 valid document, 1 input rejected or fatal findings
(report on stderr, nothing written), 2 usage error or unreadable file.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gateway.cli._io import (
    EXIT_OK,
    EXIT_REJECTED,
    UsageError,
    check_output,
    read_source,
    write_output,
)
from gateway.errors import LingangError
from gateway.ingest import FORMATS
from gateway.mapping.convert import convert
from gateway.mapping.profiles import PROFILE_SPECS
from gateway.partners import PartnerDirectory


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``convert`` command."""
    parser = sub.add_parser(
        "convert", help="convert a fapiao (XML, OFD, JSON) to PINT SG, BIS 3, PINT or CII"
    )
    parser.add_argument("file", help="the fapiao file ('-' for stdin)")
    parser.add_argument(
        "--to",
        dest="profile",
        choices=sorted(PROFILE_SPECS),
        help="target profile (default: the partner's `profile`)",
    )
    parser.add_argument(
        "--partners", type=Path, required=True, help="partner directory (TOML) with the buyer"
    )
    parser.add_argument(
        "-o",
        "--output",
        type=Path,
        help="write the document here, only if the conversion succeeds (default: stdout)",
    )
    parser.add_argument(
        "--format", choices=("auto", *FORMATS), default="auto", help="input format (default auto)"
    )
    parser.add_argument(
        "--no-validate", action="store_true", help="skip validation with the official artefacts"
    )
    parser.set_defaults(handler=_convert)


def _convert(args: argparse.Namespace) -> int:
    check_output(args.output)
    data, name = read_source(args.file)
    if not args.partners.is_file():
        raise UsageError(f"no partner directory at {args.partners}")
    directory = PartnerDirectory.load(args.partners)
    try:
        result = convert(data, args.profile, directory, format=args.format)
    except LingangError as exc:
        print(f"lingang convert: {name}: rejected: {exc}", file=sys.stderr)
        return EXIT_REJECTED
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if not args.no_validate:
        from gateway.cli._artefacts import require_artefacts
        from gateway.validation import one_shot_validator

        require_artefacts(result.profile)
        report = one_shot_validator().validate(result.xml, result.profile)
        if report.fatal:
            print(report.to_text(), file=sys.stderr)
            print(f"lingang convert: {name}: fatal findings; nothing written", file=sys.stderr)
            return EXIT_REJECTED
    write_output(args.output, result.xml)
    return EXIT_OK
