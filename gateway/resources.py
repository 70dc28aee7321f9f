"""Locate the project's own data files (``schemas/``, sample fapiao).

In a wheel, the top-level ``schemas/`` folder is installed as the resource package
``gateway.schemas`` (see ``setup.py``); in a source checkout or an editable install it is the
folder beside ``gateway/``.
"""

from __future__ import annotations

import importlib.resources
from functools import cache
from pathlib import Path


@cache
def schemas_dir() -> Path:
    """The folder holding the project's schemas and the official-artefact manifest."""
    beside = Path(__file__).resolve().parent.parent / "schemas"
    if beside.is_dir():
        return beside
    installed = importlib.resources.files("gateway.schemas")
    return Path(str(installed))


def schema_file(name: str) -> Path:
    """Path of one file in :func:`schemas_dir`; raises ``FileNotFoundError`` if absent."""
    path = schemas_dir() / name
    if not path.is_file():
        raise FileNotFoundError(f"project schema {name!r} is not installed at {path}")
    return path
