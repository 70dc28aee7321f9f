"""A readable HTML page of an eBL (for people: the API's ``html`` output, a demo's view).

Every value is escaped; the page has no script and no external resource.
"""

from __future__ import annotations

from html import escape

from gateway.model.transport_document import Location, Party, TransportDocument
from gateway.render._fmt import decimal

_STYLE = (
    "body{font-family:sans-serif;margin:2em;max-width:60em}"
    "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #999;padding:.3em .6em;"
    "text-align:left;vertical-align:top}h1{font-size:1.4em}"
)


def _party(party: Party | None) -> str:
    if party is None:
        return ""
    lines = [party.name, *party.displayed_address, *party.address_lines]
    if party.address is not None:
        a = party.address
        lines.append(f"{a.street} {a.street_number or ''}, {a.city} {a.country_code}".strip())
    lines += [f"{c.provider} {c.list_name or ''}: {c.code}" for c in party.codes]
    lines += [f"{t.type} ({t.country_code}): {t.value}" for t in party.tax_references]
    return "<br>".join(escape(line) for line in lines)


def _place(location: Location | None) -> str:
    if location is None:
        return ""
    return escape(" ".join(p for p in (location.name, location.un_location_code) if p))


def _row(label: str, html: str) -> str:
    return f"<tr><th>{escape(label)}</th><td>{html}</td></tr>" if html else ""


def render_ebl_html(doc: TransportDocument) -> bytes:
    """The page, UTF-8."""
    kind = "Sea waybill" if doc.type_code == "SWB" else "Bill of lading"
    parties = doc.parties
    transports = doc.transports
    rows = [
        _row("Reference", escape(doc.display_reference)),
        _row("Status", escape(doc.status or "draft (shipping instructions)")),
        _row("Title", escape(f"{doc.kind.value}{' (negotiable)' if doc.is_negotiable else ''}")),
        _row("Carrier", escape(f"{doc.carrier_code or ''} {doc.carrier_code_list_provider or ''}")),
        _row("Shipper", _party(parties.shipper)),
        _row("Consignee", _party(parties.consignee)),
        _row("Endorsee", _party(parties.endorsee)),
        *(_row("Notify party", _party(p)) for p in parties.notify_parties),
        _row("Issued by", _party(parties.issuing_party)),
    ]
    if transports is not None:
        vessels = ", ".join(f"{v.vessel_name} {v.voyage_number}" for v in transports.vessel_voyages)
        rows += [
            _row("Place of receipt", _place(transports.place_of_receipt)),
            _row("Port of loading", _place(transports.port_of_loading)),
            _row("Port of discharge", _place(transports.port_of_discharge)),
            _row("Place of delivery", _place(transports.place_of_delivery)),
            _row("Vessel / voyage", escape(vessels)),
        ]
    goods = "".join(
        "<tr>"
        f"<td>{escape(item.carrier_booking_reference)}</td>"
        f"<td>{escape('; '.join(item.description_of_goods))}</td>"
        f"<td>{escape(', '.join(item.hs_codes))}</td>"
        f"<td>{escape(cargo.equipment_reference)}</td>"
        f"<td>{cargo.packaging.number_of_packages} {escape(cargo.packaging.description)}</td>"
        f"<td>{decimal(cargo.gross_weight.value)} {escape(cargo.gross_weight.unit)}</td>"
        "</tr>"
        for item in doc.consignment_items
        for cargo in item.cargo_items
    )
    containers = "".join(
        f"<tr><td>{escape(e.reference)}</td><td>{escape(e.iso_code or '')}</td>"
        f"<td>{escape(', '.join(s.number for s in e.seals))}</td></tr>"
        for e in doc.equipments
    )
    page = (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(kind)} {escape(doc.display_reference)}</title>"
        f"<style>{_STYLE}</style></head><body>"
        f"<h1>{escape(kind)} {escape(doc.display_reference)}</h1>"
        f"<table>{''.join(rows)}</table>"
        "<h2>Goods</h2><table><tr><th>Booking</th><th>Description</th><th>HS</th>"
        f"<th>Container</th><th>Packages</th><th>Gross weight</th></tr>{goods}</table>"
        "<h2>Containers</h2><table><tr><th>Number</th><th>Type</th><th>Seals</th></tr>"
        f"{containers}</table></body></html>\n"
    )
    return page.encode("utf-8")
