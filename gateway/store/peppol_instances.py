"""Peppol documents received, by sending access point and SBDH InstanceIdentifier: what tells
a replay (the same document re-sent under a new AS4 MessageId) from a new document.

Tables (migration ``peppol_instances``): ``peppol_instances`` (per channel, sending AP seat
and InstanceIdentifier, the MessageId that first carried it) and ``peppol_replays`` (each
replay and the receipt it was answered with, so a retry of the replay gets the same one).

::

    instances = PeppolInstances(store.connector)
    if not await instances.claim(channel=..., message_id=..., c2_seat=..., instance_id=...):
        arrival = await instances.arrive(..., answer=receipt)
    arrival.verdict   # NEW: store it (the claim is ours), DUPLICATE / REPLAY: answer
                      # arrival.answer, IN_FLIGHT: try later, FOREIGN: MessageId of another AP,
                      # REUSED: the InstanceIdentifier of another document from this AP

The claim is taken in its own transaction before the message is stored (by the inbound
sink, in the next one), so two copies racing at two replicas cannot both be stored: the
second finds the claim. A claim whose message was never stored (refused after the claim,
or the process died in between) is taken over by another MessageId after ``in_flight``;
before that the other copy is asked to come back later, never receipted, so nothing is
acknowledged that was not stored. A claim's age is the database's clock on PostgreSQL (like
the job queue's leases, see :meth:`~gateway.store.connector.Connector.queue_time`): a
replica whose clock runs ahead does not take over a claim another replica is still storing
under, which would store (and hand on) the document twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from gateway.store.base import reads, writes, writes_one
from gateway.store.connector import Connector, Query, Script
from gateway.store.records import Clock, utcnow
from gateway.store.rows import to_bytes, to_time

NEW = "new"
"""Not seen before (or a retry of the MessageId holding the claim): store it."""
DUPLICATE = "duplicate"
"""This MessageId came before from the same AP (stored, or answered as a replay): answer
with its first answer."""
REPLAY = "replay"
"""The document is stored already under another MessageId from the same AP: answer (the
kept answer of this MessageId), do not store it again."""
REUSED = "reused"
"""The document's InstanceIdentifier came before from the same AP with another document:
refuse (an InstanceIdentifier names one document; a receipt would acknowledge a document
that is never handed on)."""
IN_FLIGHT = "in-flight"
"""Another MessageId holds the claim and is not stored (yet): ask the sender to retry."""
FOREIGN = "foreign"
"""This MessageId was received from another access point: refuse."""
IN_FLIGHT_FOR = timedelta(minutes=2)
"""How long a claim whose message is not stored keeps other MessageIds out."""


@dataclass(frozen=True, slots=True)
class Arrival:
    """What the store knows of an arriving message."""

    verdict: str
    answer: bytes | None = None
    """DUPLICATE and REPLAY: the answer to give (the one kept for this MessageId)."""
    first_message_id: str = ""
    """REPLAY and IN_FLIGHT: the MessageId that carried the document first."""


@dataclass(frozen=True, slots=True)
class Replay:
    """A document received again under another MessageId, answered but not stored."""

    channel: str
    message_id: str
    c2_seat: str
    instance_id: str
    first_message_id: str
    received_at: datetime


class PeppolInstances:
    """The transaction scripts of received Peppol documents, over the store's connector."""

    def __init__(
        self, connector: Connector, *, clock: Clock = utcnow, in_flight: timedelta = IN_FLIGHT_FOR
    ) -> None:
        self.connector = connector
        self.clock = clock
        self.in_flight = in_flight

    @writes_one
    def claim(
        self, *, channel: str, message_id: str, c2_seat: str, instance_id: str
    ) -> Script[bool]:
        """Claim a document for ``message_id`` in one statement: ``True`` when nobody had
        (a new document, the common case), ``False`` when :meth:`arrive` must judge."""
        key = {
            "channel": channel,
            "message_id": message_id,
            "c2_seat": c2_seat,
            "instance_id": instance_id,
            "at": self.connector.queue_time(self.clock),
        }
        return bool((yield Query("claim_peppol_instance", key, "rowcount")))

    @reads
    def seat_of(self, channel: str, message_id: str) -> Script[str | None]:
        """The sending AP seat a stored message came from (``None``: not stored)."""
        key = {"channel": channel, "message_id": message_id}
        row = yield Query("peppol_inbound_with_answer", key, "one")
        return None if row is None else str(row["c2_seat"])

    @writes
    def arrive(
        self,
        *,
        channel: str,
        message_id: str,
        c2_seat: str,
        instance_id: str,
        answer: bytes,
        document: bytes | None = None,
    ) -> Script[Arrival]:
        """Judge an authenticated message (see the module docstring); on REPLAY the replay
        is recorded with ``answer``, on NEW the document is claimed for ``message_id``.

        ``document``: the business document the message carries; when given, a message whose
        InstanceIdentifier names a stored document with other bytes is REUSED, not a replay."""
        now = self.clock()
        at = self.connector.queue_time(self.clock)
        key = {
            "channel": channel,
            "message_id": message_id,
            "c2_seat": c2_seat,
            "instance_id": instance_id,
            "now": now,
            "at": at,
        }
        replay = yield Query("peppol_replay_by_message_id", key, "one")
        if replay is not None:
            if replay["c2_seat"] != c2_seat:
                return Arrival(FOREIGN)
            return Arrival(DUPLICATE, to_bytes(replay["answer"]), replay["first_message_id"])
        stored = yield Query("peppol_inbound_with_answer", key, "one")
        if stored is not None:
            if stored["c2_seat"] != c2_seat:
                return Arrival(FOREIGN)
            kept = stored["answer"]
            return Arrival(DUPLICATE, None if kept is None else to_bytes(kept))
        if (yield Query("claim_peppol_instance", key, "rowcount")):
            return Arrival(NEW)
        claim = yield Query("peppol_instance", key, "one")
        holder = str(claim["message_id"]) if claim is not None else message_id
        if holder == message_id:
            return Arrival(NEW)
        first = yield Query("peppol_inbound_with_answer", {**key, "message_id": holder}, "one")
        if first is not None and first["c2_seat"] == c2_seat:
            if document is not None:
                stored = yield Query("peppol_inbound_data", {**key, "message_id": holder}, "one")
                if stored is not None and to_bytes(stored["data"]) != bytes(document):
                    return Arrival(REUSED, first_message_id=holder)
            params = {**key, "first_message_id": holder, "answer": bytes(answer)}
            if not (yield Query("insert_peppol_replay", params, "rowcount")):
                kept = yield Query("peppol_replay_by_message_id", key, "one")
                return Arrival(REPLAY, to_bytes(kept["answer"]) if kept else bytes(answer), holder)
            return Arrival(REPLAY, bytes(answer), holder)
        stale = {
            "claimed_by": holder,
            "in_flight": self.in_flight.total_seconds(),
            "stale_before": None if at is None else at - self.in_flight,
        }
        if (yield Query("take_peppol_instance", {**key, **stale}, "rowcount")):
            return Arrival(NEW)
        return Arrival(IN_FLIGHT, first_message_id=holder)

    @reads
    def replays(self, limit: int = 50) -> Script[list[Replay]]:
        """The latest replays, newest first."""
        found = yield Query("peppol_replays_recent", {"limit": limit}, "all")
        return [
            Replay(
                channel=row["channel"],
                message_id=row["message_id"],
                c2_seat=row["c2_seat"],
                instance_id=row["instance_id"],
                first_message_id=row["first_message_id"],
                received_at=to_time(row["received_at"]),
            )
            for row in found
        ]
