"""Readers: standard documents (UBL, CII) back into the canonical model, for inbound documents."""

from __future__ import annotations

from lxml import etree

from gateway.errors import UnknownFormatError
from gateway.model import Invoice
from gateway.read.cii import read_cii
from gateway.read.ubl import read_ubl
from gateway.render.cii import RSM
from gateway.render.ubl import NS_CREDIT_NOTE, NS_INVOICE
from gateway.xmlsafe import parse_xml


def read_invoice(xml: bytes) -> Invoice:
    """A UBL Invoice / CreditNote or a CII CrossIndustryInvoice, whichever ``xml`` is."""
    namespace = etree.QName(parse_xml(xml, what="invoice")).namespace
    if namespace in (NS_INVOICE, NS_CREDIT_NOTE):
        return read_ubl(xml)
    if namespace == RSM:
        return read_cii(xml)
    raise UnknownFormatError(f"not a UBL or CII invoice (root namespace {namespace!r})")


__all__ = ["read_cii", "read_invoice", "read_ubl"]
