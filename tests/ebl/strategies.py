"""Hypothesis strategies for canonical transport documents that DCSA's schema accepts."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from hypothesis import strategies as st

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
    TaxLegalReference,
    TransportDocument,
    Transports,
    VesselVoyage,
)

_CHARS = st.sampled_from("abcXYZ019 -/.,&<>'\"éü中文")


def text(max_size: int) -> st.SearchStrategy[str]:
    """Text without leading or trailing space (DCSA's ``^\\S(?:.*\\S)?$``), XML-safe."""
    return st.text(_CHARS, min_size=1, max_size=max_size).map(str.strip).filter(bool)


def code(alphabet: str, size: int) -> st.SearchStrategy[str]:
    return st.text(st.sampled_from(alphabet), min_size=size, max_size=size)


UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
DIGITS = "0123456789"
locode = st.builds(lambda a, b: a + b, code(UPPER, 2), code(UPPER + "23456789", 3))
country = code(UPPER, 2)
amount = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("999999"), places=2)
positive = st.decimals(min_value=Decimal("0.001"), max_value=Decimal("99999"), places=3)
dates = st.dates(min_value=dt.date(2020, 1, 1), max_value=dt.date(2035, 12, 31))


def opt(strategy: st.SearchStrategy[object]) -> st.SearchStrategy[object]:
    return st.none() | strategy


addresses = st.builds(
    Address,
    street=text(70),
    city=text(35),
    country_code=country,
    street_number=opt(text(20)),
    floor=opt(text(20)),
    post_code=opt(code(DIGITS, 6)),
    po_box=opt(text(20)),
    state_region=opt(text(30)),
)
contacts = st.builds(
    Contact, name=text(35), email=st.just("ops@example.com"), phone=opt(st.just("+86 21 5555 0100"))
)
party_codes = st.builds(
    PartyCode,
    provider=st.sampled_from(["GLEIF", "DCSA", "W3C", "EU"]),
    code=text(40),
    list_name=opt(st.sampled_from(["LEI", "DID", "EORI"])),
)
tax_references = st.builds(
    TaxLegalReference,
    type=st.sampled_from(["USCC", "EORI", "PAN"]),
    country_code=country,
    value=code(UPPER + DIGITS, 18),
)


def parties(min_codes: int = 0, address: bool = False) -> st.SearchStrategy[Party]:
    return st.builds(
        Party,
        name=text(70),
        address=addresses if address else opt(addresses),
        address_lines=st.lists(text(35), max_size=2).map(tuple),
        displayed_address=st.lists(text(35), max_size=3).map(tuple),
        codes=st.lists(party_codes, min_size=min_codes, max_size=2).map(tuple),
        tax_references=st.lists(tax_references, max_size=2).map(tuple),
        contacts=st.lists(contacts, max_size=2).map(tuple),
    )


locations = st.builds(Location, un_location_code=locode, name=opt(text(40)))
places = st.builds(
    Location, un_location_code=opt(locode), name=opt(text(40)), address=opt(addresses)
).filter(lambda place: place != Location())
"""A place given some way (an empty one says nothing, and UBL has no empty element for it)."""
weights = st.builds(Measure, value=positive, unit=st.sampled_from(["KGM", "LBR"]))
volumes = st.builds(Measure, value=positive, unit=st.sampled_from(["MTQ", "FTQ"]))
goods = st.builds(
    DangerousGoods,
    proper_shipping_name=text(60),
    imo_class=st.sampled_from(["1.4S", "3", "6.1", "8", "9"]),
    un_number=code(DIGITS, 4),
    technical_name=opt(text(40)),
    packing_group=opt(st.integers(1, 3)),
    ems_number=opt(st.just("F-E S-D")),
)
packagings = st.one_of(
    st.builds(
        Packaging,
        number_of_packages=st.integers(1, 9999),
        description=text(50),
        package_code=code(UPPER + DIGITS, 2),
        dangerous_goods=st.lists(goods, max_size=2).map(tuple),
    ),
    st.builds(
        Packaging,
        number_of_packages=st.integers(1, 9999),
        description=text(50),
        imo_packaging_code=code(UPPER + DIGITS, 3),
    ),
)
container_refs = st.builds(
    lambda owner, serial: f"{owner}U{serial}", code(UPPER, 3), code(DIGITS, 7)
)
reefers = st.builds(
    lambda t, unit, o2, co2, hum, air, air_unit: ReeferSettings(
        temperature_setpoint=t,
        temperature_unit=None if t is None else unit,
        o2_setpoint=o2,
        co2_setpoint=co2,
        humidity_setpoint=hum,
        air_exchange_setpoint=air,
        air_exchange_unit=None if air is None else air_unit,
    ),
    opt(st.decimals(min_value=Decimal("-30"), max_value=Decimal("30"), places=1)),
    st.sampled_from(["CEL", "FAH"]),
    opt(st.decimals(min_value=Decimal("0"), max_value=Decimal("100"), places=1)),
    opt(st.decimals(min_value=Decimal("0"), max_value=Decimal("100"), places=1)),
    opt(st.decimals(min_value=Decimal("0"), max_value=Decimal("100"), places=1)),
    opt(st.decimals(min_value=Decimal("0"), max_value=Decimal("300"), places=1)),
    st.sampled_from(["MQH", "FQH"]),
)
charges = st.builds(
    Charge,
    name=text(50),
    amount=amount,
    currency=st.sampled_from(["USD", "EUR", "CNY", "SGD"]),
    payment_term=st.sampled_from(["PRE", "COL"]),
    calculation_basis=text(50),
    unit_price=amount,
    quantity=st.integers(1, 50).map(Decimal),
)


