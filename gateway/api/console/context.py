"""What the console keeps on its app and on each request (typed keys)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp import web
from multidict import MultiDictProxy

from gateway.api.console.session import Session, SessionKeeper
from gateway.api.console.throttle import SignInThrottle
from gateway.store import ApiKey, Store, Tenant
from gateway.store.console import ConsoleStore


@dataclass(frozen=True, slots=True)
class Screen:
    """One console screen: its routes (relative to ``/console``) and its place in the menu.

    A screen is one module of :mod:`gateway.api.console.screens` exposing ``SCREEN``."""

    name: str
    routes: web.RouteTableDef
    menu_path: str | None = None
    """The menu entry's path (``None``: not in the menu); its label is the text ``name``."""
    order: int = 100


@dataclass(frozen=True, slots=True)
class Console:
    """The console's own state."""

    keeper: SessionKeeper
    reads: ConsoleStore
    menu: tuple[Screen, ...]
    throttle: SignInThrottle
    health_timeout: float = 5.0


CONSOLE = web.AppKey("console", Console)
SESSION = web.RequestKey("console_session", Session)
TENANT = web.RequestKey("console_tenant", Tenant)
KEY = web.RequestKey("console_key", ApiKey)
"""The API key the session signed in with (its id and role)."""
LANGUAGE = web.RequestKey("console_language", str)
FORM = web.RequestKey[MultiDictProxy[Any]]("console_form")
"""The POSTed form (read once by the middleware to check its CSRF token)."""

PREFIX = "/console"


def console(request: web.Request) -> Console:
    return request.app[CONSOLE]


def signed_in(request: web.Request) -> tuple[Tenant, Session]:
    """The tenant and session of a signed-in request (every screen but sign-in)."""
    return request[TENANT], request[SESSION]


def console_store(request: web.Request) -> Store:
    """The gateway's store."""
    from gateway.api.context import SERVICES

    return request.app[SERVICES].store
