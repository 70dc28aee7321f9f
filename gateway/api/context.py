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
from gateway.settings import Settings
from gateway.store import Job, Store, Submission, Tenant


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
    ) -> tuple[Submission, bool]:
        """Store a submission durably (then process it); ``(submission, created)``."""
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
    """

    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    health_timeout: float = 5.0

    @classmethod
    def from_settings(cls, settings: Settings | None) -> ApiOptions:
        """Take the API's options from the gateway settings (defaults without any)."""
        if settings is None:
            return cls()
        return cls(max_body_bytes=settings.limits.max_body_bytes)


SERVICES = web.AppKey[ApiServices]("services")
OPTIONS = web.AppKey("options", ApiOptions)
TENANT = web.RequestKey("tenant", Tenant)
"""Request key of the authenticated :class:`~gateway.store.Tenant` (set by the auth middleware)."""


def services(request: web.Request) -> ApiServices:
    """The services of the app handling ``request``."""
    return request.app[SERVICES]


def store(request: web.Request) -> Store:
    """The store of the app handling ``request``."""
    return request.app[SERVICES].store


def tenant(request: web.Request) -> Tenant:
    """The tenant the request authenticated as (only on routes behind the auth middleware)."""
    return request[TENANT]
