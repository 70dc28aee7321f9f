"""Received Peppol documents by sending AP and SBDH InstanceIdentifier (replays), on SQLite
and on a real PostgreSQL, with two store instances over one database (two replicas)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from gateway.store import JobSpec, Store, open_store
from gateway.store.peppol_instances import (
    DUPLICATE,
    FOREIGN,
    IN_FLIGHT,
    NEW,
    REPLAY,
    REUSED,
    PeppolInstances,
)

CHANNEL = "peppol"


@pytest.fixture
async def replicas(store_url: str) -> AsyncIterator[tuple[Store, Store]]:
    first = await open_store(store_url)
    second = await open_store(store_url)
    try:
        yield first, second
    finally:
        await second.close()
        await first.close()


async def store_message(store: Store, message_id: str, seat: str, answer: bytes) -> None:
    """What the inbound sink does for a NEW message."""
    await store.receive_inbound(
        channel=CHANNEL,
        message_id=message_id,
        data=b"<Invoice/>",
        media_type="application/xml",
        metadata={"peppol": {"c2_seat": seat, "instance_id": "doc-1"}},
        enqueue=JobSpec("receive", payload_ref="document-in"),
        answer=answer,
    )


async def arrive(
    instances: PeppolInstances,
    message_id: str,
    *,
    seat: str = "PSG000001",
    doc: str = "doc-1",
    document: bytes | None = None,
) -> tuple[str, bytes | None, str]:
    arrival = await instances.arrive(
        channel=CHANNEL,
        message_id=message_id,
        c2_seat=seat,
        instance_id=doc,
        answer=f"receipt of {message_id}".encode(),
        document=document,
    )
    return arrival.verdict, arrival.answer, arrival.first_message_id


async def test_another_document_under_a_used_instance_identifier_is_reused(
    replicas: tuple[Store, Store],
) -> None:
    """A replay carries the same document; other bytes under the same InstanceIdentifier
    from the same AP are another document, which a replay's receipt would acknowledge and
    drop: REUSED (the receiver refuses it), and nothing is recorded, so a retry is judged
    the same way."""
    here, there = (PeppolInstances(s.connector) for s in replicas)
    assert (await arrive(here, "m1", document=b"<Invoice/>"))[0] == NEW
    await store_message(replicas[0], "m1", "PSG000001", b"receipt of m1")
    assert await arrive(there, "m2", document=b"<Invoice>other</Invoice>") == (REUSED, None, "m1")
    assert await arrive(here, "m2", document=b"<Invoice>other</Invoice>") == (REUSED, None, "m1")
    assert await arrive(there, "m3", document=b"<Invoice/>") == (REPLAY, b"receipt of m3", "m1")
    assert await PeppolInstances(replicas[1].connector).replays() != []
    assert [m.message_id for m in await replicas[1].list_inbound()] == ["m1"]


async def test_a_replay_under_a_new_message_id_is_known_at_another_replica(
    replicas: tuple[Store, Store],
) -> None:
    here, there = (PeppolInstances(s.connector) for s in replicas)
    assert (await arrive(here, "m1"))[0] == NEW
    await store_message(replicas[0], "m1", "PSG000001", b"receipt of m1")
    assert await arrive(there, "m1") == (DUPLICATE, b"receipt of m1", "")
    assert await arrive(there, "m2") == (REPLAY, b"receipt of m2", "m1")
    assert await arrive(here, "m2") == (DUPLICATE, b"receipt of m2", "m1")  # its retry
    assert await arrive(here, "m3", doc="doc-2") == (NEW, None, "")
    assert await arrive(here, "m4", seat="PSG000077") == (NEW, None, "")  # another AP's doc-1
    replays = await PeppolInstances(replicas[1].connector).replays()
    assert [(r.message_id, r.first_message_id, r.instance_id) for r in replays] == [
        ("m2", "m1", "doc-1")
    ]
    stored = await replicas[1].list_inbound()
    assert sorted(m.message_id for m in stored) == ["m1"]


async def test_a_message_id_of_another_access_point_is_foreign(
    replicas: tuple[Store, Store],
) -> None:
    here, there = (PeppolInstances(s.connector) for s in replicas)
    assert (await arrive(here, "m1"))[0] == NEW
    await store_message(replicas[0], "m1", "PSG000001", b"receipt of m1")
    assert (await arrive(there, "m1", seat="PSG000066"))[0] == FOREIGN
    assert (await arrive(here, "m2"))[0] == REPLAY
    assert (await arrive(there, "m2", seat="PSG000066"))[0] == FOREIGN
    assert (await arrive(there, "m2"))[0] == DUPLICATE


async def test_an_unstored_claim_holds_then_is_taken_over(replicas: tuple[Store, Store]) -> None:
    clock = [datetime(2026, 12, 1, 8, 0, tzinfo=UTC)]
    for store in replicas:  # the claims' age goes by the test's clock on PostgreSQL too
        store.connector.queue_clock = lambda: clock[0]
    here, there = (
        PeppolInstances(s.connector, clock=lambda: clock[0], in_flight=timedelta(minutes=2))
        for s in replicas
    )
    assert (await arrive(here, "m1"))[0] == NEW  # claimed, then refused or cut off
    assert await arrive(there, "m1") == (NEW, None, "")  # the same MessageId retried
    assert await arrive(there, "m2") == (IN_FLIGHT, None, "m1")
    clock[0] += timedelta(minutes=3)
    assert (await arrive(there, "m2"))[0] == NEW  # m1 never stored: m2 takes the claim
    await store_message(replicas[1], "m2", "PSG000001", b"receipt of m2")
    assert await arrive(here, "m1") == (REPLAY, b"receipt of m1", "m2")


async def test_a_claim_is_one_statement_for_a_new_document(replicas: tuple[Store, Store]) -> None:
    here, there = (PeppolInstances(s.connector) for s in replicas)
    key = {"channel": CHANNEL, "c2_seat": "PSG000001", "instance_id": "doc-9"}
    assert await here.claim(message_id="m9", **key)
    assert not await there.claim(message_id="m9", **key)  # judged by arrive(): NEW, a retry
    assert (await arrive(there, "m9", doc="doc-9"))[0] == NEW
    assert await there.seat_of(CHANNEL, "m9") is None
    await store_message(replicas[0], "m9", "PSG000001", b"receipt of m9")
    assert await there.seat_of(CHANNEL, "m9") == "PSG000001"


@pytest.mark.postgres
async def test_a_replica_running_ahead_does_not_take_over_a_live_claim(pg_url: str) -> None:
    """A claim's age is the database's clock: a replica an hour ahead (or a claim stamped by
    one an hour behind) leaves a claim alone while its message is being stored, and takes
    it over once it is older than ``in_flight`` by the database's clock."""
    hour = timedelta(hours=1)
    on_time, ahead, behind = [await open_store(pg_url) for _ in range(3)]
    try:
        in_flight = timedelta(seconds=1.5)
        here = PeppolInstances(on_time.connector, in_flight=in_flight)
        early = PeppolInstances(
            ahead.connector, clock=lambda: datetime.now(UTC) + hour, in_flight=in_flight
        )
        late = PeppolInstances(
            behind.connector, clock=lambda: datetime.now(UTC) - hour, in_flight=in_flight
        )
        assert (await arrive(here, "m1"))[0] == NEW  # being stored by this replica
        assert await arrive(early, "m2") == (IN_FLIGHT, None, "m1")
        assert (await arrive(late, "m3", doc="doc-2"))[0] == NEW  # claimed "an hour ago"
        assert await arrive(here, "m4", doc="doc-2") == (IN_FLIGHT, None, "m3")
        assert await arrive(early, "m4", doc="doc-2") == (IN_FLIGHT, None, "m3")
        await asyncio.sleep(2 * in_flight.total_seconds())
        assert (await arrive(early, "m2"))[0] == NEW  # m1 never stored: taken over
        assert await arrive(here, "m1") == (IN_FLIGHT, None, "m2")
    finally:
        for store in (on_time, ahead, behind):
            await store.close()
