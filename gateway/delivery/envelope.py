"""The envelope as persisted: decided by the flow, routed once, delivered exactly as stored.

When a submission is processed, the flow's :class:`~gateway.flows.TransportFacts` plus the
route and the transport message id are written as the output ``envelope`` (JSON) in the same
transaction as the document itself. The ``deliver`` job reads the envelope and its parts back
in one round trip (:meth:`~gateway.store.Store.get_outputs`) and hands the adapter exactly
that: nothing is re-derived from the client's metadata at delivery time.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from adapters.base import Envelope
from gateway.errors import PermanentDeliveryError
from gateway.flows import TransportFacts
from gateway.store import Output

ENVELOPE = "envelope"
"""The output kind of the persisted envelope."""
MEDIA_TYPE = "application/json"


def transport_message_id(submission_id: str, adapter: str) -> str:
    """The delivery's transport message id: derived from the submission and the adapter, so
    every retry and every re-processing after a crash sends under the same id."""
    return f"{submission_id}.{adapter}@lingang"


@dataclass(frozen=True, slots=True)
class StoredEnvelope:
    """What is persisted as the output ``envelope``."""

    message_id: str
    submission_id: str
    tenant_id: str
    adapter: str
    endpoint: str
    rule: str
    facts: TransportFacts

    def to_bytes(self) -> bytes:
        """The JSON kept in the store."""
        data = {
            "message_id": self.message_id,
            "submission_id": self.submission_id,
            "tenant_id": self.tenant_id,
            "adapter": self.adapter,
            "endpoint": self.endpoint,
            "rule": self.rule,
            "transport": self.facts.to_json(),
        }
        return json.dumps(data, ensure_ascii=False, sort_keys=True).encode()

    @classmethod
    def from_bytes(cls, data: bytes) -> StoredEnvelope:
        """The envelope :meth:`to_bytes` wrote; a broken one is a permanent error."""
        try:
            raw: dict[str, Any] = json.loads(data)
            return cls(
                message_id=str(raw["message_id"]),
                submission_id=str(raw["submission_id"]),
                tenant_id=str(raw["tenant_id"]),
                adapter=str(raw["adapter"]),
                endpoint=str(raw["endpoint"]),
                rule=str(raw.get("rule", "")),
                facts=TransportFacts.from_json(raw["transport"]),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise PermanentDeliveryError(
                f"the stored envelope is unreadable: {exc}", field="outputs.envelope"
            ) from exc

    def parts(self) -> list[str]:
        """The output kinds the delivery needs besides the envelope: body, then attachments."""
        return [self.facts.body, *self.facts.attachments]

    def for_adapter(self, outputs: Mapping[str, Output], attempt: int) -> Envelope:
        """The adapter's envelope, built only from what is stored; its ``created_at`` is
        when the envelope output was stored (the same for every attempt, on any worker)."""
        body = outputs.get(self.facts.body)
        if body is None:
            raise PermanentDeliveryError(
                f"the stored envelope names body {self.facts.body!r}, which is not stored",
                field=f"outputs.{self.facts.body}",
            )
        stored = outputs.get(ENVELOPE)
        return replace(
            self.preview(),
            body=body.data,
            attempt=attempt,
            attachments={k: outputs[k].data for k in self.facts.attachments if k in outputs},
            created_at=stored.created_at if stored is not None else None,
        )

    def preview(self) -> Envelope:
        """The adapter's envelope without its body (to ask an adapter for the endpoint key)."""
        return Envelope(
            message_id=self.message_id,
            body=b"",
            content_type=self.facts.content_type,
            submission_id=self.submission_id,
            tenant_id=self.tenant_id,
            profile=self.facts.profile,
            sender=self.facts.sender,
            receiver=self.facts.receiver,
            filename=self.facts.filename,
            headers=dict(self.facts.headers),
            document_kind=self.facts.document_kind,
        )
