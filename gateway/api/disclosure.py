"""What a tenant may see of the gateway's own errors and receipts.

Delivery errors are recorded for operators as ``ExceptionType: message`` — host names, ports,
``ConnectionKey(...)`` reprs, file paths — and adapters' receipts carry the files they wrote.
Tenants get a stable, readable reason instead (the operator's detail stays in the logs, the
metrics and ``lingang`` commands), and receipt details without paths, hosts or URLs.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Any

TRANSPORT_REASON = "the receiving side could not be reached or answered with a temporary error"
REJECTED_REASON = "the receiving side refused the document"
UNKNOWN_REASON = "the delivery failed"

_RULE_ID = re.compile(r"\b(?:PEPPOL|BR|ibr|SG|CII|UBL|MLS)-[A-Za-z0-9-]*\d\b")
"""Rule ids a receiver's rejection may quote (official Schematron ids): safe and useful."""
_HIDDEN_KEYS = frozenset({"path", "file", "directory", "host", "port", "url", "address"})
_LOOKS_INTERNAL = re.compile(
    r"^(?:/|[A-Za-z]:\\|\\\\)|://|ConnectionKey\(|\b\d{1,3}(?:\.\d{1,3}){3}\b"
)

DELIVERY_STATES = frozenset({"dead", "delivery-retry", "dead-letter"})
"""Events whose reason is a delivery error text: ``dead``, which the deliver job kind
records when it gives up (:meth:`gateway.delivery.deliver.DeliverKind.dead_event`: the
adapter's ``ExceptionType: message``, hosts and ports included), and the names older
histories used."""


def delivery_error(text: str | None, retryable: bool | None) -> str | None:
    """The tenant's words for a recorded delivery error (None: there was none)."""
    if not text:
        return None
    if retryable is True:
        return TRANSPORT_REASON
    if retryable is False:
        rules = sorted(set(_RULE_ID.findall(text)))
        return f"{REJECTED_REASON} ({', '.join(rules)})" if rules else REJECTED_REASON
    return UNKNOWN_REASON


def event_reason(state: str, reason: str | None) -> str | None:
    """An event's reason as a tenant sees it: delivery errors in stable words."""
    if reason is None or state not in DELIVERY_STATES:
        return reason
    rejected = state != "delivery-retry" and "Permanent" in reason.split(":", 1)[0]
    return delivery_error(reason, retryable=not rejected)


def public_detail(detail: Any) -> Any:
    """A receipt's or event's detail without file paths, hosts and URLs."""
    if isinstance(detail, dict):
        return {
            key: public_detail(value)
            for key, value in detail.items()
            if key.lower() not in _HIDDEN_KEYS and not _internal(value)
        }
    if isinstance(detail, list):
        return [public_detail(item) for item in detail if not _internal(item)]
    return detail


def _internal(value: Any) -> bool:
    return isinstance(value, str) and bool(_LOOKS_INTERNAL.search(value))


def tenants_adapters(services: Any) -> Mapping[str, frozenset[str]]:
    """The adapters given to particular tenants, each with those tenants: their own local
    systems (``[routing.inbound_tenants]``), named after the firm. An adapter that also
    serves everyone (``[routing] inbound``, an outbound route) is no tenant's own."""
    routing = getattr(getattr(services, "settings", None), "routing", None)
    if routing is None:
        return {}
    shared = {routing.default, routing.inbound, *routing.profiles.values()}
    shared |= set(routing.partners.values())
    own: dict[str, set[str]] = {}
    for tenant_id, adapter in routing.inbound_tenants.items():
        if adapter not in shared:
            own.setdefault(adapter, set()).add(tenant_id)
    return {adapter: frozenset(tenants) for adapter, tenants in own.items()}


def adapter_label(name: str) -> str:
    """How a tenant's own adapter is named where no tenant is signed in (``/healthz``): a
    short digest of its name, the same at every start (``#`` and 10 hex digits)."""
    return "#" + hashlib.sha256(name.encode()).hexdigest()[:10]
