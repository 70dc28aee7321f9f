"""Canonical :class:`TransportDocument` → OASIS UBL 2.1 ``BillOfLading``.

Where each DCSA fact goes (elements in XSD order; the reader
:mod:`gateway.read.ubl_bill_of_lading` maps them back):

=================================  ===========================================================
DCSA                               UBL 2.1 BillOfLading
=================================  ===========================================================
transportDocumentReference         cbc:ID, cac:Shipment/cbc:ID, cac:Consignment/cbc:ID
transportDocumentSubReference      cbc:CarrierAssignedID
isElectronic                       cbc:ProfileID (``…:electronic`` / ``…:paper``)
issueDate                          cbc:IssueDate
typeCode + isShippedOnBoardType    cbc:Name (one of :data:`DOCUMENT_NAMES`)
termsAndConditions                 cbc:Description
carrierClauses                     cbc:Note (one each)
transportDocumentStatus            cbc:DocumentStatusCode
shippingInstructionsReference      cbc:ShippingOrderID
isToOrder                          cbc:ToOrderIndicator
declaredValue(+Currency)           cbc:DeclaredCarriageValueAmount
shipper / issuingParty             cac:ConsignorParty / cac:CarrierParty
consignee / endorsee               Consignment cac:ConsigneeParty / cac:BillOfLadingHolderParty
carrierCode(+ListProvider),        Consignment cac:CarrierParty: PartyIdentification
partyContactDetails                (schemeAgencyName = SMDG/NMFTA) and Contact / Person
serviceContractReference           Consignment cac:TransportContract/cbc:ID
receiptType / cargoMovement …      Consignment cac:OriginalDespatch- / FinalDelivery-
                                   TransportationService (TransportServiceCode / TariffClassCode)
freightPaymentTermCode             Consignment cac:PrepaidPaymentTerms or cac:CollectPaymentTerms
charges                            Consignment cac:FreightAllowanceCharge
vesselVoyages, ports, dates,       Consignment cac:MainCarriageShipmentStage (first stage: ports,
invoicePayableAt, placeOfReceipt   planned dates, shipped-on-board and receipt events,
                                   FreightChargeLocation)
preCarriageBy / onCarriageBy       cac:Pre- / OnCarriageShipmentStage/cbc:TransportMeansTypeCode
consignmentItems                   cac:Shipment/cac:GoodsItem (cargo items: ContainedGoodsItem,
                                   dangerous goods: its cac:Item/cac:HazardousItem)
utilizedTransportEquipments        cac:Shipment/cac:TransportHandlingUnit/cac:TransportEquipment
placeOfDelivery, notifyParties     cac:Shipment/cac:Delivery
=================================  ===========================================================

Not carried (listed in :attr:`UblOutput.warnings`): ``placeOfIssue`` and every DCSA member the
canonical model keeps only as an extension.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import cast

from lxml import etree

from gateway.model.transport_document import (
    Address,
    CargoItem,
    Charge,
    ConsignmentItem,
    Contact,
    DangerousGoods,
    Equipment,
    Location,
    Measure,
    Party,
    TransportDocument,
)
from gateway.render._fmt import decimal
from gateway.render._xml import serialise

NS = "urn:oasis:names:specification:ubl:schema:xsd:BillOfLading-2"
CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
CUSTOMIZATION = "urn:lingang:ebl:dcsa-3.0.3"
PROFILE_ELECTRONIC = "urn:lingang:ebl:electronic"
PROFILE_PAPER = "urn:lingang:ebl:paper"
DOCUMENT_NAMES = {
    ("BOL", True): "Shipped on board bill of lading",
    ("BOL", False): "Received for shipment bill of lading",
    ("SWB", True): "Shipped on board sea waybill",
    ("SWB", False): "Received for shipment sea waybill",
}
LIST_RECEIPT_DELIVERY = "DCSA-ReceiptDeliveryType"
LIST_CARGO_MOVEMENT = "DCSA-CargoMovementType"
LIST_MODE = "DCSA-ModeOfTransport"
LIST_SEAL_SOURCE = "DCSA-SealSource"
LIST_HS = "HS"
LIST_UNDG = "UNDG"
LIST_NA = "NA"
"""North American (US DOT) number, used where no UN number exists."""
LIST_IMO_PACKAGING = "IMO"
LIST_PACKAGE = "UNECE-21"
LOCODE = "UN/LOCODE"
MARITIME = "1"
"""UN/ECE Rec. 19 transport mode code: maritime transport."""
SHIPPER_SUPPLIED, CARRIER_SUPPLIED = "1", "2"
"""UN/EDIFACT 8077 equipment supplier codes."""
REEFER_DIMENSIONS = ("temperatureSetpoint", "o2Setpoint", "co2Setpoint", "airExchangeSetpoint")
PERCENT = "P1"

_El = etree._Element


@dataclass(slots=True)
class UblOutput:
    """The UBL document's bytes and what it could not carry."""

    xml: bytes
    warnings: list[str] = field(default_factory=list)


