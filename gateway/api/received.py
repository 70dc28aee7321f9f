"""A received document as the API (``/v1/received``) and the console show it: the inbound
flow's verdict kept as the ``receive`` job's receipt, and the outputs read from the received
bytes on demand (the canonical JSON and the readable page the inbound flow made for the
local system; reading is deterministic, so the same as was handed on).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from gateway.store import StoredReceipt
from gateway.store.received import ReceivedSummary

INVOICE_KINDS = ("Invoice", "CreditNote", "CrossIndustryInvoice")
"""Document kinds the inbound flow reads into the canonical model."""
OUTPUT_KINDS = ("received", "report", "answer", "canonical", "readable")
"""What a received document offers: as received, its validation report, the answer its
sender got and, for an invoice or credit note, its canonical JSON and readable page."""
ANSWER_MEDIA_TYPE = "application/soap+xml"
"""What the AS4 endpoint answered with (the signed receipt, a SOAP 1.2 envelope)."""


def verdict_of(receipts: Sequence[StoredReceipt]) -> dict[str, Any]:
    """The inbound flow's verdict the ``receive`` job kept as its receipt (the latest):
    ``verdict``, ``facts``, ``report``, ``error``, ``handed_on``, ``mls``, ``stages``."""
    for receipt in reversed(receipts):
        if not receipt.kind.startswith("inbound-") or "json" not in receipt.media_type:
            continue
        try:
            data = json.loads(receipt.data)
        except ValueError:
            continue
        if isinstance(data, dict):
            return data
    return {}


def is_invoice(summary: ReceivedSummary) -> bool:
    """Whether the inbound flow identified the document as an invoice or credit note."""
    return summary.facts.get("document_kind") in INVOICE_KINDS


def offered_outputs(summary: ReceivedSummary, *, has_answer: bool) -> list[str]:
    """The output kinds this received document has."""
    kinds = ["received", "report"]
    if has_answer:
        kinds.append("answer")
    if is_invoice(summary):
        kinds += ["canonical", "readable"]
    return kinds


def canonical_json(data: bytes) -> bytes:
    """The canonical invoice read from a received invoice or credit note, as JSON
    (:class:`LingangError` when it cannot be read)."""
    from gateway.model.jsonable import to_jsonable
    from gateway.read import read_invoice

    invoice = read_invoice(data)
    return json.dumps(to_jsonable(invoice), ensure_ascii=False, sort_keys=True).encode()


def readable_html(data: bytes, profile: str) -> str:
    """The readable page of a received invoice or credit note (:class:`LingangError` when it
    cannot be read)."""
    from gateway.readable import RenderSource, render_html

    return render_html(RenderSource(data=data, kind="invoice", facts={"profile": profile}))
