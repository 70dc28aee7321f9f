"""Readable documents: every document kind rendered to HTML for people (and to PDF).

Operators do not read UBL, CII or SVRL. This package turns what the gateway holds about a
document — the original bytes, the outputs in the profile's terms, the validation report —
into one self-contained HTML page with Chinese and English labels side by side::

    source = RenderSource(data=..., content_type=..., outputs={"signed": ubl}, report=...)
    html = render_html(source)             # the renderer whose kind accepts the source
    pdf = render_pdf(html)                 # WeasyPrint, where it is installed

Each document kind is one module in :mod:`gateway.readable.kinds` exposing ``RENDERER``
(a :class:`DocumentRenderer`); the registry discovers them, so the eBL or another kind adds
its rendering without editing a shared file. Templates are Jinja2 with autoescaping on for
every template: document text is hostile input and is only ever written as text.
"""

from gateway.readable.registry import (
    DocumentRenderer,
    NoRendererError,
    RenderSource,
    registered_kinds,
    render_html,
    renderer_for,
)

__all__ = [
    "DocumentRenderer",
    "NoRendererError",
    "RenderSource",
    "registered_kinds",
    "render_html",
    "renderer_for",
]
