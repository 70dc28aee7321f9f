"""The delivery outbox mechanics: retry policy, circuit breaker, dispatcher loop.

The durable queue itself is the store (:mod:`gateway.store`); this package decides when
to try again (:mod:`~gateway.outbox.retry`), when an endpoint is given a rest
(:mod:`~gateway.outbox.breaker`) and runs the claim → deliver → record loop
(:mod:`~gateway.outbox.dispatcher`).
"""

from __future__ import annotations

from gateway.outbox.breaker import CircuitBreaker
from gateway.outbox.dispatcher import Deliver, Dispatcher
from gateway.outbox.retry import RetryPolicy

__all__ = ["CircuitBreaker", "Deliver", "Dispatcher", "RetryPolicy"]
