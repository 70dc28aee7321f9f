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
from gateway.cli.validate import add_batch_arguments, is_batch
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
    parser.add_argument(
        "files", nargs="+", metavar="FILE", help="fapiao files or folders ('-' for stdin)"
    )
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
    parser.add_argument(
        "--out-dir", type=Path, help="batch: write <name>.xml here for each file that passed"
    )
    add_batch_arguments(parser)
    parser.set_defaults(handler=_convert)


def _convert(args: argparse.Namespace) -> int:
    if is_batch(args) or args.out_dir is not None:
        return _convert_batch(args)
    check_output(args.output)
    data, name = read_source(args.files[0])
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


def _convert_batch(args: argparse.Namespace) -> int:
    from gateway.cli._batch import FAILED, expand_inputs, print_summary, run_all, write_reports
    from gateway.cli._batch_work import convert_file

    if args.output is not None:
        raise UsageError("several inputs: give --out-dir DIR instead of -o")
    if args.out_dir is None:
        raise UsageError("several inputs: give --out-dir DIR for the converted documents")
    if not args.partners.is_file():
        raise UsageError(f"no partner directory at {args.partners}")
    files = expand_inputs(args.files, frozenset({".xml", ".ofd", ".json", ".zip"}))
    args.out_dir.mkdir(parents=True, exist_ok=True)
    if args.profile and not args.no_validate:
        from gateway.cli._artefacts import require_artefacts

        require_artefacts(args.profile)
    extra = (
        args.profile,
        str(args.partners),
        args.format,
        str(args.out_dir),
        not args.no_validate,
    )
    results = run_all(convert_file, files, extra, args.jobs)
    counts = print_summary(results)
    if args.report:
        page = write_reports(results, args.report, "lingang convert")
        print(f"report: {args.report} and {page}")
    return EXIT_REJECTED if counts[FAILED] else EXIT_OK
