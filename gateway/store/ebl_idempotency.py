"""The first answers to eBL actions sent with an ``Idempotency-Key`` (migration
``ebl_idempotency``).

An action that changes an eBL (issue it, transfer, endorse or surrender it) takes a
:class:`Remembered` down to the registry, which writes the answer in the same transaction as
the change (:func:`remember`): once the change is durable, so is its answer, on every
replica and after any restart. A retry finds it (:meth:`IdempotentAnswers.find`) and is
given it again; a retry racing the first (two replicas) loses the registry's compare-and-set
and then finds it. An action that failed changed nothing and left no answer: its retry runs
again.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from gateway.store.base import HasConnector, reads
from gateway.store.connector import Connector, Query, Script
from gateway.store.records import Clock, ConflictError, utcnow


@dataclass(frozen=True, slots=True)
class IdempotentRequest:
    """What an idempotency key was first used for: ``request`` (method and path) and
    ``fields`` (a digest of each member of the request body, by name)."""

    tenant_id: str
    key: str
    request: str
    fields: Mapping[str, str]

    def differences(self, other: IdempotentRequest) -> list[str]:
        """What ``other`` changes: ``request`` when it is another method or path, else each
        body member added, left out or given another value (sorted)."""
        if self.request != other.request:
            return ["request"]
        names = set(self.fields) | set(other.fields)
        return sorted(n for n in names if self.fields.get(n) != other.fields.get(n))


@dataclass(frozen=True, slots=True)
class StoredAnswer:
    """The first answer to a request: HTTP ``status`` and JSON ``body``."""

    request: IdempotentRequest
    status: int
    body: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Remembered:
    """A request to remember the answer of: ``answer`` makes it from the registry's result
    (an :class:`~gateway.store.ebl.Outbound` or a :class:`~gateway.store.ebl.TitleRecord`)."""

    request: IdempotentRequest
    answer: Callable[[Any], tuple[int, dict[str, Any]]]


def remember(remembered: Remembered | None, result: Any, now: datetime) -> Script[None]:
    """Write the answer ``result`` makes (nothing without ``remembered``). A key another
    transaction used first is a :class:`ConflictError` (this one then rolls back)."""
    if remembered is None:
        return
    status, body = remembered.answer(result)
    request = remembered.request
    params = {
        "tenant_id": request.tenant_id,
        "idempotency_key": request.key,
        "request": request.request,
        "fields": json.dumps(dict(request.fields), sort_keys=True),
        "status": status,
        "answer": json.dumps(body, separators=(",", ":"), ensure_ascii=False),
        "now": now,
    }
    if not (yield Query("ebl_insert_idempotent", params, "rowcount")):
        raise ConflictError(
            "this Idempotency-Key was used by another request at the same time",
            field="Idempotency-Key",
            rule="idempotency-key-reuse",
        )


class IdempotentAnswers:
    """The stored first answers, over the store's connector."""

    def __init__(self, connector: Connector, *, clock: Clock = utcnow) -> None:
        self.connector = connector
        self.clock = clock

    @classmethod
    def of(cls, store: HasConnector) -> IdempotentAnswers:
        """The answers over the same database as ``store``."""
        return cls(store.connector, clock=store.clock)

    @reads
    def find(self, tenant_id: str, key: str) -> Script[StoredAnswer | None]:
        """The first answer given to ``tenant_id`` under ``key``, or ``None``."""
        params = {"tenant_id": tenant_id, "idempotency_key": key}
        row = yield Query("ebl_get_idempotent", params, "one")
        if row is None:
            return None
        request = IdempotentRequest(tenant_id, key, row["request"], json.loads(row["fields"]))
        return StoredAnswer(request, int(row["status"]), json.loads(row["answer"]))
