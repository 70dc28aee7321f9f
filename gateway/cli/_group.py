"""Command groups whose actions live in modules of their own.

``lingang peppol`` and ``lingang ebl`` grow an action per feature (``peppol lookup``,
``peppol send``, ``peppol report``; ``ebl convert``, ``ebl transfer`` …). Each action is a
module ``gateway/cli/_<group>_<action>.py`` exposing ``register(actions) -> None``, so adding
one never means editing the group's module.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil

import gateway.cli as cli_package


def register_group(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], name: str, help_text: str
) -> None:
    """Add the command group ``name`` and every action module ``_<name>_*`` found."""
    parser = sub.add_parser(name, help=help_text)
    actions = parser.add_subparsers(dest=f"{name}_command", metavar="ACTION", required=True)
    prefix = f"_{name}_"
    found = sorted(
        info.name
        for info in pkgutil.iter_modules(cli_package.__path__)
        if info.name.startswith(prefix)
    )
    for module_name in found:
        module = importlib.import_module(f"{cli_package.__name__}.{module_name}")
        module.register(actions)
