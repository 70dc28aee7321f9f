"""One setting's value, from the file or from the environment, checked against its type.

The types a section field may have: ``str``, ``int``, ``float``, ``bool``, ``Path``,
``tuple[Path, ...]``, ``tuple[str, ...]``, each optionally ``| None``. A value of the wrong
type raises :class:`WrongType` saying what was expected; the loader adds where it came from.
"""

from __future__ import annotations

import os
import types
import typing
from pathlib import Path
from typing import Any

TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off"})


class WrongType(ValueError):
    """A value does not fit its field; ``expected`` says what would."""

    def __init__(self, expected: str, got: str) -> None:
        super().__init__(f"must be {expected}, got {got}")
        self.expected = expected


def unwrap(hint: Any) -> Any:
    """``X`` for ``X | None`` (and for ``X``)."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        (inner,) = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        return inner
    return hint


def expected(hint: Any) -> str:
    """What a value of type ``hint`` looks like, for people."""
    base = unwrap(hint)
    if typing.get_origin(base) is tuple:
        (item, _) = typing.get_args(base)
        return "a list of paths" if item is Path else "a list of strings"
    names = {str: "a string", int: "an integer", float: "a number", bool: "true or false"}
    return names.get(base, "a path (string)")


def describe(value: Any) -> str:
    """A TOML value's kind and value, for people: ``the string '8080'``."""
    kinds = {bool: "boolean", int: "integer", float: "number", str: "string"}
    kind = kinds.get(type(value))
    if kind is not None:
        return f"the {kind} {value!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    return f"{type(value).__name__} {value!r}"


def from_file(value: Any, hint: Any) -> Any:
    """``value`` as parsed by ``tomllib``, checked (and converted) for a field of ``hint``."""
    base = unwrap(hint)
    if typing.get_origin(base) is tuple:
        (item, _) = typing.get_args(base)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise WrongType(expected(hint), describe(value))
        return tuple(Path(v).expanduser() if item is Path else v for v in value)
    if base is bool:
        ok = isinstance(value, bool)
    elif base is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif base is float:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
    else:
        ok = isinstance(value, str)
    if not ok:
        raise WrongType(expected(hint), describe(value))
    if base is float:
        return float(value)
    return Path(value).expanduser() if base is Path else value


def from_env(text: str, hint: Any) -> Any:
    """An environment variable's ``text`` converted for a field of ``hint``."""
    base = unwrap(hint)
    if typing.get_origin(base) is tuple:
        (item, _) = typing.get_args(base)
        if item is Path:
            return tuple(Path(p).expanduser() for p in text.split(os.pathsep) if p)
        return tuple(text.split())
    if base is bool:
        word = text.strip().lower()
        if word not in TRUE_WORDS | FALSE_WORDS:
            raise WrongType("one of 1/true/yes/on or 0/false/no/off", repr(text))
        return word in TRUE_WORDS
    if base is int or base is float:
        try:
            return base(text.strip())
        except ValueError:
            raise WrongType(expected(hint), repr(text)) from None
    return Path(text).expanduser() if base is Path else text


def is_path(hint: Any) -> bool:
    """Whether a field of ``hint`` holds paths (resolved against the data directory)."""
    base = unwrap(hint)
    if typing.get_origin(base) is tuple:
        return typing.get_args(base)[0] is Path
    return base is Path


def resolve(value: Any, data_dir: Path) -> Any:
    """Relative paths in ``value`` (a path or a tuple of paths) made relative to ``data_dir``."""
    if isinstance(value, tuple):
        return tuple(resolve(v, data_dir) for v in value)
    if isinstance(value, Path) and not value.is_absolute():
        return data_dir / value
    return value
