"""The canonical transport document (eBL), shaped on DCSA eBL 3.0.3 ``TransportDocument``.

Every eBL format maps to and from :class:`TransportDocument`. Field names follow DCSA's
(``snake_case``); each docstring names the DCSA member it holds. The typed fields are the ones
the gateway maps to other formats (UBL ``BillOfLading``, UN/CEFACT D23B, TradeTrust). Whatever
else a DCSA document carries is kept verbatim in :attr:`TransportDocument.extensions`, keyed
by its JSON pointer, so DCSA in → DCSA out loses nothing, and a target that cannot carry an
extension lists it in its warnings.

Three kinds of bill (:attr:`TransportDocument.kind`): *straight* (``isToOrder`` false, a named
consignee), *to order* (``isToOrder`` true with a named consignee or an endorsee) and *blank*
(``isToOrder`` true with neither: the holder is the owner). A sea waybill
(``transportDocumentTypeCode`` ``SWB``) is never negotiable.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any


class BillKind(StrEnum):
    """How title passes: to a named consignee, to order, or to the bearer."""

    STRAIGHT = "straight"
    TO_ORDER = "to-order"
    BLANK = "blank"


@dataclass(slots=True, frozen=True)
class Measure:
    """A weight or volume: ``value`` and a UN/ECE Rec. 20 unit (``KGM``, ``LBR``, ``MTQ``, ``FTQ``)."""

    value: Decimal
    unit: str


@dataclass(slots=True, frozen=True)
class Address:
    """DCSA ``PartyAddress`` / ``Address``."""

    street: str
    city: str
    country_code: str
    street_number: str | None = None
    floor: str | None = None
    post_code: str | None = None
    po_box: str | None = None
    """DCSA ``POBox``."""
    state_region: str | None = None


@dataclass(slots=True, frozen=True)
class PartyCode:
    """DCSA ``IdentifyingCode``: a party code in a provider's list (``GLEIF``/``LEI``,
    ``DCSA``, ``W3C``/``DID``, ``EU``/``EORI`` …)."""

    provider: str
    """``codeListProvider``."""
    code: str
    """``partyCode``."""
    list_name: str | None = None
    """``codeListName``."""


@dataclass(slots=True, frozen=True)
class TaxLegalReference:
    """DCSA ``TaxLegalReference``: e.g. ``USCC``/``CN`` for a Chinese shipper's 统一社会信用代码,
    ``EORI``/``NL``, ``PAN``/``IN``."""

    type: str
    country_code: str
    value: str


@dataclass(slots=True, frozen=True)
class Contact:
    """DCSA ``PartyContactDetail``."""

    name: str
    email: str | None = None
    phone: str | None = None


@dataclass(slots=True, frozen=True)
class Party:
    """A document party (shipper, consignee, endorsee, issuing party, notify party)."""

    name: str
    """``partyName``."""
    address: Address | None = None
    address_lines: tuple[str, ...] = ()
    """``addressLines``: an unstructured address."""
    displayed_address: tuple[str, ...] = ()
    """``displayedAddress``: the lines printed on the document."""
    codes: tuple[PartyCode, ...] = ()
    """``identifyingCodes``."""
    tax_references: tuple[TaxLegalReference, ...] = ()
    """``taxLegalReferences``."""
    contacts: tuple[Contact, ...] = ()
    """``partyContactDetails``."""


@dataclass(slots=True, frozen=True)
class Location:
    """A place: DCSA ``PortOfLoading``, ``PlaceOfReceipt``, ``InvoicePayableAt`` …"""

    un_location_code: str | None = None
    """``UNLocationCode`` (UN/LOCODE)."""
    name: str | None = None
    """``locationName``."""
    address: Address | None = None


@dataclass(slots=True, frozen=True)
class VesselVoyage:
    """DCSA ``VesselVoyage``."""

    vessel_name: str
    voyage_number: str
    """``carrierExportVoyageNumber``."""


@dataclass(slots=True, frozen=True)
class Transports:
    """DCSA ``Transports``: route, planned dates and vessels."""

    planned_departure: dt.date
    planned_arrival: dt.date
    port_of_loading: Location
    port_of_discharge: Location
    vessel_voyages: tuple[VesselVoyage, ...]
    place_of_receipt: Location | None = None
    place_of_delivery: Location | None = None
    pre_carriage_by: str | None = None
    """Mode of pre-carriage (DCSA ``preCarriageBy``: ``RAIL``, ``TRUCK``, ``BARGE`` …)."""
    on_carriage_by: str | None = None


@dataclass(slots=True, frozen=True)
class DangerousGoods:
    """DCSA ``DangerousGoods`` (IMDG): the facts every target carries."""

    proper_shipping_name: str
    imo_class: str
    un_number: str | None = None
    """``UNNumber`` (four digits); DCSA requires it or ``NANumber``."""
    na_number: str | None = None
    technical_name: str | None = None
    packing_group: int | None = None
    ems_number: str | None = None
    """``EMSNumber``."""


@dataclass(slots=True, frozen=True)
class Packaging:
    """DCSA ``OuterPackaging``."""

    number_of_packages: int
    description: str
    package_code: str | None = None
    """UN/ECE Rec. 21 package type code."""
    imo_packaging_code: str | None = None
    dangerous_goods: tuple[DangerousGoods, ...] = ()


@dataclass(slots=True, frozen=True)
class CargoItem:
    """DCSA ``CargoItem``: the part of a consignment item packed in one container."""

    equipment_reference: str
    gross_weight: Measure
    packaging: Packaging
    """``outerPackaging``."""
    gross_volume: Measure | None = None
    net_weight: Measure | None = None
    net_volume: Measure | None = None


@dataclass(slots=True, frozen=True)
class ConsignmentItem:
    """DCSA ``ConsignmentItem``."""

    carrier_booking_reference: str
    description_of_goods: tuple[str, ...]
    hs_codes: tuple[str, ...]
    """``HSCodes``."""
    cargo_items: tuple[CargoItem, ...]
    shipping_marks: tuple[str, ...] = ()


@dataclass(slots=True, frozen=True)
class Seal:
    """DCSA ``Seal``: number and who applied it (``CAR``, ``SHI``, ``VET``, ``CUS``)."""

    number: str
    source: str | None = None


@dataclass(slots=True, frozen=True)
class ReeferSettings:
    """DCSA ``ActiveReeferSettings`` (the numeric set-points)."""

    temperature_setpoint: Decimal | None = None
    temperature_unit: str | None = None
    """``CEL`` or ``FAH``."""
    o2_setpoint: Decimal | None = None
    co2_setpoint: Decimal | None = None
    humidity_setpoint: Decimal | None = None
    air_exchange_setpoint: Decimal | None = None
    air_exchange_unit: str | None = None
    """``MQH`` or ``FQH``."""


@dataclass(slots=True, frozen=True)
class Equipment:
    """DCSA ``UtilizedTransportEquipment`` (container, its seals and reefer settings)."""

    reference: str
    """``equipment.equipmentReference`` (ISO 6346 container number)."""
    is_shipper_owned: bool
    seals: tuple[Seal, ...]
    iso_code: str | None = None
    """``equipment.ISOEquipmentCode`` (ISO 6346 size/type, e.g. ``22G1``)."""
    tare_weight: Measure | None = None
    is_non_operating_reefer: bool | None = None
    reefer: ReeferSettings | None = None
    shipping_marks: tuple[str, ...] = ()


@dataclass(slots=True, frozen=True)
class Charge:
    """DCSA ``Charge``."""

    name: str
    amount: Decimal
    """``currencyAmount``."""
    currency: str
    payment_term: str
    """``PRE`` (prepaid) or ``COL`` (collect)."""
    calculation_basis: str
    unit_price: Decimal
    quantity: Decimal


@dataclass(slots=True, frozen=True)
class DocumentParties:
    """DCSA ``DocumentParties``."""

    shipper: Party
    issuing_party: Party | None = None
    """The carrier (or its agent) issuing the document; required in a transport document,
    absent from shipping instructions."""
    consignee: Party | None = None
    endorsee: Party | None = None
    notify_parties: tuple[Party, ...] = ()


class SourceKind(StrEnum):
    """Which DCSA document the canonical one was read from."""

    TRANSPORT_DOCUMENT = "TransportDocument"
    SHIPPING_INSTRUCTIONS = "ShippingInstructions"
    """The shipper's request: carrier facts (reference, route, terms) are not known yet."""


