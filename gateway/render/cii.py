"""UN/CEFACT Cross Industry Invoice D16B (EN 16931 CII) from the canonical model.

Element order follows the D16B SCRDM subset schema. CII amounts carry no currency attribute
except the tax totals (BT-110 / BT-111).
"""

from __future__ import annotations

import base64
import datetime as dt
from decimal import Decimal
from typing import cast

from lxml import etree

from gateway.model import AllowanceCharge, Attachment, Invoice, Line, Party
from gateway.model.currencies import amount_places
from gateway.model.party import Address
from gateway.render._fmt import amount, decimal
from gateway.render._xml import serialise

RSM = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
RAM = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
UDT = "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100"
QDT = "urn:un:unece:uncefact:data:standard:QualifiedDataType:100"
_PREFIX = {"rsm": RSM, "ram": RAM, "udt": UDT, "qdt": QDT}
_Q: dict[str, str] = {}
_El = etree._Element


def _q(name: str) -> str:
    try:
        return _Q[name]
    except KeyError:
        prefix, local = name.split(":")
        _Q[name] = clark = f"{{{_PREFIX[prefix]}}}{local}"
        return clark


def _sub(parent: _El, tag: str, text: str | None = None, **attrib: str) -> _El:
    el = etree.SubElement(parent, _q(tag), attrib) if attrib else etree.SubElement(parent, _q(tag))
    if text is not None:
        el.text = text
    return el


def _opt(parent: _El, tag: str, text: str | None) -> None:
    if text:
        _sub(parent, tag, text)


def _date(parent: _El, tag: str, value: dt.date, kind: str = "udt:DateTimeString") -> None:
    _sub(_sub(parent, tag), kind, value.strftime("%Y%m%d"), format="102")


def _indicator(parent: _El, charge: bool) -> None:
    _sub(_sub(parent, "ram:ChargeIndicator"), "udt:Indicator", "true" if charge else "false")


def render_cii(inv: Invoice) -> bytes:
    """The CII document of a mapped invoice."""
    return serialise(cii_tree(inv))


def cii_tree(inv: Invoice) -> _El:
    """The root element of :func:`render_cii`'s document, as built (before serialising)."""
    nsmap = cast("dict[str, str]", dict(_PREFIX))
    root = etree.Element(_q("rsm:CrossIndustryInvoice"), nsmap=nsmap)
    ctx = _sub(root, "rsm:ExchangedDocumentContext")
    if inv.process_id:
        _sub(
            _sub(ctx, "ram:BusinessProcessSpecifiedDocumentContextParameter"),
            "ram:ID",
            inv.process_id,
        )
    _sub(
        _sub(ctx, "ram:GuidelineSpecifiedDocumentContextParameter"),
        "ram:ID",
        inv.customization_id or "urn:cen.eu:en16931:2017",
    )
    doc = _sub(root, "rsm:ExchangedDocument")
    _sub(doc, "ram:ID", inv.number)
    _sub(doc, "ram:TypeCode", inv.type_code)
    _date(doc, "ram:IssueDateTime", inv.issue_date)
    for note in inv.notes:
        _sub(_sub(doc, "ram:IncludedNote"), "ram:Content", note)
    tx = _sub(root, "rsm:SupplyChainTradeTransaction")
    places = amount_places(inv.currency)
    for line in inv.lines:
        _line(tx, line, places)
    _agreement(tx, inv)
    _delivery(tx, inv)
    _settlement(tx, inv, places)
    return root


