"""``lingang ebl``: electronic bills of lading (one module ``_ebl_<action>.py`` each)."""

from __future__ import annotations

import argparse

from gateway.cli._group import register_group


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``ebl`` command group."""
    register_group(sub, "ebl", "electronic bills of lading: validate, convert, issue, transfer")
