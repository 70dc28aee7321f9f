"""Reading a JSON object member by member, keeping whatever is not read.

:class:`Members` hands out the members a reader asks for, typed, and on :meth:`Members.done`
records every member nobody asked for under its JSON pointer, so a reader that maps part of
a document still loses nothing: the rest travels as the model's extensions.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from gateway.errors import FieldError


def escape(key: str) -> str:
    """One JSON-pointer segment (RFC 6901)."""
    return key.replace("~", "~0").replace("/", "~1")


class Members:
    """The members of one JSON object at ``path``; unread ones go to ``leftovers``."""

    def __init__(self, obj: Any, path: str, leftovers: dict[str, Any]) -> None:
        if not isinstance(obj, dict):
            raise FieldError(f"{path or '/'} must be a JSON object", field=path or "/")
        self._rest: dict[str, Any] = dict(obj)
        self.path = path
        self._leftovers = leftovers

    def at(self, key: str) -> str:
        """The JSON pointer of member ``key``."""
        return f"{self.path}/{escape(key)}"

    def raw(self, key: str) -> Any:
        """The member's value as it is (``None`` when absent)."""
        return self._rest.pop(key, None)

    def text(self, key: str) -> str | None:
        value = self.raw(key)
        if value is None:
            return None
        if not isinstance(value, str):
            raise FieldError(f"{self.at(key)} must be a string", field=self.at(key))
        return value

    def required_text(self, key: str) -> str:
        value = self.text(key)
        if value is None:
            raise FieldError(f"{self.at(key)} is missing", field=self.at(key), rule="required")
        return value

    def flag(self, key: str) -> bool | None:
        value = self.raw(key)
        if value is None or isinstance(value, bool):
            return value
        raise FieldError(f"{self.at(key)} must be true or false", field=self.at(key))

    def required_flag(self, key: str) -> bool:
        value = self.flag(key)
        if value is None:
            raise FieldError(f"{self.at(key)} is missing", field=self.at(key), rule="required")
        return value

    def number(self, key: str) -> Decimal | None:
        value = self.raw(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | Decimal | float):
            raise FieldError(f"{self.at(key)} must be a number", field=self.at(key))
        return Decimal(str(value))

    def required_number(self, key: str) -> Decimal:
        value = self.number(key)
        if value is None:
            raise FieldError(f"{self.at(key)} is missing", field=self.at(key), rule="required")
        return value

    def integer(self, key: str) -> int | None:
        value = self.raw(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise FieldError(f"{self.at(key)} must be an integer", field=self.at(key))
        return value

    def date(self, key: str) -> dt.date | None:
        value = self.text(key)
        if value is None:
            return None
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            raise FieldError(
                f"{self.at(key)} is not a date (YYYY-MM-DD): {value!r}", field=self.at(key)
            ) from None

    def texts(self, key: str) -> tuple[str, ...]:
        value = self.raw(key)
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise FieldError(f"{self.at(key)} must be a list of strings", field=self.at(key))
        return tuple(value)

    def objects(self, key: str) -> list[Members]:
        """The member as a list of objects, each a :class:`Members` of its own."""
        value = self.raw(key)
        if value is None:
            return []
        if not isinstance(value, list):
            raise FieldError(f"{self.at(key)} must be a list", field=self.at(key))
        return [Members(v, f"{self.at(key)}/{i}", self._leftovers) for i, v in enumerate(value)]

    def object(self, key: str) -> Members | None:
        value = self.raw(key)
        return None if value is None else Members(value, self.at(key), self._leftovers)

    def done(self) -> None:
        """Record every member not read under its pointer."""
        for key, value in self._rest.items():
            self._leftovers[self.at(key)] = value
        self._rest.clear()