CARRIER_FACTS = (
    "reference",
    "status",
    "terms_and_conditions",
    "receipt_type_at_origin",
    "delivery_type_at_destination",
    "cargo_movement_type_at_origin",
    "cargo_movement_type_at_destination",
    "carrier_code",
    "carrier_code_list_provider",
    "transports",
)
"""Fields a transport document must have and shipping instructions do not."""


@dataclass(slots=True, frozen=True)
class TransportDocument:
    """A bill of lading or sea waybill (DCSA ``TransportDocument``), or the draft of one read
    from shipping instructions (then the :data:`CARRIER_FACTS` may be missing)."""

    type_code: str
    """``BOL`` (bill of lading) or ``SWB`` (sea waybill)."""
    is_shipped_on_board_type: bool
    is_electronic: bool
    is_to_order: bool
    parties: DocumentParties
    """``documentParties``."""
    consignment_items: tuple[ConsignmentItem, ...]
    equipments: tuple[Equipment, ...]
    """``utilizedTransportEquipments``."""
    source: SourceKind = SourceKind.TRANSPORT_DOCUMENT
    reference: str | None = None
    """``transportDocumentReference``."""
    status: str | None = None
    """``transportDocumentStatus`` (``DRAFT``, ``APPROVED``, ``ISSUED``, ``SURRENDERED`` …)."""
    terms_and_conditions: str | None = None
    receipt_type_at_origin: str | None = None
    """``CY``, ``SD`` or ``CFS``."""
    delivery_type_at_destination: str | None = None
    cargo_movement_type_at_origin: str | None = None
    """``FCL`` or ``LCL``."""
    cargo_movement_type_at_destination: str | None = None
    carrier_code: str | None = None
    carrier_code_list_provider: str | None = None
    """``SMDG`` or ``NMFTA``."""
    transports: Transports | None = None
    contacts: tuple[Contact, ...] = ()
    """``partyContactDetails`` of the document (the carrier's contacts for it)."""
    invoice_payable_at: Location | None = None
    place_of_issue: Location | None = None
    sub_reference: str | None = None
    """``transportDocumentSubReference``."""
    shipping_instructions_reference: str | None = None
    freight_payment_term: str | None = None
    """``freightPaymentTermCode``: ``PRE`` or ``COL``."""
    issue_date: dt.date | None = None
    shipped_on_board_date: dt.date | None = None
    received_for_shipment_date: dt.date | None = None
    service_contract_reference: str | None = None
    declared_value: Decimal | None = None
    declared_value_currency: str | None = None
    carrier_clauses: tuple[str, ...] = ()
    charges: tuple[Charge, ...] = ()
    extensions: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)
    """DCSA members the typed fields do not hold, by JSON pointer (``/exportLicense``,
    ``/consignmentItems/0/customsReferences`` …), kept verbatim for DCSA output."""

    @property
    def kind(self) -> BillKind:
        """Straight, to order or blank (see the module docstring)."""
        if not self.is_to_order:
            return BillKind.STRAIGHT
        if self.parties.consignee is None and self.parties.endorsee is None:
            return BillKind.BLANK
        return BillKind.TO_ORDER

    @property
    def is_negotiable(self) -> bool:
        """A bill of lading made out to order (or blank) transfers title by endorsement."""
        return self.type_code == "BOL" and self.is_to_order

    def missing_carrier_facts(self) -> list[str]:
        """The :data:`CARRIER_FACTS` this document lacks (empty for a transport document)."""
        return [name for name in CARRIER_FACTS if getattr(self, name) is None]

    @property
    def display_reference(self) -> str:
        """The transport document reference, else (a draft) the first booking reference."""
        if self.reference is not None:
            return self.reference
        return self.consignment_items[0].carrier_booking_reference
