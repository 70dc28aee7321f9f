"""The renderers by document kind, and what they are given.

A renderer is one module of :mod:`gateway.readable.kinds` with a module-level ``RENDERER``;
:func:`renderers` imports them all once, in name order. ``render_html`` asks each whether it
accepts the source (a named ``kind`` is taken as is).
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from gateway.errors import InputError
from gateway.model.title_registry import TitleToken, TokenEvent


class NoRendererError(InputError):
    """No renderer knows this document (or the kind named is not registered)."""

    code = "no-renderer"


@dataclass(frozen=True, slots=True)
class RenderSource:
    """Everything known about one document, as stored: the renderer picks what it needs."""

    data: bytes
    """The document as received (a fapiao, an eBL, a UBL invoice …)."""
    content_type: str = "application/octet-stream"
    filename: str | None = None
    outputs: Mapping[str, bytes] = field(default_factory=dict)
    """The gateway's outputs by kind (``signed``: the document as delivered)."""
    report: Mapping[str, Any] | None = None
    """The validation report as JSON data (``ValidationReport.to_json()``)."""
    facts: Mapping[str, Any] = field(default_factory=dict)
    """Facts the flow recorded (profile, receiver, sender, number, state …)."""
    document_id: str | None = None
    kind: str | None = None
    """The document kind when known (e.g. from the flow); else each renderer is asked."""
    title_chain: Sequence[str] = ()
    """An eBL's transfer chain as this platform's registry holds it (compact JWS entries,
    each verified when the registry accepted it); empty when it holds none."""
    title_token: TitleToken | None = None
    """The TradeTrust title token of the eBL's ``tradetrust-oa`` output, when the title-token
    registry holds one (its id is the document's Merkle root)."""
    token_history: Sequence[TokenEvent] = ()
    """That token's changes, oldest first."""


class DocumentRenderer(Protocol):
    """Renders one document kind to a whole HTML page."""

    @property
    def kind(self) -> str:
        """The document kind, e.g. ``invoice``, ``ebl``."""
        ...

    def accepts(self, source: RenderSource) -> bool:
        """Whether ``source`` is a document of this kind (cheap: a look at the bytes)."""
        ...

    def render(self, source: RenderSource) -> str:
        """The page; raises a :class:`~gateway.errors.LingangError` for unreadable input."""
        ...


@functools.cache
def renderers() -> tuple[DocumentRenderer, ...]:
    """Every registered renderer (the modules of :mod:`gateway.readable.kinds`)."""
    from gateway.readable import kinds

    found: list[DocumentRenderer] = []
    for info in sorted(pkgutil.iter_modules(kinds.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{kinds.__name__}.{info.name}")
        renderer = getattr(module, "RENDERER", None)
        if renderer is not None:
            found.append(renderer)
    return tuple(found)


def registered_kinds() -> list[str]:
    """The document kinds that can be rendered."""
    return [r.kind for r in renderers()]


def renderer_for(source: RenderSource) -> DocumentRenderer:
    """The renderer of ``source.kind``, else the first that accepts the source."""
    if source.kind is not None:
        for renderer in renderers():
            if renderer.kind == source.kind:
                return renderer
        known = ", ".join(registered_kinds())
        raise NoRendererError(f"no renderer for document kind {source.kind!r} (known: {known})")
    for renderer in renderers():
        if renderer.accepts(source):
            return renderer
    raise NoRendererError("no renderer recognises this document", field="document")


def render_html(source: RenderSource) -> str:
    """The readable page of ``source``."""
    return renderer_for(source).render(source)
