"""Canonical models: the EN 16931 invoice and (later) the DCSA-shaped transport document."""

from gateway.model.invoice import (
    CREDIT_NOTE,
    INVOICE,
    AllowanceCharge,
    Attachment,
    Delivery,
    Invoice,
    Item,
    ItemAttribute,
    Line,
    PaymentInstructions,
    Period,
    PrecedingInvoice,
    TaxCase,
    Totals,
    VatBreakdown,
)
from gateway.model.jsonable import to_jsonable
from gateway.model.party import Address, Contact, Endpoint, Identifier, IdScheme, Party

__all__ = [
    "CREDIT_NOTE",
    "INVOICE",
    "Address",
    "AllowanceCharge",
    "Attachment",
    "Contact",
    "Delivery",
    "Endpoint",
    "IdScheme",
    "Identifier",
    "Invoice",
    "Item",
    "ItemAttribute",
    "Line",
    "Party",
    "PaymentInstructions",
    "Period",
    "PrecedingInvoice",
    "TaxCase",
    "Totals",
    "VatBreakdown",
    "to_jsonable",
]
