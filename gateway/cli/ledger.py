"""``lingang ledger``: the export ledger (verify, report, checkpoint); one module
``_ledger_<action>.py`` each."""

from __future__ import annotations

import argparse

from gateway.cli._group import register_group


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``ledger`` command group."""
    register_group(sub, "ledger", "the export ledger: verify the chain, yearly report")
