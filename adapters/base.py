"""The adapter seam: deliver, ping, close, and an optional receiving side.

An adapter takes an :class:`Envelope` (the signed document, its headers and a stable transport
message id) and returns a :class:`Receipt`, or raises

* :class:`~gateway.errors.TransientDeliveryError` when trying again later can help (network
  error, timeout, 5xx, 429), or
* :class:`~gateway.errors.PermanentDeliveryError` when the receiver rejected the document.

Lower-library errors are translated inside the adapter and chained. The same envelope (same
``message_id``) is delivered again on every retry, so receivers can drop duplicates and
adapters can be idempotent per message id.

Adapters are two-way. An adapter that also receives (an AS4 endpoint, a DCSA PINT
platform, an HTTPS inbox) implements :class:`Receiving`: it lists the HTTP routes it serves
on the gateway's server, authenticates what arrives by its own protocol, and hands each
message to the :class:`InboundSink` in its context, which stores it durably (duplicates by
message id are recognised there, across restarts and replicas) and queues a ``receive`` job,
before the adapter acknowledges anything to the sender.

An adapter may also say which receiving endpoint an envelope goes to
(:class:`EndpointKeyed`): the gateway keeps one circuit breaker per such endpoint, so one
dead receiver does not stop deliveries to the others behind the same adapter.

Adapters are built by the gateway from their configuration table with
``AdapterClass.from_config(name, options, context)``, and get everything they need through
the :class:`AdapterContext` (never by reading the gateway's settings); a class may say it
cannot run on this machine through ``unavailable_reason()``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from aiohttp import web

from gateway.errors import PermanentDeliveryError, TransientDeliveryError
from gateway.store.base import HasConnector
from gateway.store.ledger_records import TransferAssessor

__all__ = [
    "ANSWERS_TO_RETRY",
    "Adapter",
    "AdapterContext",
    "AdapterFactory",
    "BodySigner",
    "EndpointKeyed",
    "Envelope",
    "InboundAck",
    "InboundDocument",
    "InboundRoute",
    "InboundSink",
    "PermanentDeliveryError",
    "Receipt",
    "Receiving",
    "TransientDeliveryError",
]

ANSWERS_TO_RETRY = frozenset({409, 429})
"""HTTP statuses below 500 that an HTTP adapter retries unchanged (under the same
``Idempotency-Key``): 429, too many requests; 409, the receiver is still processing an
earlier post of that key, e.g. one sent before a crash (draft-ietf-httpapi-idempotency-key-header,
"Error Scenarios": the one error that needs no correction before the retry). Any other 4xx
is a rejection, such as 422: the key was used with another body."""

REUSED_MESSAGE_ID = "inbound.message-id-reused"
"""The rule of a received message whose message id came before with other bytes: the sink
refuses it, and an HTTP inbox answers 422 (a key used with another body), never 409."""


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
    """Transport headers the flow decided (e.g. ``X-Lingang-Profile``)."""
    attempt: int = 1
    document_kind: str = ""
    """``invoice``, ``credit-note``, ``bill-of-lading`` …"""
    attachments: Mapping[str, bytes] = field(default_factory=dict)
    """Further parts that travel with the body, by kind (e.g. a detached ``signature``)."""
    created_at: datetime | None = None
    """When the envelope was fixed (stored once for all attempts, on any worker): the time a
    transport that must rebuild the same message on every retry gives it (``peppol``: the
    AS4 and SBDH timestamps); ``None``: the time of the attempt."""


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
class InboundDocument:
    """A message an adapter received and authenticated, for the gateway to keep."""

    channel: str
    """The adapter that received it (its configured name)."""
    message_id: str
    """The sender's transport id: duplicates are recognised by ``(channel, message_id)``."""
    body: bytes
    media_type: str = "application/xml"
    sender: str = ""
    receiver: str = ""
    tenant_id: str | None = None
    """The tenant the message is for, if the adapter knows it."""
    metadata: Mapping[str, Any] = field(default_factory=dict)
    answer: bytes | None = None
    """What the adapter will answer the sender (an AS4 receipt), kept with the message in
    the same transaction so that a duplicate can be answered with exactly these bytes."""


@dataclass(frozen=True, slots=True)
class InboundAck:
    """What the gateway answers an adapter that handed it a message."""

    inbound_id: str
    duplicate: bool
    """The message id was seen before: nothing new was stored or queued."""
    answer: bytes | None = None
    """The answer kept with the first message of this id (``None``: none was kept)."""


class InboundSink(Protocol):
    """Where a receiving adapter hands messages: stored durably, a ``receive`` job queued,
    in one transaction, before this returns."""

    async def accept(self, document: InboundDocument) -> InboundAck: ...


@dataclass(frozen=True, slots=True)
class InboundRoute:
    """One HTTP route a receiving adapter serves on the gateway's server."""

    method: str
    path: str
    handler: Callable[[web.Request], Awaitable[web.StreamResponse]]


@runtime_checkable
class Receiving(Protocol):
    """The optional receiving side of an adapter."""

    def inbound_routes(self) -> Sequence[InboundRoute]:
        """The routes to mount (empty when receiving is not configured)."""
        ...


@runtime_checkable
class EndpointKeyed(Protocol):
    """An adapter that can name the receiving endpoint of an envelope."""

    def endpoint_key(self, envelope: Envelope) -> str:
        """A stable key of the endpoint ``envelope`` goes to (its circuit breaker's key)."""
        ...


@dataclass(frozen=True, slots=True)
class AdapterContext:
    """What the gateway hands every adapter when it builds it."""

    data_dir: Path
    body_signer: BodySigner | None = None
    tls_cert: Path | None = None
    """The gateway's own client certificate (PEM), for adapters using mutual TLS."""
    tls_key: Path | None = None
    inbound: InboundSink | None = None
    """Where received messages go (``None``: this process does not receive)."""
    max_body_bytes: int = 16 * 1024 * 1024
    """The largest message a receiving side accepts."""
    store: HasConnector | None = None
    """The gateway's store, for adapters keeping protocol state of their own in tables of
    their own (``dcsa_pint``: the eBL registry)."""
    artefacts_home: Path | None = None
    """Where the official artefacts are installed (``peppol``: the SBDH XSD of received
    messages)."""
    export_gate: TransferAssessor | None = None
    """The cross-border data gate for what an adapter sends out of its own accord
    (``dcsa_pint``: eBL transfers); ``None``: not gated (tests of the protocol alone)."""


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
