"""Peppol Reporting: the monthly Transaction Statistics Report (TSR 1.0) and End User
Statistics Report (EUSR 1.1) of an access point, counted from its transmission records.

::

    period = ReportPeriod.of_month("2026-11")
    tsr = render_tsr(period, "POP000360", transmissions)
    eusr = render_eusr(period, "POP000360", transmissions)

**TSR** counts transmissions: the total incoming and outgoing, per transport profile
(``PerTP``), per other access point, document type and process (``PerSP-DT-PR``) and, for
incoming ones, also per sender (C1) and receiver (C4) country (``PerSP-DT-PR-CC``; ``ZZ`` when
the SBDH named no C1 country). **EUSR** counts distinct end users (the keyed hashes of C1 for
outgoing, C4 for incoming): in all, per document type and process, per type, process and end
user country, per type and country, per country (``ZZ``, which EUSR does not allow, is left
out of the country subsets). Reports themselves are never counted; MLS count in TSR only.
"""

from __future__ import annotations

import calendar
import re
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Protocol

from lxml import etree

from gateway.errors import FieldError
from gateway.render.mls import DOCUMENT_TYPE_ID as MLS_DOCUMENT_TYPE

TSR_NS = "urn:fdc:peppol:transaction-statistics-report:1.0"
EUSR_NS = "urn:fdc:peppol:end-user-statistics-report:1.1"
TSR_CUSTOMIZATION = "urn:fdc:peppol.eu:edec:trns:transaction-statistics-reporting:1.0"
EUSR_CUSTOMIZATION = "urn:fdc:peppol.eu:edec:trns:end-user-statistics-report:1.1"
REPORTING_PROFILE = "urn:fdc:peppol.eu:edec:bis:reporting:1.0"
TSR_DOCUMENT_TYPE = (
    "urn:fdc:peppol:transaction-statistics-report:1.0::TransactionStatisticsReport"
    "##urn:fdc:peppol.eu:edec:trns:transaction-statistics-reporting:1.0::1.0"
)
EUSR_DOCUMENT_TYPE = (
    "urn:fdc:peppol:end-user-statistics-report:1.1::EndUserStatisticsReport"
    "##urn:fdc:peppol.eu:edec:trns:end-user-statistics-report:1.1::1.1"
)
REPORT_DOCUMENT_TYPES = frozenset({TSR_DOCUMENT_TYPE, EUSR_DOCUMENT_TYPE})
OPENPEPPOL_RECEIVER = "9925:be0848934496"
"""The participant OpenPeppol receives reports as."""
UNKNOWN_COUNTRY = "ZZ"

_MONTH = re.compile(r"^([0-9]{4})-(0[1-9]|1[0-2])$")
_SEAT = re.compile(r"^P[A-Z]{2}[0-9]{6}$")


class TransmissionLike(Protocol):
    """What the reports read of a transmission record."""

    @property
    def direction(self) -> str: ...

    @property
    def other_seat(self) -> str: ...

    @property
    def doctype_scheme(self) -> str: ...

    @property
    def doctype(self) -> str: ...

    @property
    def process_scheme(self) -> str: ...

    @property
    def process(self) -> str: ...

    @property
    def transport_profile(self) -> str: ...

    @property
    def c1_country(self) -> str: ...

    @property
    def c4_country(self) -> str | None: ...

    @property
    def end_user_hash(self) -> str: ...

    @property
    def count(self) -> int:
        """How many transmissions this stands for (a record: 1; a group: its size)."""
        ...


