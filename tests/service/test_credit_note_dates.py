"""A red-letter fapiao's credit note is dated from the blue invoice the same tenant sent
through the gateway (BT-26, which the red-letter fapiao does not print, FORMAT.md §7); never
from another tenant's, and the submission's ``preceding_invoice_date`` still wins.

Real service, real SQLite store, the samples' blue fapiao 26312000000000000102 (issued
2026-09-20) and the red-letter one reversing it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from gateway.service import Services
from tests.service.test_real_flow import SAMPLES, open_real, settle

BLUE = "26312000000000000102"
REF = "//*[local-name()='BillingReference']/*[local-name()='InvoiceDocumentReference']"


async def _submit(
    services: Services, tenant_id: str, name: str, metadata: dict[str, Any] | None = None
) -> str:
    submission, _ = await services.submissions.submit(
        tenant_id,
        (SAMPLES / name).read_bytes(),
        content_type="application/xml",
        filename=name,
        metadata=metadata,
    )
    return submission.id


async def _credited(services: Services, submission_id: str) -> tuple[str | None, str | None]:
    """(BT-25, BT-26) of the delivered credit note."""
    delivered = await services.store.get_output(submission_id, "signed")
    assert delivered is not None
    root = etree.fromstring(delivered.data)
    (ref,) = root.xpath(REF)
    number = ref.xpath("string(*[local-name()='ID'])") or None
    date = ref.xpath("string(*[local-name()='IssueDate'])") or None
    return number, date


async def _warnings(services: Services, submission_id: str) -> list[str]:
    events = await services.store.list_events(submission_id)
    (queued,) = [e for e in events if e.state == "queued"]
    assert queued.detail is not None
    return list(queued.detail.get("warnings", []))


@pytest.mark.parametrize("stage_processes", [0, 1], ids=["thread", "process"])
async def test_the_credit_note_is_dated_from_the_tenants_own_blue_invoice(
    tmp_path: Path, artefacts_home: Path, stage_processes: int
) -> None:
    services = await open_real(tmp_path, artefacts_home, stage_processes)
    pool = services.worker_pool(1)
    pool.start()
    try:
        exporter = await services.store.create_tenant("exporter")
        other = await services.store.create_tenant("other")
        blue = await _submit(services, exporter.id, "multi-rate-discount.xml")
        assert (await settle(services, [blue]))[blue] == "delivered"
        red = await _submit(services, exporter.id, "red-letter.xml")
        stranger = await _submit(services, other.id, "red-letter.xml")
        # sent first, so that the deliberate resend below is the second (a fapiao is sent once)
        assert (await settle(services, [red]))[red] == "delivered"
        given = await _submit(  # the same red-letter fapiao again: a deliberate resend
            services,
            exporter.id,
            "red-letter.xml",
            {"preceding_invoice_date": "2026-09-19", "resend": "true"},
        )
        states = {red: "delivered", **await settle(services, [stranger, given])}
    finally:
        await pool.stop()
    try:
        assert set(states.values()) == {"delivered"}
        assert await _credited(services, red) == (BLUE, "2026-09-20")
        assert any(
            "2026-09-20" in w and "sent through the gateway" in w
            for w in await _warnings(services, red)
        )
        assert await _credited(services, stranger) == (BLUE, None)  # not another tenant's
        assert not any("sent through" in w for w in await _warnings(services, stranger))
        assert await _credited(services, given) == (BLUE, "2026-09-19")  # the client's wins
    finally:
        await services.close()


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str | None:
    """The service's store: SQLite in the test's folder, or a fresh PostgreSQL database."""
    if request.param == "postgres":
        return str(request.getfixturevalue("pg_url"))
    return None


async def test_several_dates_for_the_credited_invoice_are_named_not_guessed(
    tmp_path: Path, artefacts_home: Path, store_url: str | None
) -> None:
    """The tenant sent the blue invoice's number twice with different issue dates (a
    corrected copy): no date is chosen for BT-26, and a warning names the number and both
    dates, so that the finance user can send ``preceding_invoice_date``."""
    services = await open_real(tmp_path, artefacts_home, store_url=store_url)
    pool = services.worker_pool(1)
    pool.start()
    try:
        exporter = await services.store.create_tenant("exporter")
        blue = await _submit(services, exporter.id, "multi-rate-discount.xml")
        # sent first, so that the corrected copy below is the deliberate resend
        assert (await settle(services, [blue]))[blue] == "delivered"
        earlier = (
            (SAMPLES / "multi-rate-discount.xml")
            .read_bytes()
            .replace(b">2026-09-20 14:05:00<", b">2026-09-18 14:05:00<")
            .replace(b"<IssueTime>2026-09-20</IssueTime>", b"<IssueTime>2026-09-18</IssueTime>")
        )
        assert earlier != (SAMPLES / "multi-rate-discount.xml").read_bytes()
        copy, _ = await services.submissions.submit(
            exporter.id,
            earlier,
            content_type="application/xml",
            filename="corrected.xml",
            metadata={"resend": "true"},  # the same number again, on purpose
        )
        assert (await settle(services, [copy.id]))[copy.id] == "delivered"
        red = await _submit(services, exporter.id, "red-letter.xml")
        states = await settle(services, [red])
    finally:
        await pool.stop()
    try:
        assert states[red] == "delivered"
        assert await _credited(services, red) == (BLUE, None)
        (warning,) = [w for w in await _warnings(services, red) if "BT-26" in w]
        assert BLUE in warning and "2026-09-18, 2026-09-20" in warning
        assert "preceding_invoice_date" in warning
    finally:
        await services.close()
