"""``lingang convert FILE --to PROFILE --partners FILE``: a fapiao to UBL / CII.

Validates the document against the official artefacts (unless ``--no-validate``), then writes
it to stdout or ``-o OUT`` — only when it converted and has no fatal finding, and atomically
(see :mod:`gateway.cli._io`). Warnings go to stderr, one per line (``--json`` prints one JSON
report on stdout instead, with the warnings, the validation report and — without ``-o`` — the
document). Exit codes: 0 valid document, 1 input rejected or fatal findings (report on stderr,
nothing written), 2 usage error or unreadable file.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from gateway.cli._io import (
    EXIT_OK,
    EXIT_REJECTED,
    UsageError,
    check_output,
    read_source,
    write_output,
)
from gateway.cli.validate import add_batch_arguments, is_batch
from gateway.convert import ConvertResult, convert
from gateway.errors import LingangError
from gateway.ingest import FORMATS
from gateway.mapping.profiles import PROFILE_SPECS
from gateway.mapping.submission import METADATA_KEYS
from gateway.partners import PartnerDirectory


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``convert`` command."""
    parser = sub.add_parser(
        "convert",
        help="convert a fapiao (XML, OFD, JSON) to PINT SG, BIS 3, PINT, CII or BIS 3 CII",
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
        "--meta",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="submission metadata (exchange_rate, currency, buyer_reference, order_reference, "
        "contract_reference, project_reference, preceding_invoice_date); repeatable",
    )
    parser.add_argument(
        "--strict",
        action="store_true",
        help="refuse inputs with schema findings or non-conformant identifiers",
    )
    parser.add_argument(
        "--json", action="store_true", help="print a JSON report (warnings, validation) on stdout"
    )
    parser.add_argument(
        "--no-validate", action="store_true", help="skip validation with the official artefacts"
    )
    parser.add_argument(
        "--out-dir", type=Path, help="batch: write <name>.xml here for each file that passed"
    )
    add_batch_arguments(parser)
    parser.set_defaults(handler=_convert)


def _metadata(pairs: list[str]) -> dict[str, str] | None:
    """``--meta KEY=VALUE`` pairs as submission metadata; a key the mapper does not read is a
    usage error (it would be dropped without a word), ``profile`` pointing to ``--to``."""
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise UsageError(f"--meta {pair!r} is not KEY=VALUE")
        if key == "profile":
            raise UsageError("--meta profile: give the target profile with --to")
        if key not in METADATA_KEYS:
            raise UsageError(f"--meta {key!r}: the keys are {', '.join(METADATA_KEYS)}")
        out[key] = value.strip()
    return out or None


def _convert(args: argparse.Namespace) -> int:
    if is_batch(args) or args.out_dir is not None:
        return _convert_batch(args)
    check_output(args.output)
    metadata = _metadata(args.meta)
    data, name = read_source(args.files[0])
    if not args.partners.is_file():
        raise UsageError(f"no partner directory at {args.partners}")
    directory = PartnerDirectory.load(args.partners)
    try:
        result = convert(
            data,
            args.profile,
            directory,
            format=args.format,
            metadata=metadata,
            strict=args.strict,
        )
    except LingangError as exc:
        print(f"lingang convert: {name}: rejected: {exc}", file=sys.stderr)
        return EXIT_REJECTED
    if not args.json:
        for warning in result.warnings:
            print(f"warning: {warning}", file=sys.stderr)
    report_json: dict[str, Any] | None = None
    if not args.no_validate:
        from lxml import etree

        from gateway.cli._artefacts import require_artefacts
        from gateway.cli._validator import one_shot_validator

        root = result.tree
        require_artefacts(result.profile, None if root is None else etree.QName(root).localname)
        report = one_shot_validator().validate(result.xml, result.profile, tree=result.tree)
        report_json = report.to_json()
        if report.fatal:
            print(report.to_text(), file=sys.stderr)
            print(f"lingang convert: {name}: fatal findings; nothing written", file=sys.stderr)
            if args.json:
                print(json.dumps(_json_report(result, None, report_json), ensure_ascii=False))
            return EXIT_REJECTED
    if args.output is not None or not args.json:
        write_output(args.output, result.xml)
    if args.json:
        print(json.dumps(_json_report(result, args.output, report_json), ensure_ascii=False))
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
    metadata = _metadata(args.meta)
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
        metadata,
        args.strict,
    )
    results = run_all(convert_file, files, extra, args.jobs)
    counts = print_summary(results)
    if args.report:
        page = write_reports(results, args.report, "lingang convert")
        print(f"report: {args.report} and {page}")
    return EXIT_REJECTED if counts[FAILED] else EXIT_OK


def _json_report(
    result: ConvertResult, output: Path | None, report: dict[str, Any] | None
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "number": result.invoice.number,
        "profile": result.profile,
        "currency": result.invoice.currency,
        "warnings": result.warnings,
        "validation": report,
        "output": str(output) if output is not None else None,
    }
    if output is None:
        out["document"] = result.xml.decode("utf-8")
    return out
