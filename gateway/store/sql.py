"""Named SQL blocks kept in ``.sql`` files.

A file holds blocks, each introduced by a line ``-- name: block_name``; the text up to
the next such line is the query. Queries are loaded once per process.
"""

from __future__ import annotations

import functools
import re
import sqlite3
from importlib import resources

_HEADER = re.compile(r"^--\s*name:\s*(\w+)\s*$", re.MULTILINE)


@functools.cache
def load_queries(backend: str) -> dict[str, str]:
    """The named blocks of ``gateway/store/queries/<backend>.sql`` and of every feature's
    ``queries/<feature>.<backend>.sql`` (a name may be defined only once across them)."""
    folder = resources.files("gateway.store").joinpath("queries")
    files = sorted(
        entry.name
        for entry in folder.iterdir()
        if entry.name == f"{backend}.sql" or entry.name.endswith(f".{backend}.sql")
    )
    queries: dict[str, str] = {}
    for filename in files:
        parts = _HEADER.split(folder.joinpath(filename).read_text("utf-8"))
        for name, body in zip(parts[1::2], parts[2::2], strict=True):
            if name in queries:
                raise RuntimeError(f"{filename}: query {name!r} defined twice")
            queries[name] = body.strip()
    return queries


def split_statements(script: str) -> list[str]:
    """Split an SQL script into complete statements (``sqlite3.complete_statement`` decides
    where one ends, so semicolons inside strings or triggers are safe)."""
    statements: list[str] = []
    pending = ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            text = _strip_comments(pending)
            if text:
                statements.append(text)
            pending = ""
    if _strip_comments(pending):
        raise ValueError("SQL script ends inside a statement")
    return statements


def _strip_comments(text: str) -> str:
    lines = [ln for ln in text.splitlines() if not ln.strip().startswith("--")]
    return "\n".join(lines).strip()