def _q(name: str) -> str:
    prefix, local = name.split(":")
    return f"{{{CAC if prefix == 'cac' else CBC}}}{local}"


def _sub(parent: _El, name: str, text: str | None = None, **attrib: str) -> _El:
    el = etree.SubElement(parent, _q(name), attrib)
    if text is not None:
        el.text = text
    return el


def _opt(parent: _El, name: str, text: str | None, **attrib: str) -> None:
    if text is not None:
        _sub(parent, name, text, **attrib)


def _flag(value: bool) -> str:
    return "true" if value else "false"


def render_bill_of_lading(doc: TransportDocument) -> UblOutput:
    """The UBL 2.1 ``BillOfLading`` of ``doc`` and the facts it could not carry."""
    warnings = unmapped_warnings(doc, "UBL BillOfLading")
    nsmap = cast("dict[str, str]", {None: NS, "cac": CAC, "cbc": CBC})
    root = etree.Element(f"{{{NS}}}BillOfLading", nsmap=nsmap)
    _sub(root, "cbc:UBLVersionID", "2.1")
    _sub(root, "cbc:CustomizationID", CUSTOMIZATION)
    _sub(root, "cbc:ProfileID", PROFILE_ELECTRONIC if doc.is_electronic else PROFILE_PAPER)
    _sub(root, "cbc:ID", doc.display_reference)
    _opt(root, "cbc:CarrierAssignedID", doc.sub_reference)
    _opt(root, "cbc:IssueDate", doc.issue_date.isoformat() if doc.issue_date else None)
    _sub(root, "cbc:Name", DOCUMENT_NAMES[(doc.type_code, doc.is_shipped_on_board_type)])
    _opt(root, "cbc:Description", doc.terms_and_conditions)
    for clause in doc.carrier_clauses:
        _sub(root, "cbc:Note", clause)
    _opt(root, "cbc:DocumentStatusCode", doc.status)
    _opt(root, "cbc:ShippingOrderID", doc.shipping_instructions_reference)
    _sub(root, "cbc:ToOrderIndicator", _flag(doc.is_to_order))
    if doc.declared_value is not None and doc.declared_value_currency is not None:
        _sub(
            root,
            "cbc:DeclaredCarriageValueAmount",
            decimal(doc.declared_value),
            currencyID=doc.declared_value_currency,
        )
    _party(_sub(root, "cac:ConsignorParty"), doc.parties.shipper)
    if doc.parties.issuing_party is not None:
        _party(_sub(root, "cac:CarrierParty"), doc.parties.issuing_party)
    _shipment(_sub(root, "cac:Shipment"), doc)
    return UblOutput(serialise(root), warnings)


