"""Where a key sits in a TOML file, for error messages (``tomllib`` keeps no positions).

:func:`line_of` scans the text line by line, following table headers (``[a.b]``, ``[[a]]``)
and key lines (``key = …``, dotted ``a.b = …``, quoted ``"pint-sg" = …``). It is meant for
pointing a person at a line, not for parsing: a line inside a multi-line string or array
that looks like a key may be taken for one, and a key inside an inline table is found at
the line of the table's own key.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_HEADER = re.compile(r"^\[\[?\s*(?P<key>[^\[\]]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(
    r"""^(?P<key>(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*'))*)\s*="""
)
_PART = re.compile(r"""[A-Za-z0-9_-]+|"((?:[^"\\]|\\.)*)"|'([^']*)'""")


def split_key(text: str) -> tuple[str, ...]:
    """The parts of a dotted TOML key: ``a."b.c".d`` → ``("a", "b.c", "d")``."""
    parts: list[str] = []
    for match in _PART.finditer(text):
        double, single = match.group(1), match.group(2)
        parts.append(double if double is not None else single if single is not None else match[0])
    return tuple(parts)


def line_of(text: str, path: Sequence[str]) -> int | None:
    """The 1-based line where ``path`` (a table or key) is defined in ``text``, or ``None``.

    A table is found at its header, or at the first header or key line below it; a key at
    its own line.
    """
    wanted = tuple(path)
    table: tuple[str, ...] = ()
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        header = _HEADER.match(line)
        if header is not None:
            table = split_key(header["key"])
            if table[: len(wanted)] == wanted:
                return number
            continue
        key = _KEY.match(line)
        if key is not None and (table + split_key(key["key"]))[: len(wanted)] == wanted:
            return number
    return None
