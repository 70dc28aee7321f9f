"""Build the HTTP API application.

:func:`create_app` wires already-open services into an app (the caller owns their life
cycle), with these middleware around every route::

    observe (access log, metrics) ─► problems (RFC 9457) ─► auth (API key → tenant) ─► route

The operator console (:mod:`gateway.api.console`) is mounted at ``/console``.
The receiving sides of the adapters (:class:`~adapters.base.Receiving`) are mounted beside
the API; they authenticate by their own protocol, not by API key.
Every response carries the security headers of :mod:`gateway.api.headers` (nosniff, a
content security policy, ``no-store``, HSTS over TLS) unless its handler set its own.
Request bodies are bounded by ``client_max_size`` (= :attr:`ApiOptions.max_body_bytes`).
Serve the app with :func:`gateway.api.server.api_runner`: it keeps aiohttp's parser errors out
of logs and error bodies, enforces the listener's timeouts and connection cap, and turns off
aiohttp's access log (the middleware writes one line per request).
"""

from __future__ import annotations

from aiohttp import web

from gateway.api.auth import KNOWN_KEYS, SUBMITTERS_DECIDE, KnownKeys, auth_middleware
from gateway.api.console import mount_console
from gateway.api.context import OPTIONS, SERVICES, ApiOptions, ApiServices
from gateway.api.headers import add_security_headers
from gateway.api.metrics import METRICS, ApiMetrics
from gateway.api.middleware import observe_middleware, problem_middleware
from gateway.api.routes import documents, ebl, ops, partners, policy, received, views
from gateway.api.server import MAX_FIELD_BYTES, MAX_LINE_BYTES

HEADER_LIMITS = {"max_line_size": MAX_LINE_BYTES, "max_field_size": MAX_FIELD_BYTES}
"""Runner keyword arguments bounding request lines (414 beyond) and header fields (431)."""


def create_app(services: ApiServices, options: ApiOptions | None = None) -> web.Application:
    """The API over ``services``; options default to those in ``services.settings``."""
    app = _bare_app(options or ApiOptions.from_settings(getattr(services, "settings", None)))
    app[METRICS] = api_metrics(services, app[OPTIONS])
    app[SERVICES] = services
    policy = getattr(getattr(services, "settings", None), "policy", None)
    app[SUBMITTERS_DECIDE] = bool(getattr(policy, "submitter_decisions", False))
    mount_inbound(app, services)
    mount_console(app, services, getattr(services, "settings", None))
    return app


def mount_inbound(app: web.Application, services: ApiServices) -> None:
    """Serve the receiving sides of the adapters (their own authentication, no API key)."""
    for route in services.adapters.inbound_routes():
        app.router.add_route(route.method, route.path, route.handler)


def api_metrics(services: ApiServices, options: ApiOptions) -> ApiMetrics:
    """The metrics of an app over ``services``: with the process's job metrics when
    ``services`` has them (:class:`~gateway.service.Services`)."""
    job_metrics = getattr(services, "job_metrics", None)
    process = getattr(job_metrics, "registry", None)
    return ApiMetrics(process, counts_seconds=options.counts_seconds)


def _bare_app(options: ApiOptions) -> web.Application:
    app = web.Application(
        client_max_size=options.max_body_bytes,
        middlewares=[observe_middleware, problem_middleware, auth_middleware],
    )
    app.on_response_prepare.append(add_security_headers)
    app[OPTIONS] = options
    app[METRICS] = ApiMetrics()
    app[KNOWN_KEYS] = KnownKeys()
    app.add_routes(documents.routes)
    app.add_routes(views.routes)
    app.add_routes(received.routes)
    app.add_routes(partners.routes)
    app.add_routes(policy.routes)
    app.add_routes(ebl.routes)
    app.add_routes(ops.routes)
    return app
