"""The kind and issue date of documents processed before the invoice flow recorded them.

The invoice flow records each document's kind and issue date (facts ``document_type`` and
``issue_date``) in its ``queued`` event, and a hold keeps them for the release's ``queued``
event (:data:`gateway.store.ledger.HELD_FACTS`): a credit note's job dates the invoice it
credits from them (BT-26). Documents processed, or held, before those facts were recorded
lack them; rather than a migration that would parse every stored document, they are read
from the stored document when needed (:func:`gateway.flows.invoice_out.stored_document_facts`):
when such an invoice is released, and when a credit note credits one.
"""

from __future__ import annotations

import asyncio
from datetime import date

from gateway.flows import Source
from gateway.flows.invoice_out import stored_document_facts
from gateway.store import Event, Store, Submission

RECORDED = ("document_type", "issue_date")
"""The facts a credit note's job reads from an invoice's ``queued`` event."""


async def facts_of_stored(store: Store, submission_id: str) -> dict[str, str]:
    """:data:`RECORDED` read from the submission's stored document (``{}`` when it is gone
    or no fapiao), parsed off the event loop."""
    submission = await store.get_submission_any_tenant(submission_id)
    if submission is None:
        return {}
    return await asyncio.to_thread(stored_document_facts, source_of(submission))


def source_of(submission: Submission) -> Source:
    """What a flow reads of a stored submission: its bytes, type, name, metadata and ids."""
    return Source(
        data=submission.data,
        content_type=submission.content_type,
        filename=submission.filename,
        metadata=submission.metadata,
        document_id=submission.id,
        tenant_id=submission.tenant_id,
    )


async def facts_held_without(
    store: Store, submission_id: str, events: list[Event]
) -> dict[str, str]:
    """For a release: :data:`RECORDED` from the stored document when none of the ``held``
    events among ``events`` recorded them (held before they were), else ``{}``."""
    held = [e.detail or {} for e in events if e.state == "held"]
    if not held or any(all(key in detail for key in RECORDED) for detail in held):
        return {}
    return await facts_of_stored(store, submission_id)


async def sent_invoice_dates(store: Store, tenant_id: str, number: str) -> list[date]:
    """The issue dates of the tenant's processed invoices numbered ``number``
    (:meth:`~gateway.store.Store.invoice_issue_dates`), with those of such invoices whose
    ``queued`` event recorded no kind or date read from their stored documents."""
    dates = await store.invoice_issue_dates(tenant_id, number)
    for submission_id in await store.unrecorded_documents(tenant_id, number):
        facts = await facts_of_stored(store, submission_id)
        if facts.get("document_type") != "invoice":
            continue
        day = date.fromisoformat(facts["issue_date"])
        if day not in dates:
            dates.append(day)
    return dates
