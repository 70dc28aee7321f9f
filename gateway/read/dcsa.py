"""DCSA eBL 3.0.3 JSON → :class:`~gateway.model.transport_document.TransportDocument`.

Reads a ``TransportDocument``, a ``CreateShippingInstructions`` (a draft: the carrier facts
are missing), an ``IssuanceRequest`` (its ``document``) or a PINT ``EblEnvelope`` (its
``transportDocument``). The caller validates against DCSA's schema first
(:mod:`gateway.validation.dcsa_schema`); this reader still refuses a wrong type with a
:class:`~gateway.errors.FieldError` naming the JSON pointer. Members it does not map are
kept in ``extensions``; members of an envelope around the document are listed in
:attr:`DcsaRead.warnings`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gateway.errors import FieldError, UnknownFormatError
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
from gateway.read._members import Members


@dataclass(slots=True)
class DcsaRead:
    """A DCSA document read: the canonical document, what the input was, and warnings."""

    document: TransportDocument
    input_kind: str
    """``TransportDocument``, ``CreateShippingInstructions``, ``IssuanceRequest`` or
    ``EblEnvelope`` or ``TransportDocumentNotification`` (full state)."""
    warnings: list[str] = field(default_factory=list)


def detect_kind(data: Any) -> str:
    """Which DCSA root document ``data`` is; :class:`UnknownFormatError` when none."""
    if not isinstance(data, dict):
        raise UnknownFormatError("a DCSA document is a JSON object", rule="dcsa.kind")
    if "issuanceManifestSignedContent" in data or ("document" in data and "issueTo" in data):
        return "IssuanceRequest"
    if "transportDocument" in data and "envelopeManifestSignedContent" in data:
        return "EblEnvelope"
    if isinstance(data.get("data"), dict) and "transportDocument" in data["data"]:
        return "TransportDocumentNotification"
    if "transportDocumentStatus" in data:
        return "TransportDocument"
    if "consignmentItems" in data and "documentParties" in data:
        return "CreateShippingInstructions"
    raise UnknownFormatError(
        "not a DCSA TransportDocument, CreateShippingInstructions, IssuanceRequest or "
        "EblEnvelope (no transportDocumentReference, document or consignmentItems)",
        rule="dcsa.kind",
    )


def read_dcsa(data: Any) -> DcsaRead:
    """Read any supported DCSA root document (see :func:`detect_kind`)."""
    kind = detect_kind(data)
    if kind == "IssuanceRequest":
        if not isinstance(data.get("document"), dict):
            raise FieldError(
                "/document: an IssuanceRequest carries its transport document there, as a "
                "JSON object",
                field="/document",
                rule="required",
            )
        others = sorted(k for k in data if k != "document")
        read = DcsaRead(read_transport_document(data["document"]), kind)
        read.warnings += [f"/{k}: issuance envelope member, not part of the eBL" for k in others]
        return read
    if kind == "EblEnvelope":
        others = sorted(k for k in data if k != "transportDocument")
        read = DcsaRead(read_transport_document(data["transportDocument"]), kind)
        read.warnings += [f"/{k}: PINT envelope member, not part of the eBL" for k in others]
        return read
    if kind == "TransportDocumentNotification":
        others = sorted(k for k in data if k != "data")
        read = DcsaRead(read_transport_document(data["data"]["transportDocument"]), kind)
        read.warnings += [f"/{k}: notification member, not part of the eBL" for k in others]
        return read
    if kind == "CreateShippingInstructions":
        return DcsaRead(read_transport_document(data, SourceKind.SHIPPING_INSTRUCTIONS), kind)
    return DcsaRead(read_transport_document(data), kind)


def read_transport_document(
    data: Any, source: SourceKind = SourceKind.TRANSPORT_DOCUMENT
) -> TransportDocument:
    """A DCSA ``TransportDocument`` (or shipping instructions) as the canonical model."""
    leftovers: dict[str, Any] = {}
    m = Members(data, "", leftovers)
    parties_m = m.object("documentParties")
    if parties_m is None:
        raise FieldError("/documentParties is missing", field="/documentParties")
    transports_m = m.object("transports")
    doc = TransportDocument(
        type_code=m.required_text("transportDocumentTypeCode"),
        is_shipped_on_board_type=m.required_flag("isShippedOnBoardType"),
        is_electronic=m.required_flag("isElectronic"),
        is_to_order=m.required_flag("isToOrder"),
        parties=_parties(parties_m),
        consignment_items=tuple(_consignment_item(c) for c in m.objects("consignmentItems")),
        equipments=tuple(_equipment(e) for e in m.objects("utilizedTransportEquipments")),
        source=source,
        reference=m.text("transportDocumentReference"),
        status=m.text("transportDocumentStatus"),
        terms_and_conditions=m.text("termsAndConditions"),
        receipt_type_at_origin=m.text("receiptTypeAtOrigin"),
        delivery_type_at_destination=m.text("deliveryTypeAtDestination"),
        cargo_movement_type_at_origin=m.text("cargoMovementTypeAtOrigin"),
        cargo_movement_type_at_destination=m.text("cargoMovementTypeAtDestination"),
        carrier_code=m.text("carrierCode"),
        carrier_code_list_provider=m.text("carrierCodeListProvider"),
        transports=None if transports_m is None else _transports(transports_m),
        contacts=tuple(_contact(c) for c in m.objects("partyContactDetails")),
        invoice_payable_at=_location(m.object("invoicePayableAt")),
        place_of_issue=_location(m.object("placeOfIssue")),
        sub_reference=m.text("transportDocumentSubReference"),
        shipping_instructions_reference=m.text("shippingInstructionsReference"),
        freight_payment_term=m.text("freightPaymentTermCode"),
        issue_date=m.date("issueDate"),
        shipped_on_board_date=m.date("shippedOnBoardDate"),
        received_for_shipment_date=m.date("receivedForShipmentDate"),
        service_contract_reference=m.text("serviceContractReference"),
        declared_value=m.number("declaredValue"),
        declared_value_currency=m.text("declaredValueCurrency"),
        carrier_clauses=m.texts("carrierClauses"),
        charges=tuple(_charge(c) for c in m.objects("charges")),
        extensions=leftovers,
    )
    m.done()
    return doc


def _parties(m: Members) -> DocumentParties:
    shipper = m.object("shipper")
    if shipper is None:
        raise FieldError(f"{m.at('shipper')} is missing", field=m.at("shipper"))
    parties = DocumentParties(
        shipper=_party(shipper),
        issuing_party=_optional_party(m.object("issuingParty")),
        consignee=_optional_party(m.object("consignee")),
        endorsee=_optional_party(m.object("endorsee")),
        notify_parties=tuple(_party(p) for p in m.objects("notifyParties")),
    )
    m.done()
    return parties


def _optional_party(m: Members | None) -> Party | None:
    return None if m is None else _party(m)


def _party(m: Members) -> Party:
    party = Party(
        name=m.required_text("partyName"),
        address=_address(m.object("address")),
        address_lines=m.texts("addressLines"),
        displayed_address=m.texts("displayedAddress"),
        codes=tuple(_party_code(c) for c in m.objects("identifyingCodes")),
        tax_references=tuple(_tax_reference(t) for t in m.objects("taxLegalReferences")),
        contacts=tuple(_contact(c) for c in m.objects("partyContactDetails")),
    )
    m.done()
    return party


def _address(m: Members | None) -> Address | None:
    if m is None:
        return None
    address = Address(
        street=m.required_text("street"),
        city=m.required_text("city"),
        country_code=m.required_text("countryCode"),
        street_number=m.text("streetNumber"),
        floor=m.text("floor"),
        post_code=m.text("postCode"),
        po_box=m.text("POBox"),
        state_region=m.text("stateRegion"),
    )
    m.done()
    return address


def _party_code(m: Members) -> PartyCode:
    code = PartyCode(
        m.required_text("codeListProvider"), m.required_text("partyCode"), m.text("codeListName")
    )
    m.done()
    return code


def _tax_reference(m: Members) -> TaxLegalReference:
    ref = TaxLegalReference(
        m.required_text("type"), m.required_text("countryCode"), m.required_text("value")
    )
    m.done()
    return ref


def _contact(m: Members) -> Contact:
    contact = Contact(m.required_text("name"), m.text("email"), m.text("phone"))
    m.done()
    return contact


def _location(m: Members | None) -> Location | None:
    if m is None:
        return None
    location = Location(
        un_location_code=m.text("UNLocationCode"),
        name=m.text("locationName"),
        address=_address(m.object("address")),
    )
    m.done()
    return location


def _required_location(m: Members, key: str) -> Location:
    location = _location(m.object(key))
    if location is None:
        raise FieldError(f"{m.at(key)} is missing", field=m.at(key), rule="required")
    return location


def _transports(m: Members) -> Transports:
    departure, arrival = m.date("plannedDepartureDate"), m.date("plannedArrivalDate")
    if departure is None or arrival is None:
        key = "plannedDepartureDate" if departure is None else "plannedArrivalDate"
        raise FieldError(f"{m.at(key)} is missing", field=m.at(key), rule="required")
    transports = Transports(
        planned_departure=departure,
        planned_arrival=arrival,
        port_of_loading=_required_location(m, "portOfLoading"),
        port_of_discharge=_required_location(m, "portOfDischarge"),
        vessel_voyages=tuple(_vessel_voyage(v) for v in m.objects("vesselVoyages")),
        place_of_receipt=_location(m.object("placeOfReceipt")),
        place_of_delivery=_location(m.object("placeOfDelivery")),
        pre_carriage_by=m.text("preCarriageBy"),
        on_carriage_by=m.text("onCarriageBy"),
    )
    m.done()
    return transports


def _vessel_voyage(m: Members) -> VesselVoyage:
    voyage = VesselVoyage(
        m.required_text("vesselName"), m.required_text("carrierExportVoyageNumber")
    )
    m.done()
    return voyage


def _measure(m: Members | None) -> Measure | None:
    if m is None:
        return None
    measure = Measure(m.required_number("value"), m.required_text("unit"))
    m.done()
    return measure


def _consignment_item(m: Members) -> ConsignmentItem:
    item = ConsignmentItem(
        carrier_booking_reference=m.required_text("carrierBookingReference"),
        description_of_goods=m.texts("descriptionOfGoods"),
        hs_codes=m.texts("HSCodes"),
        cargo_items=tuple(_cargo_item(c) for c in m.objects("cargoItems")),
        shipping_marks=m.texts("shippingMarks"),
    )
    m.done()
    return item


def _cargo_item(m: Members) -> CargoItem:
    gross = _measure(m.object("cargoGrossWeight"))
    packaging = m.object("outerPackaging")
    if gross is None or packaging is None:
        key = "cargoGrossWeight" if gross is None else "outerPackaging"
        raise FieldError(f"{m.at(key)} is missing", field=m.at(key), rule="required")
    item = CargoItem(
        equipment_reference=m.required_text("equipmentReference"),
        gross_weight=gross,
        packaging=_packaging(packaging),
        gross_volume=_measure(m.object("cargoGrossVolume")),
        net_weight=_measure(m.object("cargoNetWeight")),
        net_volume=_measure(m.object("cargoNetVolume")),
    )
    m.done()
    return item


def _packaging(m: Members) -> Packaging:
    count = m.integer("numberOfPackages")
    if count is None:
        raise FieldError(f"{m.at('numberOfPackages')} is missing", field=m.at("numberOfPackages"))
    packaging = Packaging(
        number_of_packages=count,
        description=m.required_text("description"),
        package_code=m.text("packageCode"),
        imo_packaging_code=m.text("imoPackagingCode"),
        dangerous_goods=tuple(_dangerous_goods(d) for d in m.objects("dangerousGoods")),
    )
    m.done()
    return packaging


def _dangerous_goods(m: Members) -> DangerousGoods:
    goods = DangerousGoods(
        proper_shipping_name=m.required_text("properShippingName"),
        imo_class=m.required_text("imoClass"),
        un_number=m.text("UNNumber"),
        na_number=m.text("NANumber"),
        technical_name=m.text("technicalName"),
        packing_group=m.integer("packingGroup"),
        ems_number=m.text("EMSNumber"),
    )
    m.done()
    return goods


def _equipment(m: Members) -> Equipment:
    inner = m.object("equipment")
    iso_code: str | None = None
    tare: Measure | None = None
    if inner is not None:
        reference = inner.required_text("equipmentReference")
        iso_code = inner.text("ISOEquipmentCode")
        tare = _measure(inner.object("tareWeight"))
        inner.done()
    else:
        reference = m.required_text("equipmentReference")
    equipment = Equipment(
        reference=reference,
        is_shipper_owned=m.required_flag("isShipperOwned"),
        seals=tuple(_seal(s) for s in m.objects("seals")),
        iso_code=iso_code,
        tare_weight=tare,
        is_non_operating_reefer=m.flag("isNonOperatingReefer"),
        reefer=_reefer(m.object("activeReeferSettings")),
        shipping_marks=m.texts("shippingMarks"),
    )
    m.done()
    return equipment


def _seal(m: Members) -> Seal:
    seal = Seal(m.required_text("number"), m.text("source"))
    m.done()
    return seal


def _reefer(m: Members | None) -> ReeferSettings | None:
    if m is None:
        return None
    settings = ReeferSettings(
        temperature_setpoint=m.number("temperatureSetpoint"),
        temperature_unit=m.text("temperatureUnit"),
        o2_setpoint=m.number("o2Setpoint"),
        co2_setpoint=m.number("co2Setpoint"),
        humidity_setpoint=m.number("humiditySetpoint"),
        air_exchange_setpoint=m.number("airExchangeSetpoint"),
        air_exchange_unit=m.text("airExchangeUnit"),
    )
    m.done()
    return settings


def _charge(m: Members) -> Charge:
    charge = Charge(
        name=m.required_text("chargeName"),
        amount=m.required_number("currencyAmount"),
        currency=m.required_text("currencyCode"),
        payment_term=m.required_text("paymentTermCode"),
        calculation_basis=m.required_text("calculationBasis"),
        unit_price=m.required_number("unitPrice"),
        quantity=m.required_number("quantity"),
    )
    m.done()
    return charge
