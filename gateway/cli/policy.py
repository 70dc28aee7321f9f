"""``lingang policy``: the export gate for compliance officers (holds, release, refuse, check);
one module ``_policy_<action>.py`` each."""

from __future__ import annotations

import argparse

from gateway.cli._group import register_group


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``policy`` command group."""
    register_group(sub, "policy", "the cross-border data gate: held documents, release, refuse")