def unmapped_warnings(doc: TransportDocument, target: str) -> list[str]:
    """Warnings for facts ``target`` cannot carry: place of issue and the extensions."""
    warnings = [f"{where}: not carried by {target}" for where in sorted(doc.extensions)]
    for index, item in enumerate(doc.consignment_items):
        for cargo_index, cargo in enumerate(item.cargo_items):
            packaging = cargo.packaging
            if packaging.package_code is not None and packaging.imo_packaging_code is not None:
                warnings.append(
                    f"/consignmentItems/{index}/cargoItems/{cargo_index}/outerPackaging/"
                    f"imoPackagingCode: not carried by {target} beside packageCode"
                )
            for goods_index, goods in enumerate(packaging.dangerous_goods):
                if goods.un_number is not None and goods.na_number is not None:
                    warnings.append(
                        f"/consignmentItems/{index}/cargoItems/{cargo_index}/outerPackaging/"
                        f"dangerousGoods/{goods_index}/NANumber: not carried by {target} "
                        "beside UNNumber"
                    )
    if doc.place_of_issue is not None:
        warnings.append(f"/placeOfIssue: not carried by {target}")
    if doc.reference is None:
        warnings.append(
            "/transportDocumentReference: absent (shipping instructions); the document is "
            f"identified by the booking reference {doc.display_reference!r}"
        )
    return warnings


def _shipment(shipment: _El, doc: TransportDocument) -> None:
    _sub(shipment, "cbc:ID", doc.display_reference)
    total = _total_gross_weight(doc)
    if total is not None:
        _sub(shipment, "cbc:GrossWeightMeasure", decimal(total.value), unitCode=total.unit)
    _sub(shipment, "cbc:TotalTransportHandlingUnitQuantity", str(len(doc.equipments)))
    _consignment(_sub(shipment, "cac:Consignment"), doc)
    for item in doc.consignment_items:
        _goods_item(_sub(shipment, "cac:GoodsItem"), item)
    place = _placed(doc.transports.place_of_delivery if doc.transports else None)
    if place is not None or doc.parties.notify_parties:
        delivery = _sub(shipment, "cac:Delivery")
        if place is not None:
            _location(_sub(delivery, "cac:DeliveryLocation"), place)
        for notify in doc.parties.notify_parties:
            _party(_sub(delivery, "cac:NotifyParty"), notify)
    for equipment in doc.equipments:
        _handling_unit(_sub(shipment, "cac:TransportHandlingUnit"), equipment)


def _total_gross_weight(doc: TransportDocument) -> Measure | None:
    weights = [c.gross_weight for i in doc.consignment_items for c in i.cargo_items]
    units = {w.unit for w in weights}
    if len(units) != 1:
        return None
    return Measure(sum((w.value for w in weights), Decimal(0)), units.pop())


def _consignment(consignment: _El, doc: TransportDocument) -> None:
    _sub(consignment, "cbc:ID", doc.display_reference)
    packages = sum(
        c.packaging.number_of_packages for i in doc.consignment_items for c in i.cargo_items
    )
    _sub(consignment, "cbc:TotalPackagesQuantity", str(packages))
    if doc.parties.consignee is not None:
        _party(_sub(consignment, "cac:ConsigneeParty"), doc.parties.consignee)
    if doc.carrier_code is not None or doc.contacts:
        carrier = _sub(consignment, "cac:CarrierParty")
        if doc.carrier_code is not None:
            ident = _sub(carrier, "cac:PartyIdentification")
            attrs = {}
            if doc.carrier_code_list_provider:
                attrs["schemeAgencyName"] = doc.carrier_code_list_provider
            _sub(ident, "cbc:ID", doc.carrier_code, **attrs)
        _contacts(carrier, doc.contacts)
    if doc.parties.endorsee is not None:
        _party(_sub(consignment, "cac:BillOfLadingHolderParty"), doc.parties.endorsee)
    if doc.service_contract_reference is not None:
        _sub(_sub(consignment, "cac:TransportContract"), "cbc:ID", doc.service_contract_reference)
    _service(
        consignment,
        "OriginalDespatch",
        doc.receipt_type_at_origin,
        doc.cargo_movement_type_at_origin,
    )
    _service(
        consignment,
        "FinalDelivery",
        doc.delivery_type_at_destination,
        doc.cargo_movement_type_at_destination,
    )
    if doc.freight_payment_term == "PRE":
        _sub(_sub(consignment, "cac:PrepaidPaymentTerms"), "cbc:ID", "PRE")
    elif doc.freight_payment_term == "COL":
        _sub(_sub(consignment, "cac:CollectPaymentTerms"), "cbc:ID", "COL")
    for charge in doc.charges:
        _charge(_sub(consignment, "cac:FreightAllowanceCharge"), charge)
    _stages(consignment, doc)


