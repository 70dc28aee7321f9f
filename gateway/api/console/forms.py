"""Reading the fields of a POSTed console form (already CSRF-checked by the middleware)."""

from __future__ import annotations

from aiohttp import web

from gateway.api.console.context import FORM

MAX_FIELD = 4096


def field(request: web.Request, name: str, *, limit: int = MAX_FIELD) -> str:
    """A text field, stripped (``""`` when absent or not text); cut at ``limit``."""
    value = request[FORM].get(name)
    return value.strip()[:limit] if isinstance(value, str) else ""


def file_field(request: web.Request, name: str) -> web.FileField | None:
    """An uploaded file field, or ``None``."""
    value = request[FORM].get(name)
    return value if isinstance(value, web.FileField) else None
