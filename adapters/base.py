"""The delivery adapter seam: one method to deliver, one to close, one to ping.

An adapter takes an :class:`Envelope` (the signed document, its headers and a stable transport
message id) and returns a :class:`Receipt`, or raises

* :class:`~gateway.errors.TransientDeliveryError` when trying again later can help (network
  error, timeout, 5xx, 429), or
* :class:`~gateway.errors.PermanentDeliveryError` when the receiver rejected the document.

Lower-library errors are translated inside the adapter and chained. The same envelope (same
``message_id``) is delivered again on every retry, so receivers can drop duplicates and
adapters can be idempotent per message id.

Adapters are built by the registry from their configuration table with
``AdapterClass.from_config(name, options, context)``; a class may say it cannot run on this
machine through ``unavailable_reason()``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from gateway.errors import PermanentDeliveryError, TransientDeliveryError

__all__ = [
    "Adapter",
    "AdapterContext",
    "AdapterFactory",
    "BodySigner",
    "Envelope",
    "PermanentDeliveryError",
    "Receipt",
    "TransientDeliveryError",
]


@dataclass(frozen=True, slots=True)
class Envelope:
    """What an adapter sends: the document bytes and the facts needed to address it."""

    message_id: str
    """Stable transport id (same on every retry): receivers deduplicate by it."""
    body: bytes
    content_type: str = "application/xml"
    submission_id: str = ""
    tenant_id: str = ""
    profile: str = ""
    sender: str = ""
    """Sender participant id (``scheme:value``), if known."""
    receiver: str = ""
    """Receiver participant id (``scheme:value``), if known."""
    filename: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)
    """Extra transport headers the pipeline wants carried."""
    attempt: int = 1


@dataclass(frozen=True, slots=True)
class Receipt:
    """Proof that the counterpart accepted the envelope."""

    message_id: str
    adapter: str
    received_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    remote_id: str = ""
    """The receiver's own id for the message, if it gave one."""
    duplicate: bool = False
    """The receiver (or the adapter) had already seen this message id."""
    body: bytes = b""
    """The raw receipt as received (signed receipt, response body, ...)."""
    content_type: str = ""
    details: Mapping[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """The receipt as JSON-ready data (the raw body is left out)."""
        return {
            "message_id": self.message_id,
            "adapter": self.adapter,
            "received_at": self.received_at.isoformat(),
            "remote_id": self.remote_id,
            "duplicate": self.duplicate,
            "content_type": self.content_type,
            "details": dict(self.details),
        }


class BodySigner(Protocol):
    """Makes a detached signature over a transport body (used by the https adapter)."""

    def sign_detached(self, body: bytes) -> str:
        """A detached compact JWS (``header..signature``) over ``body``."""
        ...


@dataclass(frozen=True, slots=True)
class AdapterContext:
    """What the gateway hands every adapter when it builds it."""

    data_dir: Path
    body_signer: BodySigner | None = None
    tls_cert: Path | None = None
    """The gateway's own client certificate (PEM), for adapters using mutual TLS."""
    tls_key: Path | None = None


@runtime_checkable
class Adapter(Protocol):
    """A delivery route to a counterpart."""

    name: str

    async def deliver(self, envelope: Envelope) -> Receipt:
        """Deliver ``envelope``; raise Transient/PermanentDeliveryError on failure."""
        ...

    async def ping(self) -> bool:
        """Whether the route looks usable right now (cheap; used by health checks)."""
        ...

    async def aclose(self) -> None:
        """Release connections and files."""
        ...


class AdapterFactory(Protocol):
    """What an entry point of group ``lingang.adapters`` must point at (usually the class)."""

    def __call__(self, *args: Any, **kwargs: Any) -> Adapter: ...

    def from_config(
        self, name: str, options: Mapping[str, Any], context: AdapterContext
    ) -> Adapter: ...
