"""A download bundle: a zip holding one fapiao as XML (and often its OFD / PDF beside it).

The tax platform hands out single invoices as ``.zip`` with XML + OFD + PDF (FORMAT.md §1, §13.18).
The XML is the legal data set, so it is read when present, and an OFD beside it is compared
with it (:mod:`gateway.ingest.renditions`); otherwise a lone OFD is read. One file is one
invoice: a zip of several invoices is refused, naming them. An OFD is itself a zip; it is
told apart by its ``OFD.xml`` and is not a bundle.
"""

from __future__ import annotations

import posixpath

from gateway.errors import InputError
from gateway.ingest.safezip import SafeZip
from gateway.ingest.textenc import head_text, xml_root_name
from gateway.ingest.types import IngestLimits

ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")


def _is_einvoice_xml(data: bytes) -> bool:
    return xml_root_name(head_text(data))[0] == "EInvoice"


def bundle_member(data: bytes, limits: IngestLimits) -> tuple[str, bytes] | None:
    """The one invoice file inside a bundle zip, or ``None`` when ``data`` is an OFD."""
    archive = SafeZip(data, limits, "zip bundle")
    if archive.find("OFD.xml") is not None:
        return None
    names = visible_names(archive)
    xmls = [n for n in names if n.lower().endswith(".xml")]
    invoices = [(n, archive.read(n)) for n in xmls]
    invoices = [(n, b) for n, b in invoices if _is_einvoice_xml(b)]
    if not invoices:
        invoices = [(n, archive.read(n)) for n in names if n.lower().endswith(".ofd")]
    if len(invoices) == 1:
        name, member = invoices[0]
        if member.startswith(ZIP_MAGIC) and not _is_ofd(member, name, limits):
            raise InputError(f"zip bundle nests another bundle in {name}", rule="zip.nested")
        return name, member
    if not invoices:
        raise no_invoice(names)
    raise InputError(
        f"zip holds {len(invoices)} invoices ({', '.join(n for n, _ in invoices[:5])}); "
        "one file is one invoice: submit them one by one",
        rule="zip.many-invoices",
    )


def ofds_beside(data: bytes, member: str, limits: IngestLimits) -> list[tuple[str, bytes]]:
    """The OFDs beside the XML ``member`` of a bundle: its printed renditions, to compare
    (:mod:`gateway.ingest.renditions`); none when the member read is itself the OFD."""
    if not member.lower().endswith(".xml"):
        return []
    archive = SafeZip(data, limits, "zip bundle")
    names = [n for n in visible_names(archive) if n.lower().endswith(".ofd")]
    return [(n, archive.read(n)) for n in names]


def _is_ofd(member: bytes, name: str, limits: IngestLimits) -> bool:
    """Whether the zip ``member`` is an OFD (it has ``OFD.xml``); any other zip is a bundle
    inside the bundle. Only its directory is read, and nothing below it: a chain of bundles
    each holding the next, however long, is refused at its first link."""
    return SafeZip(member, limits, f"zip bundle entry {name}").find("OFD.xml") is not None


def visible_names(archive: SafeZip) -> list[str]:
    """The entry names that can hold an invoice: no hidden files, no ``__MACOSX`` folder."""
    return [
        n for n in archive.names()
        if not posixpath.basename(n).startswith(".") and "__macosx" not in n.lower()
    ]  # fmt: skip


def no_invoice(names: list[str]) -> InputError:
    """The refusal of a zip that holds no invoice at all (naming up to ten of its entries)."""
    return InputError(
        "zip holds neither OFD.xml (an OFD) nor a fapiao XML or OFD "
        f"(entries: {', '.join(sorted(names)[:10])})",
        rule="zip.no-invoice",
    )
