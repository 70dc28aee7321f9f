"""Versioned schema migrations, one folder per backend.

Files are named ``NNNN_description.sql`` and applied in order; each runs in one
transaction together with its row in ``schema_version``. ``schema.sql`` in the same folder
is the whole current schema; a test checks that applying every migration from zero gives
exactly that schema.

A migration that changes rows by rules SQL cannot express (e.g. replaying signed chains) has
a *data step* as well (:data:`DATA_STEPS`, by the migration's name): a transaction script
run right after its SQL, in the same transaction, with the named queries of
``queries/<backend>.sql`` (written for the schema as that migration leaves it).
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Generator
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from typing import Any

BACKENDS = ("sqlite", "postgres")
DATA_STEPS = {
    "ebl_surrender_requests": "gateway.store.ebl_legacy:migrate_surrender_requests",
}
"""Migrations with a data step: name to ``module:function`` (imported only when the
migration runs); the function takes the time of the migration and returns its script."""
DataStep = Callable[[datetime], Generator[Any, Any, None]]
_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True, slots=True)
class Migration:
    """One schema step."""

    version: int
    name: str
    sql: str

    def data_step(self) -> DataStep | None:
        """The migration's data step (see :data:`DATA_STEPS`), or ``None``."""
        target = DATA_STEPS.get(self.name)
        if target is None:
            return None
        module, _, function = target.partition(":")
        step: DataStep = getattr(importlib.import_module(module), function)
        return step


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
