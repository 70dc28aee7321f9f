"""Canonical :class:`TransportDocument` → UN/CEFACT D23B "Maritime Bill of Lading" JSON.

The message is ``{exchangedDocument, specifiedConsignment[]}`` of the BSP/MMT JSON Schema
snapshot (ITIGG Maritime IFT context; ``typeCode`` 706). Amounts, weights and quantities are
decimal *strings* in this schema. What the message has no place for is listed by
:func:`gateway.render.ebl_coverage.not_carried` in the result's warnings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from gateway.model.transport_document import (
    CargoItem,
    ConsignmentItem,
    Equipment,
    Location,
    Measure,
    Party,
    TransportDocument,
)
from gateway.render._fmt import decimal
from gateway.render.ebl_coverage import not_carried

BILL_OF_LADING = "706"
"""UNTDID 1001: Bill of lading original (the only code the maritime message allows)."""
CARRIER_CODE_AGENCIES = {"NMFTA": "182", "SMDG": "306"}
"""UNTDID 3055 agency codes the message allows for the carrier's id: 182 US NMFTA (SCAC),
306 SMDG."""
SEAL_PARTIES = {"CAR": "CA", "SHI": "SH", "CUS": "CU", "VET": "AC"}
"""DCSA seal source → UNTDID 9303 sealing party (a veterinary seal: quarantine agency)."""
PAYMENT_ARRANGEMENTS = {"PRE": "P", "COL": "C"}
"""DCSA charge payment term → UNTDID 4237 payment arrangement: P Prepaid, C Collect."""

_PARTY = (
    "partyName",
    "identifyingCodes/*/partyCode",
    "address/street",
    "address/city",
    "address/postCode",
    "address/countryCode",
    "address/stateRegion",
    "partyContactDetails/*/name",
    "partyContactDetails/*/email",
    "partyContactDetails/*/phone",
    "taxLegalReferences/*/value",
    "taxLegalReferences/*/type",
)
CARRIED = (
    "/transportDocumentReference",
    "/transportDocumentTypeCode",
    "/isElectronic",
    "/issueDate",
    "/carrierClauses/*",
    "/termsAndConditions",
    "/documentParties/issuingParty/partyName",
    *(
        f"/documentParties/{role}/{member}"
        for role in ("shipper", "consignee")
        for member in _PARTY
    ),
    *(f"/documentParties/notifyParties/*/{member}" for member in _PARTY[:-1]),
    "/carrierCode",
    "/carrierCodeListProvider",
    "/serviceContractReference",
    "/shippedOnBoardDate",
    "/declaredValue",
    "/declaredValueCurrency",
    "/transports/portOfLoading/*",
    "/transports/portOfDischarge/*",
    "/transports/placeOfReceipt/*",
    "/transports/placeOfDelivery/*",
    "/transports/vesselVoyages/*/*",
    "/transports/plannedDepartureDate",
    "/transports/plannedArrivalDate",
    "/consignmentItems/*/carrierBookingReference",
    "/consignmentItems/*/descriptionOfGoods/*",
    "/consignmentItems/*/shippingMarks/*",
    "/consignmentItems/*/cargoItems/*/equipmentReference",
    "/consignmentItems/*/cargoItems/*/cargoGrossWeight/*",
    "/consignmentItems/*/cargoItems/*/cargoGrossVolume/*",
    "/consignmentItems/*/cargoItems/*/outerPackaging/numberOfPackages",
    "/consignmentItems/*/cargoItems/*/outerPackaging/packageCode",
    "/consignmentItems/*/cargoItems/*/outerPackaging/dangerousGoods/*/UNNumber",
    "/consignmentItems/*/cargoItems/*/outerPackaging/dangerousGoods/*/properShippingName",
    "/consignmentItems/*/cargoItems/*/outerPackaging/dangerousGoods/*/imoClass",
    "/consignmentItems/*/cargoItems/*/outerPackaging/dangerousGoods/*/EMSNumber",
    "/utilizedTransportEquipments/*/equipment/equipmentReference",
    "/utilizedTransportEquipments/*/equipment/tareWeight/*",
    "/utilizedTransportEquipments/*/seals/*/number",
    "/utilizedTransportEquipments/*/seals/*/source",
    "/utilizedTransportEquipments/*/activeReeferSettings/temperatureSetpoint",
    "/utilizedTransportEquipments/*/activeReeferSettings/temperatureUnit",
    "/utilizedTransportEquipments/*/activeReeferSettings/humiditySetpoint",
    "/charges/*/chargeName",
    "/charges/*/currencyAmount",
    "/charges/*/currencyCode",
    "/charges/*/paymentTermCode",
)
"""DCSA members (JSON pointers, ``*`` for any key or index) this message carries."""


@dataclass(slots=True)
class UncefactOutput:
    """The D23B JSON object and what it could not carry."""

    data: dict[str, Any]
    warnings: list[str] = field(default_factory=list)


def _text(value: str) -> dict[str, str]:
    return {"content": value}


def _id(value: str, **attrs: str) -> dict[str, str]:
    return {"content": value, **attrs}


def _measure(measure: Measure) -> dict[str, str]:
    return {"content": decimal(measure.value), "unitCode": measure.unit}


def render_uncefact(doc: TransportDocument) -> UncefactOutput:
    """The D23B Maritime Bill of Lading of ``doc``."""
    header: dict[str, Any] = {
        "id": _id(doc.display_reference),
        "typeCode": {"content": BILL_OF_LADING},
        "isOrHasElectronicPresentation": doc.is_electronic,
    }
    if doc.issue_date is not None:
        header["issueDateTime"] = f"{doc.issue_date.isoformat()}T00:00:00Z"
    clauses = list(doc.carrier_clauses)
    if doc.terms_and_conditions:
        clauses.append(doc.terms_and_conditions)
    if clauses:
        header["contractualDocumentClause"] = [
            {"id": _id(str(i + 1)), "content": [_text(c)]} for i, c in enumerate(clauses)
        ]
    if doc.parties.issuing_party is not None:
        header["issuer"] = {"name": [_text(doc.parties.issuing_party.name)]}
    data = {"exchangedDocument": header, "specifiedConsignment": [_consignment(doc)]}
    return UncefactOutput(data, not_carried(doc, CARRIED, "UN/CEFACT D23B"))


def _consignment(doc: TransportDocument) -> dict[str, Any]:
    cargo = [c for item in doc.consignment_items for c in item.cargo_items]
    out: dict[str, Any] = {
        "carrierAssignedId": _id(doc.display_reference),
        "packageQuantity": {"content": str(sum(c.packaging.number_of_packages for c in cargo))},
        "transportEquipmentQuantity": [{"content": str(len(doc.equipments))}],
    }
    totals: dict[str, Decimal] = {}
    for c in cargo:
        totals[c.gross_weight.unit] = (
            totals.get(c.gross_weight.unit, Decimal(0)) + c.gross_weight.value
        )
    out["grossWeight"] = [_measure(Measure(v, u)) for u, v in totals.items()]
    if doc.declared_value is not None and doc.declared_value_currency:
        out["declaredValueForCarriageAmount"] = {
            "content": decimal(doc.declared_value),
            "currencyId": doc.declared_value_currency,
        }
    if doc.service_contract_reference:
        out["contractId"] = [_id(doc.service_contract_reference)]
    if doc.shipped_on_board_date is not None:
        out["shippedOnboardDateTime"] = [doc.shipped_on_board_date.isoformat()]
    out["consignor"] = _party(doc.parties.shipper)
    if doc.parties.consignee is not None:
        out["consignee"] = _party(doc.parties.consignee)
    carrier = _carrier(doc)
    if carrier:
        out["carrier"] = carrier
    if doc.parties.notify_parties:
        out["notified"] = [_party(p, with_tax=False) for p in doc.parties.notify_parties]
    transports = doc.transports
    if transports is not None and transports.place_of_receipt is not None:
        out["carrierAcceptanceLogisticsLocation"] = _location(transports.place_of_receipt)
    if transports is not None and transports.place_of_delivery is not None:
        out["consigneeReceiptLogisticsLocation"] = _location(transports.place_of_delivery)
    out["includedConsignmentItem"] = [
        _item(index, item, c)
        for index, item in enumerate(doc.consignment_items)
        for c in item.cargo_items
    ]
    out["utilizedLogisticsTransportEquipment"] = [_equipment(e) for e in doc.equipments]
    if transports is not None:
        out["mainCarriageLogisticsTransportMovement"] = [
            {
                "id": _id(voyage.voyage_number),
                "loadingEvent": {
                    "estimatedOccurrenceDateTime": f"{transports.planned_departure}T00:00:00Z",
                    "occurrenceLogisticsLocation": _location(transports.port_of_loading),
                },
                "unloadingEvent": {
                    "estimatedOccurrenceDateTime": f"{transports.planned_arrival}T00:00:00Z",
                    "occurrenceLogisticsLocation": _location(transports.port_of_discharge),
                },
                "usedLogisticsTransportMeans": {"name": _text(voyage.vessel_name)},
            }
            for voyage in transports.vessel_voyages
        ]
    if doc.charges:
        out["applicableLogisticsServiceCharge"] = [
            {
                "description": [_text(charge.name)],
                "appliedAmount": [
                    {"content": decimal(charge.amount), "currencyId": charge.currency}
                ],
                "paymentArrangementCode": {"content": PAYMENT_ARRANGEMENTS[charge.payment_term]},
            }
            for charge in doc.charges
        ]
    return out


def _carrier(doc: TransportDocument) -> dict[str, Any]:
    carrier: dict[str, Any] = {}
    if doc.carrier_code is not None:
        agency = CARRIER_CODE_AGENCIES.get(doc.carrier_code_list_provider or "")
        carrier["id"] = [_id(doc.carrier_code, **({"schemeAgencyId": agency} if agency else {}))]
    if doc.parties.issuing_party is not None:
        carrier["name"] = [_text(doc.parties.issuing_party.name)]
    return carrier


def _party(party: Party, *, with_tax: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {"name": [_text(party.name)]}
    if party.codes:
        out["id"] = [_id(c.code) for c in party.codes]
    if party.address is not None:
        address: dict[str, Any] = {
            "streetName": [_text(party.address.street)],
            "cityName": [_text(party.address.city)],
            "countryId": {"content": party.address.country_code},
        }
        if party.address.post_code:
            address["postcodeCode"] = [{"content": party.address.post_code}]
        if party.address.state_region:
            address["countrySubDivisionName"] = [_text(party.address.state_region)]
        out["postalTradeAddress"] = address
    if party.contacts:
        unique = dict.fromkeys(party.contacts)
        out["definedTradeContact"] = [_contact(c.name, c.email, c.phone) for c in unique]
    if with_tax and party.tax_references:
        out["specifiedTaxRegistration"] = [
            {"id": _id(t.value, schemeName=t.type)} for t in party.tax_references
        ]
    return out


def _contact(name: str, email: str | None, phone: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {"personName": [_text(name)]}
    if phone:
        out["telephoneUniversalCommunication"] = [{"completeNumber": _text(phone)}]
    if email:
        out["emailURIUniversalCommunication"] = {"uri": _id(email)}
    return out


def _location(location: Location) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if location.un_location_code:
        out["id"] = [_id(location.un_location_code, schemeAgencyId="6")]
    name = location.name or (location.address.city if location.address else None)
    if name:
        out["name"] = [_text(name)]
    return out


def _item(index: int, item: ConsignmentItem, cargo: CargoItem) -> dict[str, Any]:
    out: dict[str, Any] = {
        "grossWeight": [_measure(cargo.gross_weight)],
        "information": [_text(f"booking {item.carrier_booking_reference}")]
        + [_text(line) for line in item.description_of_goods],
        "associatedReferencedLogisticsTransportEquipment": [{"id": _id(cargo.equipment_reference)}],
    }
    if cargo.gross_volume is not None:
        out["grossVolume"] = [_measure(cargo.gross_volume)]
    package: dict[str, Any] = {
        "itemQuantity": {"content": str(cargo.packaging.number_of_packages)},
    }
    if cargo.packaging.package_code:
        package["typeCode"] = [{"content": cargo.packaging.package_code}]
    out["transportLogisticsPackage"] = [package]
    if item.shipping_marks:
        out["physicalLogisticsShippingMarks"] = [
            {"marking": [_text(mark) for mark in item.shipping_marks]}
        ]
    goods = cargo.packaging.dangerous_goods
    if goods:
        out["applicableDangerousGoods"] = [
            {
                **({"undgIdCode": {"content": g.un_number}} if g.un_number else {}),
                "information": [_text(g.proper_shipping_name)],
                "hazardClassificationId": _id(g.imo_class),
                **({"emsId": _id(g.ems_number)} if g.ems_number else {}),
            }
            for g in goods
        ]
    return out


def _equipment(equipment: Equipment) -> dict[str, Any]:
    out: dict[str, Any] = {"id": _id(equipment.reference)}
    if equipment.tare_weight is not None:
        out["tareWeight"] = _measure(equipment.tare_weight)
    reefer = equipment.reefer
    if reefer is not None and reefer.humidity_setpoint is not None:
        out["humidityPercent"] = {"content": decimal(reefer.humidity_setpoint)}
    if equipment.seals:
        out["affixedLogisticsSeal"] = [
            {
                "id": [_id(seal.number)],
                **(
                    {"sealingPartyRoleCode": {"content": SEAL_PARTIES[seal.source]}}
                    if seal.source in SEAL_PARTIES
                    else {}
                ),
            }
            for seal in equipment.seals
        ]
    if reefer is not None and reefer.temperature_setpoint is not None:
        unit = reefer.temperature_unit or "CEL"
        out["settingTransportSettingTemperature"] = [
            {"value": {"content": decimal(reefer.temperature_setpoint), "unitCode": unit}}
        ]
    return out
