"""The register of fapiao a tenant has sent: one fapiao is delivered once unless resent on purpose.

A 数电票 number is unique nationally (FORMAT.md §4: year, region, channel and a sequence), so
a second submission of the same number by the same seller is the same fapiao: a finance team
that clicks "send" twice, or a batch job run again after its idempotency keys expired, must
not invoice the buyer twice. A Peppol receiver cannot tell: each submission travels under a
new AS4 MessageId.

**The same fapiao** is the same tenant, seller (the tax number the fapiao prints, ``""`` when
it prints none), number (BT-1; a legacy invoice's code and number joined) and kind
(``invoice`` or ``credit_note``): a red-letter fapiao is not a duplicate of the blue one it
reverses. Another tenant's register is never read.

**Sent** means processed and passed on: its ``queued`` event (to delivery) or ``held`` event
(by the export gate: a release would send it) was recorded. A document rejected by the rules,
failed, or refused by a compliance officer (:meth:`~gateway.store.ledger.LedgerStore.refuse`
removes its row) is not: it can be submitted again, corrected, without ceremony. A
dead-lettered delivery stays sent (the buyer may have it; a retry keeps its MessageId).

The check and the record are one step of the transaction that records the ``queued`` /
``held`` event (:func:`claim_sent`), serialised per fapiao: on PostgreSQL by a
transaction-scoped advisory lock on the fapiao's key, on SQLite by its single writer. Of two
workers finishing the same fapiao at once, the second sees the first's row and is refused
with :class:`AlreadySent`, its transaction rolled back (nothing queued, no ledger entry).

A **deliberate resend** (submission metadata ``resend=true``) passes and is registered too;
its event names the submission it resends. Documents sent before this register existed
(migration 0025) are not in it.
"""

from __future__ import annotations

from dataclasses import astuple, dataclass
from datetime import datetime
from typing import Any

from gateway.model.china_time import CHINA_TIME
from gateway.store import rows
from gateway.store.connector import Query, Script
from gateway.store.records import ConflictError, StateChange

INVOICE = "invoice"
CREDIT_NOTE = "credit_note"
KINDS = {INVOICE: "invoice", CREDIT_NOTE: "credit note"}
"""The document types the register knows, as the invoice flow records them, in words."""


@dataclass(frozen=True, slots=True)
class SentDocument:
    """What makes two submissions the same fapiao (within one tenant)."""

    seller_id: str
    """The seller's tax number as the fapiao prints it (USCC), ``""`` when it prints none."""
    number: str
    """The fapiao number (BT-1)."""
    document_type: str
    """:data:`INVOICE` or :data:`CREDIT_NOTE`."""

    def describe(self) -> str:
        """The fapiao in words: kind, number and seller."""
        kind = KINDS.get(self.document_type, self.document_type)
        seller = f" of seller {self.seller_id}" if self.seller_id else ""
        return f"fapiao {self.number} ({kind}){seller}"


@dataclass(frozen=True, slots=True)
class Claim:
    """A submission about to be sent, registered with the transaction that records it."""

    submission_id: str
    tenant_id: str
    document: SentDocument
    resend: bool = False
    """Sent again on purpose (``resend=true``): passes even when registered already."""


@dataclass(frozen=True, slots=True)
class EarlierSubmission:
    """The latest registered submission of a fapiao."""

    submission_id: str
    state: str
    """Its state now (``queued``, ``delivered``, ``held``, ``dead`` ...)."""
    submitted_at: datetime
    sent_at: datetime
    """When it was registered: processed and queued for delivery, or held."""

    def to_json(self) -> dict[str, str]:
        return {
            "id": self.submission_id,
            "state": self.state,
            "submitted_at": self.submitted_at.isoformat(),
            "sent_at": self.sent_at.isoformat(),
        }


