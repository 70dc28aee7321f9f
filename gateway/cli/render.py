"""``lingang render FILE``: a document as a readable page (HTML, or PDF with WeasyPrint).

FILE is a fapiao (XML, OFD, platform JSON), a UBL / CII invoice or credit note, an eBL (DCSA
JSON, a PINT envelope with its transfer chain, UBL BillOfLading), a Peppol Message Level
Status or a Peppol TSR / EUSR report (one renderer per kind, :mod:`gateway.readable`); ``--report`` adds a
validation report (``lingang validate --json`` output) and ``--signed`` the document in the
profile's terms that the gateway made of the fapiao. Exit 0 written, 1 the document cannot be
read, 2 usage (a missing file, PDF without WeasyPrint).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from gateway.cli._io import UsageError, check_output, read_source, write_output
from gateway.errors import LingangError
from gateway.readable import RenderSource, registered_kinds, render_html
from gateway.readable.pdf import PdfUnavailable, render_pdf


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "render",
        help="render a document as a readable page (HTML or PDF)",
        description="Render a document as a readable page with Chinese and English labels "
        "side by side: a fapiao or invoice (amounts, the tax breakdown, the original fapiao's "
        "key facts), an eBL (parties, cargo, equipment, the title chain of a PINT envelope), a "
        "Peppol MLS or TSR / EUSR report; with --report, the validation report.",
    )
    parser.add_argument("file", help="the document ('-' for stdin)")
    parser.add_argument("--format", choices=("html", "pdf"), default="html")
    parser.add_argument("-o", "--output", type=Path, help="write here (default: stdout)")
    parser.add_argument("--report", type=Path, help="a validation report (JSON) to include")
    parser.add_argument(
        "--signed", type=Path, help="the document in the profile's terms (UBL / CII) to show"
    )
    parser.add_argument(
        "--kind", choices=registered_kinds(), help="the document kind (default: detected)"
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    check_output(args.output)
    data, name = read_source(args.file)
    outputs = {"signed": read_source(args.signed)[0]} if args.signed else {}
    source = RenderSource(
        data=data,
        filename=name,
        outputs=outputs,
        report=_report(args.report) if args.report else None,
        kind=args.kind,
    )
    try:
        page = render_html(source)
    except LingangError as exc:
        print(f"lingang render: {name}: {exc}", file=sys.stderr)
        return 1
    if args.format == "pdf":
        try:
            write_output(args.output, render_pdf(page))
        except PdfUnavailable as exc:
            raise UsageError(str(exc)) from exc
        return 0
    write_output(args.output, page.encode("utf-8"))
    return 0


def _report(path: Path) -> dict[str, Any]:
    raw, name = read_source(path)
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise UsageError(f"--report {name} is not JSON (or nests too deep)") from exc
    if not isinstance(value, dict):
        raise UsageError(f"--report {name} is not a validation report (a JSON object)")
    report = value.get("report", value)
    return report if isinstance(report, dict) else value
