"""``lingang parse FILE``: parse one fapiao and print the canonical invoice as JSON."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from gateway.cli._io import STDIN, read_source
from gateway.errors import LingangError
from gateway.ingest import FORMATS, ParsedInvoice, parse
from gateway.model import to_jsonable


def parsed_as_json(parsed: ParsedInvoice) -> dict[str, Any]:
    """The printable view: source format, canonical invoice, fapiao facts, warnings."""
    return {
        "source_format": parsed.source_format,
        "invoice": to_jsonable(parsed.invoice),
        "facts": to_jsonable(parsed.facts),
        "warnings": to_jsonable(parsed.warnings),
    }


def run_parse(args: argparse.Namespace) -> int:
    """Parse ``args.file`` (``-``: stdin); 0 ok, 1 rejected (stderr names the problem), 2
    usage."""
    data, name = read_source(args.file)
    try:
        parsed = parse(data, args.format, filename=None if args.file == STDIN else name)
    except LingangError as exc:
        print(f"lingang parse: {name}: rejected: {exc}", file=sys.stderr)
        return 1
    json.dump(parsed_as_json(parsed), sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")
    for warning in parsed.warnings:
        where = f" [{warning.field}]" if warning.field else ""
        print(f"warning {warning.code}: {warning.message}{where}", file=sys.stderr)
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``parse`` to the ``lingang`` command."""
    parser = sub.add_parser(
        "parse", help="parse a fapiao (XML, OFD, platform JSON) into the canonical invoice"
    )
    parser.add_argument("file", help="the fapiao file ('-' for stdin)")
    parser.add_argument(
        "--format", choices=("auto", *FORMATS), default="auto", help="input format (default auto)"
    )
    parser.set_defaults(handler=run_parse)
