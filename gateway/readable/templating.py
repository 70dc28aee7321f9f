"""The Jinja2 environment of readable documents.

Jinja2 (a well-kept, widely used templating library) with autoescaping on for every
template, whatever its name: every value a template prints is HTML-escaped unless a template
marks it safe, which ours never do with document text. ``StrictUndefined`` makes a misspelt
name an error instead of an empty cell.
"""

from __future__ import annotations

import functools
from typing import Any

import jinja2

from gateway.readable.format import amount, number, percent
from gateway.readable.labels import chinese, english, label_markup


@functools.cache
def environment() -> jinja2.Environment:
    """The shared environment (templates from ``gateway/readable/templates``)."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("gateway.readable", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(label=label_markup, zh=chinese, en=english)
    env.filters.update(amount=amount, number=number, percent=percent)
    return env


def render_template(name: str, **values: Any) -> str:
    """Render one template with ``values``."""
    return environment().get_template(name).render(**values)
