"""When to try a failed delivery again: exponential backoff with full jitter.

The n-th retry waits a uniformly random time between 0 and ``min(cap, base * 2**(n-1))``
("full jitter"): retries of many jobs that failed together spread out instead of hitting
the receiver in waves. A receiver that said how long to wait (HTTP ``Retry-After`` on a 429
or 503) is not tried again sooner, up to ``asked_cap_seconds``. After ``max_attempts``
attempts, or at once for an error a retry cannot fix, the job goes to the dead letter.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from gateway.store.base import Job


@dataclass(frozen=True)
class RetryPolicy:
    """Backoff settings; immutable and shareable between workers."""

    base_seconds: float = 2.0
    """Ceiling of the first retry's delay."""
    cap_seconds: float = 600.0
    """No delay exceeds this."""
    max_attempts: int = 12
    """Attempts in all (the first one included) before the job is dead-lettered."""
    asked_cap_seconds: float = 3600.0
    """The longest wait a receiver's ``Retry-After`` is honoured for; a longer one is cut
    to this, so one answer cannot park a document for days."""
    rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)
    """Source of jitter (seed it in tests)."""

    def __post_init__(self) -> None:
        if (
            self.base_seconds < 0
            or self.cap_seconds < 0
            or self.asked_cap_seconds < 0
            or self.max_attempts < 1
        ):
            raise ValueError("RetryPolicy needs base, caps >= 0 and max_attempts >= 1")

    def ceiling(self, attempts: int) -> float:
        """The largest delay after ``attempts`` failed attempts (1 → ``base``)."""
        exponent = min(max(attempts - 1, 0), 62)
        return float(min(self.cap_seconds, self.base_seconds * 2**exponent))

    def delay(self, attempts: int) -> float:
        """A jittered delay in seconds after ``attempts`` failed attempts."""
        return self.rng.uniform(0.0, self.ceiling(attempts))

    def gives_up(self, attempts: int, *, retryable: bool) -> bool:
        """Whether a job that failed its ``attempts``-th attempt is dead."""
        return not retryable or attempts >= self.max_attempts

    def retry_after(self, job: Job, *, retryable: bool, asked: float | None = None) -> float | None:
        """Seconds until the job (which just failed ``job.attempts`` times) is due again,
        or ``None`` for the dead letter; at least ``asked`` (the receiver's own
        ``Retry-After``, cut to ``asked_cap_seconds``) when it said."""
        if self.gives_up(job.attempts, retryable=retryable):
            return None
        delay = self.delay(job.attempts)
        if asked is not None and asked > 0:
            delay = max(delay, min(asked, self.asked_cap_seconds))
        return delay
