"""The transport facts a flow decides for its document: the envelope, before routing.

The last stage of an outbound flow sets them; the delivery layer adds the route and the
transport message id, persists the envelope beside the outputs and hands the adapter exactly
what was stored. Nothing here is re-derived from the client's metadata at delivery time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class TransportFacts:
    """What travels with the document, as the flow decided it."""

    body: str
    """The output kind that is the body to send (e.g. ``signed``)."""
    content_type: str
    document_kind: str
    """``invoice``, ``credit-note``, ``bill-of-lading`` …"""
    profile: str = ""
    sender: str = ""
    """The sender's participant id (``scheme:value``), if the document names one."""
    receiver: str = ""
    """The receiver's participant id (``scheme:value``), if the document names one."""
    document_number: str = ""
    filename: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)
    """Transport headers the flow wants carried (e.g. ``X-Lingang-Profile``)."""
    attachments: tuple[str, ...] = ()
    """Further output kinds that travel with the body (e.g. a detached ``signature``)."""

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form (persisted with the outputs)."""
        return {
            "body": self.body,
            "content_type": self.content_type,
            "document_kind": self.document_kind,
            "profile": self.profile,
            "sender": self.sender,
            "receiver": self.receiver,
            "document_number": self.document_number,
            "filename": self.filename,
            "headers": dict(self.headers),
            "attachments": list(self.attachments),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TransportFacts:
        """The facts :meth:`to_json` wrote."""
        return cls(
            body=str(data["body"]),
            content_type=str(data["content_type"]),
            document_kind=str(data.get("document_kind", "")),
            profile=str(data.get("profile", "")),
            sender=str(data.get("sender", "")),
            receiver=str(data.get("receiver", "")),
            document_number=str(data.get("document_number", "")),
            filename=str(data.get("filename", "")),
            headers={str(k): str(v) for k, v in dict(data.get("headers") or {}).items()},
            attachments=tuple(str(a) for a in data.get("attachments") or ()),
        )
