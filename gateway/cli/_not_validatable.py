"""``lingang validate`` given a fapiao: say what it is and which command takes it.

Validation applies a Peppol / CII profile to what ``lingang convert`` writes. A finance
clerk who ran it on the fapiao itself was told "no validation profile for root element
{None}EInvoice" (the 数电票 XML) or "document to validate is not well-formed: Start tag
expected" (an OFD, a zip): true, and of no help.
"""

from __future__ import annotations

from gateway.errors import LingangError
from gateway.ingest import detect

FAPIAO_FORMATS = {
    "fapiao-xml": "数电票 XML",
    "fapiao-ofd": "数电票 OFD",
    "fapiao-ofd-legacy": "a VAT e-invoice OFD",
}
"""The fapiao forms :func:`gateway.ingest.detect` recognises by their bytes (platform JSON
it names by its first character only, so JSON is left to the XML parser's message)."""


def fapiao_not_document(data: bytes, name: str) -> str | None:
    """Why ``data`` cannot be validated when it is a fapiao, naming the command that takes
    it; ``None`` when it is not one."""
    try:
        found = detect(data)
    except (LingangError, ValueError):
        return None
    form = FAPIAO_FORMATS.get(found)
    if form is None:
        return None
    return (
        f"{name} is a fapiao ({form}), not a UBL or CII document: lingang validate checks "
        f"what lingang convert writes; convert it (lingang convert {name} --partners "
        "partners.toml -o invoice.xml), which validates the result with the official rules"
    )
