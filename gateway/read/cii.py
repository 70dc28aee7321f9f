"""UN/CEFACT CII D16B (EN 16931) → canonical :class:`~gateway.model.Invoice`.

The mirror of :mod:`gateway.render.cii`, for partners who answer in CII. Input goes through
:func:`gateway.xmlsafe.parse_xml`.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from decimal import Decimal

from lxml import etree

from gateway.errors import FieldError, UnknownFormatError
from gateway.mapping.profiles import PROFILE_SPECS
from gateway.model import (
    AllowanceCharge,
    Attachment,
    Delivery,
    Identifier,
    Invoice,
    Item,
    ItemAttribute,
    Line,
    PaymentInstructions,
    Period,
    PrecedingInvoice,
    Totals,
    VatBreakdown,
)
from gateway.model.party import Address, Contact, Endpoint, Party
from gateway.read._values import decimal_value as _dec
from gateway.render.cii import QDT, RAM, RSM, UDT
from gateway.xmlsafe import parse_xml

_PROFILES = {
    spec.customization_id: name for name, spec in PROFILE_SPECS.items() if spec.syntax == "cii"
}

_NS = {"rsm": RSM, "ram": RAM, "udt": UDT, "qdt": QDT}
_El = etree._Element


def _f(el: _El | None, path: str) -> _El | None:
    return None if el is None else el.find(path, _NS)


def _all(el: _El | None, path: str) -> list[_El]:
    return [] if el is None else el.findall(path, _NS)


def _t(el: _El | None, path: str) -> str | None:
    found = _f(el, path)
    if found is None or found.text is None:
        return None
    return found.text.strip() or None


def _req(el: _El | None, path: str) -> str:
    text = _t(el, path)
    if text is None:
        raise FieldError(f"CII document lacks {path}", field=path)
    return text


def _d(el: _El | None, path: str) -> Decimal | None:
    return _dec(_t(el, path), path)


def _dreq(el: _El | None, path: str) -> Decimal:
    value = _dec(_req(el, path), path)
    assert value is not None
    return value


def _date(el: _El | None, path: str) -> dt.date | None:
    text = _t(el, f"{path}/udt:DateTimeString") or _t(el, f"{path}/qdt:DateTimeString")
    if text is None:
        return None
    try:
        return dt.datetime.strptime(text, "%Y%m%d").date()
    except ValueError as exc:
        raise FieldError(f"{path}: {text!r} is not a date (format 102)", field=path) from exc


def _ident(el: _El | None) -> Identifier | None:
    if el is None or not el.text or not el.text.strip():
        return None
    return Identifier(el.text.strip(), el.get("schemeID"))


def read_cii(xml: bytes) -> Invoice:
    """The canonical invoice carried by a CII CrossIndustryInvoice."""
    root = parse_xml(xml, what="CII invoice")
    if etree.QName(root).text != f"{{{RSM}}}CrossIndustryInvoice":
        raise UnknownFormatError(f"not a CII CrossIndustryInvoice: root {etree.QName(root).text}")
    doc = _f(root, "rsm:ExchangedDocument")
    tx = _f(root, "rsm:SupplyChainTradeTransaction")
    agr = _f(tx, "ram:ApplicableHeaderTradeAgreement")
    st = _f(tx, "ram:ApplicableHeaderTradeSettlement")
    if doc is None or tx is None or agr is None or st is None:
        raise FieldError(
            "CII document lacks its header blocks", field="SupplyChainTradeTransaction"
        )
    issue = _date(doc, "ram:IssueDateTime")
    if issue is None:
        raise FieldError("CII document lacks ram:IssueDateTime", field="IssueDateTime")
    currency = _req(st, "ram:InvoiceCurrencyCode")
    tax_currency = _t(st, "ram:TaxCurrencyCode")
    customization = _t(
        root, "rsm:ExchangedDocumentContext/ram:GuidelineSpecifiedDocumentContextParameter/ram:ID"
    )
    inv = Invoice(
        number=_req(doc, "ram:ID"),
        issue_date=issue,
        type_code=_req(doc, "ram:TypeCode"),
        currency=currency,
        seller=_party(_f(agr, "ram:SellerTradeParty"), "seller"),
        buyer=_party(_f(agr, "ram:BuyerTradeParty"), "buyer"),
        lines=[_line(el) for el in _all(tx, "ram:IncludedSupplyChainTradeLineItem")],
        totals=_totals(st, currency, tax_currency),
        vat_breakdown=[_breakdown(el) for el in _all(st, "ram:ApplicableTradeTax")],
        tax_currency=tax_currency,
        due_date=_date(st, "ram:SpecifiedTradePaymentTerms/ram:DueDateDateTime"),
        buyer_reference=_t(agr, "ram:BuyerReference"),
        project_ref=_t(agr, "ram:SpecifiedProcuringProject/ram:ID"),
        contract_ref=_t(agr, "ram:ContractReferencedDocument/ram:IssuerAssignedID"),
        order_ref=_t(agr, "ram:BuyerOrderReferencedDocument/ram:IssuerAssignedID"),
        sales_order_ref=_t(agr, "ram:SellerOrderReferencedDocument/ram:IssuerAssignedID"),
        buyer_accounting_ref=_t(st, "ram:ReceivableSpecifiedTradeAccountingAccount/ram:ID"),
        payment_terms=_t(st, "ram:SpecifiedTradePaymentTerms/ram:Description"),
        notes=[n.text for n in _all(doc, "ram:IncludedNote/ram:Content") if n.text],
        process_id=_t(
            root,
            "rsm:ExchangedDocumentContext/ram:BusinessProcessSpecifiedDocumentContextParameter/ram:ID",
        ),
        customization_id=customization,
        preceding_invoices=[
            PrecedingInvoice(
                _req(ref, "ram:IssuerAssignedID"), _date(ref, "ram:FormattedIssueDateTime")
            )
            for ref in _all(st, "ram:InvoiceReferencedDocument")
        ],
        delivery=_delivery(_f(tx, "ram:ApplicableHeaderTradeDelivery")),
        period=_period(_f(st, "ram:BillingSpecifiedPeriod")),
        payment=_payment(st),
        allowances=[_allowance(el) for el in _all(st, "ram:SpecifiedTradeAllowanceCharge")],
        profile=_PROFILES.get(customization or ""),
    )
    for ref in _all(agr, "ram:AdditionalReferencedDocument"):
        if _t(ref, "ram:TypeCode") == "130":
            inv.invoiced_object_id = _t(ref, "ram:IssuerAssignedID")
            inv.invoiced_object_scheme = _t(ref, "ram:ReferenceTypeCode")
        else:
            inv.attachments.append(_supporting_document(ref))
    return inv


def _supporting_document(ref: _El) -> Attachment:
    obj = _f(ref, "ram:AttachmentBinaryObject")
    content = None
    if obj is not None and obj.text:
        try:
            content = base64.b64decode("".join(obj.text.split()), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise FieldError(
                "attachment is not valid base64", field="AttachmentBinaryObject"
            ) from exc
    return Attachment(
        id=_req(ref, "ram:IssuerAssignedID"),
        description=_t(ref, "ram:Name"),
        uri=_t(ref, "ram:URIID"),
        content=content,
        mime_code=obj.get("mimeCode") if obj is not None else None,
        filename=obj.get("filename") if obj is not None else None,
    )


def _address(el: _El | None) -> Address | None:
    if el is None:
        return None
    return Address(
        street=_t(el, "ram:LineOne"),
        additional_street=_t(el, "ram:LineTwo"),
        line3=_t(el, "ram:LineThree"),
        city=_t(el, "ram:CityName"),
        postcode=_t(el, "ram:PostcodeCode"),
        subdivision=_t(el, "ram:CountrySubDivisionName"),
        country=_t(el, "ram:CountryID"),
    )


def _party(p: _El | None, role: str) -> Party:
    if p is None:
        raise FieldError(f"CII document lacks the {role} party", field=role)
    org = _f(p, "ram:SpecifiedLegalOrganization")
    uri = _f(p, "ram:URIUniversalCommunication/ram:URIID")
    vat_id = tax_reg = None
    for reg in _all(p, "ram:SpecifiedTaxRegistration/ram:ID"):
        if reg.get("schemeID") == "VA":
            vat_id = (reg.text or "").strip() or None
        else:
            tax_reg = (reg.text or "").strip() or None
    contact = _f(p, "ram:DefinedTradeContact")
    ids = [_ident(e) for e in _all(p, "ram:ID") + _all(p, "ram:GlobalID")]
    return Party(
        name=_req(p, "ram:Name"),
        trading_name=_t(org, "ram:TradingBusinessName"),
        identifiers=[i for i in ids if i is not None],
        legal_registration=_ident(_f(org, "ram:ID")),
        vat_id=vat_id,
        tax_registration_id=tax_reg,
        legal_info=_t(p, "ram:Description"),
        endpoint=Endpoint(uri.get("schemeID") or "", uri.text.strip())
        if uri is not None and uri.text
        else None,
        address=_address(_f(p, "ram:PostalTradeAddress")),
        contact=None
        if contact is None
        else Contact(
            _t(contact, "ram:PersonName"),
            _t(contact, "ram:TelephoneUniversalCommunication/ram:CompleteNumber"),
            _t(contact, "ram:EmailURIUniversalCommunication/ram:URIID"),
        ),
    )


def _period(el: _El | None) -> Period | None:
    if el is None:
        return None
    return Period(_date(el, "ram:StartDateTime"), _date(el, "ram:EndDateTime"))


def _delivery(el: _El | None) -> Delivery | None:
    if el is None or len(el) == 0:
        return None
    ship = _f(el, "ram:ShipToTradeParty")
    loc = _f(ship, "ram:GlobalID")
    if loc is None:
        loc = _f(ship, "ram:ID")
    delivery = Delivery(
        party_name=_t(ship, "ram:Name"),
        location_id=loc.text.strip() if loc is not None and loc.text else None,
        location_scheme=loc.get("schemeID") if loc is not None else None,
        date=_date(el, "ram:ActualDeliverySupplyChainEvent/ram:OccurrenceDateTime"),
        address=_address(_f(ship, "ram:PostalTradeAddress")),
    )
    return None if delivery == Delivery() else delivery


def _payment(st: _El) -> PaymentInstructions | None:
    means = _f(st, "ram:SpecifiedTradeSettlementPaymentMeans")
    if means is None:
        return None
    account = _f(means, "ram:PayeePartyCreditorFinancialAccount")
    return PaymentInstructions(
        means_code=_t(means, "ram:TypeCode") or "1",
        means_text=_t(means, "ram:Information"),
        remittance_info=_t(st, "ram:PaymentReference"),
        account_id=_t(account, "ram:IBANID") or _t(account, "ram:ProprietaryID"),
        account_name=_t(account, "ram:AccountName"),
        provider_id=_t(means, "ram:PayeeSpecifiedCreditorFinancialInstitution/ram:BICID"),
    )


def _allowance(el: _El) -> AllowanceCharge:
    tax = _f(el, "ram:CategoryTradeTax")
    return AllowanceCharge(
        is_charge=_t(el, "ram:ChargeIndicator/udt:Indicator") == "true",
        amount=_dreq(el, "ram:ActualAmount"),
        base_amount=_d(el, "ram:BasisAmount"),
        percentage=_d(el, "ram:CalculationPercent"),
        vat_category=_t(tax, "ram:CategoryCode"),
        vat_rate=_d(tax, "ram:RateApplicablePercent"),
        reason=_t(el, "ram:Reason"),
        reason_code=_t(el, "ram:ReasonCode"),
    )


def _breakdown(el: _El) -> VatBreakdown:
    return VatBreakdown(
        category=_req(el, "ram:CategoryCode"),
        taxable_amount=_dreq(el, "ram:BasisAmount"),
        tax_amount=_dreq(el, "ram:CalculatedAmount"),
        rate=_d(el, "ram:RateApplicablePercent"),
        exemption_reason=_t(el, "ram:ExemptionReason"),
        exemption_reason_code=_t(el, "ram:ExemptionReasonCode"),
    )


def _totals(st: _El, currency: str, tax_currency: str | None) -> Totals:
    s = _f(st, "ram:SpecifiedTradeSettlementHeaderMonetarySummation")
    tax = Decimal(0)
    in_accounting: Decimal | None = None
    for el in _all(s, "ram:TaxTotalAmount"):
        value = _dec((el.text or "").strip(), "TaxTotalAmount") or Decimal(0)
        if tax_currency and el.get("currencyID") == tax_currency and tax_currency != currency:
            in_accounting = value
        else:
            tax = value
    return Totals(
        line_net=_dreq(s, "ram:LineTotalAmount"),
        tax_exclusive=_dreq(s, "ram:TaxBasisTotalAmount"),
        tax=tax,
        tax_inclusive=_dreq(s, "ram:GrandTotalAmount"),
        payable=_dreq(s, "ram:DuePayableAmount"),
        allowances=_d(s, "ram:AllowanceTotalAmount"),
        charges=_d(s, "ram:ChargeTotalAmount"),
        tax_in_accounting_currency=in_accounting,
        prepaid=_d(s, "ram:TotalPrepaidAmount"),
        rounding=_d(s, "ram:RoundingAmount"),
    )


def _line(el: _El) -> Line:
    doc = _f(el, "ram:AssociatedDocumentLineDocument")
    prod = _f(el, "ram:SpecifiedTradeProduct")
    agr = _f(el, "ram:SpecifiedLineTradeAgreement")
    st = _f(el, "ram:SpecifiedLineTradeSettlement")
    qty = _f(el, "ram:SpecifiedLineTradeDelivery/ram:BilledQuantity")
    net = _f(agr, "ram:NetPriceProductTradePrice")
    base = _f(net, "ram:BasisQuantity")
    gid = _f(prod, "ram:GlobalID")
    tax = _f(st, "ram:ApplicableTradeTax")
    obj = None
    for ref in _all(st, "ram:AdditionalReferencedDocument"):
        if _t(ref, "ram:TypeCode") == "130":
            obj = _t(ref, "ram:IssuerAssignedID")
    return Line(
        id=_req(doc, "ram:LineID"),
        quantity=_dreq(el, "ram:SpecifiedLineTradeDelivery/ram:BilledQuantity"),
        unit_code=(qty.get("unitCode") if qty is not None else None) or "C62",
        net_amount=_dreq(
            st, "ram:SpecifiedTradeSettlementLineMonetarySummation/ram:LineTotalAmount"
        ),
        price=_dreq(net, "ram:ChargeAmount"),
        item=Item(
            name=_req(prod, "ram:Name"),
            description=_t(prod, "ram:Description"),
            seller_id=_t(prod, "ram:SellerAssignedID"),
            buyer_id=_t(prod, "ram:BuyerAssignedID"),
            standard_id=gid.text.strip() if gid is not None and gid.text else None,
            standard_id_scheme=gid.get("schemeID") if gid is not None else None,
            classifications=[
                ((c.text or "").strip(), c.get("listID") or "", c.get("listVersionID"))
                for c in _all(prod, "ram:DesignatedProductClassification/ram:ClassCode")
            ],
            origin_country=_t(prod, "ram:OriginTradeCountry/ram:ID"),
            attributes=[
                ItemAttribute(_req(c, "ram:Description"), _t(c, "ram:Value") or "")
                for c in _all(prod, "ram:ApplicableProductCharacteristic")
            ],
        ),
        vat_category=_t(tax, "ram:CategoryCode") or "",
        vat_rate=_d(tax, "ram:RateApplicablePercent"),
        note=_t(doc, "ram:IncludedNote/ram:Content"),
        object_id=obj,
        order_line_ref=_t(agr, "ram:BuyerOrderReferencedDocument/ram:LineID"),
        accounting_ref=_t(st, "ram:ReceivableSpecifiedTradeAccountingAccount/ram:ID"),
        period=_period(_f(st, "ram:BillingSpecifiedPeriod")),
        allowances=[_allowance(a) for a in _all(st, "ram:SpecifiedTradeAllowanceCharge")],
        price_discount=_d(
            agr, "ram:GrossPriceProductTradePrice/ram:AppliedTradeAllowanceCharge/ram:ActualAmount"
        ),
        gross_price=_d(agr, "ram:GrossPriceProductTradePrice/ram:ChargeAmount"),
        base_quantity=_dec(base.text, "BasisQuantity") if base is not None and base.text else None,
        base_quantity_unit=base.get("unitCode") if base is not None else None,
    )
