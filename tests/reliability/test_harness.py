"""Tests of the exactly-once check itself: each way delivery can go wrong makes it fail."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

from gateway.store import open_store
from reliability.harness import check_exactly_once, one_id_per_key


class SeenByReceiver:
    """What the receiver recorded: message id → body sha256 and → submission id."""

    def __init__(self) -> None:
        self.accepted: dict[str, str] = {}
        self.submissions: dict[str, str] = {}

    def got(self, message_id: str, submission_id: str, body: bytes) -> None:
        self.accepted[message_id] = hashlib.sha256(body).hexdigest()
        self.submissions[message_id] = submission_id


async def stored(url: str, count: int) -> list[str]:
    store = await open_store(url)
    try:
        tenant = await store.create_tenant("t")
        ids = []
        for n in range(count):
            sub, _ = await store.create_submission(tenant.id, b"x", content_type="text/plain")
            await store.put_output(sub.id, "signed", "application/xml", f"<d n='{n}'/>".encode())
            await store.record_event(sub.id, "delivered")
            ids.append(sub.id)
        return ids
    finally:
        await store.close()


async def test_every_way_to_go_wrong_fails_the_check(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'g.db'}"
    one, two = await stored(url, 2)

    def receiver(*deliveries: tuple[str, str, bytes]) -> Any:
        seen = SeenByReceiver()
        for message_id, submission_id, body in deliveries:
            seen.got(message_id, submission_id, body)
        return seen

    good = receiver(("m1", one, b"<d n='0'/>"), ("m2", two, b"<d n='1'/>"))
    await check_exactly_once(url, good, {one, two}, documents=2)
    with pytest.raises(AssertionError, match="never delivered"):
        await check_exactly_once(url, receiver(("m1", one, b"<d n='0'/>")), {one, two})
    with pytest.raises(AssertionError, match="nobody acknowledged"):
        await check_exactly_once(url, good, {one})
    twice = receiver(
        ("m1", one, b"<d n='0'/>"), ("m1b", one, b"<d n='0'/>"), ("m2", two, b"<d n='1'/>")
    )
    with pytest.raises(AssertionError, match="several message ids"):
        await check_exactly_once(url, twice, {one, two})
    with pytest.raises(AssertionError, match="other bytes"):
        await check_exactly_once(
            url, receiver(("m1", one, b"<d n='0'/>"), ("m2", two, b"<x/>")), {one, two}
        )
    with pytest.raises(AssertionError, match="3 documents sent"):
        await check_exactly_once(url, good, {one, two}, documents=3)


def test_a_key_acknowledged_as_two_submissions_fails() -> None:
    assert one_id_per_key({"doc-1": {"a"}, "doc-2": {"b"}}) == {"a", "b"}
    with pytest.raises(AssertionError, match="several submissions"):
        one_id_per_key({"doc-1": {"a", "a2"}, "doc-2": {"b"}})
