"""UBL 2.1 Invoice / CreditNote → canonical :class:`~gateway.model.Invoice`.

The mirror of :mod:`gateway.render.ubl`: every business term the renderer writes is read
back, so canonical → UBL → canonical is lossless for the mapped fields. Input goes through
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
from gateway.render.ubl import CAC, CBC, NS_CREDIT_NOTE, NS_INVOICE
from gateway.xmlsafe import parse_xml

_NS = {"cac": CAC, "cbc": CBC}
_El = etree._Element
_PROFILES = {
    spec.customization_id: name for name, spec in PROFILE_SPECS.items() if spec.syntax == "ubl"
}


def _f(el: _El, path: str) -> _El | None:
    return el.find(path, _NS)


def _all(el: _El, path: str) -> list[_El]:
    return el.findall(path, _NS)


def _t(el: _El | None, path: str) -> str | None:
    if el is None:
        return None
    found = el.find(path, _NS)
    if found is None or found.text is None:
        return None
    return found.text.strip() or None


def _attr(el: _El | None, path: str, name: str) -> str | None:
    found = _f(el, path) if el is not None else None
    return found.get(name) if found is not None else None


def _req(el: _El, path: str) -> str:
    text = _t(el, path)
    if text is None:
        raise FieldError(f"UBL document lacks {path}", field=path)
    return text


def _d(el: _El | None, path: str) -> Decimal | None:
    return _dec(_t(el, path), path)


def _dreq(el: _El, path: str) -> Decimal:
    value = _dec(_req(el, path), path)
    assert value is not None
    return value


def _date(el: _El | None, path: str) -> dt.date | None:
    text = _t(el, path)
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError as exc:
        raise FieldError(f"{path}: {text!r} is not a date", field=path) from exc


def read_ubl(xml: bytes) -> Invoice:
    """The canonical invoice carried by a UBL Invoice or CreditNote."""
    root = parse_xml(xml, what="UBL invoice")
    qname = etree.QName(root)
    if qname.namespace not in (NS_INVOICE, NS_CREDIT_NOTE):
        raise UnknownFormatError(f"not a UBL Invoice or CreditNote: root {qname.text}")
    credit = qname.namespace == NS_CREDIT_NOTE
    currency = _req(root, "cbc:DocumentCurrencyCode")
    issue_time, offset = _time(_t(root, "cbc:IssueTime"))
    customization = _t(root, "cbc:CustomizationID")
    inv = Invoice(
        number=_req(root, "cbc:ID"),
        issue_date=_date(root, "cbc:IssueDate") or _missing("cbc:IssueDate"),
        issue_time=issue_time,
        timezone_offset_minutes=offset,
        type_code=_req(root, "cbc:CreditNoteTypeCode" if credit else "cbc:InvoiceTypeCode"),
        currency=currency,
        seller=_party(_f(root, "cac:AccountingSupplierParty/cac:Party"), "seller"),
        buyer=_party(_f(root, "cac:AccountingCustomerParty/cac:Party"), "buyer"),
        lines=[
            _line(el, credit)
            for el in _all(root, "cac:CreditNoteLine" if credit else "cac:InvoiceLine")
        ],
        totals=_totals(root),
        tax_currency=_t(root, "cbc:TaxCurrencyCode"),
        tax_point_date=_date(root, "cbc:TaxPointDate"),
        due_date=_date(root, "cbc:DueDate") or _date(root, "cac:PaymentMeans/cbc:PaymentDueDate"),
        buyer_reference=_t(root, "cbc:BuyerReference"),
        project_ref=_t(root, "cac:ProjectReference/cbc:ID"),
        contract_ref=_t(root, "cac:ContractDocumentReference/cbc:ID"),
        order_ref=_order_ref(root),
        sales_order_ref=_t(root, "cac:OrderReference/cbc:SalesOrderID"),
        receiving_advice_ref=_t(root, "cac:ReceiptDocumentReference/cbc:ID"),
        despatch_advice_ref=_t(root, "cac:DespatchDocumentReference/cbc:ID"),
        tender_ref=_t(root, "cac:OriginatorDocumentReference/cbc:ID"),
        buyer_accounting_ref=_t(root, "cbc:AccountingCost"),
        payment_terms=_t(root, "cac:PaymentTerms/cbc:Note"),
        notes=[n.text for n in _all(root, "cbc:Note") if n.text],
        process_id=_t(root, "cbc:ProfileID"),
        customization_id=customization,
        preceding_invoices=[
            PrecedingInvoice(_req(ref, "cbc:ID"), _date(ref, "cbc:IssueDate"))
            for ref in _all(root, "cac:BillingReference/cac:InvoiceDocumentReference")
        ],
        period=_period(_f(root, "cac:InvoicePeriod")),
        payment=_payment(_f(root, "cac:PaymentMeans")),
        delivery=_delivery(_f(root, "cac:Delivery")),
        allowances=[_allowance(el) for el in _all(root, "cac:AllowanceCharge")],
        profile=_PROFILES.get(customization or ""),
        uuid=_t(root, "cbc:UUID"),
    )
    payee = _f(root, "cac:PayeeParty")
    if payee is not None:
        inv.payee = _party(payee, "payee")
    representative = _f(root, "cac:TaxRepresentativeParty")
    if representative is not None:
        inv.tax_representative = _party(representative, "tax representative")
    _documents(root, inv)
    _tax(root, inv)
    return inv


def _missing(path: str) -> dt.date:
    raise FieldError(f"UBL document lacks {path}", field=path)


def _time(text: str | None) -> tuple[dt.time | None, int | None]:
    if text is None:
        return None, None
    try:
        value = dt.time.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise FieldError(f"cbc:IssueTime: {text!r} is not a time", field="cbc:IssueTime") from exc
    offset = value.utcoffset()
    minutes = None if offset is None else int(offset.total_seconds() // 60)
    return value.replace(tzinfo=None), minutes


def _order_ref(root: _El) -> str | None:
    ref = _t(root, "cac:OrderReference/cbc:ID")
    return None if ref == "NA" and _t(root, "cac:OrderReference/cbc:SalesOrderID") else ref


def _period(el: _El | None) -> Period | None:
    if el is None:
        return None
    return Period(_date(el, "cbc:StartDate"), _date(el, "cbc:EndDate"))


def _address(el: _El | None) -> Address | None:
    if el is None:
        return None
    return Address(
        street=_t(el, "cbc:StreetName"),
        additional_street=_t(el, "cbc:AdditionalStreetName"),
        line3=_t(el, "cac:AddressLine/cbc:Line"),
        city=_t(el, "cbc:CityName"),
        postcode=_t(el, "cbc:PostalZone"),
        subdivision=_t(el, "cbc:CountrySubentity"),
        country=_t(el, "cac:Country/cbc:IdentificationCode"),
    )


def _ident(el: _El | None) -> Identifier | None:
    if el is None or not el.text or not el.text.strip():
        return None
    return Identifier(el.text.strip(), el.get("schemeID"))


def _party(p: _El | None, role: str) -> Party:
    if p is None:
        raise FieldError(f"UBL document lacks the {role} party", field=role)
    legal = _f(p, "cac:PartyLegalEntity")
    registered = _t(legal, "cbc:RegistrationName")
    name = registered or _t(p, "cac:PartyName/cbc:Name")
    if name is None:
        raise FieldError(f"UBL {role} party has no name", field=f"{role}.name")
    trading = _t(p, "cac:PartyName/cbc:Name")
    endpoint_el = _f(p, "cbc:EndpointID")
    endpoint = None
    if endpoint_el is not None and endpoint_el.text:
        endpoint = Endpoint(endpoint_el.get("schemeID") or "", endpoint_el.text.strip())
    vat_id = tax_reg = None
    for scheme in _all(p, "cac:PartyTaxScheme"):
        kind = _t(scheme, "cac:TaxScheme/cbc:ID")
        if kind in ("VAT", "GST"):
            vat_id = _t(scheme, "cbc:CompanyID")
        else:
            tax_reg = _t(scheme, "cbc:CompanyID")
    contact = _f(p, "cac:Contact")
    identifiers = [i for i in (_ident(e) for e in _all(p, "cac:PartyIdentification/cbc:ID")) if i]
    return Party(
        name=name,
        trading_name=trading if registered else None,
        identifiers=identifiers,
        legal_registration=_ident(_f(legal, "cbc:CompanyID")) if legal is not None else None,
        vat_id=vat_id,
        tax_registration_id=tax_reg,
        legal_info=_t(legal, "cbc:CompanyLegalForm"),
        endpoint=endpoint,
        address=_address(_f(p, "cac:PostalAddress")),
        contact=None
        if contact is None
        else Contact(
            _t(contact, "cbc:Name"), _t(contact, "cbc:Telephone"), _t(contact, "cbc:ElectronicMail")
        ),
    )


def _payment(el: _El | None) -> PaymentInstructions | None:
    if el is None:
        return None
    code_el = _f(el, "cbc:PaymentMeansCode")
    return PaymentInstructions(
        means_code=(code_el.text or "").strip() if code_el is not None else "1",
        means_text=code_el.get("name") if code_el is not None else None,
        remittance_info=_t(el, "cbc:PaymentID"),
        account_id=_t(el, "cac:PayeeFinancialAccount/cbc:ID"),
        account_name=_t(el, "cac:PayeeFinancialAccount/cbc:Name"),
        provider_id=_t(el, "cac:PayeeFinancialAccount/cac:FinancialInstitutionBranch/cbc:ID"),
        provider_name=_t(el, "cac:PayeeFinancialAccount/cac:FinancialInstitutionBranch/cbc:Name"),
    )


def _delivery(el: _El | None) -> Delivery | None:
    if el is None:
        return None
    loc_id = _f(el, "cac:DeliveryLocation/cbc:ID")
    return Delivery(
        party_name=_t(el, "cac:DeliveryParty/cac:PartyName/cbc:Name"),
        location_id=loc_id.text.strip() if loc_id is not None and loc_id.text else None,
        location_scheme=loc_id.get("schemeID") if loc_id is not None else None,
        date=_date(el, "cbc:ActualDeliveryDate"),
        address=_address(_f(el, "cac:DeliveryLocation/cac:Address")),
    )


def _allowance(el: _El) -> AllowanceCharge:
    cat = _f(el, "cac:TaxCategory")
    return AllowanceCharge(
        is_charge=_t(el, "cbc:ChargeIndicator") == "true",
        amount=_dreq(el, "cbc:Amount"),
        base_amount=_d(el, "cbc:BaseAmount"),
        percentage=_d(el, "cbc:MultiplierFactorNumeric"),
        vat_category=_t(cat, "cbc:ID"),
        vat_rate=_d(cat, "cbc:Percent") if cat is not None else None,
        reason=_t(el, "cbc:AllowanceChargeReason"),
        reason_code=_t(el, "cbc:AllowanceChargeReasonCode"),
    )


def _documents(root: _El, inv: Invoice) -> None:
    for ref in _all(root, "cac:AdditionalDocumentReference"):
        type_code = _t(ref, "cbc:DocumentTypeCode")
        if type_code == "130":
            inv.invoiced_object_id = _t(ref, "cbc:ID")
            inv.invoiced_object_scheme = _attr(ref, "cbc:ID", "schemeID")
            continue
        obj = _f(ref, "cac:Attachment/cbc:EmbeddedDocumentBinaryObject")
        content = None
        if obj is not None and obj.text:
            try:
                content = base64.b64decode("".join(obj.text.split()), validate=True)
            except (binascii.Error, ValueError) as exc:
                raise FieldError(
                    "attachment is not valid base64", field="EmbeddedDocumentBinaryObject"
                ) from exc
        inv.attachments.append(
            Attachment(
                id=_req(ref, "cbc:ID"),
                description=_t(ref, "cbc:DocumentDescription"),
                uri=_t(ref, "cac:Attachment/cac:ExternalReference/cbc:URI"),
                content=content,
                mime_code=obj.get("mimeCode") if obj is not None else None,
                filename=obj.get("filename") if obj is not None else None,
                type_code=type_code,
            )
        )


def _tax(root: _El, inv: Invoice) -> None:
    for total in _all(root, "cac:TaxTotal"):
        amount_el = _f(total, "cbc:TaxAmount")
        value = _dreq(total, "cbc:TaxAmount")
        subtotals = _all(total, "cac:TaxSubtotal")
        if subtotals or (amount_el is not None and amount_el.get("currencyID") == inv.currency):
            inv.totals.tax = value
            inv.vat_breakdown = [_subtotal(s) for s in subtotals]
        else:
            inv.totals.tax_in_accounting_currency = value


def _subtotal(el: _El) -> VatBreakdown:
    cat = _f(el, "cac:TaxCategory")
    return VatBreakdown(
        category=_t(cat, "cbc:ID") or "",
        taxable_amount=_dreq(el, "cbc:TaxableAmount"),
        tax_amount=_dreq(el, "cbc:TaxAmount"),
        rate=_d(cat, "cbc:Percent"),
        exemption_reason=_t(cat, "cbc:TaxExemptionReason"),
        exemption_reason_code=_t(cat, "cbc:TaxExemptionReasonCode"),
    )


def _totals(root: _El) -> Totals:
    m = _f(root, "cac:LegalMonetaryTotal")
    if m is None:
        raise FieldError("UBL document lacks cac:LegalMonetaryTotal", field="LegalMonetaryTotal")
    return Totals(
        line_net=_dreq(m, "cbc:LineExtensionAmount"),
        tax_exclusive=_dreq(m, "cbc:TaxExclusiveAmount"),
        tax=Decimal(0),
        tax_inclusive=_dreq(m, "cbc:TaxInclusiveAmount"),
        payable=_dreq(m, "cbc:PayableAmount"),
        allowances=_d(m, "cbc:AllowanceTotalAmount"),
        charges=_d(m, "cbc:ChargeTotalAmount"),
        prepaid=_d(m, "cbc:PrepaidAmount"),
        rounding=_d(m, "cbc:PayableRoundingAmount"),
    )


def _line(el: _El, credit: bool) -> Line:
    qty_path = "cbc:CreditedQuantity" if credit else "cbc:InvoicedQuantity"
    qty_el = _f(el, qty_path)
    item = _f(el, "cac:Item")
    if item is None:
        raise FieldError("UBL line lacks cac:Item", field="Item")
    cat = _f(item, "cac:ClassifiedTaxCategory")
    price = _f(el, "cac:Price")
    base_qty = _f(price, "cbc:BaseQuantity") if price is not None else None
    price_ac = _f(price, "cac:AllowanceCharge") if price is not None else None
    doc_ref = _f(el, "cac:DocumentReference")
    std = _f(item, "cac:StandardItemIdentification/cbc:ID")
    return Line(
        id=_req(el, "cbc:ID"),
        quantity=_dreq(el, qty_path),
        unit_code=(qty_el.get("unitCode") if qty_el is not None else None) or "C62",
        net_amount=_dreq(el, "cbc:LineExtensionAmount"),
        price=_dreq(el, "cac:Price/cbc:PriceAmount"),
        item=Item(
            name=_req(item, "cbc:Name"),
            description=_t(item, "cbc:Description"),
            seller_id=_t(item, "cac:SellersItemIdentification/cbc:ID"),
            buyer_id=_t(item, "cac:BuyersItemIdentification/cbc:ID"),
            standard_id=std.text.strip() if std is not None and std.text else None,
            standard_id_scheme=std.get("schemeID") if std is not None else None,
            classifications=[
                ((c.text or "").strip(), c.get("listID") or "", c.get("listVersionID"))
                for c in _all(item, "cac:CommodityClassification/cbc:ItemClassificationCode")
            ],
            origin_country=_t(item, "cac:OriginCountry/cbc:IdentificationCode"),
            attributes=[
                ItemAttribute(_req(p, "cbc:Name"), _t(p, "cbc:Value") or "")
                for p in _all(item, "cac:AdditionalItemProperty")
            ],
        ),
        vat_category=_t(cat, "cbc:ID") or "",
        vat_rate=_d(cat, "cbc:Percent"),
        note=_t(el, "cbc:Note"),
        object_id=_t(doc_ref, "cbc:ID") if doc_ref is not None else None,
        object_scheme=_attr(doc_ref, "cbc:ID", "schemeID"),
        order_line_ref=_t(el, "cac:OrderLineReference/cbc:LineID"),
        accounting_ref=_t(el, "cbc:AccountingCost"),
        period=_period(_f(el, "cac:InvoicePeriod")),
        allowances=[_allowance(a) for a in _all(el, "cac:AllowanceCharge")],
        price_discount=_d(price_ac, "cbc:Amount") if price_ac is not None else None,
        gross_price=_d(price_ac, "cbc:BaseAmount") if price_ac is not None else None,
        base_quantity=_dec(base_qty.text, "BaseQuantity") if base_qty is not None else None,
        base_quantity_unit=base_qty.get("unitCode") if base_qty is not None else None,
    )
