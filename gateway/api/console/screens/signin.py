"""Sign in with the tenant's API key, sign out, switch the language; the console's script."""

from __future__ import annotations

from importlib import resources
from urllib.parse import unquote, urlsplit

from aiohttp import web

from gateway.api.auth import MAX_KEY_LENGTH
from gateway.api.console.context import PREFIX, SESSION, Screen, console, console_store
from gateway.api.console.forms import field
from gateway.api.console.i18n import LANGUAGES
from gateway.api.console.page import redirect, render
from gateway.api.console.session import LANGUAGE_COOKIE, set_cookie
from gateway.store import hash_api_key

routes = web.RouteTableDef()
HOME = f"{PREFIX}/documents"
YEAR = 365 * 24 * 3600


@routes.get("")
@routes.get("/")
async def home(request: web.Request) -> web.Response:
    raise redirect(HOME)


@routes.get("/signin")
async def signin_form(request: web.Request) -> web.Response:
    if SESSION in request:
        raise redirect(HOME)
    return _form(request, failed=False)


@routes.post("/signin")
async def signin(request: web.Request) -> web.Response:
    """Sign in; failures are limited per address and key prefix (:mod:`..throttle`)."""
    key = field(request, "api_key", limit=MAX_KEY_LENGTH + 1)
    throttle = console(request).throttle
    subjects = throttle.subjects(request.remote, key)
    wait = throttle.retry_after(subjects)
    if wait:
        response = _form(request, failed=False, status=429, retry_after=wait)
        response.headers["Retry-After"] = str(wait)
        return response
    tenant = None
    if key and len(key) <= MAX_KEY_LENGTH and key.isascii():
        tenant = await console_store(request).authenticate(key)
    if tenant is None:
        throttle.failed(subjects)
        return _form(request, failed=True, status=401)
    throttle.succeeded(subjects)
    response = web.HTTPSeeOther(location=HOME)
    console(request).keeper.start(response, request, tenant.id, hash_api_key(key))
    raise response


@routes.post("/signout")
async def signout(request: web.Request) -> web.Response:
    """Sign out: the session is recorded as ended in the store (every replica, every restart
    refuses its cookie from now on), then its cookie is cleared."""
    session = request.get(SESSION)
    if session is not None:
        await console(request).reads.sign_out(session.nonce, session.expires)
    response = web.HTTPSeeOther(location=f"{PREFIX}/signin")
    console(request).keeper.end(response, request)
    raise response


@routes.get("/lang")
async def switch_language(request: web.Request) -> web.Response:
    """Set the interface language and go back (only to a console page)."""
    language = request.query.get("to", "zh")
    target = request.query.get("next", HOME)
    response = web.HTTPSeeOther(location=target if inside_console(target) else HOME)
    if language in LANGUAGES:
        set_cookie(response, request, LANGUAGE_COOKIE, language, max_age=YEAR)
    raise response


def inside_console(target: str) -> bool:
    """Whether ``target`` is a console path that stays in the console as a browser resolves
    it: no other origin, no backslash or control character, no dot segment (``..`` or
    ``%2e%2e``, which would climb out of ``/console``)."""
    if not target.startswith(PREFIX + "/") or "\\" in target:
        return False
    if any(ord(char) < 0x21 or ord(char) == 0x7F for char in target):
        return False
    path = unquote(urlsplit(target).path)
    return all(segment not in {".", ".."} for segment in path.split("/"))


@routes.get("/static/console.js")
async def script(request: web.Request) -> web.Response:
    text = resources.files("gateway.api.console").joinpath("static/console.js").read_text("utf-8")
    return web.Response(
        text=text,
        content_type="text/javascript",
        headers={"Cache-Control": "max-age=300", "X-Content-Type-Options": "nosniff"},
    )


def _form(
    request: web.Request, *, failed: bool, status: int = 200, retry_after: int = 0
) -> web.Response:
    holder = web.Response()
    token = console(request).keeper.signin_token(request, holder)
    response = render(
        request,
        "signin.html",
        status=status,
        failed=failed,
        retry_after=retry_after,
        signin_csrf=token,
    )
    for name, morsel in holder.cookies.items():
        response.cookies[name] = morsel
    return response


SCREEN = Screen(name="signin", routes=routes)
