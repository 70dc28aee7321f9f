"""``lingang peppol report`` and the ``report`` job: the month's reports go through the
ordinary delivery path (flow ``peppol-out`` → route → https adapter over real TLS), once per
month, empty months included."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest
from lxml import etree

from gateway.cli import main
from gateway.delivery.peppol_reports import (
    REPORT,
    build_month_reports,
    report_job_key,
    schedule_reports,
    submit_month_reports,
)
from gateway.errors import FieldError
from gateway.jobs import Worker
from gateway.render.peppol_reports import EUSR_NS, TSR_NS, ReportPeriod
from gateway.service import Services, open_services
from gateway.settings import Settings
from gateway.store import JobState
from gateway.store.peppol_reporting import INCOMING, OUTGOING, PeppolReportingStore
from gateway.testing.tls import TlsFiles
from tests.peppol_duties.conftest import Catcher
from tests.peppol_duties.test_reports import record

RECEIVER = "9915:reports-test"


def write_config(
    tmp_path: Path, artefacts: Path, tls: TlsFiles, url: str, store_url: str | None = None
) -> Path:
    config = tmp_path / "lingang.toml"
    config.write_text(
        f"""
data_dir = "{tmp_path / "home"}"
[store]
url = "{store_url or f"sqlite:///{tmp_path / 'home' / 'gateway.db'}"}"
[pipeline]
artefacts = "{artefacts}"
sign = false
stage_processes = 0
[validation]
engine = "saxonche"
[peppol]
seat_id = "POP000360"
report_receiver = "{RECEIVER}"
[adapters.openpeppol]
type = "https"
url = "{url}"
ca = "{tls.ca}"
[adapters.archive]
type = "folder"
path = "outbox"
[routing]
default = "archive"
[routing.partners]
"{RECEIVER}" = "openpeppol"
""",
        encoding="utf-8",
    )
    return config


async def drain(services: Services) -> int:
    """Run every due job (processing, then delivery) until none is left."""
    worker = Worker(services.store, services.kinds, worker_id="w", poll_seconds=0.05)
    total = 0
    while ran := await worker.run_once():
        total += ran
    return total


async def test_cli_builds_writes_and_sends_once(
    tmp_path: Path,
    artefacts_home: Path,
    tls: TlsFiles,
    catcher: Catcher,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = write_config(tmp_path, artefacts_home, tls, catcher.url)
    settings = Settings.load(config, env={})
    services = await open_services(settings)
    try:
        reporting = PeppolReportingStore(services.store.connector)
        for n in range(3):
            await reporting.record(record(n, OUTGOING))
        await reporting.record(record(9, INCOMING))
        out = tmp_path / "out" / "reports"  # made, as a batch's --out-dir is
        args = ["peppol", "report", "--month", "2026-11", "--send", "-o", str(out)]
        assert await asyncio.to_thread(main, [*args, "--config", str(config)]) == 0
        printed = capsys.readouterr().out
        assert "4 transmissions counted" in printed and f"queued for {RECEIVER}" in printed
        assert await drain(services) >= 2  # two process jobs; each hands its delivery on
        assert len(catcher.month("2026-11")) == 2
        again = [*args, "--config", str(config)]
        assert await asyncio.to_thread(main, again) == 0  # the month again: nothing new
        await drain(services)
        assert len(catcher.month("2026-11")) == 2
    finally:
        await services.close()
    roots = [etree.fromstring(body) for _, body in catcher.month("2026-11")]
    assert sorted(etree.QName(r).namespace for r in roots) == sorted([EUSR_NS, TSR_NS])
    assert {h["X-Lingang-Receiver"] for h, _ in catcher.requests} == {RECEIVER}
    tsr = next(r for r in roots if etree.QName(r).namespace == TSR_NS)
    assert tsr.findtext(f"{{{TSR_NS}}}Total/{{{TSR_NS}}}Outgoing") == "3"
    assert (out / "peppol-tsr-2026-11.xml").read_bytes() in [b for _, b in catcher.month("2026-11")]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str | None:
    return None if request.param == "sqlite" else str(request.getfixturevalue("pg_url"))


async def test_report_job_sends_an_empty_month_once_and_schedules_the_next(
    tmp_path: Path, artefacts_home: Path, tls: TlsFiles, catcher: Catcher, store_url: str | None
) -> None:
    config = write_config(tmp_path, artefacts_home, tls, catcher.url, store_url)
    services = await open_services(Settings.load(config, env={}))
    try:
        store = services.store
        assert REPORT in services.kinds.names()
        keys = await schedule_reports(store, datetime(2026, 12, 3, tzinfo=UTC))
        assert keys == ["peppol-report:2026-11", "peppol-report:2026-12"]
        assert await schedule_reports(store, datetime(2026, 12, 20, tzinfo=UTC)) == [
            "peppol-report:2026-12"
        ]
        await drain(services)
        (job,) = await store.list_jobs(
            submission_id=report_job_key(ReportPeriod.of_month("2026-11"))
        )
        assert job.state is JobState.DONE
        month = await PeppolReportingStore(store.connector).reported_month("2026-11")
        assert month is not None and month.detail["transmissions"] == 0
        assert len(catcher.month("2026-11")) == 2  # the zero-count month is reported too
        (following,) = await store.list_jobs(
            submission_id=report_job_key(ReportPeriod.of_month("2026-12"))
        )
        assert following.state is JobState.PENDING and following.kind == REPORT
        kind = services.kinds.get(REPORT)  # as if a crash made the job run again
        assert kind is not None
        await kind.run(job, "w")
        await drain(services)
        assert len(catcher.month("2026-11")) == 2
    finally:
        await services.close()


def test_cli_refuses_without_a_seat_id(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "lingang.toml"
    config.write_text(f'data_dir = "{tmp_path}"\n', encoding="utf-8")
    assert main(["peppol", "report", "--month", "2026-11", "--config", str(config)]) == 1
    assert "seat_id" in capsys.readouterr().err
    refused = ["peppol", "report", "--month", "2026-11", "-o", str(tmp_path / "no")]
    assert main([*refused, "--config", str(config)]) == 1
    assert not (tmp_path / "no").exists()  # refused before anything is made
    (tmp_path / "file").write_text("x", encoding="utf-8")
    assert main(["peppol", "report", "--month", "2026-11", "-o", str(tmp_path / "file")]) == 2
    assert "not a folder" in capsys.readouterr().err


async def test_a_report_breaking_a_rule_is_neither_written_nor_sent(
    tmp_path: Path,
    artefacts_home: Path,
    tls: TlsFiles,
    catcher: Catcher,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = write_config(tmp_path, artefacts_home, tls, catcher.url)
    services = await open_services(Settings.load(config, env={}))
    try:
        bad_seat = record(1, OUTGOING, c3_seat="not-a-seat")
        await PeppolReportingStore(services.store.connector).record(bad_seat)
    finally:
        await services.close()
    out = tmp_path / "out"
    out.mkdir()
    args = ["peppol", "report", "--month", "2026-11", "--send", "-o", str(out)]
    assert await asyncio.to_thread(main, [*args, "--config", str(config)]) == 1
    assert "SCH-TSR-19" in capsys.readouterr().err
    assert list(out.iterdir()) == []
    assert not catcher.month("2026-11")


def test_reports_are_sent_as_the_access_points_spis_participant() -> None:
    """The SBDH sender of a report is a participant (``ICD:value``), the access point's own
    in the Service Provider Identifier Scheme, as for MLS: a seat id alone is none."""
    from gateway.delivery.peppol_reports import reporting_sender

    assert reporting_sender("POP000360") == "0242:000360"
    assert reporting_sender("0242:000360") == "0242:000360"
    assert reporting_sender("") == ""


async def test_a_month_that_is_not_over_is_not_sent(
    tmp_path: Path,
    artefacts_home: Path,
    tls: TlsFiles,
    catcher: Catcher,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The reports cover the whole calendar month, and a month is sent once (its idempotency
    key): sending the current month would report part of it for good, so ``--send`` is
    refused until the month is over; the reports can still be built and written."""
    config = write_config(tmp_path, artefacts_home, tls, catcher.url)
    services = await open_services(Settings.load(config, env={}))
    current = f"{datetime.now(UTC):%Y-%m}"
    try:
        reporting = PeppolReportingStore(services.store.connector)
        await reporting.record(record(1, OUTGOING, exchanged_at=datetime.now(UTC)))
        out = tmp_path / "out"
        out.mkdir()
        for month in (current, "2999-01"):
            args = ["peppol", "report", "--month", month, "--send", "-o", str(out)]
            assert await asyncio.to_thread(main, [*args, "--config", str(config)]) == 2
            assert "is not over" in capsys.readouterr().err
        assert list(out.iterdir()) == []
        preview = ["peppol", "report", "--month", current, "-o", str(out), "--config", str(config)]
        assert await asyncio.to_thread(main, preview) == 0
        assert (out / f"peppol-tsr-{current}.xml").exists()
        reports = await build_month_reports(
            services.store, None, "POP000360", ReportPeriod.of_month(current)
        )
        with pytest.raises(FieldError) as refused:
            await submit_month_reports(services.store, reports, tenant_id="peppol-reporting")
        assert refused.value.rule == "peppol.report-month-open"
        await drain(services)
        assert not catcher.month(current)
        queued = await services.store.list_submissions("peppol-reporting")
        assert not [q for q in queued if current in (q.idempotency_key or "")]
    finally:
        await services.close()