def _line(tx: _El, line: Line, places: int) -> None:
    item = _sub(tx, "ram:IncludedSupplyChainTradeLineItem")
    doc = _sub(item, "ram:AssociatedDocumentLineDocument")
    _sub(doc, "ram:LineID", line.id)
    if line.note:
        _sub(_sub(doc, "ram:IncludedNote"), "ram:Content", line.note)
    prod = _sub(item, "ram:SpecifiedTradeProduct")
    it = line.item
    if it.standard_id:
        _sub(prod, "ram:GlobalID", it.standard_id, schemeID=it.standard_id_scheme or "0160")
    _opt(prod, "ram:SellerAssignedID", it.seller_id)
    _opt(prod, "ram:BuyerAssignedID", it.buyer_id)
    _sub(prod, "ram:Name", it.name)
    _opt(prod, "ram:Description", it.description)
    for attr in it.attributes:
        ch = _sub(prod, "ram:ApplicableProductCharacteristic")
        _sub(ch, "ram:Description", attr.name)
        _sub(ch, "ram:Value", attr.value)
    for code, list_id, version in it.classifications:
        attrib = {"listID": list_id or "ZZZ"}
        if version:
            attrib["listVersionID"] = version
        _sub(_sub(prod, "ram:DesignatedProductClassification"), "ram:ClassCode", code, **attrib)
    if it.origin_country:
        _sub(_sub(prod, "ram:OriginTradeCountry"), "ram:ID", it.origin_country)
    agr = _sub(item, "ram:SpecifiedLineTradeAgreement")
    if line.order_line_ref:
        _sub(_sub(agr, "ram:BuyerOrderReferencedDocument"), "ram:LineID", line.order_line_ref)
    if line.gross_price is not None:
        gross = _sub(agr, "ram:GrossPriceProductTradePrice")
        _sub(gross, "ram:ChargeAmount", decimal(line.gross_price))
        if line.price_discount is not None:
            disc = _sub(gross, "ram:AppliedTradeAllowanceCharge")
            _indicator(disc, False)
            _sub(disc, "ram:ActualAmount", decimal(line.price_discount))
    net = _sub(agr, "ram:NetPriceProductTradePrice")
    _sub(net, "ram:ChargeAmount", decimal(line.price))
    if line.base_quantity is not None:
        _sub(
            net,
            "ram:BasisQuantity",
            decimal(line.base_quantity),
            unitCode=line.base_quantity_unit or line.unit_code,
        )
    deliv = _sub(item, "ram:SpecifiedLineTradeDelivery")
    _sub(deliv, "ram:BilledQuantity", decimal(line.quantity), unitCode=line.unit_code)
    st = _sub(item, "ram:SpecifiedLineTradeSettlement")
    _trade_tax(st, line.vat_category, line.vat_rate)
    if line.period is not None and (line.period.start or line.period.end):
        _period(st, line.period.start, line.period.end)
    for ac in line.allowances:
        _allowance(st, ac, places, header=False)
    summ = _sub(st, "ram:SpecifiedTradeSettlementLineMonetarySummation")
    _sub(summ, "ram:LineTotalAmount", amount(line.net_amount, places))
    if line.object_id:
        ref = _sub(st, "ram:AdditionalReferencedDocument")
        _sub(ref, "ram:IssuerAssignedID", line.object_id)
        _sub(ref, "ram:TypeCode", "130")
    if line.accounting_ref:
        _sub(
            _sub(st, "ram:ReceivableSpecifiedTradeAccountingAccount"), "ram:ID", line.accounting_ref
        )


def _trade_tax(
    parent: _El,
    category: str,
    rate: Decimal | None,
    *,
    places: int = 2,
    calculated: Decimal | None = None,
    basis: Decimal | None = None,
    reason: str | None = None,
    reason_code: str | None = None,
    tag: str = "ram:ApplicableTradeTax",
) -> None:
    tax = _sub(parent, tag)
    if calculated is not None:
        _sub(tax, "ram:CalculatedAmount", amount(calculated, places))
    _sub(tax, "ram:TypeCode", "VAT")
    _opt(tax, "ram:ExemptionReason", reason)
    if basis is not None:
        _sub(tax, "ram:BasisAmount", amount(basis, places))
    _sub(tax, "ram:CategoryCode", category)
    _opt(tax, "ram:ExemptionReasonCode", reason_code)
    if rate is not None and category != "O":
        _sub(tax, "ram:RateApplicablePercent", decimal(rate))


def _period(parent: _El, start: dt.date | None, end: dt.date | None) -> None:
    period = _sub(parent, "ram:BillingSpecifiedPeriod")
    if start:
        _date(period, "ram:StartDateTime", start)
    if end:
        _date(period, "ram:EndDateTime", end)


def _allowance(parent: _El, ac: AllowanceCharge, places: int, *, header: bool) -> None:
    el = _sub(parent, "ram:SpecifiedTradeAllowanceCharge")
    _indicator(el, ac.is_charge)
    if ac.percentage is not None:
        _sub(el, "ram:CalculationPercent", decimal(ac.percentage))
    if ac.base_amount is not None:
        _sub(el, "ram:BasisAmount", amount(ac.base_amount, places))
    _sub(el, "ram:ActualAmount", amount(ac.amount, places))
    _opt(el, "ram:ReasonCode", ac.reason_code)
    _opt(el, "ram:Reason", ac.reason)
    if header and ac.vat_category:
        _trade_tax(el, ac.vat_category, ac.vat_rate, tag="ram:CategoryTradeTax")


