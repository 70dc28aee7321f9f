"""The operations listener: ``/livez``, ``/readyz`` and ``/metrics`` on an address of their own.

``[ops] listen`` (``--ops-listen``) turns it on, in ``lingang serve`` and ``lingang worker``.
It answers what the API answers under the same paths (the same handlers,
:mod:`gateway.api.routes.ops`), over plain HTTP, and nothing else: no documents, no console,
no key to present. Two operators need it:

* Prometheus, to scrape ``lingang worker``, which has no API: the counters of the jobs its
  workers ran (:mod:`gateway.jobs.metrics`) exist only in that process;
* Kubernetes, whose HTTP probes present no client certificate, so they cannot pass an API
  listener that requires one (``[server] client_ca``): the probes go to this port instead.

Put it on an address only the cluster reaches (the pod's, not a public one). Anything it
serves is also served without a key by the API (names of services, counts, route templates;
no tenant data).
"""

from __future__ import annotations

from aiohttp import web

from gateway.api.context import OPTIONS, SERVICES, ApiOptions, ApiServices
from gateway.api.headers import add_security_headers
from gateway.api.metrics import METRICS, ApiMetrics
from gateway.api.middleware import problem_middleware
from gateway.api.routes import ops
from gateway.api.server import ApiRunner, api_runner

OPS_PATHS = ("/livez", "/readyz", "/metrics")
"""What the operations listener serves (GET and HEAD)."""


def create_ops_app(
    services: ApiServices, metrics: ApiMetrics, options: ApiOptions | None = None
) -> web.Application:
    """The operations app over ``services``; ``metrics`` is shared with the API's app in
    ``lingang serve`` (one set of request counters, one reading of the store's counts)."""
    app = web.Application(middlewares=[problem_middleware])
    app.on_response_prepare.append(add_security_headers)
    app[OPTIONS] = options or ApiOptions.from_settings(getattr(services, "settings", None))
    app[SERVICES] = services
    app[METRICS] = metrics
    app.router.add_get("/livez", ops.livez)
    app.router.add_get("/readyz", ops.readyz)
    app.router.add_get("/metrics", ops.metrics)
    return app


def ops_runner(app: web.Application) -> ApiRunner:
    """The runner to serve the operations app with (the API's hardened listener)."""
    return api_runner(app, shutdown_timeout=2.0)
