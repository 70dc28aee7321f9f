"""Rendering console pages: the layout, the words in the chosen language, the CSRF token.

Templates are Jinja2 with autoescaping for every template (document text and partner
names are hostile input); pages are served with a content security policy that allows only
the console's own script file, so injected markup could not run even if it got through.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime, timedelta
from typing import Any

import jinja2
from aiohttp import web

from gateway.api.console.context import LANGUAGE, PREFIX, SESSION, TENANT, console
from gateway.api.console.i18n import reason_namer, state_namer, title_state_namer, translator
from gateway.readable.format import amount, number

CONSOLE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; frame-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'"
)
FRAMED_POLICY = CONSOLE_POLICY.replace("frame-ancestors 'none'", "frame-ancestors 'self'")
"""A page shown in the console's own frame (the readable view's failure): framed by the
console only, as the readable page is."""


@functools.cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("gateway.api.console", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(amount=amount, number=number, when=_when)
    return env


def render(
    request: web.Request, template: str, *, status: int = 200, framed: bool = False, **values: Any
) -> web.Response:
    """A console page (``template`` extends the layout); ``framed``: one the console shows
    in its own frame, which may be framed by the console (and only by it)."""
    language = request.get(LANGUAGE, "zh")
    session = request.get(SESSION)
    state = console(request)
    context: dict[str, Any] = {
        "t": translator(language),
        "st": state_namer(language),
        "title_st": title_state_namer(language),
        "rs": reason_namer(language),
        "lang": language,
        "prefix": PREFIX,
        "path": request.path_qs,
        "tenant": request.get(TENANT),
        "csrf": state.keeper.csrf_token(session) if session is not None else "",
        "menu": [(s.name, PREFIX + s.menu_path) for s in state.menu if s.menu_path],
        "current": request.path,
        "follow_every": FOLLOW_EVERY,
        **values,
    }
    text = environment().get_template(template).render(**context)
    return html_response(text, status=status, framed=framed)


def html_response(text: str, *, status: int = 200, framed: bool = False) -> web.Response:
    return web.Response(
        body=text.encode("utf-8", "replace"),  # a lone surrogate (JSON "\ud800") becomes "?"
        status=status,
        content_type="text/html",
        charset="utf-8",
        headers={
            "Content-Security-Policy": FRAMED_POLICY if framed else CONSOLE_POLICY,
            "X-Content-Type-Options": "nosniff",
            "X-Frame-Options": "SAMEORIGIN" if framed else "DENY",
            "Referrer-Policy": "same-origin",
            "Cache-Control": "no-store",
        },
    )


FOLLOW_SECONDS = 120
"""How long after its last change a page that is still working refreshes itself."""
FOLLOW_EVERY = 2
"""Seconds between the refreshes (``<meta http-equiv="refresh">``)."""


def follows(request: web.Request, working: bool, changed: datetime) -> bool:
    """Whether a page refreshes itself: while its document is working, for
    :data:`FOLLOW_SECONDS` after its last change, unless the reader stopped it
    (``?follow=0``). A page that reloads on its own restarts a screen reader and moves the
    keyboard focus (WCAG 2.2.1, failure F41): it stops on its own, and the page offers a
    way to stop it sooner."""
    if not working or request.query.get("follow") == "0":
        return False
    return bool(console(request).reads.clock() - changed < timedelta(seconds=FOLLOW_SECONDS))


def redirect(location: str) -> web.HTTPSeeOther:
    """303 to a console path."""
    return web.HTTPSeeOther(location=location)


def _when(value: Any) -> str:
    """A time as ``2026-12-02 20:31:05 UTC``: the zone is named, as the ledger's Beijing
    times carry ``+08:00`` (a clerk in Shanghai reads an unnamed time as local)."""
    if value is None:
        return ""
    moment = value.astimezone(UTC) if value.tzinfo else value
    return str(moment.strftime("%Y-%m-%d %H:%M:%S UTC"))
