"""Helpers for the export-ledger tests: a store on each backend with a settable clock, and
documents processed through :meth:`LedgerStore.finish_export`."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from gateway.store import JobSpec, OutputSpec, StateChange, Store
from gateway.store.ledger import ExportRecord, ExportResult, LedgerStore, Verdict
from gateway.store.postgres import PostgresStore
from gateway.store.sqlite import SqliteStore

START = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)


class Clock:
    """A clock the test moves."""

    def __init__(self, now: dt.datetime = START) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


@dataclass
class Stores:
    store: Store
    ledger: LedgerStore
    clock: Clock
    backend: str
    url: str


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, str]:
    """``(backend, url)``: a SQLite file, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return "sqlite", str(tmp_path / "ledger.db")
    return "postgres", str(request.getfixturevalue("pg_url"))


@pytest.fixture
async def stores(backend: tuple[str, str]) -> AsyncIterator[Stores]:
    clock = Clock()
    name, url = backend
    if name == "sqlite":
        store: Store = await SqliteStore.open(f"sqlite:///{url}", clock=clock)
    else:
        store = await PostgresStore.open(url, clock=clock)
    await store.migrate()
    await store.create_tenant("T", tenant_id="t")
    ledger = LedgerStore(store.connector, clock=clock)
    yield Stores(store, ledger, clock, name, url)
    await store.close()


def allow(basis: str = "Art. 3", *, counted: bool = False) -> Verdict:
    return Verdict(
        True, basis, "art-3", policy_version="v1", decided_by="policy v1", counted=counted
    )


def thresholds(limit: int) -> object:
    """A judge: allowed (counted) below ``limit`` individuals, held from it."""

    def judge(personal: int, sensitive: int) -> Verdict:
        if personal >= limit:
            return Verdict(False, reason=f"{personal} >= {limit}", policy_version="v1",
                           decided_by="policy v1", counted=True)  # fmt: skip
        return Verdict(True, "Art. 5(4)", "art-5-4", policy_version="v1",
                       decided_by="policy v1", counted=True)  # fmt: skip

    return judge


async def export(
    s: Stores,
    subjects: Sequence[tuple[str, bool]] = (),
    *,
    judge: object | None = None,
    exporter: str = "91310115MA1FL8K22H",
    worker: str = "w1",
    number: str = "1",
    facts: Mapping[str, str] | None = None,
) -> tuple[str, ExportResult]:
    """One submission processed through the ledger, its flow having recorded ``facts``;
    ``(submission id, result)``."""
    sub, _ = await s.store.create_submission(
        "t", b"<EInvoice/>", content_type="application/xml", enqueue=JobSpec("process")
    )
    (job,) = [j for j in await s.store.claim_jobs(worker, limit=1000) if j.submission_id == sub.id]
    record = ExportRecord(
        exporter=exporter,
        destination="SG",
        recipient="0195:SGUEN201612345D",
        document_id=number,
        digest="ab" * 32,
        categories=("business", "personal") if subjects else ("business",),
        subjects=tuple(subjects),
    )
    result = await s.ledger.finish_export(
        job.id,
        worker,
        tenant_id="t",
        outputs=[OutputSpec("signed", "application/xml", b"<Invoice/>")],
        record=record,
        judge=judge or (lambda _p, _s: allow(counted=bool(subjects))),  # type: ignore[arg-type]
        enqueue=JobSpec("deliver", "folder", "out", payload_ref="envelope"),
        queued=StateChange("queued", "processed", dict(facts or {})),
    )
    return sub.id, result


GUARD_TRIGGERS = {
    "sqlite": (
        "DROP TRIGGER IF EXISTS export_ledger_no_update",
        "DROP TRIGGER IF EXISTS export_ledger_no_delete",
        "DROP TRIGGER IF EXISTS export_checkpoints_no_update",
        "DROP TRIGGER IF EXISTS export_checkpoints_no_delete",
    ),
    "postgres": ("DROP FUNCTION IF EXISTS ledger_append_only() CASCADE",),
}
"""What someone who can change the schema runs before editing ledger rows: the append-only
triggers of migration 0022 dropped, so that the tamper tests reach the hash chain."""


def drop_guards_sqlite(conn: Any) -> None:
    """Drop the append-only triggers on an open ``sqlite3`` connection."""
    for statement in GUARD_TRIGGERS["sqlite"]:
        conn.execute(statement)
