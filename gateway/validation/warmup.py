"""A small synthetic invoice to run every stylesheet once at start-up.

Saxon compiles template rules lazily, on first use: the first document a process validates
takes 100 ms or more longer than the next. :meth:`Validator.warm` with ``exercise=True`` runs
the rules once on this document (findings ignored) so the first real document does not pay.
"""

from __future__ import annotations

from gateway.mapping.profiles import (
    BIS3_CUSTOMIZATION,
    BIS3_SELFBILLING_CUSTOMIZATION,
    CEN_CUSTOMIZATION,
    PINT_CUSTOMIZATION,
    PINT_SG_CUSTOMIZATION,
)

WARMUP_LINES = 3


def _line(n: int) -> str:
    return f"""
  <cac:InvoiceLine><cbc:ID>{n}</cbc:ID>
    <cbc:InvoicedQuantity unitCode="H87">2</cbc:InvoicedQuantity>
    <cbc:LineExtensionAmount currencyID="EUR">100.00</cbc:LineExtensionAmount>
    <cac:Item><cbc:Name>Item {n}</cbc:Name>
      <cac:ClassifiedTaxCategory><cbc:ID>S</cbc:ID><cbc:Percent>25</cbc:Percent>
        <cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:ClassifiedTaxCategory></cac:Item>
    <cac:Price><cbc:PriceAmount currencyID="EUR">50.00</cbc:PriceAmount></cac:Price>
  </cac:InvoiceLine>"""


def _party(role: str, name: str, country: str) -> str:
    return f"""
  <cac:{role}><cac:Party>
    <cbc:EndpointID schemeID="0088">7300010000001</cbc:EndpointID>
    <cac:PostalAddress><cbc:CityName>City</cbc:CityName>
      <cac:Country><cbc:IdentificationCode>{country}</cbc:IdentificationCode></cac:Country>
    </cac:PostalAddress>
    <cac:PartyTaxScheme><cbc:CompanyID>{country}123456789</cbc:CompanyID>
      <cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:PartyTaxScheme>
    <cac:PartyLegalEntity><cbc:RegistrationName>{name}</cbc:RegistrationName></cac:PartyLegalEntity>
  </cac:Party></cac:{role}>"""


def warmup_invoice(customization: str, line_count: int = WARMUP_LINES) -> bytes:
    """A plausible UBL invoice with ``customization`` as its CustomizationID."""
    lines = "".join(_line(n) for n in range(1, line_count + 1))
    net = f"{100 * line_count:.2f}"
    tax = f"{25 * line_count:.2f}"
    gross = f"{125 * line_count:.2f}"
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
 xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
 xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">
  <cbc:CustomizationID>{customization}</cbc:CustomizationID>
  <cbc:ProfileID>urn:fdc:peppol.eu:2017:poacc:billing:01:1.0</cbc:ProfileID>
  <cbc:ID>WARMUP-1</cbc:ID><cbc:IssueDate>2026-01-01</cbc:IssueDate>
  <cbc:DueDate>2026-02-01</cbc:DueDate><cbc:InvoiceTypeCode>380</cbc:InvoiceTypeCode>
  <cbc:DocumentCurrencyCode>EUR</cbc:DocumentCurrencyCode><cbc:BuyerReference>R</cbc:BuyerReference>
  {_party("AccountingSupplierParty", "Seller", "SE")}{_party("AccountingCustomerParty", "Buyer", "NO")}
  <cac:PaymentMeans><cbc:PaymentMeansCode>30</cbc:PaymentMeansCode>
    <cac:PayeeFinancialAccount><cbc:ID>SE0000000000000000000000</cbc:ID></cac:PayeeFinancialAccount>
  </cac:PaymentMeans>
  <cac:TaxTotal><cbc:TaxAmount currencyID="EUR">{tax}</cbc:TaxAmount>
    <cac:TaxSubtotal><cbc:TaxableAmount currencyID="EUR">{net}</cbc:TaxableAmount>
      <cbc:TaxAmount currencyID="EUR">{tax}</cbc:TaxAmount>
      <cac:TaxCategory><cbc:ID>S</cbc:ID><cbc:Percent>25</cbc:Percent>
        <cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:TaxCategory></cac:TaxSubtotal>
  </cac:TaxTotal>
  <cac:LegalMonetaryTotal>
    <cbc:LineExtensionAmount currencyID="EUR">{net}</cbc:LineExtensionAmount>
    <cbc:TaxExclusiveAmount currencyID="EUR">{net}</cbc:TaxExclusiveAmount>
    <cbc:TaxInclusiveAmount currencyID="EUR">{gross}</cbc:TaxInclusiveAmount>
    <cbc:PayableAmount currencyID="EUR">{gross}</cbc:PayableAmount>
  </cac:LegalMonetaryTotal>{lines}
</Invoice>
""".encode()


CUSTOMIZATION = {
    "bis3": BIS3_CUSTOMIZATION,
    "bis3-selfbilling": BIS3_SELFBILLING_CUSTOMIZATION,
    "pint": PINT_CUSTOMIZATION,
    "pint-sg": PINT_SG_CUSTOMIZATION,
    "en16931-ubl": CEN_CUSTOMIZATION,
}
"""Profiles whose rules the warm-up invoice exercises (UBL Invoice ones)."""
