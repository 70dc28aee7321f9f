"""Received Message Level Statuses kept under the wrong tenant, given to the right one.

A received MLS is addressed to the access point's own SPIS id (``0242:``…), no tenant's.
Since per-tenant attribution it arrives with no tenant, and
:meth:`~gateway.delivery.peppol_duties.PeppolDuties.correlate` gives it to the tenant whose
sent document it answers (an MLS that answers none of ours, or is ignored as not from the
access point the document went to, stays with no tenant: ``lingang received --unclaimed``).
Before, start-up mapped the SPIS id to ``[peppol] report_tenant``: every MLS received then
is still the reporting tenant's, listed under its ``/v1/received`` with another tenant's
submission id in its verdict, and missing from the list of the tenant it concerns.

Why a command and no migration: where such an MLS belongs is known only from its ``receive``
job's verdict (the submission it was correlated with) and that submission's tenant, not from
columns a schema migration could move in SQL; and the move concerns one deployment's past
configuration, which an operator runs once, sees the result of (one line per move), and may
run again without harm. :func:`reattribute_mls` moves each such message where correlation
puts it today, and nothing else:

* only a message addressed to an SPIS participant that came over Peppol AS4 and whose job
  recorded it as an MLS (verdict ``mls`` / ``mls-ignored``): documents an https inbox took
  in for its tenant, and every business document, stay where they are;
* correlated with a document we sent: to that document's tenant; otherwise: to no tenant;
* moved only from the tenant that held it when it was read (an update in between wins);
* one whose job has not recorded a verdict yet is left alone (run it again once it has).
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.delivery.peppol_recording import peppol_facts
from gateway.store import Store

MLS_VERDICT = "inbound-mls"
"""The kind of the receipt the ``receive`` job records for a received MLS."""


@dataclass(frozen=True, slots=True)
class Misattributed:
    """A received MLS held by a tenant it does not belong to, and where it belongs."""

    inbound_id: str
    held_by: str
    belongs_to: str | None
    """The tenant of the submission it answers; ``None``: no tenant (it answers none of ours,
    or was ignored)."""
    submission_id: str | None
    moved: bool = False


async def reattribute_mls(store: Store, *, apply: bool = True) -> list[Misattributed]:
    """Every received MLS a tenant holds that belongs elsewhere (see the module docstring),
    moved there when ``apply`` (``moved`` says whether it was: ``False`` in a dry run, or
    when another change got there first)."""
    found: list[Misattributed] = []
    for inbound_id, held_by in await store.spis_inbound_with_tenant():
        message = await store.get_inbound(inbound_id)
        if message is None or peppol_facts(message.metadata) is None:
            continue
        verdict = await _mls_verdict(store, inbound_id)
        if verdict is None:
            continue
        submission_id = str(verdict.get("submission_id") or "") or None
        submission = (
            await store.get_submission_any_tenant(submission_id)
            if verdict.get("correlated") and submission_id
            else None
        )
        belongs_to = submission.tenant_id if submission is not None else None
        if belongs_to == held_by:
            continue
        moved = apply and await store.move_inbound(inbound_id, held_by, belongs_to)
        found.append(
            Misattributed(
                inbound_id,
                held_by,
                belongs_to,
                submission.id if submission is not None else None,
                moved=moved,
            )
        )
    return found


async def _mls_verdict(store: Store, inbound_id: str) -> dict[str, object] | None:
    """The detail of the latest MLS verdict the message's ``receive`` job recorded (``None``:
    none, not an MLS or not processed yet)."""
    for job in reversed(await store.list_jobs(submission_id=inbound_id)):
        for receipt in reversed(await store.list_receipts(job_id=job.id)):
            if receipt.kind == MLS_VERDICT:
                return dict(receipt.detail or {})
    return None
