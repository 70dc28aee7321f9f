"""``lingang policy check [FILE]``: check a policy file (or the configured one) and show it."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from gateway.policy import DEFAULT_POLICY, load_policy


def register(actions: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = actions.add_parser(
        "check",
        help="check a policy file and show its rules",
        description="Read a policy file as the gateway does at start-up; an error names the "
        "file and line (exit 1). Without FILE: the configured [policy] file, else the "
        "built-in defaults.",
    )
    parser.add_argument("file", metavar="FILE", nargs="?", type=Path)
    parser.add_argument("--config", type=Path, help="lingang.toml (default: $LINGANG_CONFIG)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    path = args.file
    if path is None:
        from gateway.settings import Settings

        path = Settings.load(args.config).policy.file
    policy = load_policy(path) if path is not None else DEFAULT_POLICY
    shown = {**policy.summary(), "path": policy.source or None}  # for the operator only
    print(json.dumps(shown, ensure_ascii=False, indent=2))
    return 0