def _service(consignment: _El, which: str, service: str | None, movement: str | None) -> None:
    if service is None:
        return
    el = _sub(consignment, f"cac:{which}TransportationService")
    _sub(el, "cbc:TransportServiceCode", service, listID=LIST_RECEIPT_DELIVERY)
    _opt(el, "cbc:TariffClassCode", movement, listID=LIST_CARGO_MOVEMENT)


def _charge(el: _El, charge: Charge) -> None:
    _sub(el, "cbc:ChargeIndicator", "true")
    _sub(el, "cbc:AllowanceChargeReason", charge.name)
    _sub(el, "cbc:AllowanceChargeReason", charge.calculation_basis)
    _sub(el, "cbc:MultiplierFactorNumeric", decimal(charge.quantity))
    _sub(el, "cbc:PrepaidIndicator", _flag(charge.payment_term == "PRE"))
    _sub(el, "cbc:Amount", decimal(charge.amount), currencyID=charge.currency)
    _sub(el, "cbc:PerUnitAmount", decimal(charge.unit_price), currencyID=charge.currency)


def _stages(consignment: _El, doc: TransportDocument) -> None:
    transports = doc.transports
    voyages = transports.vessel_voyages if transports else ()
    count = max(len(voyages), 1)
    for index in range(count):
        has_first_facts = index == 0 and (
            transports is not None
            or doc.invoice_payable_at is not None
            or doc.shipped_on_board_date is not None
            or doc.received_for_shipment_date is not None
        )
        if index >= len(voyages) and not has_first_facts:
            return
        stage = _sub(consignment, "cac:MainCarriageShipmentStage")
        _sub(stage, "cbc:TransportModeCode", MARITIME)
        if index < len(voyages):
            means = _sub(stage, "cac:TransportMeans")
            _sub(means, "cbc:JourneyID", voyages[index].voyage_number)
            _sub(_sub(means, "cac:MaritimeTransport"), "cbc:VesselName", voyages[index].vessel_name)
        if index == 0:
            _first_stage(stage, doc)
    if transports is not None:
        for which, mode in (("Pre", transports.pre_carriage_by), ("On", transports.on_carriage_by)):
            if mode is not None:
                stage = _sub(consignment, f"cac:{which}CarriageShipmentStage")
                _sub(stage, "cbc:TransportMeansTypeCode", mode, listID=LIST_MODE)


def _first_stage(stage: _El, doc: TransportDocument) -> None:
    transports = doc.transports
    if transports is not None:
        _location(_sub(stage, "cac:LoadingPortLocation"), transports.port_of_loading)
        _location(_sub(stage, "cac:UnloadingPortLocation"), transports.port_of_discharge)
    if doc.shipped_on_board_date is not None:
        event = _sub(stage, "cac:LoadingTransportEvent")
        _sub(event, "cbc:OccurrenceDate", doc.shipped_on_board_date.isoformat())
    receipt_place = _placed(transports.place_of_receipt if transports else None)
    if doc.received_for_shipment_date is not None or receipt_place is not None:
        event = _sub(stage, "cac:ReceiptTransportEvent")
        if doc.received_for_shipment_date is not None:
            _sub(event, "cbc:OccurrenceDate", doc.received_for_shipment_date.isoformat())
        if receipt_place is not None:
            _location(_sub(event, "cac:Location"), receipt_place)
    payable_at = _placed(doc.invoice_payable_at)
    if payable_at is not None:
        _location(_sub(stage, "cac:FreightChargeLocation"), payable_at)
    if transports is not None:
        departure = _sub(stage, "cac:PlannedDepartureTransportEvent")
        _sub(departure, "cbc:OccurrenceDate", transports.planned_departure.isoformat())
        arrival = _sub(stage, "cac:PlannedArrivalTransportEvent")
        _sub(arrival, "cbc:OccurrenceDate", transports.planned_arrival.isoformat())


def _measure(parent: _El, name: str, measure: Measure | None) -> None:
    if measure is not None:
        _sub(parent, name, decimal(measure.value), unitCode=measure.unit)


