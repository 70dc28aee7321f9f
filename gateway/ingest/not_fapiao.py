"""Bills of lading sent where a fapiao was expected: recognised, and refused saying so.

A forwarder who posts a DCSA eBL JSON or a UBL BillOfLading to the invoice flow (the API
without ``kind=ebl``, ``lingang convert``) was told "platform JSON has no invoice: expected
keys such as fphm …" or "XML root <BillOfLading> is not a fapiao": true, but silent about
what to do instead.
"""

from __future__ import annotations

from typing import Any

EBL_NOT_FAPIAO = (
    "{what} is a bill of lading, not a fapiao: submit it as an eBL (the API's kind=ebl, "
    "lingang send --kind ebl) or convert it with lingang ebl convert"
)
"""The refusal (``{what}`` names the eBL's format); rule ``detect.ebl``."""

DCSA_KEYS = ("transportDocumentReference", "transportDocument", "envelopeManifestSignedContent")
"""Top-level keys of a DCSA eBL 3.0 TransportDocument, a PINT envelope or an issuance
request; a fapiao's JSON has none of them."""

UBL_BILL_OF_LADING = "BillOfLading"
"""The root element of a UBL 2.1 BillOfLading."""


def is_dcsa_ebl(doc: Any) -> bool:
    """Whether the JSON value ``doc`` is a DCSA eBL (a transport document, an envelope or
    request carrying one)."""
    return isinstance(doc, dict) and any(key in doc for key in DCSA_KEYS)
