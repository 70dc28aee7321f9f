"""A limit on failed console sign-ins, per client address and per API-key prefix.

Each failed sign-in counts against the client's address (``request.remote``: behind a
reverse proxy, the proxy's) and against the first :data:`PREFIX_CHARS` characters of the key
tried. When either has ``max_failures`` failures within the last ``window_seconds``, every
sign-in from that address or with that prefix is refused with 429 and ``Retry-After`` (the
seconds until its oldest failure leaves the window) before the key is even looked up, so a
correct key does not get through a lock-out either. A successful sign-in clears its address
and prefix.

The counts live in memory, per process: each replica (and each restart) counts on its own,
so with N replicas an address gets at most N × ``max_failures`` tries per window. At most
:data:`MAX_TRACKED` addresses and prefixes are tracked; beyond that the stalest are dropped.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field

PREFIX_CHARS = 12
"""``lgk_`` and the key's first eight random characters."""
MAX_TRACKED = 10_000


@dataclass
class SignInThrottle:
    """Failed sign-ins in a sliding window (see the module docstring)."""

    max_failures: int = 10
    window_seconds: float = 600.0
    clock: Callable[[], float] = time.monotonic
    _failures: OrderedDict[str, deque[float]] = field(default_factory=OrderedDict)

    @staticmethod
    def subjects(address: str | None, key: str) -> tuple[str, ...]:
        """What one attempt counts against: its address and its key's prefix."""
        found = [f"addr:{address or 'unknown'}"]
        if key:
            found.append(f"key:{key[:PREFIX_CHARS]}")
        return tuple(found)

    def retry_after(self, subjects: tuple[str, ...]) -> int:
        """Seconds until an attempt for ``subjects`` may be made; 0: now."""
        now = self.clock()
        wait = 0.0
        for subject in subjects:
            times = self._recent(subject, now)
            if len(times) >= self.max_failures:
                wait = max(wait, times[len(times) - self.max_failures] + self.window_seconds - now)
        return max(1, math.ceil(wait)) if wait > 0 else 0

    def failed(self, subjects: tuple[str, ...]) -> None:
        """Count one failed attempt against each subject."""
        now = self.clock()
        for subject in subjects:
            times = self._recent(subject, now)
            times.append(now)
            self._failures[subject] = times
            self._failures.move_to_end(subject)
        while len(self._failures) > MAX_TRACKED:
            self._failures.popitem(last=False)

    def succeeded(self, subjects: tuple[str, ...]) -> None:
        """Forget the failures of a client that signed in."""
        for subject in subjects:
            self._failures.pop(subject, None)

    def _recent(self, subject: str, now: float) -> deque[float]:
        times = self._failures.get(subject, deque())
        while times and times[0] <= now - self.window_seconds:
            times.popleft()
        if not times:
            self._failures.pop(subject, None)
        return times