def _agreement(tx: _El, inv: Invoice) -> None:
    agr = _sub(tx, "ram:ApplicableHeaderTradeAgreement")
    _opt(agr, "ram:BuyerReference", inv.buyer_reference)
    _party(agr, "ram:SellerTradeParty", inv.seller, seller=True)
    _party(agr, "ram:BuyerTradeParty", inv.buyer, seller=False)
    if inv.sales_order_ref:
        _sub(
            _sub(agr, "ram:SellerOrderReferencedDocument"),
            "ram:IssuerAssignedID",
            inv.sales_order_ref,
        )
    if inv.order_ref:
        _sub(_sub(agr, "ram:BuyerOrderReferencedDocument"), "ram:IssuerAssignedID", inv.order_ref)
    if inv.contract_ref:
        _sub(_sub(agr, "ram:ContractReferencedDocument"), "ram:IssuerAssignedID", inv.contract_ref)
    for att in inv.attachments:
        _supporting_document(agr, att)
    if inv.invoiced_object_id:
        ref = _sub(agr, "ram:AdditionalReferencedDocument")
        _sub(ref, "ram:IssuerAssignedID", inv.invoiced_object_id)
        _sub(ref, "ram:TypeCode", "130")
        if inv.invoiced_object_scheme:
            _sub(ref, "ram:ReferenceTypeCode", inv.invoiced_object_scheme)
    if inv.project_ref:
        proj = _sub(agr, "ram:SpecifiedProcuringProject")
        _sub(proj, "ram:ID", inv.project_ref)
        _sub(proj, "ram:Name", "Project reference")


def _supporting_document(agr: _El, att: Attachment) -> None:
    """BG-24 as ``AdditionalReferencedDocument`` with type code 916 (related document)."""
    ref = _sub(agr, "ram:AdditionalReferencedDocument")
    _sub(ref, "ram:IssuerAssignedID", att.id)
    _opt(ref, "ram:URIID", att.uri)
    _sub(ref, "ram:TypeCode", "916")
    _opt(ref, "ram:Name", att.description)
    if att.content is not None:
        attrib = {"mimeCode": att.mime_code or "application/octet-stream"}
        if att.filename:
            attrib["filename"] = att.filename
        _sub(ref, "ram:AttachmentBinaryObject", base64.b64encode(att.content).decode(), **attrib)


def _party(parent: _El, tag: str, party: Party, *, seller: bool) -> None:
    p = _sub(parent, tag)
    for ident in party.identifiers:
        if ident.scheme and ident.scheme.isdigit():
            _sub(p, "ram:GlobalID", ident.value, schemeID=ident.scheme)
        else:
            _sub(p, "ram:ID", ident.value)
    _sub(p, "ram:Name", party.name)
    if seller:
        _opt(p, "ram:Description", party.legal_info)
    reg = party.legal_registration
    if reg is not None or party.trading_name:
        org = _sub(p, "ram:SpecifiedLegalOrganization")
        if reg is not None:
            if reg.scheme and reg.scheme.isdigit():
                _sub(org, "ram:ID", reg.value, schemeID=reg.scheme)
            else:
                _sub(org, "ram:ID", reg.value)
        _opt(org, "ram:TradingBusinessName", party.trading_name)
    c = party.contact
    if c is not None and (c.name or c.telephone or c.email):
        contact = _sub(p, "ram:DefinedTradeContact")
        _opt(contact, "ram:PersonName", c.name)
        if c.telephone:
            _sub(
                _sub(contact, "ram:TelephoneUniversalCommunication"),
                "ram:CompleteNumber",
                c.telephone,
            )
        if c.email:
            _sub(_sub(contact, "ram:EmailURIUniversalCommunication"), "ram:URIID", c.email)
    if party.address is not None:
        _address(_sub(p, "ram:PostalTradeAddress"), party.address)
    if party.endpoint is not None:
        _sub(
            _sub(p, "ram:URIUniversalCommunication"),
            "ram:URIID",
            party.endpoint.value,
            schemeID=party.endpoint.scheme,
        )
    if party.vat_id:
        _sub(_sub(p, "ram:SpecifiedTaxRegistration"), "ram:ID", party.vat_id, schemeID="VA")
    if seller and party.tax_registration_id:
        _sub(
            _sub(p, "ram:SpecifiedTaxRegistration"),
            "ram:ID",
            party.tax_registration_id,
            schemeID="FC",
        )


def _address(el: _El, a: Address) -> None:
    _opt(el, "ram:PostcodeCode", a.postcode)
    _opt(el, "ram:LineOne", a.street)
    _opt(el, "ram:LineTwo", a.additional_street)
    _opt(el, "ram:LineThree", a.line3)
    _opt(el, "ram:CityName", a.city)
    if a.country:
        _sub(el, "ram:CountryID", a.country)
    _opt(el, "ram:CountrySubDivisionName", a.subdivision)


