"""After a flow: route the envelope, name its endpoint, persist it, queue its delivery."""

from __future__ import annotations

from dataclasses import replace

from gateway.delivery.envelope import ENVELOPE, MEDIA_TYPE, StoredEnvelope, transport_message_id
from gateway.delivery.registry import AdapterRegistry
from gateway.delivery.routing import Router
from gateway.errors import MissingFactError
from gateway.flows import FlowOutcome
from gateway.jobs import DeliveryPlan
from gateway.store import JobSpec, OutputSpec, Submission

DELIVER = "deliver"
"""Kind of the job that hands a stored envelope to its adapter."""


class RoutingPlanner:
    """The :class:`~gateway.jobs.DeliveryPlanner` of outbound flows."""

    def __init__(self, router: Router, adapters: AdapterRegistry) -> None:
        self.router = router
        self.adapters = adapters

    def plan(self, submission: Submission, outcome: FlowOutcome) -> DeliveryPlan:
        """The envelope to persist and the ``deliver`` job (ordered by the submission's
        arrival, so a backlog is delivered as it is processed)."""
        facts = outcome.transport
        if facts is None:
            raise MissingFactError(f"flow {outcome.flow!r} decided no envelope", field="envelope")
        route = self.router.route(facts)
        message_id = transport_message_id(submission.id, route.adapter)
        envelope = StoredEnvelope(
            message_id=message_id,
            submission_id=submission.id,
            tenant_id=submission.tenant_id,
            adapter=route.adapter,
            endpoint="",
            rule=route.rule,
            facts=facts,
        )
        endpoint = self.adapters.endpoint_key(route.adapter, envelope.preview())
        envelope = replace(envelope, endpoint=endpoint)
        return DeliveryPlan(
            outputs=[OutputSpec(ENVELOPE, MEDIA_TYPE, envelope.to_bytes())],
            job=JobSpec(
                DELIVER,
                adapter=route.adapter,
                endpoint=endpoint,
                payload_ref=ENVELOPE,
                message_id=message_id,
                ordered_at=submission.created_at,
            ),
            reason=f"processed; delivery queued on {route.adapter} ({route.rule})",
            detail={"message_id": message_id, "adapter": route.adapter},
        )
