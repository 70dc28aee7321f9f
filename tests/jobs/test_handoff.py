"""The outputs a hand-off keeps: taken once, bounded."""

from __future__ import annotations

from datetime import UTC, datetime

from gateway.jobs import HandedOutputs
from gateway.store import Output


def _outputs(submission_id: str) -> dict[str, Output]:
    now = datetime.now(UTC)
    return {"envelope": Output(submission_id, "envelope", "application/json", b"{}", now)}


def test_kept_outputs_are_taken_once() -> None:
    handed = HandedOutputs()
    handed.keep("s1", _outputs("s1"))
    taken = handed.take("s1")
    assert taken is not None and taken["envelope"].submission_id == "s1"
    assert handed.take("s1") is None


def test_the_oldest_entries_go_first_past_the_limit() -> None:
    handed = HandedOutputs(limit=2)
    for sid in ("s1", "s2", "s3"):
        handed.keep(sid, _outputs(sid))
    assert len(handed) == 2
    assert handed.take("s1") is None
    assert handed.take("s3") is not None
