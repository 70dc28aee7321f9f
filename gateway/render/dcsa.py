"""Canonical :class:`TransportDocument` → DCSA eBL 3.0.3 JSON.

A document with every carrier fact becomes a DCSA ``TransportDocument``; a draft read from
shipping instructions becomes ``CreateShippingInstructions`` again. The extensions the reader
kept are put back at their JSON pointers, so DCSA → canonical → DCSA gives the same members.
An extension whose place no longer exists is not dropped silently: it is in the warnings.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import secrets
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

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
    ReeferSettings,
    SourceKind,
    TransportDocument,
    Transports,
)


@dataclass(slots=True)
class DcsaOutput:
    """The DCSA JSON object, which root it is, and warnings."""

    data: dict[str, Any]
    kind: str
    """``TransportDocument`` or ``CreateShippingInstructions``."""
    warnings: list[str] = field(default_factory=list)


def render_dcsa(doc: TransportDocument) -> DcsaOutput:
    """The DCSA form of ``doc`` (see the module docstring)."""
    as_si = doc.source is SourceKind.SHIPPING_INSTRUCTIONS and bool(doc.missing_carrier_facts())
    data = _document(doc, as_si)
    out = DcsaOutput(data, "CreateShippingInstructions" if as_si else "TransportDocument")
    for where, value in doc.extensions.items():
        if not _put(data, where, value):
            out.warnings.append(f"{where}: kept member has no place in the output; not written")
    return out


def dump_json(data: Any) -> bytes:
    """``data`` as UTF-8 JSON, Decimals written as exact JSON numbers (never through float)."""
    token = secrets.token_hex(8)
    text = json.dumps(data, ensure_ascii=False, indent=2, default=lambda o: _number_token(o, token))
    pattern = re.compile(rf'"{token}:([-0-9.Ee+]+)"')
    return (pattern.sub(lambda m: m.group(1), text) + "\n").encode("utf-8")


def _number_token(value: Any, token: str) -> str:
    if isinstance(value, Decimal) and value.is_finite():
        return f"{token}:{value}"
    if isinstance(value, dt.date):
        return value.isoformat()
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def _put(data: dict[str, Any], where: str, value: Any) -> bool:
    parts = [p.replace("~1", "/").replace("~0", "~") for p in where.split("/")[1:]]
    node: Any = data
    for part in parts[:-1]:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return False
    if not isinstance(node, dict) or not parts:
        return False
    node[parts[-1]] = value
    return True


def _set(out: dict[str, Any], key: str, value: Any) -> None:
    """Write ``key`` unless ``value`` is empty (``None``, ``()``)."""
    if value is None or value == ():
        return
    out[key] = value.isoformat() if isinstance(value, dt.date) else value


def _document(doc: TransportDocument, as_si: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    _set(out, "transportDocumentReference", doc.reference)
    _set(out, "transportDocumentSubReference", doc.sub_reference)
    _set(out, "shippingInstructionsReference", doc.shipping_instructions_reference)
    _set(out, "transportDocumentStatus", doc.status)
    out["transportDocumentTypeCode"] = doc.type_code
    out["isShippedOnBoardType"] = doc.is_shipped_on_board_type
    _set(out, "freightPaymentTermCode", doc.freight_payment_term)
    out["isElectronic"] = doc.is_electronic
    out["isToOrder"] = doc.is_to_order
    _set(out, "shippedOnBoardDate", doc.shipped_on_board_date)
    _set(out, "termsAndConditions", doc.terms_and_conditions)
    _set(out, "receiptTypeAtOrigin", doc.receipt_type_at_origin)
    _set(out, "deliveryTypeAtDestination", doc.delivery_type_at_destination)
    _set(out, "cargoMovementTypeAtOrigin", doc.cargo_movement_type_at_origin)
    _set(out, "cargoMovementTypeAtDestination", doc.cargo_movement_type_at_destination)
    _set(out, "issueDate", doc.issue_date)
    _set(out, "receivedForShipmentDate", doc.received_for_shipment_date)
    _set(out, "serviceContractReference", doc.service_contract_reference)
    _set(out, "declaredValue", doc.declared_value)
    _set(out, "declaredValueCurrency", doc.declared_value_currency)
    _set(out, "carrierCode", doc.carrier_code)
    _set(out, "carrierCodeListProvider", doc.carrier_code_list_provider)
    _set(out, "carrierClauses", list(doc.carrier_clauses) or None)
    if doc.transports is not None:
        out["transports"] = _transports(doc.transports)
    _set(out, "charges", [_charge(c) for c in doc.charges] or None)
    _set(out, "placeOfIssue", _location(doc.place_of_issue))
    _set(out, "invoicePayableAt", _location(doc.invoice_payable_at))
    _set(out, "partyContactDetails", [_contact(c) for c in doc.contacts] or None)
    out["documentParties"] = _parties(doc.parties)
    out["consignmentItems"] = [_consignment_item(c) for c in doc.consignment_items]
    out["utilizedTransportEquipments"] = [_equipment(e, as_si) for e in doc.equipments]
    return out


def _parties(parties: DocumentParties) -> dict[str, Any]:
    out: dict[str, Any] = {"shipper": _party(parties.shipper)}
    if parties.consignee is not None:
        out["consignee"] = _party(parties.consignee)
    if parties.endorsee is not None:
        out["endorsee"] = _party(parties.endorsee)
    if parties.issuing_party is not None:
        out["issuingParty"] = _party(parties.issuing_party)
    if parties.notify_parties:
        out["notifyParties"] = [_party(p) for p in parties.notify_parties]
    return out


def _party(party: Party) -> dict[str, Any]:
    out: dict[str, Any] = {"partyName": party.name}
    _set(out, "address", _address(party.address))
    _set(out, "addressLines", list(party.address_lines) or None)
    _set(out, "displayedAddress", list(party.displayed_address) or None)
    codes = [
        {
            "codeListProvider": c.provider,
            "partyCode": c.code,
            **({"codeListName": c.list_name} if c.list_name else {}),
        }
        for c in party.codes
    ]
    _set(out, "identifyingCodes", codes or None)
    taxes = [
        {"type": t.type, "countryCode": t.country_code, "value": t.value}
        for t in party.tax_references
    ]
    _set(out, "taxLegalReferences", taxes or None)
    _set(out, "partyContactDetails", [_contact(c) for c in party.contacts] or None)
    return out


def _address(address: Address | None) -> dict[str, Any] | None:
    if address is None:
        return None
    out: dict[str, Any] = {"street": address.street}
    _set(out, "streetNumber", address.street_number)
    _set(out, "floor", address.floor)
    _set(out, "postCode", address.post_code)
    _set(out, "POBox", address.po_box)
    out["city"] = address.city
    _set(out, "stateRegion", address.state_region)
    out["countryCode"] = address.country_code
    return out


def _contact(contact: Contact) -> dict[str, Any]:
    out: dict[str, Any] = {"name": contact.name}
    _set(out, "email", contact.email)
    _set(out, "phone", contact.phone)
    return out


def _location(location: Location | None) -> dict[str, Any] | None:
    if location is None:
        return None
    out: dict[str, Any] = {}
    _set(out, "locationName", location.name)
    _set(out, "address", _address(location.address))
    _set(out, "UNLocationCode", location.un_location_code)
    return out


def _transports(transports: Transports) -> dict[str, Any]:
    out: dict[str, Any] = {
        "plannedDepartureDate": transports.planned_departure.isoformat(),
        "plannedArrivalDate": transports.planned_arrival.isoformat(),
    }
    _set(out, "preCarriageBy", transports.pre_carriage_by)
    _set(out, "onCarriageBy", transports.on_carriage_by)
    _set(out, "placeOfReceipt", _location(transports.place_of_receipt))
    out["portOfLoading"] = _location(transports.port_of_loading)
    out["portOfDischarge"] = _location(transports.port_of_discharge)
    _set(out, "placeOfDelivery", _location(transports.place_of_delivery))
    out["vesselVoyages"] = [
        {"vesselName": v.vessel_name, "carrierExportVoyageNumber": v.voyage_number}
        for v in transports.vessel_voyages
    ]
    return out


def _charge(charge: Charge) -> dict[str, Any]:
    return {
        "chargeName": charge.name,
        "currencyAmount": charge.amount,
        "currencyCode": charge.currency,
        "paymentTermCode": charge.payment_term,
        "calculationBasis": charge.calculation_basis,
        "unitPrice": charge.unit_price,
        "quantity": charge.quantity,
    }


def _measure(measure: Measure | None) -> dict[str, Any] | None:
    return None if measure is None else {"value": measure.value, "unit": measure.unit}


def _consignment_item(item: ConsignmentItem) -> dict[str, Any]:
    out: dict[str, Any] = {
        "carrierBookingReference": item.carrier_booking_reference,
        "descriptionOfGoods": list(item.description_of_goods),
        "HSCodes": list(item.hs_codes),
    }
    _set(out, "shippingMarks", list(item.shipping_marks) or None)
    out["cargoItems"] = [_cargo_item(c) for c in item.cargo_items]
    return out


def _cargo_item(item: CargoItem) -> dict[str, Any]:
    out: dict[str, Any] = {
        "equipmentReference": item.equipment_reference,
        "cargoGrossWeight": _measure(item.gross_weight),
    }
    _set(out, "cargoGrossVolume", _measure(item.gross_volume))
    _set(out, "cargoNetWeight", _measure(item.net_weight))
    _set(out, "cargoNetVolume", _measure(item.net_volume))
    out["outerPackaging"] = _packaging(item.packaging)
    return out


def _packaging(packaging: Packaging) -> dict[str, Any]:
    out: dict[str, Any] = {}
    _set(out, "packageCode", packaging.package_code)
    _set(out, "imoPackagingCode", packaging.imo_packaging_code)
    out["numberOfPackages"] = packaging.number_of_packages
    out["description"] = packaging.description
    goods = [_dangerous_goods(d) for d in packaging.dangerous_goods]
    _set(out, "dangerousGoods", goods or None)
    return out


def _dangerous_goods(goods: DangerousGoods) -> dict[str, Any]:
    out: dict[str, Any] = {}
    _set(out, "UNNumber", goods.un_number)
    _set(out, "NANumber", goods.na_number)
    out["properShippingName"] = goods.proper_shipping_name
    _set(out, "technicalName", goods.technical_name)
    out["imoClass"] = goods.imo_class
    _set(out, "packingGroup", goods.packing_group)
    _set(out, "EMSNumber", goods.ems_number)
    return out


def _equipment(equipment: Equipment, as_si: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if as_si and equipment.iso_code is None and equipment.tare_weight is None:
        out["equipmentReference"] = equipment.reference
    else:
        inner: dict[str, Any] = {"equipmentReference": equipment.reference}
        _set(inner, "ISOEquipmentCode", equipment.iso_code)
        _set(inner, "tareWeight", _measure(equipment.tare_weight))
        out["equipment"] = inner
    out["isShipperOwned"] = equipment.is_shipper_owned
    _set(out, "isNonOperatingReefer", equipment.is_non_operating_reefer)
    _set(out, "activeReeferSettings", _reefer(equipment.reefer))
    _set(out, "shippingMarks", list(equipment.shipping_marks) or None)
    out["seals"] = [
        {"number": s.number, **({"source": s.source} if s.source else {})} for s in equipment.seals
    ]
    return out


def _reefer(settings: ReeferSettings | None) -> dict[str, Any] | None:
    if settings is None:
        return None
    out: dict[str, Any] = {}
    _set(out, "temperatureSetpoint", settings.temperature_setpoint)
    _set(out, "temperatureUnit", settings.temperature_unit)
    _set(out, "o2Setpoint", settings.o2_setpoint)
    _set(out, "co2Setpoint", settings.co2_setpoint)
    _set(out, "humiditySetpoint", settings.humidity_setpoint)
    _set(out, "airExchangeSetpoint", settings.air_exchange_setpoint)
    _set(out, "airExchangeUnit", settings.air_exchange_unit)
    return out
