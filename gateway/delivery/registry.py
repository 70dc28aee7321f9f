"""The adapter registry: entry points of group ``lingang.adapters`` turned into live adapters.

It lives in the delivery layer, not beside the adapters: building adapters from the
configuration is the gateway's job, and adapters themselves import no settings.

Built-in adapters are registered exactly like third-party ones (``pyproject.toml``)::

    [project.entry-points."lingang.adapters"]
    folder = "adapters.folder:FolderAdapter"
    https = "adapters.https:HttpsAdapter"

An adapter the configuration names must load, or :meth:`AdapterRegistry.build` raises
:class:`~gateway.errors.ConfigError` and the gateway refuses to start. Adapters nobody
configured are only listed by :func:`discover`: a broken one is logged and skipped.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator, Mapping
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from adapters.base import Adapter, AdapterContext, EndpointKeyed, Envelope, InboundRoute, Receiving
from gateway.delivery.config import AdapterConfig
from gateway.errors import ConfigError, PermanentDeliveryError

log = logging.getLogger("lingang.adapters")

GROUP = "lingang.adapters"


def _entry_points() -> dict[str, EntryPoint]:
    return {ep.name: ep for ep in entry_points(group=GROUP)}


def discover() -> dict[str, Any]:
    """Every installed adapter type that loads and says it can run, by entry point name.

    Broken or unavailable ones are logged and skipped (they are optional until configured).
    """
    found: dict[str, Any] = {}
    for name, point in sorted(_entry_points().items()):
        try:
            factory = point.load()
        except Exception as exc:  # a broken plug-in must not stop the others
            log.warning("adapter plug-in skipped", extra={"adapter": name, "error": repr(exc)})
            continue
        reason = _unavailable_reason(factory)
        if reason:
            log.info("adapter unavailable", extra={"adapter": name, "reason": reason})
            continue
        found[name] = factory
    return found


def _unavailable_reason(factory: Any) -> str | None:
    check = getattr(factory, "unavailable_reason", None)
    return str(check()) if callable(check) and check() else None


def load_type(kind: str) -> Any:
    """Load the adapter type ``kind`` strictly: :class:`ConfigError` says why it cannot."""
    points = _entry_points()
    point = points.get(kind)
    if point is None:
        raise ConfigError(
            f"adapter type {kind!r} is not installed (installed: {sorted(points) or 'none'})",
            field="adapters",
        )
    try:
        factory = point.load()
    except Exception as exc:
        raise ConfigError(
            f"adapter type {kind!r} failed to load: {exc!r}", field="adapters"
        ) from exc
    reason = _unavailable_reason(factory)
    if reason:
        raise ConfigError(f"adapter type {kind!r} cannot run here: {reason}", field="adapters")
    return factory


class AdapterRegistry:
    """The configured, live adapters of this process, by configured name."""

    def __init__(self, adapters: Mapping[str, Adapter] | None = None) -> None:
        self._adapters: dict[str, Adapter] = dict(adapters or {})

    @classmethod
    def build(
        cls, configs: Mapping[str, AdapterConfig], context: AdapterContext
    ) -> AdapterRegistry:
        """Build every configured adapter; any failure is a :class:`ConfigError`."""
        built: dict[str, Adapter] = {}
        for name, config in configs.items():
            factory = load_type(config.type)
            try:
                adapter = factory.from_config(name, config.options, context)
            except ConfigError:
                raise
            except Exception as exc:
                raise ConfigError(
                    f"adapter {name!r} ({config.type}) rejected its options: {exc}",
                    field=f"adapters.{name}",
                ) from exc
            if not isinstance(adapter, Adapter):
                raise ConfigError(
                    f"adapter {name!r} ({config.type}) does not implement deliver/ping/aclose",
                    field=f"adapters.{name}",
                )
            built[name] = adapter
        return cls(built)

    def add(self, name: str, adapter: Adapter) -> None:
        """Register an already built adapter (tests, embedding)."""
        self._adapters[name] = adapter

    def get(self, name: str) -> Adapter:
        """The adapter configured as ``name``; a permanent delivery error if there is none."""
        try:
            return self._adapters[name]
        except KeyError:
            raise PermanentDeliveryError(
                f"no adapter {name!r} is configured in this process", field="adapter"
            ) from None

    def endpoint_key(self, name: str, envelope: Envelope) -> str:
        """The circuit-breaker key of the endpoint ``envelope`` goes to through adapter
        ``name``: ``name:<adapter's key>`` when the adapter names endpoints, else ``name``."""
        adapter = self.get(name)
        if isinstance(adapter, EndpointKeyed):
            return f"{name}:{adapter.endpoint_key(envelope)}"
        return name

    def inbound_routes(self) -> list[InboundRoute]:
        """Every HTTP route the receiving sides of the adapters serve."""
        routes: list[InboundRoute] = []
        for name in self.names():
            adapter = self._adapters[name]
            if isinstance(adapter, Receiving):
                routes.extend(adapter.inbound_routes())
        return routes

    def names(self) -> list[str]:
        """Configured adapter names, sorted."""
        return sorted(self._adapters)

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self._adapters)

    async def ping_all(self) -> dict[str, bool]:
        """Ping every adapter concurrently; an exception counts as not usable."""

        async def one(adapter: Adapter) -> bool:
            try:
                return bool(await adapter.ping())
            except Exception:
                return False

        names = self.names()
        results = await asyncio.gather(*(one(self._adapters[n]) for n in names))
        return dict(zip(names, results, strict=True))

    async def aclose(self) -> None:
        """Close every adapter (errors are logged, never raised)."""
        for name, adapter in self._adapters.items():
            try:
                await adapter.aclose()
            except Exception as exc:
                log.warning("adapter close failed", extra={"adapter": name, "error": repr(exc)})