def _delivery(tx: _El, inv: Invoice) -> None:
    el = _sub(tx, "ram:ApplicableHeaderTradeDelivery")
    d = inv.delivery
    if d is None:
        return
    if d.party_name or d.location_id or d.address:
        ship = _sub(el, "ram:ShipToTradeParty")
        if d.location_id:
            if d.location_scheme:
                _sub(ship, "ram:GlobalID", d.location_id, schemeID=d.location_scheme)
            else:
                _sub(ship, "ram:ID", d.location_id)
        _opt(ship, "ram:Name", d.party_name)
        if d.address:
            _address(_sub(ship, "ram:PostalTradeAddress"), d.address)
    if d.date:
        _date(_sub(el, "ram:ActualDeliverySupplyChainEvent"), "ram:OccurrenceDateTime", d.date)


def _settlement(tx: _El, inv: Invoice, places: int) -> None:
    st = _sub(tx, "ram:ApplicableHeaderTradeSettlement")
    pay = inv.payment
    if pay is not None:
        _opt(st, "ram:PaymentReference", pay.remittance_info)
    _opt(st, "ram:TaxCurrencyCode", inv.tax_currency)
    _sub(st, "ram:InvoiceCurrencyCode", inv.currency)
    if pay is not None:
        means = _sub(st, "ram:SpecifiedTradeSettlementPaymentMeans")
        _sub(means, "ram:TypeCode", pay.means_code)
        _opt(means, "ram:Information", pay.means_text)
        if pay.account_id:
            acc = _sub(means, "ram:PayeePartyCreditorFinancialAccount")
            _opt(acc, "ram:AccountName", pay.account_name)
            _sub(acc, "ram:ProprietaryID", pay.account_id)
        if pay.provider_id:
            _sub(
                _sub(means, "ram:PayeeSpecifiedCreditorFinancialInstitution"),
                "ram:BICID",
                pay.provider_id,
            )
    for b in inv.vat_breakdown:
        _trade_tax(
            st,
            b.category,
            b.rate,
            places=places,
            calculated=b.tax_amount,
            basis=b.taxable_amount,
            reason=b.exemption_reason,
            reason_code=b.exemption_reason_code,
        )
    if inv.period is not None and (inv.period.start or inv.period.end):
        _period(st, inv.period.start, inv.period.end)
    for ac in inv.allowances:
        _allowance(st, ac, places, header=True)
    if inv.payment_terms or inv.due_date:
        terms = _sub(st, "ram:SpecifiedTradePaymentTerms")
        _opt(terms, "ram:Description", inv.payment_terms)
        if inv.due_date:
            _date(terms, "ram:DueDateDateTime", inv.due_date)
    _summation(st, inv, places)
    for pre in inv.preceding_invoices:
        ref = _sub(st, "ram:InvoiceReferencedDocument")
        _sub(ref, "ram:IssuerAssignedID", pre.number)
        if pre.issue_date:
            _date(ref, "ram:FormattedIssueDateTime", pre.issue_date, "qdt:DateTimeString")
    if inv.buyer_accounting_ref:
        _sub(
            _sub(st, "ram:ReceivableSpecifiedTradeAccountingAccount"),
            "ram:ID",
            inv.buyer_accounting_ref,
        )


def _summation(st: _El, inv: Invoice, places: int) -> None:
    t = inv.totals
    s = _sub(st, "ram:SpecifiedTradeSettlementHeaderMonetarySummation")
    _sub(s, "ram:LineTotalAmount", amount(t.line_net, places))
    if t.charges is not None:
        _sub(s, "ram:ChargeTotalAmount", amount(t.charges, places))
    if t.allowances is not None:
        _sub(s, "ram:AllowanceTotalAmount", amount(t.allowances, places))
    _sub(s, "ram:TaxBasisTotalAmount", amount(t.tax_exclusive, places))
    _sub(s, "ram:TaxTotalAmount", amount(t.tax, places), currencyID=inv.currency)
    if inv.tax_currency and t.tax_in_accounting_currency is not None:
        _sub(
            s,
            "ram:TaxTotalAmount",
            amount(t.tax_in_accounting_currency),
            currencyID=inv.tax_currency,
        )
    if t.rounding is not None:
        _sub(s, "ram:RoundingAmount", amount(t.rounding, places))
    _sub(s, "ram:GrandTotalAmount", amount(t.tax_inclusive, places))
    if t.prepaid is not None:
        _sub(s, "ram:TotalPrepaidAmount", amount(t.prepaid, places))
    _sub(s, "ram:DuePayableAmount", amount(t.payable, places))
