"""Peppol Reporting's tables on SQLite and on a real PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from gateway.store import Store, open_store
from gateway.store.peppol_reporting import INCOMING, OUTGOING, PeppolReportingStore, Transmission

INVOICE = (
    "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2::Invoice##urn:cen.eu:en16931:2017"
    "#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0::2.1"
)


def transmission(n: int, direction: str = OUTGOING, **changes: object) -> Transmission:
    base = Transmission(
        direction=direction,
        transmission_id=f"msg-{n}@example",
        instance_id=f"instance-{n}",
        exchanged_at=datetime(2026, 11, 1 + n % 28, 12, 0, tzinfo=UTC),
        c2_seat="POP000360",
        c3_seat="PSG000123",
        doctype_scheme="busdox-docid-qns",
        doctype=INVOICE,
        process_scheme="cenbii-procid-ubl",
        process="urn:fdc:peppol.eu:2017:poacc:billing:01:1.0",
        transport_profile="peppol-transport-as4-v2_0",
        c1_country="CN",
        end_user_hash=f"hash-{n}",
        c4_country="CN" if direction == INCOMING else None,
        submission_id=f"sub-{n}" if direction == OUTGOING else None,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/store.db"
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
async def store(store_url: str) -> AsyncIterator[Store]:
    opened = await open_store(store_url)
    try:
        yield opened
    finally:
        await opened.close()


async def test_records_once_per_direction_and_id(store: Store) -> None:
    reporting = PeppolReportingStore(store.connector)
    first = transmission(1)
    assert await reporting.record(first)
    assert not await reporting.record(replace(first, id="another-row"))
    assert await reporting.record(transmission(1, INCOMING))
    found = await reporting.between(
        datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC)
    )
    assert sorted(t.direction for t in found) == ["in", "out"]
    assert found[0].exchanged_at.tzinfo is not None
    stored = next(t for t in found if t.direction == OUTGOING)
    assert stored == first


async def test_month_bounds_are_half_open(store: Store) -> None:
    reporting = PeppolReportingStore(store.connector)
    inside = transmission(2, exchanged_at=datetime(2026, 11, 30, 23, 59, 59, tzinfo=UTC))
    after = transmission(3, exchanged_at=datetime(2026, 12, 1, 0, 0, tzinfo=UTC))
    before = transmission(4, exchanged_at=datetime(2026, 10, 31, 23, 59, 59, tzinfo=UTC))
    for t in (inside, after, before):
        await reporting.record(t)
    found = await reporting.between(
        datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC)
    )
    assert [t.transmission_id for t in found] == [inside.transmission_id]


async def test_sent_by_instance(store: Store) -> None:
    reporting = PeppolReportingStore(store.connector)
    await reporting.record(transmission(5))
    await reporting.record(transmission(5, INCOMING, transmission_id="in-5"))
    sent = await reporting.sent_by_instance("instance-5")
    assert sent is not None and sent.direction == OUTGOING and sent.submission_id == "sub-5"
    assert await reporting.sent_by_instance("nobody") is None


async def test_a_month_is_claimed_once(store: Store) -> None:
    reporting = PeppolReportingStore(store.connector)
    other = PeppolReportingStore(store.connector)
    assert await reporting.claim_month("2026-11")
    assert not await other.claim_month("2026-11")
    await reporting.finish_month("2026-11", "tsr-sub", "eusr-sub", {"transmissions": 3})
    month = await other.reported_month("2026-11")
    assert month is not None
    assert (month.tsr_id, month.eusr_id, dict(month.detail)) == (
        "tsr-sub",
        "eusr-sub",
        {"transmissions": 3},
    )
    assert await other.reported_month("2026-10") is None


async def test_reports_from_groups_equal_reports_from_records(store: Store) -> None:
    """The grouped read gives exactly the reports the individual records give."""
    from gateway.render.peppol_reports import ReportPeriod, render_eusr, render_tsr
    from tests.peppol_duties.test_reports import mixed_month

    reporting = PeppolReportingStore(store.connector)
    records = [
        replace(r, transmission_id=f"{r.transmission_id}-{n}")
        for n, r in enumerate(mixed_month(7) + mixed_month(8))
    ]
    for r in records:
        assert await reporting.record(r)
    period = ReportPeriod.of_month("2026-11")
    raw = await reporting.between(*period.bounds)
    groups = await reporting.groups_between(*period.bounds)
    assert len(raw) == len(records) and sum(g.count for g in groups) == len(records)
    assert len(groups) < len(records)
    for render in (render_tsr, render_eusr):
        assert render(period, "POP000360", groups) == render(period, "POP000360", raw)
