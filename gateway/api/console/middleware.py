"""The console's middleware: language, session, CSRF and error pages.

Order of checks for every request below ``/console``:

1. the language (cookie ``lingang_lang``, default Chinese);
2. the session: a genuine, unexpired cookie, not signed out (the store remembers sign-outs,
   so one holds on every replica and after a restart), whose key still belongs to its
   tenant;
   without one, a page redirects to the sign-in form and a POST is refused (403);
3. for a POST: an ``Origin`` from elsewhere is refused, then the form's CSRF token must be
   the session's (the sign-in form's: the pre-session cookie's);
4. errors become pages: 404 for what is not found (another tenant's id included, a domain
   ``NotFoundError`` too), 403 for a refused form or action, 409 for a conflict with the
   current state, 422 for input the API would refuse, each with the message, field and rule
   the API would give; a bug is a 500 page without detail.
"""

from __future__ import annotations

import asyncio
import logging
from urllib.parse import urlsplit

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.typedefs import Handler

from gateway.api.console.context import (
    FORM,
    KEY,
    LANGUAGE,
    PREFIX,
    SESSION,
    TENANT,
    console,
    console_store,
)
from gateway.api.console.i18n import LANGUAGES
from gateway.api.console.page import redirect, render
from gateway.api.console.session import CSRF_FIELD, LANGUAGE_COOKIE, SESSION_COOKIE
from gateway.api.problems import Problem, from_lingang_error, status_for
from gateway.errors import LingangError

log = logging.getLogger("gateway.console")

PUBLIC = frozenset({f"{PREFIX}/signin", f"{PREFIX}/lang", f"{PREFIX}/static/console.js"})
"""Paths served without a session."""


@web.middleware
async def console_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    language = request.cookies.get(LANGUAGE_COOKIE, "zh")
    request[LANGUAGE] = language if language in LANGUAGES else "zh"
    try:
        await _sign_in(request)
        public = request.path in PUBLIC
        if TENANT not in request and not public:
            if request.method == "POST":
                return render(request, "error.html", status=403, message="forbidden")
            raise redirect(f"{PREFIX}/signin")
        if request.method == "POST":
            refusal = await _check_form(request)
            if refusal is not None:
                return refusal
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        if exc.status == 404:
            return render(request, "error.html", status=404, message="not_found")
        page = render(request, "error.html", status=exc.status, message="error")
        if "Allow" in exc.headers:  # a 405 names the methods the page takes (RFC 9110 15.5.6)
            page.headers["Allow"] = exc.headers["Allow"]
        return page
    except Problem as problem:
        status = 404 if problem.status == 404 else problem.status
        if status >= 500:
            return render(request, "error.html", status=status, message="error")
        return render(request, "error.html", status=status, message="error", problem=problem)
    except LingangError as exc:
        log.warning("console %s %s: %s", request.method, request.path, exc.code)
        status = status_for(exc)
        if status == 404:  # e.g. deciding another tenant's hold: as if it did not exist
            return render(request, "error.html", status=404, message="not_found")
        if status < 500:  # what the API would answer: the message, its field and rule
            answer = from_lingang_error(exc)
            message = "conflict" if status == 409 else "error"
            return render(request, "error.html", status=status, message=message, problem=answer)
        return render(request, "error.html", status=503 if exc.retryable else 422, message="error")
    except HttpProcessingError:  # a request part aiohttp cannot read (a NUL in a header)
        return render(request, "error.html", status=400, message="error")
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        log.error("console %s %s failed: %s", request.method, request.path, type(exc).__name__)
        return render(request, "error.html", status=500, message="error")


async def refresh_session(request: web.Request, response: web.StreamResponse) -> None:
    """The console's ``on_response_prepare`` signal: a signed-in request moves its session's
    last request on (:meth:`~gateway.api.console.session.SessionKeeper.touch`), unless the
    response sets the session cookie itself (sign-in, sign-out). The signal runs after the
    response's cookies became headers, so the fresh cookie is added as a header."""
    session = request.get(SESSION)
    if session is None or SESSION_COOKIE in response.cookies:
        return
    holder = web.Response()
    console(request).keeper.touch(holder, request, session)
    for morsel in holder.cookies.values():
        response.headers.add("Set-Cookie", morsel.output(header="").strip())


async def _sign_in(request: web.Request) -> None:
    session = console(request).keeper.read(request)
    if session is None or await console(request).reads.signed_out(session.nonce):
        return
    found = await console_store(request).api_key_for_hash(session.key_hash)
    if found is None or found[0].id != session.tenant_id:
        return
    request[SESSION] = session
    request[TENANT], request[KEY] = found


def _netloc(origin: str) -> str | None:
    """The host part of an ``Origin`` header; ``None`` when it is no URL at all."""
    try:
        return urlsplit(origin).netloc
    except ValueError:  # e.g. an unclosed IPv6 bracket
        return None


async def _check_form(request: web.Request) -> web.Response | None:
    """``None`` when the POST may go on; else the refusal page (403)."""
    origin = request.headers.get("Origin")
    if origin is not None and origin != "null":
        if _netloc(origin) != request.host:
            return render(request, "error.html", status=403, message="forbidden")
    elif origin == "null":
        return render(request, "error.html", status=403, message="forbidden")
    try:
        form = await request.post()
    except (ValueError, LookupError, AssertionError, HttpProcessingError):
        # a form body that does not parse: a broken multipart, no boundary, a charset that
        # does not exist (aiohttp raises these while reading it)
        return render(request, "error.html", status=400, message="error")
    request[FORM] = form
    token = form.get(CSRF_FIELD)
    if not isinstance(token, str) or not token:
        return render(request, "error.html", status=403, message="forbidden")
    keeper = console(request).keeper
    session = request.get(SESSION)
    if request.path == f"{PREFIX}/signin":
        ok = keeper.check_signin_token(request, token)
    else:
        ok = session is not None and keeper.check_csrf(session, token)
    if not ok:
        return render(request, "error.html", status=403, message="forbidden")
    return None