def _goods_item(el: _El, item: ConsignmentItem) -> None:
    _sub(el, "cbc:ID", item.carrier_booking_reference)
    for line in item.description_of_goods:
        _sub(el, "cbc:Description", line)
    if item.hs_codes or item.shipping_marks:
        goods = _sub(el, "cac:Item")
        for mark in item.shipping_marks:
            _sub(goods, "cbc:AdditionalInformation", mark)
        for code in item.hs_codes:
            classification = _sub(goods, "cac:CommodityClassification")
            _sub(classification, "cbc:ItemClassificationCode", code, listID=LIST_HS)
    for cargo in item.cargo_items:
        _cargo_item(_sub(el, "cac:ContainedGoodsItem"), cargo)


def _cargo_item(el: _El, cargo: CargoItem) -> None:
    _measure(el, "cbc:GrossWeightMeasure", cargo.gross_weight)
    _measure(el, "cbc:NetWeightMeasure", cargo.net_weight)
    _measure(el, "cbc:GrossVolumeMeasure", cargo.gross_volume)
    _measure(el, "cbc:NetVolumeMeasure", cargo.net_volume)
    for goods in cargo.packaging.dangerous_goods:
        _dangerous_goods(_sub(el, "cac:Item"), goods)
    _sub(_sub(el, "cac:GoodsItemContainer"), "cbc:ID", cargo.equipment_reference)
    package = _sub(el, "cac:ContainingPackage")
    _sub(package, "cbc:Quantity", str(cargo.packaging.number_of_packages))
    if cargo.packaging.package_code is not None:
        _sub(package, "cbc:PackagingTypeCode", cargo.packaging.package_code, listID=LIST_PACKAGE)
    elif cargo.packaging.imo_packaging_code is not None:
        _sub(
            package,
            "cbc:PackagingTypeCode",
            cargo.packaging.imo_packaging_code,
            listID=LIST_IMO_PACKAGING,
        )
    _sub(package, "cbc:PackingMaterial", cargo.packaging.description)


def _dangerous_goods(item: _El, goods: DangerousGoods) -> None:
    _sub(item, "cbc:Name", goods.proper_shipping_name)
    _sub(item, "cbc:HazardousRiskIndicator", "true")
    hazard = _sub(item, "cac:HazardousItem")
    if goods.un_number is not None:
        _sub(hazard, "cbc:UNDGCode", goods.un_number, listID=LIST_UNDG)
    elif goods.na_number is not None:
        _sub(hazard, "cbc:UNDGCode", goods.na_number, listID=LIST_NA)
    _opt(hazard, "cbc:EmergencyProceduresCode", goods.ems_number)
    _opt(hazard, "cbc:TechnicalName", goods.technical_name)
    _sub(hazard, "cbc:HazardClassID", goods.imo_class)
    if goods.packing_group is not None:
        transit = _sub(hazard, "cac:HazardousGoodsTransit")
        _sub(transit, "cbc:PackingCriteriaCode", str(goods.packing_group))


def _handling_unit(unit: _El, equipment: Equipment) -> None:
    for mark in equipment.shipping_marks:
        _sub(unit, "cbc:ShippingMarks", mark)
    el = _sub(unit, "cac:TransportEquipment")
    _sub(el, "cbc:ID", equipment.reference)
    supplier = SHIPPER_SUPPLIED if equipment.is_shipper_owned else CARRIER_SUPPLIED
    _sub(el, "cbc:ProviderTypeCode", supplier, listID="UN/EDIFACT 8077")
    _opt(el, "cbc:SizeTypeCode", equipment.iso_code, listID="ISO 6346")
    if equipment.is_non_operating_reefer is not None:
        _sub(el, "cbc:RefrigerationOnIndicator", _flag(not equipment.is_non_operating_reefer))
    reefer = equipment.reefer
    if reefer is not None and reefer.humidity_setpoint is not None:
        _sub(el, "cbc:HumidityPercent", decimal(reefer.humidity_setpoint))
    if reefer is not None:
        _sub(el, "cbc:RefrigeratedIndicator", "true")
    if equipment.tare_weight is not None:
        _measure(el, "cbc:TareWeightMeasure", equipment.tare_weight)
    if reefer is not None:
        values = (
            (reefer.temperature_setpoint, reefer.temperature_unit or "CEL"),
            (reefer.o2_setpoint, PERCENT),
            (reefer.co2_setpoint, PERCENT),
            (reefer.air_exchange_setpoint, reefer.air_exchange_unit or "MQH"),
        )
        for attribute, (value, unit_code) in zip(REEFER_DIMENSIONS, values, strict=True):
            if value is not None:
                dimension = _sub(el, "cac:MeasurementDimension")
                _sub(dimension, "cbc:AttributeID", attribute)
                _sub(dimension, "cbc:Measure", decimal(value), unitCode=unit_code)
    for seal in equipment.seals:
        seal_el = _sub(el, "cac:TransportEquipmentSeal")
        _sub(seal_el, "cbc:ID", seal.number)
        _opt(seal_el, "cbc:SealIssuerTypeCode", seal.source, listID=LIST_SEAL_SOURCE)


