"""UBL 2.1 Invoice / CreditNote from the canonical model (PINT SG, BIS 3, PINT).

Elements are appended in XSD sequence order as :mod:`gateway.render._tree` nodes named
``cac:X`` / ``cbc:X``, and the tree is handed to lxml in one parse; nothing is loaded per call.
"""

from __future__ import annotations

import base64
from decimal import Decimal

from lxml import etree

from gateway.mapping.profiles import PROFILE_SPECS, ProfileSpec, document_uuid
from gateway.model import (
    AllowanceCharge,
    Attachment,
    Invoice,
    Line,
    Party,
    VatBreakdown,
)
from gateway.model.currencies import amount_places
from gateway.model.party import Address
from gateway.render._fmt import amount, date, decimal, time
from gateway.render._tree import Node, to_lxml
from gateway.render._tree import root as new_root
from gateway.render._xml import serialise

NS_INVOICE = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
NS_CREDIT_NOTE = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"

_El = Node


def _sub(parent: _El, tag: str, text: str | None = None, **attrib: str) -> _El:
    """A new last child ``tag`` of ``parent`` (a :data:`~gateway.render._tree.Node`)."""
    node: _El = [tag, text, attrib, []]
    parent[3].append(node)
    return node


def _opt(parent: _El, tag: str, text: str | None, **attrib: str) -> None:
    if text:
        _sub(parent, tag, text, **attrib)


def _scheme(scheme: str | None) -> dict[str, str]:
    return {"schemeID": scheme} if scheme else {}


def _amt(parent: _El, name: str, value: Decimal, currency: str) -> None:
    _sub(parent, name, amount(value, amount_places(currency)), currencyID=currency)


def render_ubl(inv: Invoice) -> bytes:
    """The UBL document of a mapped invoice (``inv.profile`` set by the mapper)."""
    return serialise(ubl_tree(inv))


def ubl_tree(inv: Invoice) -> etree._Element:
    """The root element of :func:`render_ubl`'s document, as built (before serialising)."""
    credit = inv.is_credit_note
    ns = NS_CREDIT_NOTE if credit else NS_INVOICE
    root = new_root("CreditNote" if credit else "Invoice")
    cur = inv.currency
    _opt(root, "cbc:CustomizationID", inv.customization_id)
    _opt(root, "cbc:ProfileID", inv.process_id)
    _sub(root, "cbc:ID", inv.number)
    spec = _spec(inv)
    if inv.uuid:
        _sub(root, "cbc:UUID", inv.uuid)
    elif spec is not None and spec.uuid:
        _sub(root, "cbc:UUID", document_uuid(endpoint_text(inv.seller), inv.number))
    _sub(root, "cbc:IssueDate", date(inv.issue_date))
    if inv.issue_time is not None:
        _sub(root, "cbc:IssueTime", time(inv.issue_time, inv.timezone_offset_minutes))
    if credit:
        if inv.tax_point_date:
            _sub(root, "cbc:TaxPointDate", date(inv.tax_point_date))
        _sub(root, "cbc:CreditNoteTypeCode", inv.type_code)
    else:
        if inv.due_date:
            _sub(root, "cbc:DueDate", date(inv.due_date))
        _sub(root, "cbc:InvoiceTypeCode", inv.type_code)
    for note in inv.notes:
        _sub(root, "cbc:Note", note)
    if not credit and inv.tax_point_date:
        _sub(root, "cbc:TaxPointDate", date(inv.tax_point_date))
    _sub(root, "cbc:DocumentCurrencyCode", cur)
    _opt(root, "cbc:TaxCurrencyCode", inv.tax_currency)
    _opt(root, "cbc:AccountingCost", inv.buyer_accounting_ref)
    _opt(root, "cbc:BuyerReference", inv.buyer_reference)
    _references(root, inv, credit)
    _party_block(root, "cac:AccountingSupplierParty", inv.seller, inv, seller=True)
    _party_block(root, "cac:AccountingCustomerParty", inv.buyer, inv, seller=False)
    if inv.payee is not None:
        _party(_sub(root, "cac:PayeeParty"), inv.payee, inv, seller=False, full=False)
    if inv.tax_representative is not None:
        _tax_representative(root, inv.tax_representative, inv)
    _delivery(root, inv)
    _payment(root, inv)
    for ac in inv.allowances:
        _allowance(root, ac, cur, inv, document_level=True)
    _tax_totals(root, inv)
    _monetary_total(root, inv)
    for line in inv.lines:
        _line(root, line, inv, credit)
    return to_lxml(root, {None: ns, "cac": CAC, "cbc": CBC})


