"""Peppol Reporting's own tables: a record per transmission sent or received, and the months
already reported.

::

    reporting = PeppolReportingStore(store.connector)
    await reporting.record(Transmission(...))         # False: already recorded (same id)
    records = await reporting.between(start, end)      # a month's records
    if await reporting.claim_month("2026-11"):        # once per month, across replicas
        ...
        await reporting.finish_month("2026-11", tsr_id, eusr_id, detail)

The records carry no personal data: the end user (C1 for outgoing, C4 for incoming) is kept
only as a keyed hash, enough to count distinct end users.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from gateway.store.base import reads, writes, writes_one
from gateway.store.connector import Connector, JsonValue, Query, Row, Script
from gateway.store.records import Clock, new_id, utcnow
from gateway.store.rows import to_json, to_time

INCOMING = "in"
OUTGOING = "out"


@dataclass(frozen=True, slots=True)
class Transmission:
    """One Peppol transmission, as reporting counts it."""

    direction: str
    """``in`` (we were C3) or ``out`` (we were C2)."""
    transmission_id: str
    """The AS4 message id (a re-delivery of the same id is not counted twice)."""
    instance_id: str
    """The SBDH InstanceIdentifier (what an MLS refers to)."""
    exchanged_at: datetime
    c2_seat: str
    c3_seat: str
    doctype_scheme: str
    doctype: str
    process_scheme: str
    process: str
    transport_profile: str
    c1_country: str
    """``ZZ`` when the SBDH names none."""
    end_user_hash: str
    c4_country: str | None = None
    """Incoming only: the receiving end user's country."""
    tenant_id: str | None = None
    submission_id: str | None = None
    """Outgoing: our submission (what an MLS is correlated to)."""
    id: str = field(default_factory=new_id)

    @property
    def other_seat(self) -> str:
        """The other access point: C3 for outgoing, C2 for incoming."""
        return self.c3_seat if self.direction == OUTGOING else self.c2_seat

    @property
    def count(self) -> int:
        """One transmission (a :class:`TransmissionGroup` counts many)."""
        return 1


@dataclass(frozen=True, slots=True)
class TransmissionGroup:
    """Transmissions alike in everything the reports count by, and how many they are: what
    the monthly reports are built from, so a busy month is a few thousand groups, not
    millions of records, in memory."""

    direction: str
    other_seat: str
    doctype_scheme: str
    doctype: str
    process_scheme: str
    process: str
    transport_profile: str
    c1_country: str
    c4_country: str | None
    end_user_hash: str
    count: int


@dataclass(frozen=True, slots=True)
class ReportedMonth:
    """A month the report job claimed (and, once sent, the submissions of its reports)."""

    month: str
    claimed_at: datetime
    tsr_id: str | None
    eusr_id: str | None
    detail: Mapping[str, Any]


class PeppolReportingStore:
    """Peppol Reporting's transaction scripts, over the store's connector."""

    def __init__(self, connector: Connector, *, clock: Clock = utcnow) -> None:
        self.connector = connector
        self.clock = clock

    @writes_one
    def record(self, transmission: Transmission) -> Script[bool]:
        """Keep one transmission; ``False`` when its id was already recorded."""
        params = {name: getattr(transmission, name) for name in Transmission.__dataclass_fields__}
        return bool((yield Query("insert_peppol_transmission", params, "rowcount")))

    @reads
    def between(self, start: datetime, end: datetime) -> Script[list[Transmission]]:
        """The transmissions with ``start <= exchanged_at < end``, oldest first."""
        found = yield Query("peppol_transmissions_between", {"start": start, "end": end}, "all")
        return [_transmission(row) for row in found]

    @reads
    def groups_between(self, start: datetime, end: datetime) -> Script[list[TransmissionGroup]]:
        """The transmissions with ``start <= exchanged_at < end``, grouped and counted."""
        params = {"start": start, "end": end}
        found = yield Query("peppol_transmission_groups", params, "all")
        return [
            TransmissionGroup(**{**row, "count": int(row["count"])})
            for row in sorted(found, key=lambda r: tuple(str(v) for v in r.values()))
        ]

    @reads
    def sent_by_instance(self, instance_id: str) -> Script[Transmission | None]:
        """The outgoing transmission whose SBDH InstanceIdentifier is ``instance_id``."""
        row = yield Query("peppol_sent_by_instance", {"instance_id": instance_id}, "one")
        return None if row is None else _transmission(row)

    @writes_one
    def claim_month(self, month: str) -> Script[bool]:
        """Claim ``month`` (``YYYY-MM``) for reporting; ``False`` if it was claimed before."""
        params = {"month": month, "now": self.clock()}
        return bool((yield Query("claim_peppol_report_month", params, "rowcount")))

    @writes
    def finish_month(
        self, month: str, tsr_id: str, eusr_id: str, detail: Mapping[str, Any]
    ) -> Script[None]:
        """Record the submissions that carry the month's reports."""
        params = {
            "month": month,
            "tsr_id": tsr_id,
            "eusr_id": eusr_id,
            "detail": JsonValue.of(detail, "detail"),
        }
        yield Query("finish_peppol_report_month", params)

    @reads
    def reported_month(self, month: str) -> Script[ReportedMonth | None]:
        """The claim of ``month``, or ``None``."""
        row = yield Query("get_peppol_report_month", {"month": month}, "one")
        if row is None:
            return None
        return ReportedMonth(
            month=row["month"],
            claimed_at=to_time(row["claimed_at"]),
            tsr_id=row["tsr_id"],
            eusr_id=row["eusr_id"],
            detail=to_json(row["detail"]),
        )


def _transmission(row: Row) -> Transmission:
    return Transmission(
        id=row["id"],
        direction=row["direction"],
        transmission_id=row["transmission_id"],
        instance_id=row["instance_id"],
        exchanged_at=to_time(row["exchanged_at"]),
        tenant_id=row["tenant_id"],
        submission_id=row["submission_id"],
        c2_seat=row["c2_seat"],
        c3_seat=row["c3_seat"],
        doctype_scheme=row["doctype_scheme"],
        doctype=row["doctype"],
        process_scheme=row["process_scheme"],
        process=row["process"],
        transport_profile=row["transport_profile"],
        c1_country=row["c1_country"],
        c4_country=row["c4_country"],
        end_user_hash=row["end_user_hash"],
    )