def _placed(location: Location | None) -> Location | None:
    """``location`` when UBL has something of it to carry (UN/LOCODE, name, address); a place
    given only by what UBL has no element for (a facility code: a warning) is left out, as a
    UBL instance holds no element void of content (UBL document constraint [IND5])."""
    return None if location is None or location == Location() else location


def _location(el: _El, location: Location) -> None:
    _opt(el, "cbc:ID", location.un_location_code, schemeID=LOCODE)
    _opt(el, "cbc:Name", location.name)
    if location.address is not None:
        _address(_sub(el, "cac:Address"), location.address, ())


def _party(el: _El, party: Party) -> None:
    for code in party.codes:
        attrs = {"schemeAgencyName": code.provider}
        if code.list_name:
            attrs["schemeName"] = code.list_name
        _sub(_sub(el, "cac:PartyIdentification"), "cbc:ID", code.code, **attrs)
    _sub(_sub(el, "cac:PartyName"), "cbc:Name", party.name)
    if party.address is not None or party.address_lines:
        _address(_sub(el, "cac:PostalAddress"), party.address, party.address_lines)
    if party.displayed_address:
        physical = _sub(el, "cac:PhysicalLocation")
        for line in party.displayed_address:
            _sub(physical, "cbc:Description", line)
    for tax in party.tax_references:
        scheme = _sub(el, "cac:PartyTaxScheme")
        _sub(scheme, "cbc:CompanyID", tax.value)
        country = _sub(_sub(scheme, "cac:RegistrationAddress"), "cac:Country")
        _sub(country, "cbc:IdentificationCode", tax.country_code)
        _sub(_sub(scheme, "cac:TaxScheme"), "cbc:ID", tax.type)
    _contacts(el, party.contacts)


def _contacts(el: _El, contacts: tuple[Contact, ...]) -> None:
    """The first contact as cac:Contact (UBL allows one), the others as cac:Person."""
    if contacts:
        _contact(_sub(el, "cac:Contact"), contacts[0])
    for contact in contacts[1:]:
        _contact(_sub(_sub(el, "cac:Person"), "cac:Contact"), contact)


def _contact(el: _El, contact: Contact) -> None:
    _sub(el, "cbc:Name", contact.name)
    _opt(el, "cbc:Telephone", contact.phone)
    _opt(el, "cbc:ElectronicMail", contact.email)


def _address(el: _El, address: Address | None, lines: tuple[str, ...]) -> None:
    if address is not None:
        _opt(el, "cbc:Postbox", address.po_box)
        _opt(el, "cbc:Floor", address.floor)
        _sub(el, "cbc:StreetName", address.street)
        _opt(el, "cbc:BuildingNumber", address.street_number)
        _sub(el, "cbc:CityName", address.city)
        _opt(el, "cbc:PostalZone", address.post_code)
        _opt(el, "cbc:CountrySubentity", address.state_region)
    for line in lines:
        _sub(_sub(el, "cac:AddressLine"), "cbc:Line", line)
    if address is not None:
        _sub(_sub(el, "cac:Country"), "cbc:IdentificationCode", address.country_code)
