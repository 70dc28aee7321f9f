"""The outputs a hand-off keeps: taken once, bounded."""

from __future__ import annotations

from datetime import UTC, datetime

from gateway.jobs import HandedOutputs, ReceivedSubmissions
from gateway.store import Output, Submission


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


def _submission(submission_id: str, size: int) -> Submission:
    now = datetime.now(UTC)
    return Submission(
        submission_id, "t", None, b"x" * size, "application/xml", None, {}, "received", now, now
    )


def test_received_submissions_are_taken_once_and_bounded_by_count_and_bytes() -> None:
    received = ReceivedSubmissions(limit=3, max_bytes=100)
    received.keep(_submission("s1", 40))
    assert received.take("s1") is not None and received.take("s1") is None
    for sid in ("a", "b", "c"):
        received.keep(_submission(sid, 40))
    assert len(received) == 2 and received.take("a") is None  # 120 bytes > 100: the oldest went
    received.keep(_submission("huge", 101))
    assert received.take("huge") is None  # larger than the whole budget: never kept
    for sid in ("d", "e", "f"):
        received.keep(_submission(sid, 1))
    assert len(received) == 3 and received.take("b") is None
