"""Versioned schema migrations, one folder per backend.

Files are named ``NNNN_description.sql`` and applied in order; each runs in one
transaction together with its row in ``schema_version``. ``schema.sql`` in the same folder
is the whole current schema; a test checks that applying every migration from zero gives
exactly that schema.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources

BACKENDS = ("sqlite", "postgres")
_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True, slots=True)
class Migration:
    """One schema step."""

    version: int
    name: str
    sql: str


def load_migrations(backend: str) -> list[Migration]:
    """The backend's migrations in version order (versions must be 1, 2, 3 ...)."""
    folder = resources.files(__package__).joinpath(backend)
    found: list[Migration] = []
    for entry in folder.iterdir():
        match = _NAME.match(entry.name)
        if match:
            found.append(Migration(int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    expected = list(range(1, len(found) + 1))
    if [m.version for m in found] != expected:
        raise RuntimeError(f"{backend} migrations are not numbered 1..n: {found}")
    return found


def current_version(backend: str) -> int:
    """The version the newest migration brings the schema to."""
    return len(load_migrations(backend))


def schema_sql(backend: str) -> str:
    """The full current schema of a backend (``schema.sql``)."""
    return resources.files(__package__).joinpath(backend, "schema.sql").read_text("utf-8")
