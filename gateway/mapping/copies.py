"""Shallow copies of the model's dataclasses, for the mapper's working copy.

``dataclasses.replace(obj)`` looks the fields up and passes them by keyword for every copy;
the mapper copies every line of every invoice, so :func:`shallow_copy` reads them with one
compiled getter per class and passes them by position, with the same result.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from functools import cache
from operator import attrgetter
from typing import Any, TypeVar

T = TypeVar("T")


@cache
def _values(cls: type) -> Callable[[Any], tuple[Any, ...]] | None:
    """A getter of the ``__init__`` arguments of ``cls`` in order, or ``None`` where passing
    them by position would not do (fewer than two fields, or one not set by ``__init__`` or
    only by keyword)."""
    fields = dataclasses.fields(cls)
    if len(fields) < 2 or any(not f.init or f.kw_only for f in fields):
        return None
    return attrgetter(*(f.name for f in fields))


def shallow_copy(obj: T) -> T:
    """``dataclasses.replace(obj)``: a new instance sharing ``obj``'s field values."""
    cls: Any = type(obj)
    values = _values(cls)
    if values is None:
        return dataclasses.replace(obj)  # type: ignore[type-var]
    return cls(*values(obj))  # type: ignore[no-any-return]
