"""The control-tracking-registry hook: with one configured, a transfer is final only once the
registry has recorded it.

PINT 3.0 leaves the registry's own interface to the registry; this hook speaks a small JSON
one. After the receiving platform has signed ``RECE`` (or ``DUPE`` for a transfer it already
has), the sender POSTs one record to the registry's URL::

    {"transportDocumentChecksum": "…", "envelopeTransferChainEntrySignedContentChecksum": "…",
     "sendingPlatform": "AEOT", "receivingPlatform": "IQAX", "responseCode": "RECE",
     "messageId": "…"}

The record is keyed by the last chain entry's checksum (one per transfer), so a retry records
nothing twice at a registry that keeps records by it. Any 2xx answer means recorded; anything
else, or no answer, is a :class:`TransientDeliveryError`: the ``transfer`` job runs again, the
receiver answers ``DUPE`` to the resent envelope, and the record is tried again. Until then
the eBL stays ``sending`` here (locked: no other transfer starts).
"""

from __future__ import annotations

import json
import ssl
from typing import Any

import aiohttp

from gateway.errors import TransientDeliveryError
from gateway.pint.checksums import jws_checksum
from gateway.pint.stored import entry_payload

MAX_ANSWER_BYTES = 64 * 1024


def transfer_record(
    envelope_body: bytes, *, sending: str, receiving: str, code: str, message_id: str
) -> dict[str, str]:
    """The registry record of the transfer whose envelope (as sent) is ``envelope_body``."""
    envelope = json.loads(envelope_body)
    manifest = entry_payload(str(envelope["envelopeManifestSignedContent"]))
    chain = envelope["envelopeTransferChain"]
    return {
        "transportDocumentChecksum": str(manifest["transportDocumentChecksum"]),
        "envelopeTransferChainEntrySignedContentChecksum": jws_checksum(str(chain[-1])),
        "sendingPlatform": sending,
        "receivingPlatform": receiving,
        "responseCode": code,
        "messageId": message_id,
    }


class ControlTrackingRegistry:
    """Records finished transfers at ``url`` (https, or http for a registry on loopback)."""

    def __init__(self, url: str, *, ssl_context: ssl.SSLContext | None = None) -> None:
        self.url = url
        self.ssl_context = ssl_context

    async def record(self, session: aiohttp.ClientSession, record: dict[str, str]) -> None:
        """Record ``record``; :class:`TransientDeliveryError` unless the registry says so."""
        extra: dict[str, Any] = {} if self.ssl_context is None else {"ssl": self.ssl_context}
        try:
            async with session.post(self.url, json=record, **extra) as answer:
                await answer.content.read(MAX_ANSWER_BYTES)
                status = answer.status
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise TransientDeliveryError(
                f"the control tracking registry cannot be reached: {exc}",
                field="control_tracking_registry",
            ) from exc
        if not 200 <= status < 300:
            raise TransientDeliveryError(
                f"the control tracking registry did not record the transfer (HTTP {status})",
                field="control_tracking_registry",
            )
