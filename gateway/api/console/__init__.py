"""The operator console at ``/console``: server-rendered pages over the same tenants and keys.

::

    /console/signin      sign in with the tenant's API key (→ session cookie)
    /console/documents   filtered, paged list      /console/documents/{id}  one document
    /console/upload      drag-and-drop upload      /console/stuck           dead letters, held
    /console/partners    the directory as TOML     /console/health          store, adapters …

Each screen is one module of :mod:`gateway.api.console.screens` exposing ``SCREEN``
(:class:`~gateway.api.console.context.Screen`); :func:`console_app` finds them all, so a
later feature adds its screen as one module. The middleware here signs requests in, checks
the CSRF token of every POST and renders errors as pages; nothing below ``/console`` is
served without a session except the sign-in form, the language switch and the script.
"""

from __future__ import annotations

import importlib
import pkgutil
import secrets
from typing import Any

from aiohttp import web

from gateway.api.console.context import CONSOLE, PREFIX, Console, Screen
from gateway.api.console.middleware import console_middleware, refresh_session
from gateway.api.console.session import SECURE_COOKIES, SessionKeeper
from gateway.api.console.throttle import SignInThrottle
from gateway.api.context import SERVICES, ApiServices
from gateway.store.console import ConsoleStore

DEFAULT_SESSION_MINUTES = 480
DEFAULT_IDLE_MINUTES = 30


def find_screens() -> list[Screen]:
    """Every screen module's ``SCREEN``, in menu order."""
    import gateway.api.console.screens as package

    found: list[Screen] = []
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        screen = getattr(module, "SCREEN", None)
        if isinstance(screen, Screen):
            found.append(screen)
    return sorted(found, key=lambda s: (s.order, s.name))


def console_app(services: ApiServices, settings: Any = None) -> web.Application:
    """The console as a sub-application (mount it at :data:`PREFIX`)."""
    options = getattr(settings, "console", None)
    secret_text = getattr(options, "session_secret", None)
    secret = secret_text.encode() if secret_text else secrets.token_bytes(32)
    minutes = int(getattr(options, "session_minutes", DEFAULT_SESSION_MINUTES))
    idle_minutes = int(getattr(options, "idle_minutes", DEFAULT_IDLE_MINUTES))
    found = find_screens()
    app = web.Application(middlewares=[console_middleware])
    app.on_response_prepare.append(refresh_session)
    app[SERVICES] = services
    app[SECURE_COOKIES] = bool(getattr(options, "secure_cookies", False))
    app[CONSOLE] = Console(
        keeper=SessionKeeper(secret, lifetime_seconds=minutes * 60, idle_seconds=idle_minutes * 60),
        reads=ConsoleStore(services.store.connector, clock=services.store.clock),
        menu=tuple(found),
        throttle=SignInThrottle(
            max_failures=int(getattr(options, "signin_max_failures", 10)),
            window_seconds=float(getattr(options, "signin_window_seconds", 600)),
        ),
    )
    for screen in found:
        app.add_routes(screen.routes)
    return app


def mount_console(app: web.Application, services: ApiServices, settings: Any = None) -> None:
    """Serve the console under ``/console`` of ``app`` unless ``[console] enabled = false``."""
    if getattr(getattr(settings, "console", None), "enabled", True) is False:
        return
    app.add_subapp(PREFIX, console_app(services, settings))


__all__ = ["PREFIX", "console_app", "find_screens", "mount_console"]
