"""``lingang ebl validate FILE``: check an eBL (DCSA JSON or UBL BillOfLading).

DCSA JSON is checked against DCSA's eBL 3.0.3 schema, UBL against the UBL 2.1 XSD, then both
against the eBL rules (``ebl.*``). Every finding names its JSON pointer or XPath. Exit codes:
0 no fatal finding, 1 fatal findings (or an input that is not an eBL), 2 usage error.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from gateway.cli._eblio import artefacts_home, with_artefacts
from gateway.cli._io import EXIT_OK, EXIT_REJECTED, read_source
from gateway.errors import LingangError, ValidationFailed
from gateway.flows.ebl_convert import check_ebl
from gateway.validation.report import Finding


def register(actions: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``ebl validate``."""
    parser = actions.add_parser(
        "validate", help="check a DCSA eBL JSON or UBL BillOfLading (schema + eBL rules)"
    )
    parser.add_argument("file", metavar="FILE", help="the eBL ('-' for stdin)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.set_defaults(handler=_validate)


def _validate(args: argparse.Namespace) -> int:
    data, name = read_source(args.file)
    home = artefacts_home()
    try:
        checked = with_artefacts(lambda: check_ebl(data, home), home)
    except ValidationFailed as exc:
        findings: list[Finding] = list(getattr(exc.report, "findings", []))
        _print(args, name, False, findings, [], exc.message)
        return EXIT_REJECTED
    except LingangError as exc:
        _print(args, name, False, [], [], str(exc))
        return EXIT_REJECTED
    _print(args, name, True, checked.findings, checked.warnings, None, checked.input_kind)
    return EXIT_OK


def _print(
    args: argparse.Namespace,
    name: str,
    valid: bool,
    findings: list[Finding],
    warnings: list[str],
    error: str | None,
    kind: str | None = None,
) -> None:
    if args.json:
        out: dict[str, Any] = {
            "file": name,
            "valid": valid,
            "input": kind,
            "findings": [f.to_json() for f in findings],
            "warnings": warnings,
        }
        if error:
            out["error"] = error
        print(json.dumps(out, indent=2, ensure_ascii=False))
        return
    stream = sys.stdout if valid else sys.stderr
    verdict = f"valid ({kind})" if valid else "INVALID"
    print(f"{name}: {verdict}", file=stream)
    for f in findings:
        print(f"  {f.flag} {f.rule_id} at {f.location}: {f.text}", file=stream)
    for warning in warnings:
        print(f"  warning: {warning}", file=stream)
    if error and not findings:
        print(f"  {error}", file=stream)
