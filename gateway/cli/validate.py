"""``lingang validate FILE...``: validate documents against the official artefacts.

One file prints its report. Several files or folders run as a batch (:mod:`gateway.cli._batch`):
all cores, a progress bar on a terminal, a summary table, ``--report R.json`` plus ``R.html``.
Exit codes: 0 no fatal finding, 1 fatal findings (in any file), 2 unreadable input or usage error.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from gateway.cli._artefacts import require_artefacts
from gateway.cli._io import positive_int, read_source
from gateway.cli._not_validatable import fapiao_not_document
from gateway.cli._validator import one_shot_validator
from gateway.errors import InputError
from gateway.validation import ALL_PROFILES
from gateway.validation.options import RULES_CHOICES
from gateway.validation.profiles import detect_profile, document_type
from gateway.xmlsafe import parse_xml


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``validate`` command."""
    parser = sub.add_parser(
        "validate", help="validate a UBL/CII document (XSD + official Schematron)"
    )
    parser.add_argument(
        "files", nargs="+", metavar="FILE", help="XML documents or folders ('-' for stdin)"
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument(
        "--profile", choices=ALL_PROFILES, help="profile to apply (default: detected)"
    )
    parser.add_argument(
        "--rules",
        choices=RULES_CHOICES,
        help="official: the official compiled XSLT as published (for audits); fast: our "
        "compiled form of the same rules (default: [validation] rules / $LINGANG_RULES, "
        "else fast)",
    )
    add_batch_arguments(parser)
    parser.set_defaults(handler=_validate)


def add_batch_arguments(parser: argparse.ArgumentParser) -> None:
    """``--jobs`` and ``--report`` (batches)."""
    parser.add_argument(
        "--jobs", type=positive_int, help="processes for a batch (default: one per CPU)"
    )
    parser.add_argument(
        "--report", type=Path, help="write the batch report as JSON here and as HTML beside it"
    )


def is_batch(args: argparse.Namespace) -> bool:
    """Several inputs, a folder, or a report asked for."""
    files: list[str] = args.files
    return len(files) > 1 or Path(files[0]).is_dir() or args.report is not None


def _validate(args: argparse.Namespace) -> int:
    if is_batch(args):
        return _validate_batch(args)
    data, _name = read_source(args.files[0])
    refusal = fapiao_not_document(data, args.files[0])
    if refusal is not None:
        if args.json:
            error = {"message": refusal, "rule": "validate.fapiao"}
            print(json.dumps({"valid": False, "error": error}, indent=2, ensure_ascii=False))
        print(f"lingang validate: {refusal}", file=sys.stderr)
        return 2
    try:
        root = parse_xml(data, what="document to validate")
        dtype = document_type(root).name
        if dtype != "StandardBusinessDocument":
            require_artefacts(args.profile or detect_profile(root), dtype)
        report = one_shot_validator(rules=args.rules).validate(data, args.profile)
    except InputError as exc:
        if args.json:
            print(json.dumps({"valid": False, "error": exc.as_dict()}, indent=2))
        print(f"lingang validate: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(report.to_json(), indent=2, ensure_ascii=False))
    else:
        print(report.to_text())
    return 1 if report.fatal else 0


def _validate_batch(args: argparse.Namespace) -> int:
    from gateway.cli._batch import FAILED, expand_inputs, print_summary, run_all, write_reports
    from gateway.cli._batch_work import validate_file

    files = expand_inputs(args.files, frozenset({".xml"}))
    if args.profile:
        require_artefacts(args.profile)
    results = run_all(validate_file, files, (args.profile, args.rules), args.jobs)
    counts = print_summary(results)
    if args.report:
        page = write_reports(results, args.report, "lingang validate")
        print(f"report: {args.report} and {page}")
    return 1 if counts[FAILED] else 0