@st.composite
def transport_documents(draw: st.DrawFn) -> TransportDocument:
    """A transport document with every typed field exercised (no place of issue: UBL has no
    place for it, which the conversion reports)."""
    refs = draw(st.lists(container_refs, min_size=1, max_size=3, unique=True))
    equipment = tuple(
        Equipment(
            reference=ref,
            is_shipper_owned=draw(st.booleans()),
            seals=tuple(
                draw(
                    st.lists(
                        st.builds(
                            Seal,
                            number=text(15),
                            source=opt(st.sampled_from(["CAR", "SHI", "VET", "CUS"])),
                        ),
                        min_size=1,
                        max_size=2,
                    )
                )
            ),
            iso_code=draw(opt(st.sampled_from(["22G1", "45R1", "42G1"]))),
            tare_weight=draw(opt(weights)),
            is_non_operating_reefer=draw(opt(st.booleans())),
            reefer=draw(opt(reefers)),
            shipping_marks=tuple(draw(st.lists(text(30), max_size=2))),
        )
        for ref in refs
    )
    items = tuple(
        ConsignmentItem(
            carrier_booking_reference=draw(text(35)),
            description_of_goods=tuple(draw(st.lists(text(35), min_size=1, max_size=2))),
            hs_codes=tuple(draw(st.lists(code(DIGITS, 6), min_size=1, max_size=2))),
            cargo_items=tuple(
                CargoItem(
                    equipment_reference=draw(st.sampled_from(refs)),
                    gross_weight=draw(weights),
                    packaging=draw(packagings),
                    gross_volume=draw(opt(volumes)),
                    net_weight=draw(opt(weights)),
                    net_volume=draw(opt(volumes)),
                )
                for _ in range(draw(st.integers(1, 2)))
            ),
            shipping_marks=tuple(draw(st.lists(text(30), max_size=2))),
        )
        for _ in range(draw(st.integers(1, 2)))
    )
    departure = draw(dates)
    transports = Transports(
        planned_departure=departure,
        planned_arrival=departure + dt.timedelta(days=draw(st.integers(0, 60))),
        port_of_loading=draw(locations),
        port_of_discharge=draw(locations),
        vessel_voyages=tuple(
            draw(st.lists(st.builds(VesselVoyage, text(35), text(20)), min_size=1, max_size=2))
        ),
        place_of_receipt=draw(opt(places)),
        place_of_delivery=draw(opt(places)),
        pre_carriage_by=draw(opt(st.sampled_from(["RAIL", "TRUCK", "BARGE"]))),
        on_carriage_by=draw(opt(st.sampled_from(["RAIL", "TRUCK", "BARGE"]))),
    )
    value = draw(opt(amount))
    return TransportDocument(
        type_code=draw(st.sampled_from(["BOL", "SWB"])),
        is_shipped_on_board_type=draw(st.booleans()),
        is_electronic=draw(st.booleans()),
        is_to_order=draw(st.booleans()),
        parties=DocumentParties(
            shipper=draw(parties()),
            issuing_party=draw(parties(address=True)),
            consignee=draw(opt(parties(min_codes=1))),
            endorsee=draw(opt(parties(min_codes=1))),
            notify_parties=tuple(draw(st.lists(parties(), max_size=2))),
        ),
        consignment_items=items,
        equipments=equipment,
        reference=draw(code(UPPER + DIGITS, 12)),
        status=draw(st.sampled_from(["DRAFT", "APPROVED", "ISSUED"])),
        terms_and_conditions=draw(text(200)),
        receipt_type_at_origin=draw(st.sampled_from(["CY", "SD", "CFS"])),
        delivery_type_at_destination=draw(st.sampled_from(["CY", "SD", "CFS"])),
        cargo_movement_type_at_origin=draw(st.sampled_from(["FCL", "LCL"])),
        cargo_movement_type_at_destination=draw(st.sampled_from(["FCL", "LCL"])),
        carrier_code=draw(st.sampled_from(["MSCU", "MAEU", "COSU", "HLCU"])),
        carrier_code_list_provider=draw(st.sampled_from(["SMDG", "NMFTA"])),
        transports=transports,
        contacts=tuple(draw(st.lists(contacts, min_size=1, max_size=2))),
        invoice_payable_at=draw(locations),
        sub_reference=draw(opt(text(30))),
        shipping_instructions_reference=draw(opt(text(40))),
        freight_payment_term=draw(opt(st.sampled_from(["PRE", "COL"]))),
        issue_date=draw(opt(dates)),
        shipped_on_board_date=draw(opt(dates)),
        received_for_shipment_date=draw(opt(dates)),
        service_contract_reference=draw(opt(text(30))),
        declared_value=value,
        declared_value_currency=None if value is None else "USD",
        carrier_clauses=tuple(draw(st.lists(text(60), max_size=2))),
        charges=tuple(draw(st.lists(charges, max_size=2))),
    )
