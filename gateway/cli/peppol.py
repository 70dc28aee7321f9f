"""``lingang peppol``: the Peppol access point's actions (one module ``_peppol_<action>.py`` each)."""

from __future__ import annotations

import argparse

from gateway.cli._group import register_group


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``peppol`` command group."""
    register_group(sub, "peppol", "Peppol: discovery, sending, reporting")
