"""Registry rows written under rules the gateway no longer follows, and their migration.

**Surrenders** (migration ``ebl_surrender_requests``). Until the PINT title rules followed
``SACC`` / ``SREJ``, a ``SURRENDER_FOR_DELIVERY`` / ``SURRENDER_FOR_AMENDMENT`` was final: the
carrier's platform, receiving the request, stored the eBL ``surrendered``; the requester's
platform stored it ``transferred`` with a title saying ``surrendered``; a request still being
sent carried that title too. PINT 3.0 makes the surrender a request the carrier
answers, and the rule now gives, for the same chain:

* the carrier's platform (``surrendered``): ``held`` by the carrier, the request pending
  (``surrenderRequestedBy``), so the carrier can answer it with ``SACC`` or ``SREJ``;
* the requester's platform (``transferred``): ``transferred``, the title with the request
  pending;
* the request's transfer still being sent: the same transfer, with that title.

Each row is migrated by replaying its chain (unchanged) under the current title rules; its
state and title before are kept in ``ebl_title_migrations``. A row that cannot be mapped
without guessing is left as it was and recorded with the reason: a chain that cannot be
read, one the current rules refuse, one that does not end with the surrender request, a
state no rule wrote with it, or a possessor the chain does not give. The gateway names those
rows at every start (:func:`left_rows`) until someone changes them.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from gateway.errors import VerificationError
from gateway.pint.codes import SURRENDERS, ActionCode, PintRejection
from gateway.pint.stored import chain_transactions
from gateway.pint.title import Title, replay
from gateway.store.connector import Query, Row, Script

log = logging.getLogger("lingang.store")

SURRENDER_REQUESTS = "ebl_surrender_requests"
"""The name of the migration (its number may change; its name does not)."""
SURRENDERED_TITLE = '%"surrendered":true%'
"""A title the registry wrote saying surrendered (the registry writes compact JSON; the
rows found are checked again as JSON)."""


@dataclass(frozen=True, slots=True)
class Mapped:
    """What the current rule gives a row (``state`` and ``title``), or why it gives nothing
    certain (``state`` ``None``)."""

    reason: str
    state: str | None = None
    title: dict[str, Any] | None = None


ANSWERED = Mapped("the surrender was answered (SACC): written by the current rule")


@dataclass(frozen=True, slots=True)
class LeftRow:
    """A registry row a migration left as it was (and nobody changed since)."""

    kind: str
    """``title`` (an eBL of ``ebl_titles``) or ``outbound`` (a transfer being sent)."""
    key: str
    """The transport document checksum, or the outbound transfer's id."""
    migration: str
    reference: str
    state: str
    reason: str

    def describe(self) -> str:
        """One line naming the row and why it was left."""
        what = "eBL" if self.kind == "title" else "a transfer being sent of eBL"
        return f"{what} {self.reference} ({self.key}, {self.state}): {self.reason}"


def replay_request(chain: Any, *, to_order: bool) -> tuple[Title | None, str]:
    """The title the current rules give a chain ending with a surrender request, and why;
    ``None`` with the reason when there is none to give without guessing (``ANSWERED``'s
    reason when the carrier's ``SACC`` ends the chain: nothing to migrate)."""
    try:
        if not isinstance(chain, list) or not all(isinstance(t, str) for t in chain):
            raise TypeError("not a list of compact JWS")
        transactions = chain_transactions(chain)
    except (VerificationError, ValueError, TypeError) as exc:
        return None, f"its transfer chain cannot be read ({exc})"
    last = str(transactions[-1][0].get("actionCode")) if transactions else "nothing"
    if last == ActionCode.SACC:
        return None, ANSWERED.reason
    if last not in SURRENDERS:
        return None, (
            f"it is recorded as surrendered, but its chain ends with {last}, not with a "
            "surrender request"
        )
    try:
        title = replay(transactions, to_order=to_order)
    except PintRejection as exc:
        return None, f"the current title rules refuse its chain: {exc.message}"
    return title, f"{last} is a request the carrier answers with SACC or SREJ, not final"


def map_title(row: Row) -> Mapped:
    """What the current rule gives an ``ebl_titles`` row written under the old one."""
    try:
        document, chain = json.loads(row["transport_document"]), json.loads(row["chain"])
    except ValueError as exc:
        return Mapped(f"the row cannot be read ({exc})")
    title, reason = replay_request(chain, to_order=_to_order(document))
    if title is None:
        return ANSWERED if reason == ANSWERED.reason else Mapped(reason)
    state = {"surrendered": "held", "transferred": "transferred"}.get(row["state"])
    if state is None:
        return Mapped(f"it is {row['state']} with a title saying surrendered, which no rule wrote")
    if title.possessor.label() != row["possessor"]:
        return Mapped(
            f"its possessor is recorded as {row['possessor']}, but its chain gives "
            f"{title.possessor.label()}"
        )
    where = "the carrier holds it" if state == "held" else "it stays transferred"
    return Mapped(f"{reason}: {where}, the request pending", state, title.as_json())


