"""The delivery layer's configuration: adapter instances and the routing table.

The settings layer reads them from ``[adapters.NAME]`` and ``[routing]`` tables and hands them
down; nothing here reads a file or the environment.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class AdapterConfig:
    """One configured adapter instance: its ``type`` (entry point name) and its options."""

    name: str
    type: str
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Routing:
    """Which adapter gets a document: by receiver, then profile, then default.

    ``inbound`` names the adapter that hands received documents on to the local system (a
    folder, a webhook); ``None`` keeps them in the store for the API only.
    ``inbound_tenants`` (``[routing.inbound_tenants]``, tenant id = adapter) gives a tenant
    its own: that tenant's received documents go there and nowhere else, so one firm's
    invoices never reach another firm's system; a tenant it does not name gets ``inbound``."""

    default: str | None = None
    profiles: Mapping[str, str] = field(default_factory=dict)
    partners: Mapping[str, str] = field(default_factory=dict)
    inbound: str | None = None
    inbound_tenants: Mapping[str, str] = field(default_factory=dict)

    def inbound_adapters(self) -> frozenset[str]:
        """Every adapter that hands received documents on (none of them sends documents)."""
        named = {self.inbound} if self.inbound else set()
        return frozenset(named | set(self.inbound_tenants.values()))
