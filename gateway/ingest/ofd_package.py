"""An opened OFD package (GB/T 33190): hardened zip, XML parts, path resolution.

Paths inside the package are resolved relative to the file that names them and
case-insensitively (real files say ``TPLS/`` and hold ``Tpls/``).
"""

from __future__ import annotations

import posixpath

from lxml import etree

from gateway.errors import UnknownFormatError
from gateway.ingest.safezip import SafeZip
from gateway.ingest.textenc import readable_xml
from gateway.ingest.types import IngestLimits
from gateway.xmlsafe import parse_xml


def local(element: etree._Element) -> str:
    """The local name of an element ('' for comments and processing instructions)."""
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def child(element: etree._Element | None, *names: str) -> etree._Element | None:
    """The first descendant along ``names`` (local names, any namespace)."""
    for name in names:
        if element is None:
            return None
        element = next((c for c in element if local(c) == name), None)
    return element


def child_text(element: etree._Element | None, *names: str) -> str | None:
    """Stripped text of :func:`child`, or None."""
    found = child(element, *names)
    if found is None or found.text is None:
        return None
    return found.text.strip() or None


class OfdPackage:
    """An opened OFD package: hardened zip plus XML parts parsed on demand."""

    def __init__(self, data: bytes, limits: IngestLimits) -> None:
        self.zip = SafeZip(data, limits, "OFD package")
        self.limits = limits
        if self.zip.find("OFD.xml") is None:
            raise UnknownFormatError(
                "zip without OFD.xml at its root is not an OFD fapiao", rule="ofd.no-ofd-xml"
            )
        self.ofd = self.xml("OFD.xml")
        doc_root = child_text(self.ofd, "DocBody", "DocRoot") or "Doc_0/Document.xml"
        self.document_name = self.resolve("", doc_root)
        self.document = self.xml(self.document_name) if self.has(self.document_name) else None

    def resolve(self, base: str, location: str) -> str:
        """A package path named in file ``base`` (relative to its folder, or absolute)."""
        location = location.strip().replace("\\", "/")
        if location.startswith("/"):
            return location.lstrip("/")
        joined = posixpath.normpath(posixpath.join(posixpath.dirname(base), location))
        if self.zip.find(joined) is None and self.zip.find(location) is not None:
            return location
        return joined

    def has(self, name: str) -> bool:
        return self.zip.find(name) is not None

    def raw(self, name: str) -> bytes:
        return self.zip.read(name)

    def xml(self, name: str) -> etree._Element:
        data = self.zip.read(name)
        what = f"OFD part {name}"
        readable, _ = readable_xml(data, what, self.limits.xml.max_bytes)
        return parse_xml(readable, limits=self.limits.xml, what=what)

    def custom_datas(self) -> dict[str, str]:
        """``DocInfo/CustomDatas`` as a name → value mapping."""
        datas = child(self.ofd, "DocBody", "DocInfo", "CustomDatas")
        out: dict[str, str] = {}
        for item in datas if datas is not None else []:
            name = item.get("Name")
            if local(item) == "CustomData" and name and item.text and item.text.strip():
                out.setdefault(name.strip(), item.text.strip())
        return out

    def attachment_xml(self) -> tuple[str, bytes] | None:
        """The embedded invoice XML (name, bytes), if the package has one."""
        for name in self._declared_attachments():
            if self.has(name):
                return name, self.raw(name)
        for stored in self.zip.names():
            if stored.lower().endswith("attachs/original_invoice.xml"):
                return stored, self.raw(stored)
        return None

    def _declared_attachments(self) -> list[str]:
        where = child_text(self.document, "Attachments")
        if not where or not self.document_name:
            return []
        list_name = self.resolve(self.document_name, where)
        if not self.has(list_name):
            return []
        found = []
        for item in self.xml(list_name):
            fmt = (item.get("Format") or "").lower()
            loc = child_text(item, "FileLoc")
            if (
                local(item) == "Attachment"
                and loc
                and (fmt == "xml" or loc.lower().endswith(".xml"))
            ):
                found.append(self.resolve(list_name, loc))
        return found
