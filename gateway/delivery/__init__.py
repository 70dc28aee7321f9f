"""The delivery layer: adapters built from the configuration, routing to an adapter and an
endpoint, the persisted envelope, and the job kinds that touch adapters.

=============  ===================================================================
module         what it holds
=============  ===================================================================
``config``     :class:`AdapterConfig`, :class:`Routing` (handed down by settings)
``registry``   the configured, live adapters (entry points ``lingang.adapters``)
``routing``    :class:`Router`: receiver → profile → default
``envelope``   :class:`StoredEnvelope`: persisted with the outputs, delivered as stored
``planner``    :class:`RoutingPlanner`: after a flow, the envelope and the ``deliver`` job
``deliver``    the ``deliver`` kind
``inbound``    :class:`StoreInbound` (the adapters' inbound sink) and the ``receive`` kind
``peppol_*``   an access point's duties: reporting records (``peppol_recording``), the
               monthly reports and the ``report`` kind (``peppol_reports``), Message
               Level Status answers and correlation (``peppol_duties``)
``transfer``   the ``transfer`` kind (eBL envelope transfers, DCSA PINT)
=============  ===================================================================
"""

from __future__ import annotations

from gateway.delivery.config import AdapterConfig, Routing
from gateway.delivery.deliver import DeliverKind
from gateway.delivery.envelope import ENVELOPE, StoredEnvelope, transport_message_id
from gateway.delivery.inbound import RECEIVE, ReceiveKind, StoreInbound
from gateway.delivery.planner import DELIVER, RoutingPlanner
from gateway.delivery.registry import AdapterRegistry, discover, load_type
from gateway.delivery.routing import Route, Router
from gateway.delivery.transfer import TransferKind

__all__ = [
    "DELIVER",
    "ENVELOPE",
    "RECEIVE",
    "AdapterConfig",
    "AdapterRegistry",
    "DeliverKind",
    "ReceiveKind",
    "Route",
    "Router",
    "Routing",
    "RoutingPlanner",
    "StoreInbound",
    "StoredEnvelope",
    "TransferKind",
    "discover",
    "load_type",
    "transport_message_id",
]
