"""The ledger's anchor: signed checkpoints kept outside the database, so that entries cut off
the end (with their checkpoints, and the head moved back) are caught; and a ledger whose
checkpoints no trusted certificate vouches for is never called sound."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from gateway.jobs.gate import ExportGate
from gateway.signing.testpki import make_test_pki
from gateway.store.ledger_anchor import anchor_line, append_anchor, read_anchor
from gateway.store.ledger_records import ExportResult, Verdict
from tests.cli.test_ledger_cli import cli, ledger_with_entries
from tests.store.ledger_support import drop_guards_sqlite


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("pki")
    make_test_pki(folder)
    return folder


def _anchored_ledger(tmp_path: Path, pki: Path, count: int = 6) -> tuple[str, Path, Path]:
    """A ledger of ``count`` entries with checkpoints at 3 and ``count`` made by the CLI,
    which appends them to the configured anchor (``ledger/anchor.jsonl`` in the data home)."""
    db, config = asyncio.run(ledger_with_entries(tmp_path, pki, count=count))
    with sqlite3.connect(db) as conn:  # the helper's own checkpoint is in no anchor
        drop_guards_sqlite(conn)
        conn.execute("DELETE FROM export_checkpoints")
        head = conn.execute("SELECT entry_hash FROM export_ledger WHERE seq = 3").fetchone()[0]
        conn.execute("UPDATE export_ledger_head SET seq = 3, hash = ?", (head,))
        kept = conn.execute("SELECT * FROM export_ledger WHERE seq > 3").fetchall()
        conn.execute("DELETE FROM export_ledger WHERE seq > 3")
    code, out, _ = cli("ledger", "checkpoint", "--config", str(config))
    assert code == 0 and "checkpoint signed at entry 3 (anchored in" in out
    with sqlite3.connect(db) as conn:
        drop_guards_sqlite(conn)
        marks = ",".join("?" * len(kept[0]))
        conn.executemany(f"INSERT INTO export_ledger VALUES ({marks})", kept)
        last = conn.execute(
            "SELECT seq, entry_hash FROM export_ledger ORDER BY seq DESC"
        ).fetchone()
        conn.execute("UPDATE export_ledger_head SET seq = ?, hash = ?", last)
    code, out, _ = cli("ledger", "checkpoint", "--config", str(config))
    assert code == 0 and f"checkpoint signed at entry {count}" in out
    anchor = tmp_path / "ledger" / "anchor.jsonl"
    assert [m["seq"] for m in read_anchor(anchor)] == [3, count]
    return db, config, anchor


def _cut_tail(db: str, keep: int) -> None:
    """What someone who can write the database does to hide the last entries: delete them,
    the checkpoints that name them, and move the head back."""
    with sqlite3.connect(db) as conn:
        drop_guards_sqlite(conn)
        conn.execute("DELETE FROM export_ledger WHERE seq > ?", (keep,))
        conn.execute("DELETE FROM export_checkpoints WHERE seq > ?", (keep,))
        head = conn.execute("SELECT entry_hash FROM export_ledger WHERE seq = ?", (keep,))
        conn.execute("UPDATE export_ledger_head SET seq = ?, hash = ?", (keep, head.fetchone()[0]))


def test_the_anchor_catches_entries_cut_off_the_end(tmp_path: Path, pki: Path) -> None:
    db, config, anchor = _anchored_ledger(tmp_path, pki)
    code, out, _ = cli("ledger", "verify", "--config", str(config))
    assert code == 0 and "ledger ok: 6 entries, 2 signed checkpoints, 2 anchored" in out
    _cut_tail(db, 4)
    code, out, _ = cli("ledger", "verify", "--config", str(config), "--anchor", str(anchor))
    assert code == 1 and "entry 6 was removed" in out and "anchored checkpoint 6" in out
    code, out, _ = cli("ledger", "verify", "--config", str(config), "--json")
    report = json.loads(out)
    assert report["ok"] is False and report["seq"] == 6


def test_the_anchor_catches_a_chain_rewritten_with_its_checkpoints(
    tmp_path: Path, pki: Path
) -> None:
    db, config, _ = _anchored_ledger(tmp_path, pki)
    with sqlite3.connect(db) as conn:
        drop_guards_sqlite(conn)
        conn.execute("DELETE FROM export_ledger WHERE seq > 2")
        conn.execute("DELETE FROM export_checkpoints")
        head = conn.execute("SELECT entry_hash FROM export_ledger WHERE seq = 2").fetchone()
        conn.execute("UPDATE export_ledger_head SET seq = 2, hash = ?", head)
    code, out, _ = cli("ledger", "verify", "--config", str(config))
    assert code == 1 and "entry 3 was removed" in out


def test_a_forged_anchor_line_fails_its_signature(tmp_path: Path, pki: Path) -> None:
    _, config, anchor = _anchored_ledger(tmp_path, pki)
    marks = read_anchor(anchor)
    forged = {**marks[-1], "head_hash": "0" * 64}
    anchor.write_bytes(anchor.read_bytes() + anchor_line(forged))
    code, out, _ = cli("ledger", "verify", "--config", str(config))
    assert code == 1 and "has a bad signature" in out and "line 3" in out


def test_checkpoints_no_trusted_certificate_vouches_for_are_not_called_sound(
    tmp_path: Path, pki: Path
) -> None:
    db, _ = asyncio.run(ledger_with_entries(tmp_path, pki))
    code, out, _ = cli("ledger", "verify", "--database", f"sqlite:///{db}")
    assert code == 1 and "no trusted certificate" in out
    code, out, _ = cli(
        "ledger", "verify", "--database", f"sqlite:///{db}", "--cert", str(pki / "signer-ec.pem")
    )
    assert code == 0 and "ledger ok: 4 entries, 1 signed checkpoints" in out


def test_a_missing_head_row_is_named_not_a_traceback(tmp_path: Path, pki: Path) -> None:
    db, config = asyncio.run(ledger_with_entries(tmp_path, pki))
    with sqlite3.connect(db) as conn:
        drop_guards_sqlite(conn)
        conn.execute("DELETE FROM export_ledger_head")
    code, out, err = cli("ledger", "verify", "--config", str(config), "--json")
    assert code == 1 and "Traceback" not in err
    assert json.loads(out)["problem"] == "the ledger's head row is missing"


def test_an_unreadable_anchor_is_a_usage_error(tmp_path: Path, pki: Path) -> None:
    _, config = asyncio.run(ledger_with_entries(tmp_path, pki))
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"seq": 1}\n', encoding="utf-8")
    code, _, err = cli("ledger", "verify", "--config", str(config), "--anchor", str(bad))
    assert code == 2 and "line 1" in err


class _FlakyLedger:
    """A ledger whose first checkpoint fails (the database was away)."""

    def __init__(self) -> None:
        self.calls = 0

    async def checkpoint(self, sign: Any) -> dict[str, Any]:
        self.calls += 1
        if self.calls == 1:
            raise ConnectionError("database away")
        return {"seq": 10 + self.calls, "head_hash": "ab" * 32, "at": "t", "signature": "s"}


def _written(seq: int, entries: int = 1) -> ExportResult:
    """An export that wrote ``entries`` ledger entries ending at ``seq``."""
    return ExportResult(Verdict(allowed=True), seq=seq, entries=entries)


@pytest.mark.asyncio
async def test_the_gate_anchors_each_checkpoint_and_retries_a_missed_one(tmp_path: Path) -> None:
    ledger = _FlakyLedger()
    anchor = tmp_path / "ledger" / "anchor.jsonl"
    gate = ExportGate(ledger, sign=lambda p: ("s", "c"), checkpoint_every=10, anchor=anchor)  # type: ignore[arg-type]
    await gate.after(_written(10))
    assert ledger.calls == 1 and not anchor.exists()
    await gate.after(_written(11))
    assert ledger.calls == 2 and [m["seq"] for m in read_anchor(anchor)] == [12]
    await gate.after(_written(12))
    assert ledger.calls == 2
    await gate.after(_written(21, entries=3))  # an eBL transfer's entries 19-21 step over 20
    assert ledger.calls == 3 and [m["seq"] for m in read_anchor(anchor)] == [12, 13]
    await gate.after(_written(24, entries=3))
    assert ledger.calls == 3
    append_anchor(anchor, {"seq": 20, "head_hash": "cd" * 32, "at": "t", "signature": "s"})
    assert [m["seq"] for m in read_anchor(anchor)] == [12, 13, 20]
    assert anchor.stat().st_mode & 0o077 == 0


def test_the_anchor_file_is_synced_into_its_folder_when_created(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first line was fsync-ed, but not the folder the new file's name is in: after a
    power cut the anchor file, and the first checkpoint with it, could be gone. Now the
    file is synced, then its folder (once, when it is made); the real calls run, the spy
    only records which inode each fsync was given."""
    synced: list[int] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        synced.append(os.fstat(fd).st_ino)
        real_fsync(fd)

    anchor = tmp_path / "ledger" / "anchor.jsonl"
    monkeypatch.setattr(os, "fsync", fsync)
    append_anchor(anchor, {"seq": 1, "head_hash": "ab" * 32, "at": "t", "signature": "s"})
    append_anchor(anchor, {"seq": 2, "head_hash": "cd" * 32, "at": "t", "signature": "s"})
    monkeypatch.undo()
    file, folder = anchor.stat().st_ino, anchor.parent.stat().st_ino
    assert synced == [file, folder, file]
    assert [m["seq"] for m in read_anchor(anchor)] == [1, 2]