def endpoint_text(party: Party) -> str:
    """The seller key a derived UUID is made from: its endpoint, else its name."""
    return str(party.endpoint) if party.endpoint else party.name


def _references(root: _El, inv: Invoice, credit: bool) -> None:
    if inv.period is not None and (inv.period.start or inv.period.end):
        period = _sub(root, "cac:InvoicePeriod")
        if inv.period.start:
            _sub(period, "cbc:StartDate", date(inv.period.start))
        if inv.period.end:
            _sub(period, "cbc:EndDate", date(inv.period.end))
    if inv.order_ref or inv.sales_order_ref:
        order = _sub(root, "cac:OrderReference", None)
        _sub(order, "cbc:ID", inv.order_ref or "NA")
        _opt(order, "cbc:SalesOrderID", inv.sales_order_ref)
    for pre in inv.preceding_invoices:
        ref = _sub(_sub(root, "cac:BillingReference"), "cac:InvoiceDocumentReference")
        _sub(ref, "cbc:ID", pre.number)
        if pre.issue_date:
            _sub(ref, "cbc:IssueDate", date(pre.issue_date))
    if inv.despatch_advice_ref:
        _sub(_sub(root, "cac:DespatchDocumentReference"), "cbc:ID", inv.despatch_advice_ref)
    if inv.receiving_advice_ref:
        _sub(_sub(root, "cac:ReceiptDocumentReference"), "cbc:ID", inv.receiving_advice_ref)
    if not credit and inv.tender_ref:
        _sub(_sub(root, "cac:OriginatorDocumentReference"), "cbc:ID", inv.tender_ref)
    if inv.contract_ref:
        _sub(_sub(root, "cac:ContractDocumentReference"), "cbc:ID", inv.contract_ref)
    if inv.invoiced_object_id:
        ref = _sub(root, "cac:AdditionalDocumentReference")
        _sub(ref, "cbc:ID", inv.invoiced_object_id, **_scheme(inv.invoiced_object_scheme))
        _sub(ref, "cbc:DocumentTypeCode", "130")
    for att in inv.attachments:
        _attachment(root, att)
    if credit and inv.tender_ref:
        _sub(_sub(root, "cac:OriginatorDocumentReference"), "cbc:ID", inv.tender_ref)
    if not credit and inv.project_ref:
        _sub(_sub(root, "cac:ProjectReference"), "cbc:ID", inv.project_ref)


def _attachment(root: _El, att: Attachment) -> None:
    ref = _sub(root, "cac:AdditionalDocumentReference")
    _sub(ref, "cbc:ID", att.id)
    _opt(ref, "cbc:DocumentTypeCode", att.type_code)
    _opt(ref, "cbc:DocumentDescription", att.description)
    if att.content is None and not att.uri:
        return
    holder = _sub(ref, "cac:Attachment")
    if att.content is not None:
        attrib = {"mimeCode": att.mime_code or "application/octet-stream"}
        if att.filename:
            attrib["filename"] = att.filename
        _sub(
            holder,
            "cbc:EmbeddedDocumentBinaryObject",
            base64.b64encode(att.content).decode("ascii"),
            **attrib,
        )
    else:
        _sub(_sub(holder, "cac:ExternalReference"), "cbc:URI", att.uri)


def _spec(inv: Invoice) -> ProfileSpec | None:
    return PROFILE_SPECS.get(inv.profile) if inv.profile else None


def _tax_scheme(inv: Invoice) -> str:
    spec = _spec(inv)
    return spec.tax_scheme if spec is not None else "VAT"


def _party_block(root: _El, name: str, party: Party, inv: Invoice, *, seller: bool) -> None:
    _party(_sub(_sub(root, name), "cac:Party"), party, inv, seller=seller, full=True)


