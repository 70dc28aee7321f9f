"""The outputs a hand-off keeps: taken once, bounded."""

from __future__ import annotations

from datetime import UTC, datetime

from gateway.jobs import HandedOutputs, IngestHandOffs, ReceivedSubmissions
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


class Slots:
    """A worker stand-in with ``spare`` slots (``None``: not running)."""

    lease_seconds = 30.0

    def __init__(self, worker_id: str, spare: int | None) -> None:
        self.worker_id = worker_id
        self.spare = spare

    def spare_slots(self) -> int:
        return self.spare or 0

    def reserve_slot(self) -> bool:
        if not self.spare:
            return False
        self.spare -= 1
        return True

    def take(self, job: object) -> None:
        """Not called here."""


def test_ingest_hand_offs_go_to_the_least_busy_running_worker() -> None:
    hand_offs = IngestHandOffs()
    assert hand_offs.reserve() is None  # no workers in this process (lingang serve --no-worker)
    busy, idle, stopped = Slots("busy", 1), Slots("idle", 2), Slots("stopped", None)
    for worker in (busy, stopped, idle):
        hand_offs.add(worker)
    assert [getattr(hand_offs.reserve(), "worker_id", None) for _ in range(4)] == [
        "idle",
        "busy",
        "idle",
        None,  # every slot reserved: the job is queued pending for any worker
    ]
