"""``lingang migrate`` and ``lingang retry`` against a real SQLite file."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from gateway.cli import main
from gateway.store import JobSpec, JobState, open_store
from gateway.store.migrations import current_version


async def dead_job(url: str) -> tuple[str, str, str]:
    store = await open_store(url)
    try:
        await store.create_tenant("T", tenant_id="t")
        sub, _ = await store.create_submission("t", b"x", content_type="text/plain")
        job = await store.enqueue_job(sub.id, JobSpec("deliver", "peppol", "ep"))
        await store.claim_jobs("w")
        await store.fail_job(job.id, "w", "rejected", retryable=False, retry_after=None)
        return sub.id, job.id, job.message_id
    finally:
        await store.close()


async def event_states(url: str, submission_id: str) -> list[str]:
    store = await open_store(url)
    try:
        return [e.state for e in await store.list_events(submission_id)]
    finally:
        await store.close()


async def job_state(url: str, job_id: str) -> tuple[JobState, str]:
    store = await open_store(url)
    try:
        job = await store.get_job(job_id)
        assert job is not None
        return job.state, job.message_id
    finally:
        await store.close()


def test_migrate_then_retry(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path}/cli.db"
    assert main(["migrate", "--database", url]) == 0
    assert f"version {current_version('sqlite')}" in capsys.readouterr().out
    sub_id, job_id, message_id = asyncio.run(dead_job(url))
    assert main(["retry", "--list", "--database", url]) == 0
    listed = capsys.readouterr().out
    assert f"{job_id} deliver submission {sub_id} peppol -> ep after 1 attempts: rejected" in listed
    assert main(["retry", job_id, "--database", url]) == 0
    assert f"{job_id} peppol -> ep: pending (message {message_id})" in capsys.readouterr().out
    assert asyncio.run(job_state(url, job_id)) == (JobState.PENDING, message_id)
    assert asyncio.run(event_states(url, sub_id))[-1] == "queued"  # as the API's retry records
    assert main(["retry", job_id, "--database", url]) == 0
    assert main(["retry", sub_id, "--database", url]) == 0
    assert "no dead jobs" in capsys.readouterr().out
    assert main(["retry", "--list", "--database", url]) == 0
    empty = capsys.readouterr()
    assert empty.out == "" and "no dead jobs in the store" in empty.err


def test_retry_unknown_id_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path}/cli.db"
    assert main(["migrate", "--database", url]) == 0
    assert main(["retry", "nope", "--database", url]) == 1
    assert "no job, submission or received document" in capsys.readouterr().err


def test_migrate_uses_configured_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LINGANG_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("LINGANG_CONFIG", raising=False)
    monkeypatch.delenv("LINGANG_STORE_URL", raising=False)
    assert main(["migrate"]) == 0
    assert f"version {current_version('sqlite')}" in capsys.readouterr().out
    assert list((tmp_path / "home").glob("*.db"))


@pytest.mark.postgres
def test_migrate_postgres(pg_empty_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["migrate", "--database", pg_empty_url]) == 0
    assert main(["migrate", "--database", pg_empty_url]) == 0
    assert (
        capsys.readouterr().out.count(f"store schema at version {current_version('postgres')}") == 2
    )


def test_retry_needs_id_or_list(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["retry"]) == 2
    assert main(["retry", "x", "--list"]) == 2


async def keyed_submission(url: str, key: str) -> bool:
    """Submit under ``key``; whether that made a new submission (the key was free)."""
    store = await open_store(url)
    try:
        if await store.get_tenant("t") is None:
            await store.create_tenant("T", tenant_id="t")
        _, created = await store.create_submission(
            "t", b"x", content_type="text/plain", idempotency_key=key
        )
        return created
    finally:
        await store.close()


def test_idempotency_expire_forgets_keys_past_the_retention(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path}/cli.db"
    assert asyncio.run(keyed_submission(url, "inv-1"))
    assert main(["idempotency", "expire", "--hours", "24", "--database", url]) == 0
    assert "forgot 0 document key(s) and 0 eBL answer(s) older than 24 h" in capsys.readouterr().out
    assert not asyncio.run(keyed_submission(url, "inv-1"))
    assert main(["idempotency", "expire", "--hours", "0.000001", "--database", url]) == 0
    assert "forgot 1 document key(s)" in capsys.readouterr().out
    assert asyncio.run(keyed_submission(url, "inv-1")), "a forgotten key is a new request"
    assert main(["idempotency", "expire", "--hours", "0", "--database", url]) == 2
    assert "--hours must be more than 0" in capsys.readouterr().err