def _party(p: _El, party: Party, inv: Invoice, *, seller: bool, full: bool) -> None:
    if full and party.endpoint is not None:
        _sub(p, "cbc:EndpointID", party.endpoint.value, schemeID=party.endpoint.scheme)
    for ident in party.identifiers:
        ident_el = _sub(p, "cac:PartyIdentification")
        if ident.scheme and ident.scheme.isdigit():
            _sub(ident_el, "cbc:ID", ident.value, schemeID=ident.scheme)
        else:
            _sub(ident_el, "cbc:ID", ident.value)
    if party.trading_name or not full:
        _sub(_sub(p, "cac:PartyName"), "cbc:Name", party.trading_name or party.name)
    if full and party.address is not None:
        _address(_sub(p, "cac:PostalAddress"), party.address)
    if full and party.vat_id:
        scheme = _sub(p, "cac:PartyTaxScheme")
        _sub(scheme, "cbc:CompanyID", party.vat_id)
        _sub(_sub(scheme, "cac:TaxScheme"), "cbc:ID", _tax_scheme(inv))
    if full and seller and party.tax_registration_id:
        scheme = _sub(p, "cac:PartyTaxScheme")
        _sub(scheme, "cbc:CompanyID", party.tax_registration_id)
        _sub(_sub(scheme, "cac:TaxScheme"), "cbc:ID", "TAX")
    if full:
        legal = _sub(p, "cac:PartyLegalEntity")
        _sub(legal, "cbc:RegistrationName", party.name)
        reg = party.legal_registration
        if reg is not None:
            if reg.scheme and reg.scheme.isdigit():
                _sub(legal, "cbc:CompanyID", reg.value, schemeID=reg.scheme)
            else:
                _sub(legal, "cbc:CompanyID", reg.value)
        if seller:
            _opt(legal, "cbc:CompanyLegalForm", party.legal_info)
    elif party.legal_registration is not None:
        reg = party.legal_registration
        legal = _sub(p, "cac:PartyLegalEntity")
        if reg.scheme and reg.scheme.isdigit():
            _sub(legal, "cbc:CompanyID", reg.value, schemeID=reg.scheme)
        else:
            _sub(legal, "cbc:CompanyID", reg.value)
    c = party.contact
    if full and c is not None and (c.name or c.telephone or c.email):
        contact = _sub(p, "cac:Contact")
        _opt(contact, "cbc:Name", c.name)
        _opt(contact, "cbc:Telephone", c.telephone)
        _opt(contact, "cbc:ElectronicMail", c.email)


def _address(el: _El, a: Address) -> None:
    _opt(el, "cbc:StreetName", a.street)
    _opt(el, "cbc:AdditionalStreetName", a.additional_street)
    _opt(el, "cbc:CityName", a.city)
    _opt(el, "cbc:PostalZone", a.postcode)
    _opt(el, "cbc:CountrySubentity", a.subdivision)
    if a.line3:
        _sub(_sub(el, "cac:AddressLine"), "cbc:Line", a.line3)
    if a.country:
        _sub(_sub(el, "cac:Country"), "cbc:IdentificationCode", a.country)


def _tax_representative(root: _El, rep: Party, inv: Invoice) -> None:
    """BG-11: name (BT-62), postal address (BG-12) and VAT identifier (BT-63)."""
    p = _sub(root, "cac:TaxRepresentativeParty")
    _sub(_sub(p, "cac:PartyName"), "cbc:Name", rep.name)
    if rep.address is not None:
        _address(_sub(p, "cac:PostalAddress"), rep.address)
    if rep.vat_id:
        scheme = _sub(p, "cac:PartyTaxScheme")
        _sub(scheme, "cbc:CompanyID", rep.vat_id)
        _sub(_sub(scheme, "cac:TaxScheme"), "cbc:ID", _tax_scheme(inv))


def _delivery(root: _El, inv: Invoice) -> None:
    d = inv.delivery
    if d is None or not (d.date or d.location_id or d.address or d.party_name):
        return
    el = _sub(root, "cac:Delivery")
    if d.date:
        _sub(el, "cbc:ActualDeliveryDate", date(d.date))
    if d.location_id or d.address:
        loc = _sub(el, "cac:DeliveryLocation")
        if d.location_id:
            if d.location_scheme:
                _sub(loc, "cbc:ID", d.location_id, schemeID=d.location_scheme)
            else:
                _sub(loc, "cbc:ID", d.location_id)
        if d.address:
            _address(_sub(loc, "cac:Address"), d.address)
    if d.party_name:
        _sub(_sub(_sub(el, "cac:DeliveryParty"), "cac:PartyName"), "cbc:Name", d.party_name)


