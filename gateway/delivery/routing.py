"""Routing: which adapter delivers a document, and to which receiving endpoint.

Order: the receiver's participant id in ``[routing.partners]`` (the receiver the flow
decided, never a client's metadata), the profile in ``[routing.profiles]``, then
``[routing].default``; with a single configured adapter and no table, that adapter. Before
the default, a receiver under scheme ``0195`` (Singapore UEN: InvoiceNow is Peppol) goes to
the one configured adapter of type ``peppol``, if there is exactly one. The
endpoint key (the circuit breaker's) is the adapter's own name for the receiving endpoint
(:class:`~adapters.base.EndpointKeyed`), else the adapter's name.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from gateway.delivery.config import Routing
from gateway.errors import ConfigError, MissingFactError
from gateway.flows import TransportFacts

PEPPOL_BY_DEFAULT = "0195:"
"""Receivers under this participant scheme go over Peppol unless a rule says otherwise."""


@dataclass(frozen=True, slots=True)
class Route:
    """The chosen adapter and why."""

    adapter: str
    rule: str
    """Which rule matched: ``partner:<id>``, ``profile:<id>`` or ``default``."""


class Router:
    """Chooses the adapter for a processed document from the routing table."""

    def __init__(
        self, routing: Routing, configured: Collection[str], *, peppol: Collection[str] = ()
    ) -> None:
        self.routing = routing
        self.configured = frozenset(configured)
        self.peppol = frozenset(peppol) & self.configured
        """The configured adapters of type ``peppol``."""
        for target in [
            routing.default,
            routing.inbound,
            *routing.inbound_tenants.values(),
            *routing.profiles.values(),
            *routing.partners.values(),
        ]:
            if target is not None and target not in self.configured:
                raise ConfigError(
                    f"routing names adapter {target!r}, which is not configured "
                    f"(configured: {sorted(self.configured) or 'none'})",
                    field="routing",
                )

    def route(self, transport: TransportFacts) -> Route:
        """The route for a document's envelope; :class:`MissingFactError` if none matches."""
        if transport.receiver and transport.receiver in self.routing.partners:
            return Route(self.routing.partners[transport.receiver], f"partner:{transport.receiver}")
        if transport.profile and transport.profile in self.routing.profiles:
            return Route(self.routing.profiles[transport.profile], f"profile:{transport.profile}")
        if transport.receiver.startswith(PEPPOL_BY_DEFAULT) and len(self.peppol) == 1:
            (peppol,) = self.peppol
            return Route(peppol, f"peppol:{PEPPOL_BY_DEFAULT[:-1]}")
        if self.routing.default:
            return Route(self.routing.default, "default")
        outbound = self.configured - self.routing.inbound_adapters()
        if len(outbound) == 1:
            (only,) = outbound
            return Route(only, "default")
        raise MissingFactError(
            "no route to deliver this document: set [routing].default or a partner/profile route",
            field="routing",
        )
