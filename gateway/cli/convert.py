"""``lingang convert FILE --to PROFILE --partners FILE``: a fapiao to UBL / CII.

Writes the document to stdout or ``-o OUT`` and validates it against the official artefacts
(unless ``--no-validate``). Exit codes: 0 valid document, 1 input rejected or fatal findings
(report on stderr), 2 usage error or unreadable file.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gateway.mapping.convert import convert
from gateway.mapping.profiles import PROFILE_SPECS
from gateway.partners import PartnerDirectory


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``convert`` command."""
    parser = sub.add_parser(
        "convert", help="convert a fapiao (XML, OFD, JSON) to PINT SG, BIS 3, PINT or CII"
    )
    parser.add_argument("file", type=Path, help="the fapiao file ('-' for stdin)")
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
        "-o", "--output", type=Path, help="write the document here (default: stdout)"
    )
    parser.add_argument("--format", default="auto", help="input format (default: auto-detect)")
    parser.add_argument(
        "--no-validate", action="store_true", help="skip validation with the official artefacts"
    )
    parser.set_defaults(handler=_convert)


def _convert(args: argparse.Namespace) -> int:
    try:
        data = sys.stdin.buffer.read() if str(args.file) == "-" else args.file.read_bytes()
    except OSError as exc:
        print(f"lingang convert: cannot read {args.file}: {exc.strerror}", file=sys.stderr)
        return 2
    if not args.partners.is_file():
        print(f"lingang convert: no partner directory at {args.partners}", file=sys.stderr)
        return 2
    directory = PartnerDirectory.load(args.partners)
    result = convert(data, args.profile, directory, format=args.format)
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if args.output is not None:
        args.output.write_bytes(result.xml)
    else:
        sys.stdout.buffer.write(result.xml)
        sys.stdout.buffer.flush()
    if args.no_validate:
        return 0
    from gateway.cli._validator import one_shot_validator

    report = one_shot_validator().validate(result.xml, result.profile)
    if report.fatal:
        print(report.to_text(), file=sys.stderr)
        return 1
    return 0
