"""A readable rendering of a canonical invoice: one self-contained HTML page for people (the
buyer's accounts-payable clerk who opens what the gateway received).

Every value is escaped; the page has no scripts and loads nothing.
"""

from __future__ import annotations

from decimal import Decimal
from html import escape

from gateway.model import Invoice
from gateway.model.party import Party
from gateway.render._fmt import amount, decimal

_STYLE = (
    "body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse}"
    "td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}td.n{text-align:right}"
    "h1{font-size:1.4em}.parties{display:flex;gap:3em}"
)


def render_readable(invoice: Invoice) -> bytes:
    """The invoice as a small HTML page (UTF-8)."""
    title = "Credit note" if invoice.is_credit_note else "Invoice"
    cur = invoice.currency
    lines = "".join(
        "<tr>"
        f"<td>{_e(line.id)}</td><td>{_e(line.item.name)}</td>"
        f'<td class="n">{_e(decimal(line.quantity))} {_e(line.unit_code)}</td>'
        f'<td class="n">{_e(_money(line.price))}</td>'
        f"<td>{_e(line.vat_category)} {_e(_rate(line.vat_rate))}</td>"
        f'<td class="n">{_e(_money(line.net_amount))}</td>'
        "</tr>"
        for line in invoice.lines
    )
    totals = invoice.totals
    rows = (
        ("Net total", totals.line_net),
        ("Total without tax", totals.tax_exclusive),
        ("Tax", totals.tax),
        ("Total with tax", totals.tax_inclusive),
        ("Amount due", totals.payable),
    )
    total_rows = "".join(
        f'<tr><th>{label}</th><td class="n">{_e(_money(value))} {_e(cur)}</td></tr>'
        for label, value in rows
    )
    body = (
        f"<h1>{title} {_e(invoice.number)}</h1>"
        f"<p>Issued {_e(invoice.issue_date.isoformat())}"
        + (f", due {_e(invoice.due_date.isoformat())}" if invoice.due_date else "")
        + f" &middot; currency {_e(cur)}</p>"
        f'<div class="parties">{_party("Seller", invoice.seller)}{_party("Buyer", invoice.buyer)}</div>'
        "<h2>Lines</h2><table><tr><th>#</th><th>Item</th><th>Quantity</th><th>Price</th>"
        f"<th>Tax</th><th>Net</th></tr>{lines}</table>"
        f"<h2>Totals</h2><table>{total_rows}</table>"
    )
    page = (
        '<!DOCTYPE html><html><head><meta charset="utf-8">'
        f"<title>{title} {_e(invoice.number)}</title><style>{_STYLE}</style></head>"
        f"<body>{body}</body></html>"
    )
    return page.encode("utf-8")


def _party(role: str, party: Party) -> str:
    address = party.address
    place = ""
    if address is not None:
        parts = [address.street, address.city, address.postcode, address.country]
        place = ", ".join(_e(p) for p in parts if p)
    ids = []
    if party.vat_id:
        ids.append(f"VAT {_e(party.vat_id)}")
    if party.endpoint is not None:
        ids.append(f"Peppol {_e(party.endpoint.scheme)}:{_e(party.endpoint.value)}")
    return (
        f"<div><h2>{role}</h2><p><strong>{_e(party.name)}</strong><br>{place}"
        f"<br>{' &middot; '.join(ids)}</p></div>"
    )


def _money(value: Decimal) -> str:
    return amount(value)


def _rate(value: Decimal | None) -> str:
    return "" if value is None else f"{decimal(value)}%"


def _e(value: object) -> str:
    return escape("" if value is None else str(value), quote=True)