def _payment(root: _El, inv: Invoice) -> None:
    pay = inv.payment
    if pay is not None:
        means = _sub(root, "cac:PaymentMeans")
        if pay.means_text:
            _sub(means, "cbc:PaymentMeansCode", pay.means_code, name=pay.means_text)
        else:
            _sub(means, "cbc:PaymentMeansCode", pay.means_code)
        if inv.is_credit_note and inv.due_date:
            _sub(means, "cbc:PaymentDueDate", date(inv.due_date))
        _opt(means, "cbc:PaymentID", pay.remittance_info)
        if pay.account_id:
            account = _sub(means, "cac:PayeeFinancialAccount")
            _sub(account, "cbc:ID", pay.account_id)
            _opt(account, "cbc:Name", pay.account_name)
            spec = _spec(inv)
            bank_name = pay.provider_name if spec is not None and spec.bank_branch_name else None
            if pay.provider_id or bank_name:
                branch = _sub(account, "cac:FinancialInstitutionBranch")
                _opt(branch, "cbc:ID", pay.provider_id)
                _opt(branch, "cbc:Name", bank_name)
    if inv.payment_terms:
        _sub(_sub(root, "cac:PaymentTerms"), "cbc:Note", inv.payment_terms)


def _allowance(
    parent: _El, ac: AllowanceCharge, cur: str, inv: Invoice, *, document_level: bool
) -> None:
    el = _sub(parent, "cac:AllowanceCharge")
    _sub(el, "cbc:ChargeIndicator", "true" if ac.is_charge else "false")
    _opt(el, "cbc:AllowanceChargeReasonCode", ac.reason_code)
    _opt(el, "cbc:AllowanceChargeReason", ac.reason)
    if ac.percentage is not None:
        _sub(el, "cbc:MultiplierFactorNumeric", decimal(ac.percentage))
    _amt(el, "cbc:Amount", ac.amount, cur)
    if ac.base_amount is not None:
        _amt(el, "cbc:BaseAmount", ac.base_amount, cur)
    if document_level and ac.vat_category:
        _category(el, "cac:TaxCategory", ac.vat_category, ac.vat_rate, inv)


def _category(
    parent: _El,
    name: str,
    code: str,
    rate: Decimal | None,
    inv: Invoice,
    reason: str | None = None,
    reason_code: str | None = None,
) -> None:
    cat = _sub(parent, name)
    _sub(cat, "cbc:ID", code)
    if rate is not None and code != "O":
        _sub(cat, "cbc:Percent", decimal(rate))
    _opt(cat, "cbc:TaxExemptionReasonCode", reason_code)
    _opt(cat, "cbc:TaxExemptionReason", reason)
    _sub(_sub(cat, "cac:TaxScheme"), "cbc:ID", _tax_scheme(inv))


def _tax_totals(root: _El, inv: Invoice) -> None:
    total = _sub(root, "cac:TaxTotal")
    _amt(total, "cbc:TaxAmount", inv.totals.tax, inv.currency)
    for b in inv.vat_breakdown:
        _subtotal(total, b, inv)
    if inv.tax_currency and inv.totals.tax_in_accounting_currency is not None:
        acc = _sub(root, "cac:TaxTotal")
        _amt(acc, "cbc:TaxAmount", inv.totals.tax_in_accounting_currency, inv.tax_currency)


def _subtotal(total: _El, b: VatBreakdown, inv: Invoice) -> None:
    sub = _sub(total, "cac:TaxSubtotal")
    _amt(sub, "cbc:TaxableAmount", b.taxable_amount, inv.currency)
    _amt(sub, "cbc:TaxAmount", b.tax_amount, inv.currency)
    _category(
        sub,
        "cac:TaxCategory",
        b.category,
        b.rate,
        inv,
        b.exemption_reason,
        b.exemption_reason_code,
    )