def map_outbound(row: Row) -> Mapped:
    """The title an outbound transfer still being sent takes under the current rule."""
    envelope = _envelope(row)
    title, reason = replay_request(
        envelope.get("envelopeTransferChain"), to_order=_to_order(envelope.get("transportDocument"))
    )
    if title is None:
        return ANSWERED if reason == ANSWERED.reason else Mapped(reason)
    return Mapped(
        f"{reason}: the transfer goes on, the request pending", "sending", title.as_json()
    )


def _envelope(row: Row) -> dict[str, Any]:
    try:
        envelope = json.loads(row["envelope"])
    except ValueError:
        return {}
    return envelope if isinstance(envelope, dict) else {}


def _reference(envelope: dict[str, Any]) -> str:
    document = envelope.get("transportDocument")
    return str(document.get("transportDocumentReference", "")) if isinstance(document, dict) else ""


def _says_surrendered(title: str) -> bool:
    try:
        data = json.loads(title)
    except ValueError:
        return False
    return isinstance(data, dict) and data.get("surrendered") is True


def _to_order(document: Any) -> bool:
    return isinstance(document, dict) and bool(document.get("isToOrder"))


def _dump(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def migrate_surrender_requests(now: datetime) -> Script[None]:
    """The data step of migration ``ebl_surrender_requests`` (in its transaction): every
    row the old surrender rule wrote takes what the current rule gives, or is recorded as
    left; rows the current rule wrote are not touched."""
    rows = yield Query("ebl_legacy_surrender_titles", {"surrendered": SURRENDERED_TITLE}, "all")
    for row in rows:
        if row["state"] != "surrendered" and not _says_surrendered(row["title"]):
            continue
        mapped = map_title(row)
        if mapped is ANSWERED:
            continue
        version = int(row["version"])
        if mapped.state is not None and mapped.title is not None:
            params = {
                "td_checksum": row["td_checksum"],
                "state": mapped.state,
                "title": _dump(mapped.title),
                "version": version,
                "now": now,
            }
            if (yield Query("ebl_legacy_move_title", params, "rowcount")):
                version += 1
                log.warning(
                    "eBL %s (%s): %s (migration %s)",
                    row["reference"], row["td_checksum"], mapped.reason, SURRENDER_REQUESTS,
                )  # fmt: skip
            else:
                mapped = Mapped("it changed while it was migrated")
        yield from _record("title", row["td_checksum"], row, mapped, version, now)
    transfers = yield Query(
        "ebl_legacy_surrender_outbound", {"surrendered": SURRENDERED_TITLE}, "all"
    )
    for row in transfers:
        if not _says_surrendered(row["title"]):
            continue
        mapped = map_outbound(row)
        if mapped is ANSWERED:
            continue
        if mapped.title is not None:
            params = {"id": row["id"], "title": _dump(mapped.title), "now": now}
            if not (yield Query("ebl_legacy_outbound_title", params, "rowcount")):
                mapped = Mapped("it changed while it was migrated")
        reference = _reference(_envelope(row))
        yield from _record("outbound", row["id"], row | {"reference": reference}, mapped, None, now)


def _record(
    kind: str, key: str, row: Row, mapped: Mapped, version: int | None, now: datetime
) -> Script[None]:
    params = {
        "kind": kind,
        "row_key": key,
        "migration": SURRENDER_REQUESTS,
        "outcome": "left" if mapped.title is None else "migrated",
        "reason": mapped.reason,
        "reference": str(row.get("reference") or ""),
        "old_state": row["state"],
        "old_title": row["title"],
        "new_state": mapped.state if mapped.title is not None else None,
        "new_title": None if mapped.title is None else _dump(mapped.title),
        "version": version,
        "now": now,
    }
    yield Query("ebl_legacy_record", params)


def left_rows() -> Script[list[LeftRow]]:
    """The rows migrations left as they were and nobody has changed since."""
    found = yield Query("ebl_legacy_left", {}, "all")
    return [
        LeftRow(
            r["kind"], r["row_key"], r["migration"], r["reference"], r["old_state"], r["reason"]
        )
        for r in found
    ]
