"""Backoff with full jitter, bounded attempts, dead letter for permanent errors."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.jobs.retry import RetryPolicy
from gateway.store.base import Job, JobState

NOW = datetime(2026, 3, 1, tzinfo=UTC)


def job(attempts: int) -> Job:
    return Job(
        id="j", kind="deliver", submission_id="s", adapter="peppol", endpoint="ep", payload_ref=None,
        message_id="m@x", state=JobState.LEASED, attempts=attempts, next_attempt_at=NOW,
        lease_owner="w", lease_expires_at=NOW, last_error=None, retryable=None,
        created_at=NOW, updated_at=NOW,
    )  # fmt: skip


def test_ceiling_doubles_up_to_the_cap() -> None:
    policy = RetryPolicy(base_seconds=1, cap_seconds=10)
    assert [policy.ceiling(n) for n in range(1, 7)] == [1, 2, 4, 8, 10, 10]
    assert policy.ceiling(10_000) == 10


@given(st.integers(min_value=1, max_value=200), st.integers(min_value=0, max_value=2**32))
def test_delay_is_within_zero_and_the_ceiling(attempts: int, seed: int) -> None:
    policy = RetryPolicy(base_seconds=0.5, cap_seconds=300, rng=random.Random(seed))
    assert 0 <= policy.delay(attempts) <= policy.ceiling(attempts)


def test_jitter_spreads_retries() -> None:
    policy = RetryPolicy(base_seconds=60, cap_seconds=600, rng=random.Random(7))
    delays = {round(policy.delay(3), 3) for _ in range(50)}
    assert len(delays) > 40


def test_retry_after_and_dead_letter() -> None:
    policy = RetryPolicy(base_seconds=2, cap_seconds=60, max_attempts=3, rng=random.Random(1))
    seconds = policy.retry_after(job(1), retryable=True)
    assert seconds is not None and 0 <= seconds <= 2
    assert policy.retry_after(job(2), retryable=True) is not None
    assert policy.retry_after(job(3), retryable=True) is None
    assert policy.retry_after(job(1), retryable=False) is None


def test_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        RetryPolicy(max_attempts=0)