def _monetary_total(root: _El, inv: Invoice) -> None:
    t, cur = inv.totals, inv.currency
    el = _sub(root, "cac:LegalMonetaryTotal")
    _amt(el, "cbc:LineExtensionAmount", t.line_net, cur)
    _amt(el, "cbc:TaxExclusiveAmount", t.tax_exclusive, cur)
    _amt(el, "cbc:TaxInclusiveAmount", t.tax_inclusive, cur)
    if t.allowances is not None:
        _amt(el, "cbc:AllowanceTotalAmount", t.allowances, cur)
    if t.charges is not None:
        _amt(el, "cbc:ChargeTotalAmount", t.charges, cur)
    if t.prepaid is not None:
        _amt(el, "cbc:PrepaidAmount", t.prepaid, cur)
    if t.rounding is not None:
        _amt(el, "cbc:PayableRoundingAmount", t.rounding, cur)
    _amt(el, "cbc:PayableAmount", t.payable, cur)


def _line(root: _El, line: Line, inv: Invoice, credit: bool) -> None:
    cur = inv.currency
    el = _sub(root, "cac:CreditNoteLine" if credit else "cac:InvoiceLine")
    _sub(el, "cbc:ID", line.id)
    _opt(el, "cbc:Note", line.note)
    _sub(
        el,
        "cbc:CreditedQuantity" if credit else "cbc:InvoicedQuantity",
        decimal(line.quantity),
        unitCode=line.unit_code,
    )
    _amt(el, "cbc:LineExtensionAmount", line.net_amount, cur)
    _opt(el, "cbc:AccountingCost", line.accounting_ref)
    if line.period is not None and (line.period.start or line.period.end):
        period = _sub(el, "cac:InvoicePeriod")
        if line.period.start:
            _sub(period, "cbc:StartDate", date(line.period.start))
        if line.period.end:
            _sub(period, "cbc:EndDate", date(line.period.end))
    if line.order_line_ref:
        _sub(_sub(el, "cac:OrderLineReference"), "cbc:LineID", line.order_line_ref)
    if line.object_id:
        ref = _sub(el, "cac:DocumentReference")
        _opt(ref, "cbc:ID", line.object_id, **_scheme(line.object_scheme))
        _sub(ref, "cbc:DocumentTypeCode", "130")
    for ac in line.allowances:
        _allowance(el, ac, cur, inv, document_level=False)
    _item(el, line, inv)
    price = _sub(el, "cac:Price")
    _sub(price, "cbc:PriceAmount", decimal(line.price), currencyID=cur)
    if line.base_quantity is not None:
        _sub(
            price,
            "cbc:BaseQuantity",
            decimal(line.base_quantity),
            unitCode=line.base_quantity_unit or line.unit_code,
        )
    if line.price_discount is not None and line.gross_price is not None:
        discount = _sub(price, "cac:AllowanceCharge")
        _sub(discount, "cbc:ChargeIndicator", "false")
        _sub(discount, "cbc:Amount", decimal(line.price_discount), currencyID=cur)
        _sub(discount, "cbc:BaseAmount", decimal(line.gross_price), currencyID=cur)


def _item(el: _El, line: Line, inv: Invoice) -> None:
    item = line.item
    it = _sub(el, "cac:Item")
    _opt(it, "cbc:Description", item.description)
    _sub(it, "cbc:Name", item.name)
    if item.buyer_id:
        _sub(_sub(it, "cac:BuyersItemIdentification"), "cbc:ID", item.buyer_id)
    if item.seller_id:
        _sub(_sub(it, "cac:SellersItemIdentification"), "cbc:ID", item.seller_id)
    if item.standard_id:
        _sub(
            _sub(it, "cac:StandardItemIdentification"),
            "cbc:ID",
            item.standard_id,
            schemeID=item.standard_id_scheme or "0160",
        )
    if item.origin_country:
        _sub(_sub(it, "cac:OriginCountry"), "cbc:IdentificationCode", item.origin_country)
    for code, list_id, version in item.classifications:
        attrib = {"listID": list_id or "ZZZ"}
        if version:
            attrib["listVersionID"] = version
        _sub(_sub(it, "cac:CommodityClassification"), "cbc:ItemClassificationCode", code, **attrib)
    _category(it, "cac:ClassifiedTaxCategory", line.vat_category, line.vat_rate, inv)
    for attr in item.attributes:
        prop = _sub(it, "cac:AdditionalItemProperty")
        _sub(prop, "cbc:Name", attr.name)
        _sub(prop, "cbc:Value", attr.value)
