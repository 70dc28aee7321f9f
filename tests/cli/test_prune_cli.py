"""``lingang prune`` on a real SQLite store: a dry run counts and deletes nothing, a run
deletes the finished housekeeping jobs past ``jobs_days`` (and the documents past
``documents_days`` when given), and the export ledger still verifies after it."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest

from gateway.cli import main
from gateway.jobs.housekeeping import HOUSEKEEPING, housekeeping_job_key
from gateway.store import JobSpec, Receipt, StateChange
from gateway.store.sqlite import SqliteStore

AGO = dt.timedelta(days=40)


async def _old_rows(url: str) -> str:
    """Three housekeeping jobs and one delivered document, all finished 40 days ago; the
    document's id."""
    then = dt.datetime.now(dt.UTC) - AGO
    store = await SqliteStore.open(url, clock=lambda: then)
    try:
        await store.migrate()
        await store.create_tenant("Acme", tenant_id="t")
        for hour in range(3):
            key = housekeeping_job_key(then + dt.timedelta(hours=hour))
            await store.enqueue_job(key, JobSpec(HOUSEKEEPING, not_before=then))
        for job in await store.claim_jobs("w", limit=10):
            await store.complete_job(job.id, "w", Receipt("housekeeping", b"", "application/json"))
        sub, _ = await store.create_submission(
            "t", b"<EInvoice/>", content_type="application/xml", enqueue=JobSpec("process")
        )
        (job,) = await store.claim_jobs("w", limit=1)
        await store.complete_job(job.id, "w", None, event=StateChange("delivered"))
        return sub.id
    finally:
        await store.close()


async def _left(url: str, submission_id: str) -> tuple[int, bool]:
    store = await SqliteStore.open(url)
    try:
        jobs = await store.list_jobs(limit=100)
        kept = await store.get_submission("t", submission_id) is not None
        return len([j for j in jobs if j.kind == HOUSEKEEPING]), kept
    finally:
        await store.close()


def test_a_dry_run_counts_a_run_deletes_and_the_ledger_verifies(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LINGANG_CONFIG", raising=False)
    url = f"sqlite:///{tmp_path}/gateway.db"
    document = asyncio.run(_old_rows(url))

    assert main(["prune", "--dry-run", "--database", url]) == 0
    out = capsys.readouterr().out
    assert "would delete no documents (documents_days = 0: kept for good)" in out
    assert "3 housekeeping job(s) finished over 30 days ago" in out
    assert asyncio.run(_left(url, document)) == (3, True)

    assert main(["prune", "--database", url]) == 0
    assert "deleted no documents" in capsys.readouterr().out
    assert asyncio.run(_left(url, document)) == (0, True)

    assert main(["prune", "--documents-days", "30", "--database", url]) == 0
    out = capsys.readouterr().out
    assert "deleted 1 finished document(s) older than 30 days with 1 job(s)" in out
    assert asyncio.run(_left(url, document)) == (0, False)
    assert main(["ledger", "verify", "--database", url]) == 0


@pytest.mark.parametrize("days", ["-1", "nan", "soon"])
def test_a_day_count_that_is_no_number_of_days_is_a_usage_error(
    days: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as done:
        main(["prune", "--documents-days", days, "--database", f"sqlite:///{tmp_path}/x.db"])
    assert done.value.code == 2
    assert "--documents-days" in capsys.readouterr().err


def test_prune_refuses_a_store_that_is_not_there(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "typo"
    assert main(["prune", "--database", f"sqlite:///{home}/gateway.db"]) == 2
    assert "no store at" in capsys.readouterr().err
    assert not home.exists()
