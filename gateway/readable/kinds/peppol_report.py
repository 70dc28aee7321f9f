"""Peppol Reporting: a Transaction Statistics Report (TSR 1.0) or End User Statistics Report
(EUSR 1.1) as one table per section.

The report is read as it is (no rule is checked here: the flow validated it): the period, the
reporter, the total (TSR ``Total``, EUSR ``FullSet``) and every ``Subtotal`` / ``Subset`` with
its keys (``metaSchemeID`` / ``schemeID``: value) and counts.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree

from gateway.errors import LingangError, UnknownFormatError
from gateway.readable.registry import RenderSource
from gateway.readable.templating import render_template
from gateway.render.peppol_reports import EUSR_NS, TSR_NS
from gateway.xmlsafe import parse_xml

TSR_COUNTS = ("Incoming", "Outgoing")
EUSR_COUNTS = ("SendingEndUsers", "ReceivingEndUsers", "SendingOrReceivingEndUsers")
COUNT_LABELS = {
    "Incoming": "incoming",
    "Outgoing": "outgoing",
    "SendingEndUsers": "sending_users",
    "ReceivingEndUsers": "receiving_users",
    "SendingOrReceivingEndUsers": "any_users",
}
ROOTS = {
    f"{{{TSR_NS}}}TransactionStatisticsReport": ("tsr", TSR_NS, "Total", "Subtotal", TSR_COUNTS),
    f"{{{EUSR_NS}}}EndUserStatisticsReport": ("eusr", EUSR_NS, "FullSet", "Subset", EUSR_COUNTS),
}


@dataclass(frozen=True, slots=True)
class ReportRow:
    """One section of the report: its type, keys and counts (in the column order)."""

    type: str
    keys: list[tuple[str, str, str]] = field(default_factory=list)
    counts: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class PeppolReportRenderer:
    """Renders Peppol TSR and EUSR reports (document kind ``peppol-report``)."""

    kind: str = "peppol-report"

    def accepts(self, source: RenderSource) -> bool:
        head = source.data[:4096]
        if TSR_NS.encode() not in head and EUSR_NS.encode() not in head:
            return False
        try:
            root = parse_xml(source.data, what="Peppol report")
        except LingangError:
            return False
        return root.tag in ROOTS

    def render(self, source: RenderSource) -> str:
        root = parse_xml(source.data, what="Peppol report")
        if root.tag not in ROOTS:
            raise UnknownFormatError("not a Peppol TSR or EUSR", field="document")
        name, ns, total_name, section_name, counts = ROOTS[root.tag]
        header = root.find(f"{{{ns}}}Header")
        period = ""
        reporter = ""
        if header is not None:
            start = header.findtext(f"{{{ns}}}ReportPeriod/{{{ns}}}StartDate") or ""
            end = header.findtext(f"{{{ns}}}ReportPeriod/{{{ns}}}EndDate") or ""
            period = f"{start} – {end}"
            reporter = header.findtext(f"{{{ns}}}ReporterID") or ""
        total = root.find(f"{{{ns}}}{total_name}")
        return render_template(
            "peppol_report.html",
            title=f"{name.upper()} {reporter} {period}",
            report_kind=name,
            period=period,
            reporter=reporter,
            columns=[COUNT_LABELS[c] for c in counts],
            total=_row(total, ns, counts, "") if total is not None else None,
            rows=[
                _row(s, ns, counts, s.get("type", ""))
                for s in root.findall(f"{{{ns}}}{section_name}")
            ],
            document_id=source.document_id,
        )


RENDERER = PeppolReportRenderer()


def _row(element: etree._Element, ns: str, counts: tuple[str, ...], kind: str) -> ReportRow:
    keys = [
        (k.get("metaSchemeID", ""), k.get("schemeID", ""), (k.text or "").strip())
        for k in element.findall(f"{{{ns}}}Key")
    ]
    return ReportRow(kind, keys, [(element.findtext(f"{{{ns}}}{c}") or "").strip() for c in counts])
