"""Checks for JSON (and TOML) from outside, before and after parsing.

Python's ``json`` and ``tomllib`` parsers recurse once per nesting level, and so does much
code that walks their results (``json.dumps``, schema checks, pickling): a body nested a few
thousand levels deep raises :class:`RecursionError` somewhere far from the input. And JSON's
``\\ud800`` escapes decode to lone surrogates, which no UTF-8 store or wire can carry. So:

* :func:`loads_bounded` parses JSON only after :func:`nesting_exceeds` has read the text's
  brackets (outside strings), so it never recurses deeper than asked;
* :func:`unique_members` refuses an object naming a member twice (``json`` keeps the last
  without a word; I-JSON, RFC 7493 2.3, which RFC 8785's canonical form requires of its
  input, forbids it);
* :func:`depth_of` measures a parsed value without recursing;
* :func:`unfit_text` finds the first key or string that no store takes (a lone surrogate, a
  NUL: PostgreSQL's text refuses it), or, for values bound for XML, holds a character XML
  1.0 cannot carry.
"""

from __future__ import annotations

import json
import re
from typing import Any

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKETS = re.compile(r"[\[\]{}]")
_NOT_STORABLE = re.compile("[\x00\ud800-\udfff]")
"""What no store takes: a lone surrogate (not UTF-8), a NUL (PostgreSQL's text refuses it)."""
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
"""Characters XML 1.0 cannot carry (its ``Char`` production), lone surrogates included."""


def nesting_exceeds(text: str, max_depth: int) -> bool:
    """Whether JSON ``text`` nests arrays and objects deeper than ``max_depth`` (brackets
    inside strings do not count)."""
    depth = 0
    for match in _BRACKETS.finditer(_STRING.sub("", text)):
        depth += 1 if match.group() in "[{" else -1
        if depth > max_depth:
            return True
    return False


class TooDeep(ValueError):
    """JSON text nested deeper than its reader allows."""


def loads_bounded(text: str, max_depth: int, **options: Any) -> Any:
    """``json.loads(text, **options)`` for text nested at most ``max_depth`` deep; deeper is
    a :class:`TooDeep`, so a caller's ``except ValueError`` sees every refusal and no
    ``RecursionError`` can arise."""
    if nesting_exceeds(text, max_depth):
        raise TooDeep(f"nests deeper than {max_depth} levels")
    return json.loads(text, **options)


class DuplicateMember(ValueError):
    """A JSON object that names one member twice: which of the two values was meant?"""

    def __init__(self, name: str) -> None:
        self.name = name
        shown = _NOT_STORABLE.sub(_escaped, name)
        super().__init__(f"the member {shown!r} is given twice in one object")


def unique_members(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """``json.loads``'s ``object_pairs_hook`` for text from outside: the object, or a
    :class:`DuplicateMember` (a ``ValueError``) when a name comes twice."""
    out: dict[str, Any] = {}
    for name, value in pairs:
        if name in out:
            raise DuplicateMember(name)
        out[name] = value
    return out


def depth_of(value: Any) -> int:
    """How deep ``value`` nests lists and dicts (a scalar: 0, ``[]``: 1), without recursing."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, depth + 1)
        stack.extend((child, depth + 1) for child in children)
    return deepest


def unfit_text(value: Any, *, xml: bool = False) -> tuple[str, str] | None:
    """``(path, why)`` of the first key or string in ``value`` that holds a lone surrogate
    or a NUL (no store takes them) or, with ``xml``, any character XML 1.0 cannot carry
    (the control characters but tab, line feed and carriage return; U+FFFE, U+FFFF);
    ``None`` when all are fit.

    ``path`` names the place as ``a.b[2].c`` (the key itself when the key is at fault; unfit
    characters of keys written as ``\\uXXXX``)."""
    pattern = _NOT_XML if xml else _NOT_STORABLE
    stack: list[tuple[Any, str]] = [(value, "")]
    while stack:
        item, path = stack.pop()
        if isinstance(item, str):
            found = pattern.search(item)
            if found is not None:
                return path, _why(found.group(), xml)
        elif isinstance(item, dict):
            children: list[tuple[Any, str]] = []
            for key, child in item.items():
                name = pattern.sub(_escaped, key) if isinstance(key, str) else str(key)
                where = f"{path}.{name}" if path else name
                found = pattern.search(key) if isinstance(key, str) else None
                if found is not None:
                    return where, _why(found.group(), xml)
                children.append((child, where))
            stack.extend(reversed(children))
        elif isinstance(item, list):
            places = [(child, f"{path}[{index}]") for index, child in enumerate(item)]
            stack.extend(reversed(places))
    return None


def _escaped(found: re.Match[str]) -> str:
    """An unfit character of a key as ``\\uXXXX``, so that the path can be shown anywhere."""
    return f"\\u{ord(found.group()):04x}"


def _why(character: str, xml: bool) -> str:
    code = f"U+{ord(character):04X}"
    if "\ud800" <= character <= "\udfff":
        return f"holds {code}, half of a UTF-16 surrogate pair, which is not a character"
    if not xml:
        return f"holds {code} (NUL), which cannot be stored"
    return f"holds {code}, which an XML document cannot carry"


_PATH_STEP = re.compile(r"\.([^.\[\]]+)|\[(\d+)\]|\['((?:[^'\\]|\\.)*)'\]")
"""One step of a path written ``.name``, ``[0]`` or ``['name']`` (JSONPath's forms)."""


def json_pointer(path: str) -> str | None:
    """The RFC 6901 JSON Pointer of a member named by a path as the gateway's errors write
    it: ``documents[1].name``, JSONPath ``$.consignmentItems[0].cargoItems`` (``$``: the
    whole document) or a pointer already (``/consignmentItems/0``); ``None`` when ``path``
    is none of these. Array items count from 0 in every form, as in a pointer."""
    if path.startswith("/"):
        return path
    rest = path[1:] if path.startswith("$") else "." + path
    tokens: list[str] = []
    position = 0
    while position < len(rest):
        step = _PATH_STEP.match(rest, position)
        if step is None:
            return None
        name, index, quoted = step.groups()
        tokens.append(index if index is not None else name if name is not None else quoted)
        position = step.end()
    return "".join("/" + t.replace("~", "~0").replace("/", "~1") for t in tokens)
