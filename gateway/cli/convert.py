"""``lingang convert FILE --to PROFILE --partners FILE``: a fapiao to UBL / CII.

Writes the document to stdout or ``-o OUT`` and validates it against the official artefacts
(unless ``--no-validate``). Warnings go to stderr, one per line (``--json`` prints one JSON
report on stdout instead, with the warnings, the validation report and — without ``-o`` — the
document). Exit codes: 0 valid document, 1 input rejected or fatal findings (report on
stderr), 2 usage error or unreadable file.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from gateway.mapping.convert import ConvertResult, convert
from gateway.mapping.profiles import PROFILE_SPECS
from gateway.partners import PartnerDirectory


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``convert`` command."""
    parser = sub.add_parser(
        "convert",
        help="convert a fapiao (XML, OFD, JSON) to PINT SG, BIS 3, PINT, CII or BIS 3 CII",
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
        "--meta",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="submission metadata (exchange_rate, currency, buyer_reference, order_reference, "
        "contract_reference, project_reference); repeatable",
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
    parser.set_defaults(handler=_convert)


def _metadata(pairs: list[str]) -> dict[str, str] | None:
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise SystemExit(f"lingang convert: --meta {pair!r} is not KEY=VALUE")
        out[key.strip()] = value.strip()
    return out or None


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
    result = convert(
        data,
        args.profile,
        directory,
        format=args.format,
        metadata=_metadata(args.meta),
        strict=args.strict,
    )
    if not args.json:
        for warning in result.warnings:
            print(f"warning: {warning}", file=sys.stderr)
    if args.output is not None:
        args.output.write_bytes(result.xml)
    elif not args.json:
        sys.stdout.buffer.write(result.xml)
        sys.stdout.buffer.flush()
    report_json: dict[str, Any] | None = None
    fatal = False
    if not args.no_validate:
        from gateway.cli._validator import one_shot_validator

        validator = one_shot_validator()
        report = validator.validate(result.xml, result.profile)
        report_json, fatal = report.to_json(), bool(report.fatal)
        if fatal:
            print(report.to_text(), file=sys.stderr)
    if args.json:
        print(json.dumps(_json_report(result, args.output, report_json), ensure_ascii=False))
    return 1 if fatal else 0


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
