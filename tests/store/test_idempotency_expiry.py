"""Idempotency keys are forgotten after the published retention (draft-ietf-httpapi-
idempotency-key-header §2.3), on both stores: only the key (a submission's) or the stored
first answer (an eBL action's) goes; the submission, its document and events stay; the
gateway's own keys (MLS, monthly reports) are kept; work goes in small batches."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest

from gateway.store import Store, open_store
from gateway.store.ebl_idempotency import (
    IdempotentAnswers,
    IdempotentRequest,
    Remembered,
    remember,
)
from gateway.store.idempotency import IdempotencyExpiry


@pytest.fixture
async def store(store_url: str) -> AsyncIterator[Store]:
    opened = await open_store(store_url)
    await opened.create_tenant("acme", tenant_id="t1")
    try:
        yield opened
    finally:
        await opened.close()


def later(store: Store, hours: float) -> IdempotencyExpiry:
    """An expiry whose clock runs ``hours`` ahead of the store's."""
    ahead = store.clock() + timedelta(hours=hours)
    return IdempotencyExpiry(store.connector, clock=lambda: ahead, batch=2)


async def _answer(store: Store, key: str) -> None:
    request = IdempotentRequest("t1", key, "POST /v1/ebls", {"to": "x"})
    remembered = Remembered(request, lambda _: (201, {"reference": key}))

    def script(now: datetime):  # type: ignore[no-untyped-def]
        yield from remember(remembered, None, now)

    await store.connector.write(script(store.clock()))


async def test_old_document_keys_are_forgotten_and_the_key_then_starts_a_new_request(
    store: Store,
) -> None:
    first, created = await store.create_submission(
        "t1", b"<EInvoice/>", content_type="application/xml", idempotency_key="inv-42"
    )
    assert created
    kept = await later(store, 1).expire(168)
    assert kept.total == 0
    again, created = await store.create_submission(
        "t1", b"<EInvoice/>", content_type="application/xml", idempotency_key="inv-42"
    )
    assert (again.id, created) == (first.id, False)

    forgotten = await later(store, 169).expire(168)
    assert (forgotten.submissions, forgotten.ebl_answers) == (1, 0)
    stored = await store.get_submission("t1", first.id)
    assert stored is not None
    assert (stored.data, stored.idempotency_key, stored.state) == (
        b"<EInvoice/>",
        None,
        first.state,
    )
    assert [e.state for e in await store.list_events(first.id)] == ["received"]

    fresh, created = await store.create_submission(
        "t1", b"<EInvoice/>", content_type="application/xml", idempotency_key="inv-42"
    )
    assert created and fresh.id != first.id


async def test_the_gateways_own_keys_are_kept(store: Store) -> None:
    for key in ("mls:m-1", "peppol-tsr:2026-01", "peppol-eusr:2026-01", "client-1"):
        await store.create_submission(
            "t1", b"<x/>", content_type="application/xml", idempotency_key=key
        )
    forgotten = await later(store, 1000).expire(168)
    assert forgotten.submissions == 1
    for key in ("mls:m-1", "peppol-tsr:2026-01", "peppol-eusr:2026-01", "client-1"):
        _, created = await store.create_submission(
            "t1", b"<x/>", content_type="application/xml", idempotency_key=key
        )
        assert created == (key == "client-1"), key


async def test_ebl_answers_are_forgotten_in_batches_and_recent_ones_kept(store: Store) -> None:
    for n in range(5):
        await _answer(store, f"issue-{n}")
        await store.create_submission(
            "t1", b"<x/>", content_type="application/xml", idempotency_key=f"doc-{n}"
        )
    answers = IdempotentAnswers.of(store)
    assert (await answers.find("t1", "issue-0")) is not None
    forgotten = await later(store, 200).expire(168)
    assert (forgotten.submissions, forgotten.ebl_answers) == (5, 5)
    assert [await answers.find("t1", f"issue-{n}") for n in range(5)] == [None] * 5
    await _answer(store, "issue-0")  # a new request under the forgotten key
    found = await answers.find("t1", "issue-0")
    assert found is not None and json.dumps(found.body) == '{"reference": "issue-0"}'


async def test_zero_hours_keeps_every_key(store: Store) -> None:
    await store.create_submission(
        "t1", b"<x/>", content_type="application/xml", idempotency_key="k"
    )
    assert (await later(store, 10_000).expire(0)).total == 0


async def test_two_replicas_expiring_at_once_forget_each_key_once(store_url: str) -> None:
    """Two processes' expiries over one store (a CLI run during the hourly job): between
    them every key is forgotten once, neither waits on the other's batches."""
    first, second = await open_store(store_url), await open_store(store_url)
    try:
        await first.create_tenant("acme", tenant_id="t1")
        for n in range(60):
            await first.create_submission(
                "t1", b"<x/>", content_type="application/xml", idempotency_key=f"k-{n}"
            )
            await _answer(first, f"a-{n}")
        runs = await asyncio.gather(later(first, 200).expire(168), later(second, 200).expire(168))
        assert sum(r.submissions for r in runs) == 60
        assert sum(r.ebl_answers for r in runs) == 60
        assert (await later(first, 200).expire(168)).total == 0
    finally:
        await first.close()
        await second.close()