@dataclass(frozen=True, slots=True)
class ReportPeriod:
    """A calendar month, both ends inclusive as the reports state it."""

    start: date
    end: date

    @classmethod
    def of_month(cls, text: str) -> ReportPeriod:
        """The month ``YYYY-MM``; :class:`FieldError` otherwise."""
        match = _MONTH.fullmatch(text.strip())
        if not match:
            raise FieldError(f"month {text!r} is not YYYY-MM", field="month")
        year, month = int(match[1]), int(match[2])
        return cls(date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1]))

    @property
    def label(self) -> str:
        """``YYYY-MM``."""
        return f"{self.start:%Y-%m}"

    @property
    def bounds(self) -> tuple[datetime, datetime]:
        """``[first instant, first instant of the next month)`` in UTC."""
        start = datetime(self.start.year, self.start.month, 1, tzinfo=UTC)
        year, month = divmod(self.start.month, 12)
        return start, datetime(self.start.year + year, month + 1, 1, tzinfo=UTC)

    def previous(self) -> ReportPeriod:
        """The month before."""
        year, month = (
            (self.start.year, self.start.month - 1)
            if self.start.month > 1
            else (
                self.start.year - 1,
                12,
            )
        )
        return ReportPeriod.of_month(f"{year:04d}-{month:02d}")


Key = tuple[tuple[str, str, str], ...]
"""A subtotal's keys: ``(metaSchemeID, schemeID, value)`` each."""


def render_tsr(
    period: ReportPeriod, reporter_seat: str, transmissions: Iterable[TransmissionLike]
) -> bytes:
    """The Transaction Statistics Report of ``period``."""
    counted = [t for t in transmissions if t.doctype not in REPORT_DOCUMENT_TYPES]
    root = _header(TSR_NS, "TransactionStatisticsReport", TSR_CUSTOMIZATION, period, reporter_seat)
    total = etree.SubElement(root, f"{{{TSR_NS}}}Total")
    _counts(total, TSR_NS, _in_out(counted))
    if not counted:
        return _serialise(root)
    incoming = [t for t in counted if t.direction == "in"]
    groups: Sequence[tuple[str, Callable[[TransmissionLike], Key], Sequence[TransmissionLike]]] = (
        ("PerTP", _tp_key, counted),
        ("PerSP-DT-PR", _sp_dt_pr_key, counted),
        ("PerSP-DT-PR-CC", _sp_dt_pr_cc_key, incoming),
    )
    for kind, key_of, members in groups:
        for key, group in _grouped(members, key_of):
            subtotal = etree.SubElement(root, f"{{{TSR_NS}}}Subtotal", type=kind)
            _keys(subtotal, TSR_NS, key)
            _counts(subtotal, TSR_NS, _in_out(group))
    return _serialise(root)


def render_eusr(
    period: ReportPeriod, reporter_seat: str, transmissions: Iterable[TransmissionLike]
) -> bytes:
    """The End User Statistics Report of ``period``."""
    counted = [
        t
        for t in transmissions
        if t.doctype not in REPORT_DOCUMENT_TYPES and t.doctype != MLS_DOCUMENT_TYPE
    ]
    root = _header(EUSR_NS, "EndUserStatisticsReport", EUSR_CUSTOMIZATION, period, reporter_seat)
    full = etree.SubElement(root, f"{{{EUSR_NS}}}FullSet")
    _end_users(full, counted)
    if not counted:
        return _serialise(root)
    with_country = [t for t in counted if _end_user_country(t) != UNKNOWN_COUNTRY]
    groups: Sequence[tuple[str, Callable[[TransmissionLike], Key], Sequence[TransmissionLike]]] = (
        ("PerDT-PR", lambda t: (_dt(t), _pr(t)), counted),
        ("PerDT-PR-EUC", lambda t: (_dt(t), _pr(t), _euc(t)), with_country),
        ("PerDT-EUC", lambda t: (_dt(t), _euc(t)), with_country),
        ("PerEUC", lambda t: (_euc(t),), with_country),
    )
    for kind, key_of, members in groups:
        for key, group in _grouped(members, key_of):
            subset = etree.SubElement(root, f"{{{EUSR_NS}}}Subset", type=kind)
            _keys(subset, EUSR_NS, key)
            _end_users(subset, group)
    return _serialise(root)


