"""The export ledger's core scripts, shared by every export: the yearly counts, the
hash-chained entry, the hold.

The counts are the exporting tenant's own: keyed by tenant, exporter and year, so a tenant
whose directory names another tenant's exporter (a seller USCC) neither adds to nor reads
that tenant's counts; the ledger entry records the tenant.

:func:`count_and_judge` gives the final decision: a decision the counts cannot change takes
no lock (and counts the individuals in one statement when it must); one that depends on the
counts adds the document's individuals (keyed hashes) and locks the tenant's counts of the
exporter for the year in one statement, under a savepoint rolled back unless the ``judge`` allows the counted
export. When it allows, the caller queues the delivery and :func:`chain_entry` appends the
hash-chained entry under the ledger head's row lock, last, so that lock is held only
briefly. In the same transaction: the invoice flow's
``deliver`` job (:mod:`gateway.store.ledger`), an eBL's ``transfer`` job
(:meth:`gateway.store.ebl.EblRegistry.begin_transfer`). Times are ISO 8601 text (UTC), so
the hash covers exactly what is stored; the year of the counts is the calendar year in
Beijing time.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from gateway.model.china_time import CHINA_TIME
from gateway.store.connector import Query, Script
from gateway.store.ledger_chain import entry_text
from gateway.store.ledger_records import ExportRecord, Judge, Verdict, hold_export
from gateway.store.records import JobSpec
from gateway.store.scripts import one

CHINA = CHINA_TIME


def china_year(moment: dt.datetime) -> int:
    """The calendar year of ``moment`` in Beijing time."""
    return moment.astimezone(CHINA).year


def iso(moment: dt.datetime) -> str:
    """``moment`` as the ledger stores it (ISO 8601, UTC, microseconds)."""
    return moment.astimezone(dt.UTC).isoformat(timespec="microseconds")


def count_and_judge(
    tenant_id: str, record: ExportRecord, judge: Judge | Verdict, now: dt.datetime
) -> Script[tuple[Verdict, int, int]]:
    """The final verdict on ``record`` exported by ``tenant_id`` and the tenant's counts of
    the exporter for the year as this export leaves them: ``(verdict, personal, sensitive)``.

    A :class:`Verdict` is final already (the counts cannot change it: exempt, rule-based or
    released exports): it takes no lock and reads nothing. If it allows a counted export the
    document's individuals are added in one statement (:func:`add_subjects`); otherwise
    nothing is written and the counts returned are 0 (not read).

    A :data:`Judge` decides with the counts. With individuals, they are added first, under a
    savepoint, in one statement that also locks and returns the exporter's row for the year;
    the judge sees those totals (this document's new individuals included) and unless it
    allows a counted export, the savepoint is rolled back: a held document's individuals are
    not counted (its would-be totals are returned), an uncounted one's neither (the counts
    are read again). Without individuals the counts are read, without a lock."""
    keys = {"tenant_id": tenant_id, "exporter": record.exporter, "year": china_year(now)}
    if isinstance(judge, Verdict):
        if judge.allowed and judge.counted and record.subjects:
            personal, sensitive = yield from add_subjects(record, keys)
            return judge, personal, sensitive
        return judge, 0, 0
    if not record.subjects:
        personal, sensitive = yield from read_counts(keys)
        return judge(personal, sensitive), personal, sensitive
    yield Query("ledger_savepoint", {})
    personal, sensitive = yield from add_subjects(record, keys)
    verdict = judge(personal, sensitive)
    if verdict.allowed and verdict.counted:
        return verdict, personal, sensitive
    yield Query("ledger_rollback_to_savepoint", {})
    if not verdict.allowed:
        return verdict, personal, sensitive
    personal, sensitive = yield from read_counts(keys)
    return verdict, personal, sensitive


def add_subjects(record: ExportRecord, keys: Mapping[str, Any]) -> Script[tuple[int, int]]:
    """Add the document's individuals to the tenant's counts of the exporter for the year
    (``keys``: tenant, exporter, year) in one statement:
    each keyed hash is inserted unless known (a known one becomes sensitive if it is now),
    and the row of counts (created at zero if new) gains the new individuals, the newly
    sensitive ones and the document, and stays locked until the transaction ends. The
    totals after it: ``(personal, sensitive)``.

    Exact under concurrent exports: the insert of a hash another transaction inserted and
    has not committed waits for it, and the count row is updated from its latest version,
    so no individual is counted twice and no update is lost. Hashes are inserted in sorted
    order and the count row locked after them, so two exports never wait for each other in
    a cycle."""
    merged: dict[str, bool] = {}
    for subject, sensitive in record.subjects:
        merged[subject] = merged.get(subject, False) or sensitive
    subjects = sorted(merged)
    params = {
        **keys,
        "subjects": subjects,
        "sensitive": [s for s in subjects if merged[s]],
        "key_id": record.subject_key_id,
    }
    row = yield from one("ledger_add_subjects", params)
    return int(row["personal"]), int(row["sensitive"])


def read_counts(keys: Mapping[str, Any]) -> Script[tuple[int, int]]:
    """The tenant's counts of the exporter for the year (``keys``; 0 when it has none),
    read without a lock."""
    row = yield Query("ledger_counts", keys, "one")
    return (0, 0) if row is None else (int(row["personal"]), int(row["sensitive"]))


def chain_entry(
    tenant_id: str,
    submission_id: str,
    record: ExportRecord,
    verdict: Verdict,
    now: dt.datetime,
    *,
    last: bool = True,
) -> Script[int]:
    """Append the hash-chained entry of ``tenant_id``'s export; its sequence number. This
    must be the script's last request (after the counts, the delivery job and the state
    change): one statement takes the ledger head's row lock, makes the entry's hash in SQL
    and moves the head, and PostgreSQL gets it together with the ``COMMIT``, so exports
    serialise on that lock for no round trip (the gateway never holds it while it waits for
    an answer). Several entries of one export (an eBL transfer's documents,
    :func:`chain_entries`) follow each other at the end, only the final one ``last``."""
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
        "tenant_id": tenant_id,
        "principal": verdict.principal,
    }
    params = {**entry, "entry_text": entry_text(entry)}
    row = yield Query("ledger_chain_entry", params, "one", last=last)
    return int(row["seq"])


def chain_entries(
    tenant_id: str,
    submission_id: str,
    records: Sequence[tuple[ExportRecord, Verdict]],
    now: dt.datetime,
) -> Script[int]:
    """Append one entry of ``tenant_id``'s export per ``(record, verdict)``, in order, as
    the script's last requests (see :func:`chain_entry`); the sequence number of the last.
    The first is the transport document's: every entry records its principal (who released
    the transfer, or ``""`` for the policy's own decision), as they leave together."""
    if not records:
        raise ValueError("an export has at least one document to record")
    principal = records[0][1].principal
    seq = 0
    for index, (record, verdict) in enumerate(records):
        last = index == len(records) - 1
        decided = replace(verdict, principal=principal)
        seq = yield from chain_entry(tenant_id, submission_id, record, decided, now, last=last)
    return seq


def insert_hold(
    submission_id: str,
    tenant_id: str,
    record: ExportRecord,
    verdict: Verdict,
    enqueue: JobSpec,
    now: dt.datetime,
    *,
    enclosures: Sequence[ExportRecord] = (),
) -> Script[None]:
    """Keep what a release needs: the export record (and those of an eBL transfer's
    ``enclosures``) and the delivery job to queue."""
    job = {
        "kind": enqueue.kind,
        "adapter": enqueue.adapter,
        "endpoint": enqueue.endpoint,
        "payload_ref": enqueue.payload_ref,
        "message_id": enqueue.message_id,
    }
    export = hold_export(record, verdict, enclosures)
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
