"""The partner directory written back as TOML, for editing in the console.

The directory is stored in the file's own shape (arrays of tables whose values are text,
numbers, booleans, lists and small tables), so writing it needs only that much TOML: strings
are basic strings with every control character escaped, nested tables are inline tables.
``tomllib.loads(dump_directory(d)) == d`` for every stored directory.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any

SECTIONS = ("partners", "exporters")
_SURROGATE = re.compile("[\ud800-\udfff]")
_BARE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")


def dump_directory(data: Mapping[str, Any]) -> str:
    """``[[partners]]`` and ``[[exporters]]`` tables, in that order (other keys first)."""
    lines: list[str] = []
    for key, value in data.items():
        if key not in SECTIONS:
            lines.append(f"{_key(key)} = {_value(value)}")
    for section in SECTIONS:
        for table in data.get(section, []):
            if lines:
                lines.append("")
            lines.append(f"[[{section}]]")
            lines.extend(f"{_key(k)} = {_value(v)}" for k, v in table.items())
    return "\n".join(lines) + "\n"


def _key(key: str) -> str:
    return key if key and set(key) <= _BARE else _string(key)


def _string(text: str) -> str:
    """A TOML basic string. JSON's escapes are TOML's, except that TOML needs DEL escaped
    (``json.dumps`` never writes ``\\/``; ``ensure_ascii=False`` keeps CJK readable). A lone
    surrogate (possible in JSON, not in TOML) becomes U+FFFD."""
    text = _SURROGATE.sub("\ufffd", text)
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007F")


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            raise ValueError("a directory holds no NaN or infinity")
        return repr(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items()) + "}"
    raise ValueError(f"cannot write {type(value).__name__} as TOML")