def _header(
    ns: str, root_name: str, customization: str, period: ReportPeriod, reporter_seat: str
) -> etree._Element:
    if not _SEAT.fullmatch(reporter_seat):
        raise FieldError(
            f"the reporter {reporter_seat!r} is not a Peppol seat id (PXX000000)",
            field="peppol.seat_id",
        )
    root = etree.Element(f"{{{ns}}}{root_name}", nsmap={None: ns})  # type: ignore[dict-item]
    etree.SubElement(root, f"{{{ns}}}CustomizationID").text = customization
    etree.SubElement(root, f"{{{ns}}}ProfileID").text = REPORTING_PROFILE
    header = etree.SubElement(root, f"{{{ns}}}Header")
    report_period = etree.SubElement(header, f"{{{ns}}}ReportPeriod")
    etree.SubElement(report_period, f"{{{ns}}}StartDate").text = period.start.isoformat()
    etree.SubElement(report_period, f"{{{ns}}}EndDate").text = period.end.isoformat()
    reporter = etree.SubElement(header, f"{{{ns}}}ReporterID", schemeID="CertSubjectCN")
    reporter.text = reporter_seat
    return root


def _grouped(
    members: Iterable[TransmissionLike], key_of: Callable[[TransmissionLike], Key]
) -> list[tuple[Key, list[TransmissionLike]]]:
    groups: dict[Hashable, list[TransmissionLike]] = defaultdict(list)
    keys: dict[Hashable, Key] = {}
    for member in members:
        key = key_of(member)
        keys[key] = key
        groups[key].append(member)
    return [(keys[k], groups[k]) for k in sorted(groups, key=str)]


def _tp_key(t: TransmissionLike) -> Key:
    return (("TP", "Peppol", t.transport_profile),)


def _sp_dt_pr_key(t: TransmissionLike) -> Key:
    return (("SP", "CertSubjectCN", t.other_seat), _dt(t), _pr(t))


def _sp_dt_pr_cc_key(t: TransmissionLike) -> Key:
    return (
        *_sp_dt_pr_key(t),
        ("CC", "SenderCountry", t.c1_country or UNKNOWN_COUNTRY),
        ("CC", "ReceiverCountry", t.c4_country or UNKNOWN_COUNTRY),
    )


def _dt(t: TransmissionLike) -> tuple[str, str, str]:
    return ("DT", t.doctype_scheme, t.doctype)


def _pr(t: TransmissionLike) -> tuple[str, str, str]:
    return ("PR", t.process_scheme, t.process)


def _euc(t: TransmissionLike) -> tuple[str, str, str]:
    return ("CC", "EndUserCountry", _end_user_country(t))


def _end_user_country(t: TransmissionLike) -> str:
    country = t.c1_country if t.direction == "out" else t.c4_country
    return country or UNKNOWN_COUNTRY


def _keys(parent: etree._Element, ns: str, key: Key) -> None:
    for meta, scheme, value in key:
        element = etree.SubElement(parent, f"{{{ns}}}Key", metaSchemeID=meta, schemeID=scheme)
        element.text = value


def _in_out(members: Iterable[TransmissionLike]) -> tuple[int, int]:
    incoming = outgoing = 0
    for t in members:
        if t.direction == "in":
            incoming += t.count
        else:
            outgoing += t.count
    return incoming, outgoing


def _counts(parent: etree._Element, ns: str, counts: tuple[int, int]) -> None:
    etree.SubElement(parent, f"{{{ns}}}Incoming").text = str(counts[0])
    etree.SubElement(parent, f"{{{ns}}}Outgoing").text = str(counts[1])


def _end_users(parent: etree._Element, members: Sequence[TransmissionLike]) -> None:
    sending = {t.end_user_hash for t in members if t.direction == "out"}
    receiving = {t.end_user_hash for t in members if t.direction == "in"}
    for name, count in (
        ("SendingEndUsers", len(sending)),
        ("ReceivingEndUsers", len(receiving)),
        ("SendingOrReceivingEndUsers", len(sending | receiving)),
    ):
        etree.SubElement(parent, f"{{{EUSR_NS}}}{name}").text = str(count)


def _serialise(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
