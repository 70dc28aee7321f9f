"""Build the HTTP API application.

:func:`create_app` wires already-open services into an app (the caller owns their life
cycle); :func:`create_app_from_settings` opens them in the app's ``cleanup_ctx`` so the
app owns them. Both give the same routes and middleware::

    observe (access log, metrics) ─► problems (RFC 9457) ─► auth (API key → tenant) ─► route

Request bodies are bounded by ``client_max_size`` (= :attr:`ApiOptions.max_body_bytes`).
aiohttp's own access log repeats what :mod:`gateway.api.middleware` writes; run the app with
``access_log=None`` (``web.AppRunner(app, access_log=None)``) to keep one line per request.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from gateway.api.auth import auth_middleware
from gateway.api.context import OPTIONS, SERVICES, ApiOptions, ApiServices
from gateway.api.metrics import METRICS, ApiMetrics
from gateway.api.middleware import observe_middleware, problem_middleware
from gateway.api.routes import documents, ops, partners
from gateway.settings import Settings

HEADER_LIMITS = {"max_line_size": 8190, "max_field_size": 8190}
"""Runner keyword arguments bounding request lines and headers (4xx beyond them)."""


def create_app(services: ApiServices, options: ApiOptions | None = None) -> web.Application:
    """The API over ``services``; options default to those in ``services.settings``."""
    app = _bare_app(options or ApiOptions.from_settings(getattr(services, "settings", None)))
    app[SERVICES] = services
    return app


def create_app_from_settings(settings: Settings) -> web.Application:
    """The API that opens the gateway's services on start-up and closes them on clean-up."""
    app = _bare_app(ApiOptions.from_settings(settings))

    async def services_ctx(app: web.Application) -> AsyncIterator[None]:
        from gateway.service import open_services

        opened = await open_services(settings)
        app[SERVICES] = opened
        try:
            yield
        finally:
            await opened.close()

    app.cleanup_ctx.append(services_ctx)
    return app


def _bare_app(options: ApiOptions) -> web.Application:
    app = web.Application(
        client_max_size=options.max_body_bytes,
        middlewares=[observe_middleware, problem_middleware, auth_middleware],
    )
    app[OPTIONS] = options
    app[METRICS] = ApiMetrics()
    app.add_routes(documents.routes)
    app.add_routes(partners.routes)
    app.add_routes(ops.routes)
    return app
