"""Routing: which configured adapter delivers a document — by partner, then profile, then default."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from gateway.errors import MissingFactError
from gateway.pipeline.stages import StageContext
from gateway.settings import ConfigError, Routing


@dataclass(frozen=True, slots=True)
class Route:
    """The chosen adapter and the endpoint key its circuit breaker is kept under."""

    adapter: str
    endpoint: str
    rule: str
    """Which rule matched: ``partner:<id>``, ``profile:<id>``, ``metadata`` or ``default``."""


class Router:
    """Chooses the adapter for a processed document from the routing table.

    Order: an explicit ``adapter`` in the submission metadata (must be configured), the
    receiver's participant id (or any key the partner directory gave the receiver) in
    ``[routing.partners]``, the profile in ``[routing.profiles]``, then ``[routing].default``;
    with a single configured adapter and no table, that adapter.
    """

    def __init__(self, routing: Routing, configured: Collection[str]) -> None:
        self.routing = routing
        self.configured = frozenset(configured)
        for target in [
            routing.default,
            *routing.profiles.values(),
            *routing.partners.values(),
        ]:
            if target is not None and target not in self.configured:
                raise ConfigError(
                    f"routing names adapter {target!r}, which is not configured "
                    f"(configured: {sorted(self.configured) or 'none'})",
                    field="routing",
                )

    def route(self, context: StageContext) -> Route:
        """The route for a processed document; :class:`MissingFactError` if none matches."""
        explicit = context.submission.metadata.get("adapter")
        if explicit:
            name = str(explicit)
            if name not in self.configured:
                raise MissingFactError(
                    f"metadata names adapter {name!r}, which is not configured",
                    field="metadata.adapter",
                )
            return Route(name, name, "metadata")
        for key in context.receiver_keys():
            if key in self.routing.partners:
                name = self.routing.partners[key]
                return Route(name, name, f"partner:{key}")
        if context.profile and context.profile in self.routing.profiles:
            name = self.routing.profiles[context.profile]
            return Route(name, name, f"profile:{context.profile}")
        if self.routing.default:
            return Route(self.routing.default, self.routing.default, "default")
        if len(self.configured) == 1:
            (only,) = self.configured
            return Route(only, only, "default")
        raise MissingFactError(
            "no route to deliver this document: set [routing].default or a partner/profile route",
            field="routing",
        )
