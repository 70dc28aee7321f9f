"""The official DCSA examples and conformance templates (placeholders filled), for eBL tests."""

from __future__ import annotations

import json
import re
from pathlib import Path

EXAMPLES = (
    "EBL_v3.0.3.transport-document.GET.200.regular.json",
    "EBL_v3.0.3.transport-document.GET.200.reefer.json",
    "EBL_v3.0.3.transport-document.GET.200.dangerous-goods.json",
    "EBL_v3.0.3.shipping-instructions.POST.request.regular.json",
    "EBL_v3.0.3.shipping-instructions.GET.200.dangerous-goods.json",
    "EBL_v3.0.3.transport-document-notification.issued.full-state.json",
    "EBL_ISS_v3.0.3.ebl-issuance-request.PUT.request.regular.json",
    "EBL_PINT_v3.0.0.pint-envelope.POST.request.regular.json",
)
"""Every DCSA example that carries an eBL (the others are responses, surrender requests and
endorsement chains: no transport document in them)."""

TEMPLATES = (
    "ebl-api-3.0.0-request.json",
    "ebl-api-3.0.0-straight-bl.json",
    "ebl-api-3.0.0-negotiable-bl.json",
    "eblissuance-v3.0.0-request.json",
    "pint-3.0.0-transport-document.json",
)
"""Every conformance template that carries an eBL (the surrender template carries none)."""

FILLS = {
    "TRANSPORT_DOCUMENT_REFERENCE_PLACEHOLDER": "LGTD20260001",
    "SHIPPING_INSTRUCTION_REFERENCE_PLACEHOLDER": "SI-LG-0001",
    "BOOKING_REFERENCE_PLACEHOLDER": "CBR-LG-0001",
    "SEND_TO_PLATFORM_PLACEHOLDER": "BOLE",
    "{CBR}": "CBR-LG-0001",
}
"""Values for the templates' placeholders (each within its field's schema limits)."""


def fill(text: str) -> str:
    """The template with every placeholder replaced."""
    for placeholder, value in FILLS.items():
        text = text.replace(placeholder, value)
    return re.sub(
        r"([A-Z_]+)_PLACEHOLDER", lambda m: m.group(1).title().replace("_", "")[:20], text
    )


def template(reference: Path, name: str) -> bytes:
    """A conformance template, filled; the issuance request gets the example's manifest JWS,
    which the conformance kit adds when it sends the template."""
    folder = reference / "ebl" / "dcsa"
    data = json.loads(fill((folder / "conformance-templates" / name).read_text(encoding="utf-8")))
    if name.startswith("eblissuance"):
        example = json.loads(
            (
                folder / "examples" / "EBL_ISS_v3.0.3.ebl-issuance-request.PUT.request.regular.json"
            ).read_text(encoding="utf-8")
        )
        data.setdefault("issuanceManifestSignedContent", example["issuanceManifestSignedContent"])
    return json.dumps(data, ensure_ascii=False).encode("utf-8")


def all_inputs(reference: Path) -> dict[str, bytes]:
    """Every eBL-carrying example and filled template, by file name."""
    folder = reference / "ebl" / "dcsa"
    out = {name: (folder / "examples" / name).read_bytes() for name in EXAMPLES}
    out.update({name: template(reference, name) for name in TEMPLATES})
    return out


SEA_WAYBILLS = frozenset({"ebl-api-3.0.0-request.json"})
"""The inputs above whose document is a sea waybill (``transportDocumentTypeCode`` ``SWB``):
no TradeTrust or UN/CEFACT form (``ebl.bill-of-lading-only``)."""
BILLS_OF_LADING = tuple(n for n in (*EXAMPLES, *TEMPLATES) if n not in SEA_WAYBILLS)
"""The inputs whose document is a bill of lading, in the order above."""