RESEND_HINT = (
    "To send it again on purpose, submit it with resend=true "
    "(POST /v1/documents?resend=true, lingang send --resend)."
)
STATE_WORDS = {
    "queued": "queued for delivery",
    "delivered": "delivered",
    "held": "held by the export gate for a compliance officer's decision",
    "dead": (
        "not delivered: its delivery failed for good (POST /v1/documents/{id}/retry sends it "
        "again under the same message id, which lets the receiver drop a copy it has)"
    ),
}
"""How the earlier submission's state reads in the refusal (other states as they are)."""


class AlreadySent(ConflictError):
    """The tenant sent this fapiao already (see the module docstring); nothing is sent again.

    ``earlier`` is the submission that sent it; the message names it, its state and when it
    was sent, and how to resend on purpose."""

    code = "already-sent"
    retryable = False

    def __init__(
        self,
        message: str,
        *,
        field: str | None = "number",
        rule: str | None = "document.already-sent",
        retryable: bool | None = None,
        earlier: EarlierSubmission | None = None,
    ) -> None:
        super().__init__(message, field=field, rule=rule, retryable=retryable)
        self.earlier = earlier

    @classmethod
    def of(cls, document: SentDocument, earlier: EarlierSubmission) -> AlreadySent:
        """The refusal of ``document``, sent already by ``earlier``."""
        beijing = earlier.sent_at.astimezone(CHINA_TIME).strftime("%Y-%m-%d %H:%M:%S")
        at = f"{beijing} Beijing time ({earlier.sent_at.strftime('%H:%M:%S')} UTC)"
        state = STATE_WORDS.get(earlier.state, earlier.state).replace("{id}", earlier.submission_id)
        message = (
            f"{document.describe()} was sent already: submission {earlier.submission_id}, "
            f"processed {at}, is {state}. This submission is not sent. {RESEND_HINT}"
        )
        return cls(message, earlier=earlier)


def claim_params(claim: Claim, now: datetime) -> dict[str, Any]:
    """The parameters of the register's queries for ``claim``."""
    document = claim.document
    return {
        "submission_id": claim.submission_id,
        "tenant_id": claim.tenant_id,
        "seller_id": document.seller_id,
        "number": document.number,
        "document_type": document.document_type,
        "lock_key": "\x1f".join(("lingang-sent", claim.tenant_id, *astuple(document))),
        "now": now,
    }


def claim_sent(claim: Claim | None, now: datetime) -> Script[EarlierSubmission | None]:
    """Register ``claim`` inside the transaction that records its submission as sent: first
    lock the fapiao's key (PostgreSQL; SQLite's writer is single), then read its latest
    registration (one indexed lookup) and, unless there is one and this is no resend, add
    the submission's. Returns the earlier submission a resend resends (``None`` when there
    is none, or no ``claim``); raises :class:`AlreadySent` for a duplicate, which rolls the
    transaction back."""
    if claim is None:
        return None
    params = claim_params(claim, now)
    yield Query("lock_sent_document", params)
    row = yield Query("latest_sent_document", params, "one")
    earlier = None if row is None else _earlier(row)
    if earlier is not None and not claim.resend:
        raise AlreadySent.of(claim.document, earlier)
    yield Query("insert_sent_document", params)
    return earlier


def with_resend(
    event: StateChange, claim: Claim | None, earlier: EarlierSubmission | None
) -> StateChange:
    """``event`` recording a deliberate resend (its detail's ``resend``: the submission it
    resends, or ``null`` when none was registered); unchanged for any other claim."""
    if claim is None or not claim.resend:
        return event
    resend = {"of": None if earlier is None else earlier.to_json()}
    return StateChange(event.state, event.reason, {**(event.detail or {}), "resend": resend})


def forget_sent(submission_id: str) -> Script[None]:
    """Remove a submission from the register (a compliance officer refused it for good)."""
    yield Query("forget_sent_document", {"submission_id": submission_id})


def _earlier(row: Any) -> EarlierSubmission:
    return EarlierSubmission(
        submission_id=str(row["submission_id"]),
        state=str(row["state"]),
        submitted_at=rows.to_time(row["submitted_at"]),
        sent_at=rows.to_time(row["created_at"]),
    )
