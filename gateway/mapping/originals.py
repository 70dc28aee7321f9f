"""The original fapiao as a supporting document (BG-24): embedded where the profile permits.

The fapiao is the legal source document, whatever its form. It is embedded (BT-125) when the
profile's MIME code list accepts its type: PINT and PINT SG accept ``application/xml``; no
profile here accepts OFD (``application/ofd``, an OFD being a zip) or JSON. A legacy OFD
carries its ``original_invoice.xml``, which is embedded in its place where XML is accepted.
Otherwise the invoice names the original by reference (BT-122 and its SHA-256 in BT-123), and a
warning says why it is not embedded. Personal-data blocks are removed from an embedded XML, and
fields not forwarded as personal data (a resident identity card number) are left empty there
(:mod:`gateway.mapping.special`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from gateway.mapping.profiles import ProfileSpec
from gateway.mapping.special import strip_personal_blocks
from gateway.model import Attachment

FORMAT_MIME = {
    "fapiao-xml": "application/xml",
    "fapiao-ofd": "application/ofd",
    "fapiao-ofd-legacy": "application/ofd",
    "fapiao-json": "application/json",
}
FORMAT_LABEL = {
    "fapiao-xml": "数电票 XML",
    "fapiao-ofd": "数电票 OFD",
    "fapiao-ofd-legacy": "legacy VAT e-invoice OFD",
    "fapiao-json": "platform JSON (乐企 or Nuonuo)",
}
FORMAT_SUFFIX = {
    "fapiao-xml": "xml",
    "fapiao-ofd": "ofd",
    "fapiao-ofd-legacy": "ofd",
    "fapiao-json": "json",
}


@dataclass(frozen=True, slots=True)
class Original:
    """The source as received and, where there is one, its XML."""

    source_format: str | None
    """``fapiao-xml`` … or ``None`` when only an XML was handed over."""
    data: bytes | None
    xml: bytes | None
    personal_values: tuple[str, ...] = ()
    """Printed values not forwarded as personal data (a buyer's resident identity card
    number): blanked in the embedded copy."""


def original_attachment(
    number: str, spec: ProfileSpec, original: Original
) -> tuple[Attachment | None, list[str]]:
    """The BG-24 entry for the original, and the warnings (not embedded, blocks removed)."""
    fmt = original.source_format or ("fapiao-xml" if original.xml else None)
    data = original.data if original.data is not None else original.xml
    if fmt is None or data is None:
        return None, []
    warnings: list[str] = []
    label = FORMAT_LABEL.get(fmt, fmt)
    digest = hashlib.sha256(data).hexdigest()
    xml = original.xml
    if xml is not None and spec.xml_attachment:
        xml, taken_out = strip_personal_blocks(xml, original.personal_values)
        note = ""
        if taken_out:
            done = ", ".join(taken_out)
            note = f"; personal data taken out: {done}"
            warnings.append(
                f"embedded original: {done} (personal data); the copy no longer matches the "
                "tax bureau's signature, the original stays with the seller"
            )
        what = (
            "e-fapiao XML (数电票)"
            if fmt == "fapiao-xml"
            else f"original_invoice.xml of the {label}"
        )
        source_note = "" if fmt == "fapiao-xml" else f"; the {label} itself has SHA-256 {digest}"
        return (
            Attachment(
                id=f"fapiao-{number}",
                description=f"Original {what}, the legal source document{source_note}{note}",
                content=xml,
                mime_code="application/xml",
                filename=f"fapiao-{number}.xml",
            ),
            warnings,
        )
    mime = FORMAT_MIME.get(fmt, "application/octet-stream")
    warnings.append(
        f"original fapiao ({label}) not embedded: {spec.name} does not accept {mime} (BT-125-1); "
        "the invoice references it by number and SHA-256"
    )
    return (
        Attachment(
            id=f"fapiao-{number}",
            description=(
                f"Original e-fapiao ({label}, fapiao-{number}.{FORMAT_SUFFIX.get(fmt, 'bin')}), "
                f"SHA-256 {digest}; kept by the seller"
            ),
        ),
        warnings,
    )
