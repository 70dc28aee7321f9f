"""What the HTTP API needs from the rest of the gateway, and the typed keys it keeps it under.

The API depends on a narrow, structural view of the services (:class:`ApiServices`): the store,
the job layer's ``submit`` and ``retry``, and the adapters (health pings, receiving routes). The gateway's
:class:`gateway.service.Services` satisfies it; so does any small test double that writes to a
real store.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from aiohttp import web

from adapters.base import InboundRoute
from gateway.store import ApiKey, Job, Store, Submission, Tenant


class SubmitsDocuments(Protocol):
    """The job layer's submissions as the API sees them."""

    async def submit(
        self,
        tenant_id: str,
        body: bytes,
        *,
        content_type: str,
        filename: str | None,
        metadata: Mapping[str, Any],
        idempotency_key: str | None,
        flow: str = ...,
    ) -> tuple[Submission, bool]:
        """Store a submission durably (then process it by ``flow``); ``(submission,
        created)``."""
        ...

    async def retry(self, tenant_id: str, submission_id: str) -> Sequence[Job]:
        """Manually retry the dead-lettered deliveries; the jobs retried (none: nothing was)."""
        ...


class AdapterSet(Protocol):
    """The configured adapters by name (the health endpoint pings each one)."""

    def names(self) -> list[str]: ...

    def get(self, name: str) -> Any: ...

    def inbound_routes(self) -> list[InboundRoute]: ...


class ApiServices(Protocol):
    """The services the API is built on."""

    @property
    def store(self) -> Store: ...

    @property
    def submissions(self) -> SubmitsDocuments: ...

    @property
    def adapters(self) -> AdapterSet: ...


DEFAULT_MAX_BODY_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class ApiOptions:
    """Settings of the HTTP API itself.

    ``max_body_bytes`` bounds every request body (413 beyond it); ``health_timeout`` bounds
    each ping of ``/healthz``. Client certificates (mTLS) are the listener's business: with
    ``client_ca`` set, ``lingang serve`` refuses clients without one before the app sees them.

    The listener (:mod:`gateway.api.server`) enforces the rest: a request head must arrive
    within ``header_timeout`` seconds of its first byte (or of the connection), a body within
    ``body_timeout`` of its head, a keep-alive connection is closed after ``idle_timeout``
    seconds without a request, and at most ``max_connections`` are open at once.
    """

    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    health_timeout: float = 5.0
    header_timeout: float = 10.0
    body_timeout: float = 60.0
    idle_timeout: float = 75.0
    max_connections: int = 1000
    counts_seconds: float = 5.0
    """How long one reading of the store's counts serves ``/metrics`` (``[ops]``)."""
    certificate_warn_days: float = 30.0
    """``/healthz`` warns of a certificate expiring within this many days (``[ops]``)."""

    def __post_init__(self) -> None:
        for name in ("header_timeout", "body_timeout", "idle_timeout"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be a positive number of seconds")
        if self.max_connections < 1:
            raise ValueError("max_connections must be at least 1")

    @property
    def tick(self) -> float:
        """How often the listener checks its deadlines (a fraction of the shortest one)."""
        return max(0.02, min(1.0, self.header_timeout / 4, self.body_timeout / 4))

    @classmethod
    def from_settings(cls, settings: Any) -> ApiOptions:
        """Take the API's options from the gateway settings where they are given.

        Each option is read from ``settings.<name>`` or ``settings.server.<name>`` (typed
        settings sections), else its default here.
        """
        if settings is None:
            return cls()
        defaults = cls()
        return cls(
            max_body_bytes=int(_option(settings, "max_body_bytes", defaults.max_body_bytes)),
            header_timeout=float(_option(settings, "header_timeout", defaults.header_timeout)),
            body_timeout=float(_option(settings, "body_timeout", defaults.body_timeout)),
            idle_timeout=float(_option(settings, "idle_timeout", defaults.idle_timeout)),
            max_connections=int(_option(settings, "max_connections", defaults.max_connections)),
            counts_seconds=float(_option(settings, "counts_seconds", defaults.counts_seconds)),
            certificate_warn_days=float(
                _option(settings, "certificate_warn_days", defaults.certificate_warn_days)
            ),
        )


def _option(settings: Any, name: str, default: Any) -> Any:
    holders = (settings, *(getattr(settings, name, None) for name in ("server", "limits", "ops")))
    for holder in holders:
        value = getattr(holder, name, None) if holder is not None else None
        if value is not None:
            return value
    return default


SERVICES = web.AppKey[ApiServices]("services")
OPTIONS = web.AppKey("options", ApiOptions)
TENANT = web.RequestKey("tenant", Tenant)
"""Request key of the authenticated :class:`~gateway.store.Tenant` (set by the auth middleware)."""
API_KEY = web.RequestKey("api_key", ApiKey)
"""Request key of the :class:`~gateway.store.ApiKey` the request authenticated with (its id
and role; set by the auth middleware)."""


def services(request: web.Request) -> ApiServices:
    """The services of the app handling ``request``."""
    return request.app[SERVICES]


def store(request: web.Request) -> Store:
    """The store of the app handling ``request``."""
    return request.app[SERVICES].store


def tenant(request: web.Request) -> Tenant:
    """The tenant the request authenticated as (only on routes behind the auth middleware)."""
    return request[TENANT]


def api_key(request: web.Request) -> ApiKey:
    """The API key the request authenticated with (only behind the auth middleware)."""
    return request[API_KEY]
