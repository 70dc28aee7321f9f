"""A bundle's XML and the OFD beside it: two renditions of one fapiao, compared.

A tax-platform download holds one invoice as XML, OFD and PDF (FORMAT.md §1, §13.18). The XML
is the legal data set and is what the gateway reads; the OFD is its printed form. Beside each
other they must show the same invoice: an OFD of another invoice (a wrong pairing) or one whose
figures were changed (a tampered file) leaves the bundle saying two things, and sending the XML
alone would hide that. The key facts are compared — invoice number, issue date, seller and
buyer tax ids, the three totals, the number of lines and each line's amount — and the first
that differs refuses the bundle (``bundle.mismatch``), naming the field and both values.
Agreement is stated as a warning (``bundle.renditions-agree``) saying the XML is used.

The OFD is compared only on what it reliably prints: a buyer id printed in one rendition only
is not compared (foreign buyers have none), nor are lines when the OFD's tags carry no line
structure (``ofd.no-lines``, ``ofd.line-columns``). An OFD that cannot be read is reported
(``bundle.ofd-unread``) and the XML used: an unreadable print is no evidence of a mismatch.
"""

from __future__ import annotations

from collections.abc import Iterator

from gateway.errors import FieldError, InputError
from gateway.ingest.types import IngestLimits, ParsedInvoice, ParseWarning
from gateway.model.party import Party

_LINES_UNREAD = frozenset({"ofd.no-lines", "ofd.line-columns"})
"""OFD warnings after which its lines are not the printed lines."""
Fact = tuple[str, str, object, object]
"""(field, what it is, value in the XML, value in the OFD)."""


def _party_id(party: Party) -> str | None:
    return party.identifiers[0].value if party.identifiers else None


def _facts(xml: ParsedInvoice, ofd: ParsedInvoice) -> Iterator[Fact]:
    a, b = xml.invoice, ofd.invoice
    yield "InvoiceNumber", "invoice number", a.number, b.number
    yield "RequestTime", "issue date", a.issue_date, b.issue_date
    yield "SellerIdNum", "seller tax id", _party_id(a.seller), _party_id(b.seller)
    buyer_a, buyer_b = _party_id(a.buyer), _party_id(b.buyer)
    if buyer_a and buyer_b:
        yield "BuyerIdNum", "buyer tax id", buyer_a, buyer_b
    yield "TotalAmWithoutTax", "net total", a.totals.tax_exclusive, b.totals.tax_exclusive
    yield "TotalTaxAm", "tax total", a.totals.tax, b.totals.tax
    yield "TotalTax-includedAmount", "gross total", a.totals.tax_inclusive, b.totals.tax_inclusive
    if _LINES_UNREAD.intersection(w.code for w in ofd.warnings):
        return
    yield "IssuItemInformation", "number of lines", len(a.lines), len(b.lines)
    for n, (x, y) in enumerate(zip(a.lines, b.lines, strict=False), start=1):
        yield f"IssuItemInformation[{n}]/Amount", f"line {n} amount", x.net_amount, y.net_amount


def compare_renditions(
    xml: ParsedInvoice, xml_name: str, ofds: list[tuple[str, bytes]], limits: IngestLimits
) -> None:
    """Refuse ``xml`` when an OFD beside it in the bundle shows another invoice; else add a
    warning to ``xml.warnings`` saying which rendition is used and what was compared."""
    from gateway.ingest.ofd import parse_ofd

    for name, data in ofds:
        try:
            ofd = parse_ofd(data, limits)
        except InputError as exc:
            xml.warnings.append(
                ParseWarning(
                    "bundle.ofd-unread",
                    f"the OFD {name} beside the XML could not be read ({exc.message}); it is "
                    f"not compared and the XML {xml_name} is used",
                    name,
                )
            )
            continue
        compared = []
        for field, what, in_xml, in_ofd in _facts(xml, ofd):
            if in_xml != in_ofd:
                raise FieldError(
                    f"the bundle's XML {xml_name} and OFD {name} show different invoices: "
                    f"{what} is {in_xml} in the XML and {in_ofd} in the OFD (a wrong pairing "
                    "or a changed file); submit the XML and OFD of one fapiao, or the XML alone",
                    field=f"{name}:{field}",
                    rule="bundle.mismatch",
                )
            compared.append(what)
        xml.warnings.append(
            ParseWarning(
                "bundle.renditions-agree",
                f"the XML {xml_name} is used (the legal data set); the OFD {name} beside it "
                f"agrees on {', '.join(compared)}",
                name,
            )
        )
