"""``lingang validate FILE``: validate a document against the official artefacts.

Exit codes: 0 no fatal finding, 1 fatal findings, 2 unreadable input or usage error.
"""

from __future__ import annotations

import argparse
import json
import sys

from gateway.cli._artefacts import require_artefacts
from gateway.cli._io import read_source
from gateway.errors import InputError
from gateway.validation import ALL_PROFILES, one_shot_validator
from gateway.validation.profiles import detect_profile, document_type
from gateway.xmlsafe import parse_xml


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``validate`` command."""
    parser = sub.add_parser(
        "validate", help="validate a UBL/CII document (XSD + official Schematron)"
    )
    parser.add_argument("file", help="the XML document ('-' for stdin)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument(
        "--profile", choices=ALL_PROFILES, help="profile to apply (default: detected)"
    )
    parser.set_defaults(handler=_validate)


def _validate(args: argparse.Namespace) -> int:
    data, _name = read_source(args.file)
    try:
        root = parse_xml(data, what="document to validate")
        dtype = document_type(root).name
        if dtype != "StandardBusinessDocument":
            require_artefacts(args.profile or detect_profile(root), dtype)
        report = one_shot_validator().validate(data, args.profile)
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
