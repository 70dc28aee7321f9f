"""The export ledger's core scripts, shared by every export: the yearly counts, the
hash-chained entry, the hold.

:func:`count_and_judge` locks the exporter's counts for the year (PostgreSQL: ``FOR UPDATE``;
SQLite: the single writer), adds the document's individuals (keyed hashes), and asks the
``judge`` for the final decision with those counts; when it allows, the caller queues the
delivery and :func:`chain_entry` appends the hash-chained entry under the ledger head's row
lock, last, so that lock is held only briefly. In the same transaction: the invoice flow's
``deliver`` job (:mod:`gateway.store.ledger`), an eBL's ``transfer`` job
(:meth:`gateway.store.ebl.EblRegistry.begin_transfer`). Times are ISO 8601 text (UTC), so
the hash covers exactly what is stored; the year of the counts is the calendar year in
Beijing time.
"""

from __future__ import annotations

import datetime as dt
import json

from gateway.store.connector import Query, QueryMany, Script
from gateway.store.ledger_chain import entry_text
from gateway.store.ledger_records import ExportRecord, Judge, Verdict
from gateway.store.records import JobSpec
from gateway.store.scripts import one

CHINA = dt.timezone(dt.timedelta(hours=8))


def china_year(moment: dt.datetime) -> int:
    """The calendar year of ``moment`` in Beijing time."""
    return moment.astimezone(CHINA).year


def iso(moment: dt.datetime) -> str:
    """``moment`` as the ledger stores it (ISO 8601, UTC, microseconds)."""
    return moment.astimezone(dt.UTC).isoformat(timespec="microseconds")


def count_and_judge(
    record: ExportRecord, judge: Judge, now: dt.datetime
) -> Script[tuple[Verdict, int, int]]:
    """Lock the exporter's counts for the year, add the document's new individuals and ask
    the ``judge``; when it allows a counted export, store them. ``(verdict, personal,
    sensitive)`` as the counts stand after this export."""
    keys = {"exporter": record.exporter, "year": china_year(now)}
    known: dict[str, bool] = {}
    if record.subjects:
        counts = yield from one("ledger_claim_counts", keys)
        known_rows = yield Query(
            "ledger_known_subjects", {**keys, "subjects": [h for h, _ in record.subjects]}, "all"
        )
        known = {str(r["subject"]): bool(r["sensitive"]) for r in known_rows}
    else:  # nothing to count: the counts are read, not created
        counts = (yield Query("ledger_counts", keys, "one")) or {
            "personal": 0,
            "sensitive": 0,
        }
    personal = int(counts["personal"]) + sum(1 for h, _ in record.subjects if h not in known)
    sensitive = int(counts["sensitive"]) + sum(
        1 for h, s in record.subjects if s and not known.get(h, False)
    )
    verdict = judge(personal, sensitive)
    if not verdict.allowed:
        return verdict, personal, sensitive
    if verdict.counted and record.subjects:
        subjects = [
            {**keys, "subject": h, "sensitive": int(s), "key_id": record.subject_key_id}
            for h, s in record.subjects
        ]
        yield QueryMany("ledger_insert_subject", subjects)
        yield Query("ledger_update_counts", {**keys, "personal": personal, "sensitive": sensitive})
        return verdict, personal, sensitive
    return verdict, int(counts["personal"]), int(counts["sensitive"])


def chain_entry(
    submission_id: str, record: ExportRecord, verdict: Verdict, now: dt.datetime
) -> Script[int]:
    """Append the hash-chained entry; its sequence number. This must be the script's last
    request (after the counts, the delivery job and the state change): one statement takes
    the ledger head's row lock, makes the entry's hash in SQL and moves the head, and
    PostgreSQL gets it together with the ``COMMIT``, so exports serialise on that lock for no
    round trip (the gateway never holds it while it waits for an answer)."""
    entry = {
        "at": iso(now),
        "exporter": record.exporter,
        "destination": record.destination,
        "recipient": record.recipient,
        "submission_id": submission_id,
        "document_id": record.document_id,
        "digest": record.digest,
        "categories": ",".join(sorted(record.categories)),
        "subjects": len(record.subjects),
        "basis": verdict.basis,
        "article": verdict.article,
        "policy_version": verdict.policy_version,
        "decided_by": verdict.decided_by,
    }
    params = {**entry, "entry_text": entry_text(entry)}
    row = yield Query("ledger_chain_entry", params, "one", last=True)
    return int(row["seq"])


def insert_hold(
    submission_id: str,
    tenant_id: str,
    record: ExportRecord,
    verdict: Verdict,
    enqueue: JobSpec,
    now: dt.datetime,
) -> Script[None]:
    """Keep what a release needs: the export record and the delivery job to queue."""
    job = {
        "kind": enqueue.kind,
        "adapter": enqueue.adapter,
        "endpoint": enqueue.endpoint,
        "payload_ref": enqueue.payload_ref,
        "message_id": enqueue.message_id,
    }
    export = {**record.to_json(), "counted": verdict.counted}
    yield Query(
        "hold_insert",
        {
            "submission_id": submission_id,
            "tenant_id": tenant_id,
            "reason": verdict.reason,
            "policy_version": verdict.policy_version,
            "export": json.dumps(export),
            "job": json.dumps(job),
            "now": iso(now),
        },
    )
