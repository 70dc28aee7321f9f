"""OASIS UBL 2.1 ``BillOfLading`` → :class:`TransportDocument` (the inverse of
:mod:`gateway.render.ubl_bill_of_lading`, whose table says where each fact sits).

Input is hostile: it is parsed with :func:`gateway.xmlsafe.parse_xml` (no DTD, no entities,
size and depth limits). A missing or malformed fact is a :class:`~gateway.errors.FieldError`
naming its XPath; stated totals (shipment gross weight, consignment package count) that do
not match the goods items are refused (rule ``ebl.totals``). The caller validates against the
UBL XSD first.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from lxml import etree

from gateway.errors import FieldError, InputError, UnknownFormatError
from gateway.model.transport_document import (
    Address,
    CargoItem,
    Charge,
    ConsignmentItem,
    Contact,
    DangerousGoods,
    DocumentParties,
    Equipment,
    Location,
    Measure,
    Packaging,
    Party,
    PartyCode,
    ReeferSettings,
    Seal,
    SourceKind,
    TaxLegalReference,
    TransportDocument,
    Transports,
    VesselVoyage,
)
from gateway.read._values import decimal_value
from gateway.render.ubl_bill_of_lading import (
    CAC,
    CBC,
    DOCUMENT_NAMES,
    LIST_IMO_PACKAGING,
    LIST_NA,
    NS,
    PROFILE_ELECTRONIC,
    PROFILE_PAPER,
    SHIPPER_SUPPLIED,
)
from gateway.xmlsafe import parse_xml

_El = etree._Element
_NAMES = {name: key for key, name in DOCUMENT_NAMES.items()}
_PATHS = {NS: "BillOfLading", CAC: "cac", CBC: "cbc"}


def read_bill_of_lading_xml(data: bytes) -> TransportDocument:
    """Parse (safely) and read a UBL ``BillOfLading``."""
    return read_bill_of_lading(parse_xml(data, what="UBL BillOfLading"))


def _where(el: _El) -> str:
    """A readable XPath of ``el`` (``/BillOfLading/cac:Shipment/cac:GoodsItem[2]``)."""
    parts: list[str] = []
    node: _El | None = el
    while node is not None:
        qname = etree.QName(node)
        prefix = "" if qname.namespace == NS else ("cac:" if qname.namespace == CAC else "cbc:")
        parent = node.getparent()
        siblings = [] if parent is None else [c for c in parent if c.tag == node.tag]
        index = f"[{siblings.index(node) + 1}]" if len(siblings) > 1 else ""
        parts.append(f"{prefix}{qname.localname}{index}")
        node = parent
    return "/" + "/".join(reversed(parts))


def _all(el: _El, path: str) -> list[_El]:
    found: list[_El] = el.findall(path, {"cac": CAC, "cbc": CBC})
    return found


def _one(el: _El, path: str) -> _El | None:
    found = _all(el, path)
    return found[0] if found else None


def _text(el: _El, path: str) -> str | None:
    node = _one(el, path)
    if node is None:
        return None
    return node.text or ""


def _required_text(el: _El, path: str) -> str:
    value = _text(el, path)
    if not value:
        raise FieldError(f"{_where(el)}/{path} is missing", field=f"{_where(el)}/{path}")
    return value


def _texts(el: _El, path: str) -> tuple[str, ...]:
    return tuple(n.text or "" for n in _all(el, path))


def _decimal(node: _El) -> Decimal:
    """The element's ``xs:decimal`` (XML Schema Part 2 §3.2.3: no exponent, no NaN; at most
    40 characters, as every reader of the gateway takes it): ``1E+999999999`` packages is
    refused here rather than turned into a billion-digit integer."""
    value = decimal_value((node.text or "").strip(), _where(node))
    assert value is not None  # a text is given
    return value


def _number(el: _El, path: str) -> Decimal | None:
    node = _one(el, path)
    return None if node is None else _decimal(node)


def _integer(node: _El) -> int:
    value = _decimal(node)
    if value != value.to_integral_value():
        raise FieldError(f"{_where(node)} must be a whole number", field=_where(node))
    return int(value)


def _date(el: _El, path: str) -> dt.date | None:
    node = _one(el, path)
    if node is None:
        return None
    try:
        return dt.date.fromisoformat((node.text or "").strip())
    except ValueError:
        raise FieldError(
            f"{_where(node)} is not a date: {node.text!r}", field=_where(node)
        ) from None


def _flag(el: _El, path: str) -> bool | None:
    value = _text(el, path)
    if value is None:
        return None
    if value not in ("true", "false"):
        raise FieldError(f"{_where(el)}/{path} must be true or false", field=_where(el))
    return value == "true"


def _measure(el: _El, path: str) -> Measure | None:
    node = _one(el, path)
    if node is None:
        return None
    unit = node.get("unitCode")
    if not unit:
        raise FieldError(f"{_where(node)} has no unitCode", field=_where(node))
    return Measure(_decimal(node), unit)


def read_bill_of_lading(root: _El) -> TransportDocument:
    """Read a parsed ``BillOfLading`` element. One without a status and a route is the draft
    of shipping instructions (:attr:`SourceKind.SHIPPING_INSTRUCTIONS`)."""
    if root.tag != f"{{{NS}}}BillOfLading":
        raise UnknownFormatError(
            f"not a UBL BillOfLading (root {etree.QName(root).localname})", rule="ubl.root"
        )
    name = _required_text(root, "cbc:Name")
    if name not in _NAMES:
        raise FieldError(
            f"/BillOfLading/cbc:Name {name!r} is not one of {sorted(_NAMES)}",
            field="/BillOfLading/cbc:Name",
            rule="ebl.document-name",
        )
    type_code, on_board = _NAMES[name]
    profile = _text(root, "cbc:ProfileID")
    if profile not in (PROFILE_ELECTRONIC, PROFILE_PAPER):
        raise FieldError(
            f"/BillOfLading/cbc:ProfileID must be {PROFILE_ELECTRONIC} or {PROFILE_PAPER}",
            field="/BillOfLading/cbc:ProfileID",
        )
    to_order = _flag(root, "cbc:ToOrderIndicator")
    shipment = _one(root, "cac:Shipment")
    consignment = None if shipment is None else _one(shipment, "cac:Consignment")
    shipper = _one(root, "cac:ConsignorParty")
    if to_order is None or shipment is None or consignment is None or shipper is None:
        raise FieldError(
            "a BillOfLading needs cbc:ToOrderIndicator, cac:ConsignorParty and "
            "cac:Shipment/cac:Consignment",
            field="/BillOfLading",
        )
    items = tuple(_consignment_item(g) for g in _all(shipment, "cac:GoodsItem"))
    _check_totals(shipment, consignment, items)
    declared = _one(root, "cbc:DeclaredCarriageValueAmount")
    stage = _one(consignment, "cac:MainCarriageShipmentStage")
    carrier = _one(consignment, "cac:CarrierParty")
    carrier_id = None if carrier is None else _one(carrier, "cac:PartyIdentification/cbc:ID")
    status = _text(root, "cbc:DocumentStatusCode")
    transports = _transports(consignment, shipment)
    draft = status is None and transports is None
    return TransportDocument(
        type_code=type_code,
        is_shipped_on_board_type=on_board,
        is_electronic=profile == PROFILE_ELECTRONIC,
        is_to_order=to_order,
        parties=_parties(root, shipment, consignment, shipper),
        consignment_items=items,
        equipments=tuple(_equipment(u) for u in _all(shipment, "cac:TransportHandlingUnit")),
        source=SourceKind.SHIPPING_INSTRUCTIONS if draft else SourceKind.TRANSPORT_DOCUMENT,
        reference=_text(root, "cbc:ID"),
        status=status,
        terms_and_conditions=_text(root, "cbc:Description"),
        receipt_type_at_origin=_text(
            consignment, "cac:OriginalDespatchTransportationService/cbc:TransportServiceCode"
        ),
        delivery_type_at_destination=_text(
            consignment, "cac:FinalDeliveryTransportationService/cbc:TransportServiceCode"
        ),
        cargo_movement_type_at_origin=_text(
            consignment, "cac:OriginalDespatchTransportationService/cbc:TariffClassCode"
        ),
        cargo_movement_type_at_destination=_text(
            consignment, "cac:FinalDeliveryTransportationService/cbc:TariffClassCode"
        ),
        carrier_code=None if carrier_id is None else (carrier_id.text or "").strip(),
        carrier_code_list_provider=None
        if carrier_id is None
        else carrier_id.get("schemeAgencyName"),
        transports=transports,
        contacts=() if carrier is None else _contacts(carrier),
        invoice_payable_at=None if stage is None else _location(stage, "cac:FreightChargeLocation"),
        sub_reference=_text(root, "cbc:CarrierAssignedID"),
        shipping_instructions_reference=_text(root, "cbc:ShippingOrderID"),
        freight_payment_term=_payment_term(consignment),
        issue_date=_date(root, "cbc:IssueDate"),
        shipped_on_board_date=None
        if stage is None
        else _date(stage, "cac:LoadingTransportEvent/cbc:OccurrenceDate"),
        received_for_shipment_date=None
        if stage is None
        else _date(stage, "cac:ReceiptTransportEvent/cbc:OccurrenceDate"),
        service_contract_reference=_text(consignment, "cac:TransportContract/cbc:ID"),
        declared_value=None if declared is None else _decimal(declared),
        declared_value_currency=None if declared is None else declared.get("currencyID"),
        carrier_clauses=_texts(root, "cbc:Note"),
        charges=tuple(_charge(c) for c in _all(consignment, "cac:FreightAllowanceCharge")),
    )


def _check_totals(shipment: _El, consignment: _El, items: tuple[ConsignmentItem, ...]) -> None:
    cargo = [c for i in items for c in i.cargo_items]
    stated = _one(consignment, "cbc:TotalPackagesQuantity")
    if stated is not None:
        counted = sum(c.packaging.number_of_packages for c in cargo)
        if _integer(stated) != counted:
            raise InputError(
                f"{_where(stated)} says {_integer(stated)} packages, the goods items hold "
                f"{counted}",
                field=_where(stated),
                rule="ebl.totals",
            )
    weight = _measure(shipment, "cbc:GrossWeightMeasure")
    if weight is not None:
        same_unit = [c.gross_weight.value for c in cargo if c.gross_weight.unit == weight.unit]
        if len(same_unit) == len(cargo) and sum(same_unit, Decimal(0)) != weight.value:
            where = f"{_where(shipment)}/cbc:GrossWeightMeasure"
            raise InputError(
                f"{where} says {weight.value} {weight.unit}, the cargo items weigh "
                f"{sum(same_unit, Decimal(0))} {weight.unit}",
                field=where,
                rule="ebl.totals",
            )


def _parties(root: _El, shipment: _El, consignment: _El, shipper: _El) -> DocumentParties:
    issuing = _one(root, "cac:CarrierParty")
    consignee = _one(consignment, "cac:ConsigneeParty")
    endorsee = _one(consignment, "cac:BillOfLadingHolderParty")
    return DocumentParties(
        shipper=_party(shipper),
        issuing_party=None if issuing is None else _party(issuing),
        consignee=None if consignee is None else _party(consignee),
        endorsee=None if endorsee is None else _party(endorsee),
        notify_parties=tuple(_party(p) for p in _all(shipment, "cac:Delivery/cac:NotifyParty")),
    )


def _party(el: _El) -> Party:
    postal = _one(el, "cac:PostalAddress")
    return Party(
        name=_required_text(el, "cac:PartyName/cbc:Name"),
        address=None if postal is None else _address(postal),
        address_lines=() if postal is None else _texts(postal, "cac:AddressLine/cbc:Line"),
        displayed_address=_texts(el, "cac:PhysicalLocation/cbc:Description"),
        codes=tuple(
            PartyCode(
                node.get("schemeAgencyName") or "",
                node.text or "",
                node.get("schemeName"),
            )
            for node in _all(el, "cac:PartyIdentification/cbc:ID")
        ),
        tax_references=tuple(
            TaxLegalReference(
                _required_text(scheme, "cac:TaxScheme/cbc:ID"),
                _required_text(
                    scheme, "cac:RegistrationAddress/cac:Country/cbc:IdentificationCode"
                ),
                _required_text(scheme, "cbc:CompanyID"),
            )
            for scheme in _all(el, "cac:PartyTaxScheme")
        ),
        contacts=_contacts(el),
    )


def _contacts(el: _El) -> tuple[Contact, ...]:
    nodes = _all(el, "cac:Contact") + _all(el, "cac:Person/cac:Contact")
    return tuple(
        Contact(
            _required_text(node, "cbc:Name"),
            _text(node, "cbc:ElectronicMail"),
            _text(node, "cbc:Telephone"),
        )
        for node in nodes
    )


def _address(el: _El) -> Address | None:
    if _one(el, "cbc:StreetName") is None and _one(el, "cbc:CityName") is None:
        return None
    return Address(
        street=_required_text(el, "cbc:StreetName"),
        city=_required_text(el, "cbc:CityName"),
        country_code=_required_text(el, "cac:Country/cbc:IdentificationCode"),
        street_number=_text(el, "cbc:BuildingNumber"),
        floor=_text(el, "cbc:Floor"),
        post_code=_text(el, "cbc:PostalZone"),
        po_box=_text(el, "cbc:Postbox"),
        state_region=_text(el, "cbc:CountrySubentity"),
    )


def _location(el: _El, path: str) -> Location | None:
    node = _one(el, path)
    if node is None:
        return None
    address = _one(node, "cac:Address")
    return Location(
        un_location_code=_text(node, "cbc:ID"),
        name=_text(node, "cbc:Name"),
        address=None if address is None else _address(address),
    )


def _transports(consignment: _El, shipment: _El) -> Transports | None:
    stages = _all(consignment, "cac:MainCarriageShipmentStage")
    first = stages[0] if stages else None
    if first is None or _one(first, "cac:LoadingPortLocation") is None:
        return None
    loading = _location(first, "cac:LoadingPortLocation")
    discharge = _location(first, "cac:UnloadingPortLocation")
    departure = _date(first, "cac:PlannedDepartureTransportEvent/cbc:OccurrenceDate")
    arrival = _date(first, "cac:PlannedArrivalTransportEvent/cbc:OccurrenceDate")
    if loading is None or discharge is None or departure is None or arrival is None:
        raise FieldError(
            f"{_where(first)} needs the loading and unloading ports and the planned "
            "departure and arrival dates",
            field=_where(first),
        )
    voyages = tuple(
        VesselVoyage(
            _required_text(stage, "cac:TransportMeans/cac:MaritimeTransport/cbc:VesselName"),
            _required_text(stage, "cac:TransportMeans/cbc:JourneyID"),
        )
        for stage in stages
        if _one(stage, "cac:TransportMeans") is not None
    )
    return Transports(
        planned_departure=departure,
        planned_arrival=arrival,
        port_of_loading=loading,
        port_of_discharge=discharge,
        vessel_voyages=voyages,
        place_of_receipt=_location(first, "cac:ReceiptTransportEvent/cac:Location"),
        place_of_delivery=_location(shipment, "cac:Delivery/cac:DeliveryLocation"),
        pre_carriage_by=_text(
            consignment, "cac:PreCarriageShipmentStage/cbc:TransportMeansTypeCode"
        ),
        on_carriage_by=_text(consignment, "cac:OnCarriageShipmentStage/cbc:TransportMeansTypeCode"),
    )


def _payment_term(consignment: _El) -> str | None:
    if _one(consignment, "cac:PrepaidPaymentTerms") is not None:
        return "PRE"
    if _one(consignment, "cac:CollectPaymentTerms") is not None:
        return "COL"
    return None


def _charge(el: _El) -> Charge:
    reasons = _texts(el, "cbc:AllowanceChargeReason")
    amount = _one(el, "cbc:Amount")
    unit_price = _number(el, "cbc:PerUnitAmount")
    quantity = _number(el, "cbc:MultiplierFactorNumeric")
    if len(reasons) != 2 or amount is None or unit_price is None or quantity is None:
        raise FieldError(
            f"{_where(el)} needs two cbc:AllowanceChargeReason (charge name, calculation "
            "basis), cbc:Amount, cbc:PerUnitAmount and cbc:MultiplierFactorNumeric",
            field=_where(el),
        )
    return Charge(
        name=reasons[0],
        amount=_decimal(amount),
        currency=amount.get("currencyID") or "",
        payment_term="PRE" if _flag(el, "cbc:PrepaidIndicator") else "COL",
        calculation_basis=reasons[1],
        unit_price=unit_price,
        quantity=quantity,
    )


def _consignment_item(el: _El) -> ConsignmentItem:
    return ConsignmentItem(
        carrier_booking_reference=_required_text(el, "cbc:ID"),
        description_of_goods=_texts(el, "cbc:Description"),
        hs_codes=_texts(el, "cac:Item/cac:CommodityClassification/cbc:ItemClassificationCode"),
        cargo_items=tuple(_cargo_item(c) for c in _all(el, "cac:ContainedGoodsItem")),
        shipping_marks=_texts(el, "cac:Item/cbc:AdditionalInformation"),
    )


def _cargo_item(el: _El) -> CargoItem:
    gross = _measure(el, "cbc:GrossWeightMeasure")
    package = _one(el, "cac:ContainingPackage")
    quantity = None if package is None else _one(package, "cbc:Quantity")
    if gross is None or package is None or quantity is None:
        raise FieldError(
            f"{_where(el)} needs cbc:GrossWeightMeasure and cac:ContainingPackage/cbc:Quantity",
            field=_where(el),
        )
    code = _one(package, "cbc:PackagingTypeCode")
    is_imo = code is not None and code.get("listID") == LIST_IMO_PACKAGING
    code_text = None if code is None else (code.text or "").strip()
    return CargoItem(
        equipment_reference=_required_text(el, "cac:GoodsItemContainer/cbc:ID"),
        gross_weight=gross,
        packaging=Packaging(
            number_of_packages=_integer(quantity),
            description=_required_text(package, "cbc:PackingMaterial"),
            package_code=None if is_imo else code_text,
            imo_packaging_code=code_text if is_imo else None,
            dangerous_goods=tuple(_dangerous_goods(i) for i in _all(el, "cac:Item")),
        ),
        gross_volume=_measure(el, "cbc:GrossVolumeMeasure"),
        net_weight=_measure(el, "cbc:NetWeightMeasure"),
        net_volume=_measure(el, "cbc:NetVolumeMeasure"),
    )


def _dangerous_goods(item: _El) -> DangerousGoods:
    hazard = _one(item, "cac:HazardousItem")
    if hazard is None:
        raise FieldError(f"{_where(item)} has no cac:HazardousItem", field=_where(item))
    undg = _one(hazard, "cbc:UNDGCode")
    is_na = undg is not None and undg.get("listID") == LIST_NA
    number = None if undg is None else (undg.text or "").strip()
    group = _one(hazard, "cac:HazardousGoodsTransit/cbc:PackingCriteriaCode")
    return DangerousGoods(
        proper_shipping_name=_required_text(item, "cbc:Name"),
        imo_class=_required_text(hazard, "cbc:HazardClassID"),
        un_number=None if is_na else number,
        na_number=number if is_na else None,
        technical_name=_text(hazard, "cbc:TechnicalName"),
        packing_group=None if group is None else _integer(group),
        ems_number=_text(hazard, "cbc:EmergencyProceduresCode"),
    )


def _equipment(unit: _El) -> Equipment:
    el = _one(unit, "cac:TransportEquipment")
    if el is None:
        raise FieldError(f"{_where(unit)} has no cac:TransportEquipment", field=_where(unit))
    refrigeration_on = _flag(el, "cbc:RefrigerationOnIndicator")
    reefer = None
    if _flag(el, "cbc:RefrigeratedIndicator"):
        dims = {
            _required_text(d, "cbc:AttributeID"): _one(d, "cbc:Measure")
            for d in _all(el, "cac:MeasurementDimension")
        }
        temperature = dims.get("temperatureSetpoint")
        air = dims.get("airExchangeSetpoint")
        reefer = ReeferSettings(
            temperature_setpoint=None if temperature is None else _decimal(temperature),
            temperature_unit=None if temperature is None else temperature.get("unitCode"),
            o2_setpoint=_dimension(dims.get("o2Setpoint")),
            co2_setpoint=_dimension(dims.get("co2Setpoint")),
            humidity_setpoint=_number(el, "cbc:HumidityPercent"),
            air_exchange_setpoint=None if air is None else _decimal(air),
            air_exchange_unit=None if air is None else air.get("unitCode"),
        )
    return Equipment(
        reference=_required_text(el, "cbc:ID"),
        is_shipper_owned=_text(el, "cbc:ProviderTypeCode") == SHIPPER_SUPPLIED,
        seals=tuple(
            Seal(_required_text(s, "cbc:ID"), _text(s, "cbc:SealIssuerTypeCode"))
            for s in _all(el, "cac:TransportEquipmentSeal")
        ),
        iso_code=_text(el, "cbc:SizeTypeCode"),
        tare_weight=_measure(el, "cbc:TareWeightMeasure"),
        is_non_operating_reefer=None if refrigeration_on is None else not refrigeration_on,
        reefer=reefer,
        shipping_marks=_texts(unit, "cbc:ShippingMarks"),
    )


def _dimension(node: _El | None) -> Decimal | None:
    return None if node is None else _decimal(node)
