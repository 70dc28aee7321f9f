"""The export gate's store: the export ledger, yearly subject counts, holds, checkpoints.

A feature store over the gateway's connector (see :class:`~gateway.store.base.HasConnector`);
its SQL is in ``queries/ledger.<backend>.sql``, its tables in migration 0004.

:meth:`LedgerStore.finish_export` is the outbound twin of
:meth:`~gateway.store.Store.finish_processing`: in **one** transaction, fenced by the process
job's lease, it stores the outputs, gets the final decision — a decision the yearly counts
cannot change is given as a :class:`Verdict` and takes no lock on them; one that depends on
them adds the document's individuals (keyed hashes) to the tenant's counts of the exporter
for the year, locked (PostgreSQL: the row's lock; SQLite: the single writer), and asks the caller's
``judge`` with those totals — and then either queues the delivery job and appends the
hash-chained ledger entry (the transaction's last statement, which takes the ledger head's
row lock and is sent with the commit), or records the hold (the counting rolled back).
A crash leaves all of it or none; two workers never lose an update of a count.

The counting and chaining are :mod:`gateway.store.ledger_export`, shared
with eBL transfers (:meth:`~gateway.store.ebl.EblRegistry.begin_transfer`): a held transfer
is released or refused here like a document, but its id is the transfer's and the eBL
registry, not a submission's history, records what happens to it.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

from gateway.errors import FieldError
from gateway.store import rows
from gateway.store.base import reads, writes
from gateway.store.connector import Connector, Notify, Query, Script
from gateway.store.ebl import TRANSFER, close_transfer
from gateway.store.ledger_chain import checkpoint_payload
from gateway.store.ledger_export import (
    CHINA,
    chain_entries,
    chain_entry,
    china_year,
    count_and_judge,
    insert_hold,
)
from gateway.store.ledger_export import iso as _iso
from gateway.store.ledger_records import (
    ExportRecord,
    ExportResult,
    Hold,
    Judge,
    Verdict,
    hold_export,
)
from gateway.store.ledger_records import hold_from_row as _hold
from gateway.store.records import (
    Clock,
    ConflictError,
    JobSpec,
    NotFoundError,
    OutputSpec,
    StateChange,
    utcnow,
)
from gateway.store.scripts import (
    change_state,
    fenced,
    finish_and_queue,
    finish_job_with_outputs,
    insert_job,
    job_params,
    one,
    put_outputs,
    queue_job,
    with_job,
)
from gateway.store.sent_documents import Claim, claim_sent, forget_sent, with_resend

HELD = "held"
HELD_FACTS = (
    "stages", "profile", "receiver", "number", "document_type", "issue_date", "seller_id",
    "resend",
)  # fmt: skip
"""What a ``held`` event keeps of the ``queued`` one it stands in for: the stage timings, the
document facts the console lists (a held fapiao is found by its number and receiver) and the
kind and issue date a later credit note is dated from (see
:meth:`gateway.store.Store.invoice_issue_dates`), which the release's ``queued`` event
carries on (:func:`released_facts`), with the seller it was registered under and, for a
deliberate resend, what it resends (:mod:`gateway.store.sent_documents`)."""
REFUSED = "refused"
RELEASE_FAILED = "release_failed"
"""How a listing shows a hold still ``releasing`` whose release job was dead-lettered."""
LISTED_STATES = (HELD, "releasing", RELEASE_FAILED, "released", REFUSED)
"""The states :meth:`LedgerStore.list_holds` filters by."""
RELEASE = "release"
"""The job kind that finishes a released document's export."""


def is_transfer(hold: Hold) -> bool:
    """Whether the hold keeps an eBL transfer (its id is the transfer's, not a submission's:
    the eBL registry, not a submission's history, records what happens to it)."""
    return hold.job.kind == TRANSFER


def queued_detail(flow: Mapping[str, Any] | None, verdict: Mapping[str, Any]) -> dict[str, Any]:
    """The ``queued`` event's detail: the flow's facts, then the export decision's; the
    ``warnings`` of both are kept, the flow's (what the mapping noticed: rounding carried,
    rates, references) first, then the policy's."""
    detail = {**(flow or {}), **verdict}
    warnings = [*(flow or {}).get("warnings", ()), *verdict.get("warnings", ())]
    if warnings or "warnings" in detail:
        detail["warnings"] = warnings
    return detail


def held_facts(queued: Mapping[str, Any] | None) -> dict[str, Any]:
    """The :data:`HELD_FACTS` of a ``queued`` event's detail."""
    return {key: queued[key] for key in HELD_FACTS if queued and key in queued}


def released_facts(events: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The document facts (:data:`HELD_FACTS` but the stage timings) the ``held`` events
    among a submission's ``events`` (rows, oldest first) recorded, for the ``queued`` event
    of its release: a released invoice is then found by its number and dated like one the
    gate let through (:meth:`gateway.store.Store.invoice_issue_dates`), while a refused
    one, which no ``queued`` event follows, never is."""
    facts: dict[str, Any] = {}
    for event in events:
        if event["state"] == HELD:
            detail = rows.to_opt_json(event["detail"]) or {}
            facts.update((k, v) for k, v in held_facts(detail).items() if k != "stages")
    return facts


_NOT_IN_NAME = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff\ufffe\uffff]")
"""What an officer's name may not hold: control characters (a line break would forge a line
in a log or the history), bidirectional overrides (they show the name other than it is
stored), lone surrogates and non-characters."""
_NOT_IN_TEXT = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff\ufffe\uffff]"
)
"""The same for a basis or reason, which may run over lines (tab, line feed, return)."""


def _check_decision(officer: str, text: str, name: str) -> None:
    """Refuse a decision whose words the append-only ledger should not keep (a
    :class:`FieldError` naming ``officer`` or ``name``)."""
    for field, value, pattern in (("officer", officer, _NOT_IN_NAME), (name, text, _NOT_IN_TEXT)):
        found = pattern.search(value)
        if found is not None:
            raise FieldError(
                f"{field} holds U+{ord(found.group()):04X}, which a recorded decision may not "
                "hold (a control character, a direction override or no character at all)",
                field=field,
                rule="decision.text",
            )


class Decision(NamedTuple):
    """An officer's decision on a hold, as the hold records it."""

    officer: str
    """The name the officer gave."""
    basis: str
    """The legal basis of a release, or the reason of a refusal."""
    principal: str
    """Who decided as authenticated."""


class LedgerStore:
    """The export gate's transactions over the gateway's connector."""

    def __init__(self, connector: Connector, *, clock: Clock = utcnow) -> None:
        self.connector = connector
        self.clock = clock

    # -- exporting -------------------------------------------------------------------

    @writes
    def finish_export(
        self,
        job_id: str,
        worker_id: str,
        *,
        tenant_id: str,
        outputs: Sequence[OutputSpec],
        record: ExportRecord,
        judge: Judge | Verdict,
        enqueue: JobSpec,
        queued: StateChange,
        hand_off_seconds: float | None = None,
        claim: Claim | None = None,
    ) -> Script[ExportResult]:
        """Finish a process job whose document passed the gate's rules (see the module
        docstring): outputs, counts, ledger entry and delivery job — or the hold. With
        ``hand_off_seconds`` the delivery job is queued leased to ``worker_id``, as
        :meth:`~gateway.store.Store.finish_processing` does. With ``claim``, the fapiao is
        registered as sent before anything else, as there: one sent already is
        :class:`~gateway.store.sent_documents.AlreadySent` and nothing is written (no
        count, no ledger entry, no hold)."""
        now = self.clock()
        lease = None if hand_off_seconds is None else (worker_id, hand_off_seconds)
        earlier = yield from claim_sent(claim, now)
        queued = with_resend(queued, claim, earlier)
        if isinstance(judge, Verdict) and judge.allowed:
            return (
                yield from self._allowed_export(
                    job_id,
                    worker_id,
                    tenant_id,
                    outputs,
                    record,
                    judge,
                    enqueue,
                    queued,
                    now,
                    lease,
                )
            )
        submission_id = yield from finish_job_with_outputs(job_id, worker_id, outputs, now)
        return (
            yield from self._export(
                submission_id, tenant_id, record, judge, enqueue, queued, now, lease=lease
            )
        )

    def _allowed_export(
        self,
        job_id: str,
        worker_id: str,
        tenant_id: str,
        outputs: Sequence[OutputSpec],
        record: ExportRecord,
        verdict: Verdict,
        enqueue: JobSpec,
        queued: StateChange,
        now: dt.datetime,
        lease: tuple[str, float] | None,
    ) -> Script[ExportResult]:
        """:meth:`finish_export` when the decision is final and allows the export (the
        usual case): the job's end, the delivery job and the ``queued`` event in one
        statement, then the outputs, the counts and the ledger entry (sent with the
        ``COMMIT``) — what :meth:`_export` writes, in two round trips on PostgreSQL."""
        detail = queued_detail(queued.detail, verdict.detail)
        event = StateChange(queued.state, queued.reason, detail)
        at = self.connector.queue_time(self.clock)
        row = yield from finish_and_queue(job_id, worker_id, enqueue, event, now, at, lease=lease)
        submission_id = str(row["submission_id"])
        yield from put_outputs(submission_id, outputs, now)
        _, personal, sensitive = yield from count_and_judge(tenant_id, record, verdict, now)
        seq = yield from chain_entry(tenant_id, submission_id, record, verdict, now)
        return ExportResult(verdict, seq, rows.job(row), personal, sensitive)

    def _export(
        self,
        submission_id: str,
        tenant_id: str,
        record: ExportRecord,
        judge: Judge | Verdict,
        enqueue: JobSpec,
        queued: StateChange,
        now: dt.datetime,
        lease: tuple[str, float] | None = None,
    ) -> Script[ExportResult]:
        verdict, personal, sensitive = yield from count_and_judge(tenant_id, record, judge, now)
        if not verdict.allowed:
            yield from insert_hold(submission_id, tenant_id, record, verdict, enqueue, now)
            detail = {
                **held_facts(queued.detail),
                "decided_by": verdict.decided_by,
                **verdict.detail,
            }
            yield from change_state(submission_id, StateChange(HELD, verdict.reason, detail), now)
            return ExportResult(verdict, personal=personal, sensitive=sensitive)
        return (
            yield from self._send(
                submission_id, tenant_id, record, verdict, enqueue, queued, now, lease,
                (personal, sensitive),
            )
        )  # fmt: skip

    def _send(
        self,
        submission_id: str,
        tenant_id: str,
        record: ExportRecord,
        verdict: Verdict,
        enqueue: JobSpec,
        queued: StateChange,
        now: dt.datetime,
        lease: tuple[str, float] | None,
        counts: tuple[int, int],
    ) -> Script[ExportResult]:
        """An allowed export, counted already: the delivery job, the ``queued`` event and
        the ledger entry (last)."""
        personal, sensitive = counts
        at = self.connector.queue_time(self.clock)
        row, _ = yield from queue_job(submission_id, enqueue, now, at, lease=lease)
        detail = queued_detail(queued.detail, verdict.detail)
        event = StateChange(queued.state, queued.reason, detail)
        yield from change_state(submission_id, with_job(event, row), now)
        seq = yield from chain_entry(tenant_id, submission_id, record, verdict, now)
        return ExportResult(verdict, seq, rows.job(row), personal, sensitive)

    # -- holds -----------------------------------------------------------------------

    @reads
    def get_hold(self, submission_id: str) -> Script[Hold | None]:
        """The hold of a document, or ``None``."""
        row = yield Query("hold_get", {"submission_id": submission_id}, "one")
        return None if row is None else _hold(row)

    @reads
    def list_holds(
        self, *, state: str | None = HELD, tenant_id: str | None = None, limit: int = 100
    ) -> Script[list[Hold]]:
        """Holds of a ``state`` (``None``: all), oldest first. A hold whose release job was
        dead-lettered is listed as :data:`RELEASE_FAILED`, and with ``held`` (the default:
        every hold waiting for a decision)."""
        params = {"state": state, "tenant_id": tenant_id, "limit": limit}
        return [_hold(r) for r in (yield Query("hold_list", params, "all"))]

    @writes
    def release(
        self, submission_id: str, officer: str, basis: str, *, principal: str
    ) -> Script[Hold]:
        """A compliance officer releases a held document on a recorded ``basis``: the hold
        becomes ``releasing`` and a ``release`` job is queued, which writes the ledger entry
        and queues the delivery (:meth:`finish_release`). ``officer`` is the name the officer
        gives; ``principal`` who decided as authenticated (``api-key:<id>``, ``cli:<user>``:
        the caller has checked that it may), recorded beside it. The release a re-check at
        release time stopped, sent again the same (a retry after a lost answer), gets the
        hold back, still held with the new reason: a release answering it needs another
        basis (or officer)."""
        if not basis.strip() or not officer.strip():
            raise ConflictError("a release needs the officer's name and the legal basis")
        _check_decision(officer, basis, "basis")
        now = self.clock()
        decision = Decision(officer, basis, principal)
        current = yield Query("hold_get", {"submission_id": submission_id}, "one")
        if current is not None and current["state"] == HELD:
            held = _hold(current)
            if held.stopped == tuple(decision):  # a retry of the release the re-check stopped
                return held
        row, new = yield from self._decide(
            submission_id, HELD, "releasing", decision, now, ("releasing", "released")
        )
        hold = _hold(row)
        if not new:
            return hold
        # A transfer's release job names it (its failure then touches no submission).
        spec = JobSpec(RELEASE, endpoint=TRANSFER) if is_transfer(hold) else JobSpec(RELEASE)
        at = self.connector.queue_time(self.clock)
        job, queued = yield from insert_job(submission_id, spec, now, at)
        if not queued and job["state"] == "dead":  # released again after its job failed
            yield Query("retry_job", {"id": job["id"], "now": now, "at": at}, "one")
            yield Notify()
        elif not queued and job["state"] == "done":  # released again after a re-check held it
            yield Query("release_job_requeue", {"id": job["id"], "now": now, "at": at}, "one")
            yield Notify()
        if not is_transfer(hold):
            detail = {"decided_by": officer, "principal": principal}
            event = StateChange(HELD, f"release by {officer}: {basis}", detail)
            yield from change_state(submission_id, event, now)
        return hold

    @writes
    def refuse(
        self, submission_id: str, officer: str, reason: str, *, principal: str
    ) -> Script[Hold]:
        """A compliance officer refuses a held document for good (state ``refused``);
        ``officer`` and ``principal`` as for :meth:`release`."""
        if not reason.strip() or not officer.strip():
            raise ConflictError("a refusal needs the officer's name and the reason")
        _check_decision(officer, reason, "reason")
        now = self.clock()
        decision = Decision(officer, reason, principal)
        row, new = yield from self._decide(submission_id, HELD, REFUSED, decision, now, (REFUSED,))
        hold = _hold(row)
        if not new:
            return hold
        why = f"refused by {officer}: {reason}"
        if is_transfer(hold):
            yield from close_transfer(submission_id, False, REFUSED.upper(), why, now)
        else:
            event = StateChange(REFUSED, why, {"decided_by": officer, "principal": principal})
            yield from change_state(submission_id, event, now)
            yield from forget_sent(submission_id)  # never sent: it may be submitted again
        return hold

    def _decide(
        self,
        submission_id: str,
        from_state: str,
        to_state: str,
        decision: Decision,
        now: dt.datetime,
        repeats: tuple[str, ...] = (),
    ) -> Script[tuple[dict[str, Any], bool]]:
        """Move a hold from ``from_state`` to ``to_state``: (the hold, ``True``). The same
        decision made again (the hold in one of ``repeats``, by the same principal and
        officer on the same basis: a client retrying after a lost answer) is (the hold,
        ``False``); any other state is a :class:`ConflictError` naming it."""
        params = {
            "submission_id": submission_id,
            "from_state": from_state,
            "state": to_state,
            "decided_by": decision.officer,
            "basis": decision.basis,
            "principal": decision.principal,
            "now": _iso(now),
        }
        row = yield Query("hold_decide", params, "one")
        if row is None:
            current = yield Query("hold_get", params, "one")
            if current is None:
                raise NotFoundError(f"no held document {submission_id!r}", field="id")
            failed = from_state == HELD and current["state"] == "releasing"
            if failed and (yield from self._release_failed(submission_id, now)):
                again = yield Query("hold_decide", {**params, "from_state": "releasing"}, "one")
                if again is not None:
                    return dict(again), True
            principal = current["principal"]
            if principal is None:  # decided before principals were recorded (migration 18)
                principal = decision.principal
            same = (current["decided_by"], current["basis"], principal) == decision
            if current["state"] in repeats and same:
                return dict(current), False
            raise ConflictError(f"document {submission_id} is {current['state']}, not {from_state}")
        return dict(row), True

    @staticmethod
    def _release_failed(submission_id: str, now: dt.datetime) -> Script[bool]:
        """Whether the hold's release job was dead-lettered: the hold then still says
        ``releasing`` (the submission is back to ``held``), and a new decision is taken (a
        transfer's release job has the same key: only its endpoint differs)."""
        params = job_params(submission_id, JobSpec(RELEASE), now, None)
        job = yield Query("job_by_key", params, "one")
        return job is not None and job["state"] == "dead"

    @writes
    def finish_release(
        self,
        job_id: str,
        worker_id: str,
        *,
        recheck: Recheck | None = None,
        policy_check: PolicyCheck | None = None,
        document_facts: Mapping[str, Any] | None = None,
    ) -> Script[ExportResult]:
        """The ``release`` job: the ledger entry (decided by the officer, on their basis),
        the counts and the delivery job, in one transaction fenced by the job's lease.
        ``document_facts`` (the kind and issue date read from the stored document of one held
        before its hold recorded them) go into the release's ``queued`` event beneath what
        the hold recorded.

        A document whose individuals count is re-checked first with ``recheck`` and the
        exporter's counts as its release leaves them: when what changed since the hold
        needs more than the decision the officer took (a higher threshold crossed, a
        filing expired), nothing is counted or sent, the hold goes back to ``held`` with
        the new reason, and the officer decides again. Before that, any hold is checked
        with ``policy_check`` (the policy in force now), which may stop it the same way."""
        now = self.clock()
        done = yield from fenced("complete_job", {"id": job_id, "worker_id": worker_id, "now": now})
        submission_id = str(done["submission_id"])
        row = yield Query("hold_get", {"submission_id": submission_id}, "one")
        if row is None or row["state"] != "releasing":
            state = "missing" if row is None else row["state"]
            raise ConflictError(f"hold of {submission_id} is {state}, not releasing")
        hold = _hold(row)
        stopped = None if policy_check is None else policy_check(hold)
        if stopped is not None:
            yield from self._rehold(hold, stopped, now)
            return ExportResult(stopped)
        principal = hold.principal or ""
        decision = Decision(str(hold.decided_by), str(hold.basis), principal)
        verdict = Verdict(
            allowed=True,
            basis=str(hold.basis),
            article="release",
            reason=f"released by {hold.decided_by}",
            policy_version=hold.policy_version,
            decided_by=str(hold.decided_by),
            principal=principal,
            counted=hold.counted,
        )
        judge: Judge | Verdict = verdict
        if recheck is not None and hold.counted:
            judge = _rechecked(hold, verdict, recheck)
        tenant_id = hold.tenant_id
        final, personal, sensitive = yield from count_and_judge(tenant_id, hold.record, judge, now)
        if not final.allowed:
            yield from self._rehold(hold, final, now)
            return ExportResult(final, personal=personal, sensitive=sensitive)
        yield from self._decide(submission_id, "releasing", "released", decision, now)
        if is_transfer(hold):
            at = self.connector.queue_time(self.clock)
            job_row, _ = yield from insert_job(submission_id, hold.job, now, at)
            leaving = [(r, verdict) for r in (hold.record, *hold.enclosures)]
            seq = yield from chain_entries(tenant_id, submission_id, leaving, now)
            job = rows.job(job_row)
            return ExportResult(verdict, seq, job, personal, sensitive, entries=len(leaving))
        events = yield Query("list_events", {"submission_id": submission_id}, "all")
        facts = {**(document_facts or {}), **released_facts(events)}
        queued = StateChange("queued", f"released by {hold.decided_by}; delivery queued", facts)
        return (
            yield from self._send(
                submission_id, tenant_id, hold.record, verdict, hold.job, queued, now, None,
                (personal, sensitive),
            )
        )  # fmt: skip

    def _rehold(self, hold: Hold, verdict: Verdict, now: dt.datetime) -> Script[None]:
        """Send a releasing hold back to ``held`` with ``verdict``'s reason: the re-check at
        release time found that more is needed than the officer decided."""
        export = hold_export(hold.record, verdict, hold.enclosures)
        if "data_export" not in export and hold.data_export is not None:
            export["data_export"] = dict(hold.data_export)
        export["stopped"] = [hold.decided_by or "", hold.basis or "", hold.principal or ""]
        params = {
            "submission_id": hold.submission_id,
            "reason": verdict.reason,
            "export": json.dumps(export),
            "policy_version": verdict.policy_version or hold.policy_version,
        }
        yield from one("hold_rehold", params)
        if not is_transfer(hold):
            detail = {"decided_by": verdict.decided_by, **verdict.detail}
            event = StateChange(HELD, verdict.reason, detail)
            yield from change_state(hold.submission_id, event, now)

    # -- reading, checkpoints --------------------------------------------------------

    @reads
    def entries(self, *, after: int = 0, limit: int = 1_000_000) -> Script[list[dict[str, Any]]]:
        """Ledger rows in ``seq`` order (as stored, for verification and reports)."""
        found = yield Query("ledger_entries", {"after": after, "limit": limit}, "all")
        return [dict(r) for r in found]

    @reads
    def chain_state(
        self,
    ) -> Script[tuple[list[dict[str, Any]], dict[str, Any] | None, list[dict[str, Any]]]]:
        """Entries, head (``None`` when its row is gone) and checkpoints, read in one
        transaction (for ``ledger verify``)."""
        entries = yield Query("ledger_entries", {"after": 0, "limit": 1_000_000_000}, "all")
        head = yield Query("ledger_head", {}, "one")
        marks = yield Query("ledger_checkpoints", {}, "all")
        found = None if head is None else dict(head)
        return [dict(r) for r in entries], found, [dict(r) for r in marks]

    @reads
    def entries_for_year(
        self, year: int, exporter: str | None = None, *, tenant_id: str | None = None
    ) -> Script[list[dict[str, Any]]]:
        """The entries of a calendar year (Beijing time), of one exporter and tenant or all;
        each with its ``owner``, the tenant that exported it (for an entry written before
        entries recorded it: its submission's tenant, ``""`` when none is known)."""
        start = dt.datetime(year, 1, 1, tzinfo=CHINA)
        end = dt.datetime(year + 1, 1, 1, tzinfo=CHINA)
        params = {
            "start": _iso(start),
            "end": _iso(end),
            "exporter": exporter,
            "tenant_id": tenant_id,
        }
        return [dict(r) for r in (yield Query("ledger_entries_between", params, "all"))]

    @reads
    def counts(
        self, year: int, exporter: str | None = None, *, tenant_id: str | None = None
    ) -> Script[list[dict[str, Any]]]:
        """The yearly counts of individuals per tenant and exporter."""
        params = {"year": year, "exporter": exporter, "tenant_id": tenant_id}
        found = yield Query("ledger_counts", params, "all")
        return [dict(r) for r in found]

    @writes
    def checkpoint(self, sign: Callable[[bytes], tuple[str, str]]) -> Script[dict[str, Any] | None]:
        """Sign the head (``sign(payload) -> (signature, certificate)``); the checkpoint
        (``seq``, ``head_hash``, ``at``, ``signature``, ``certificate``), or ``None`` for an
        empty ledger."""
        head = yield from one("ledger_lock_head", {})
        seq = int(head["seq"])
        if seq == 0:
            return None
        at = _iso(self.clock())
        signature, certificate = sign(checkpoint_payload(seq, str(head["hash"]), at))
        params = {
            "seq": seq,
            "head_hash": head["hash"],
            "at": at,
            "signature": signature,
            "certificate": certificate,
        }
        yield Query("ledger_insert_checkpoint", params)
        return params


Recheck = Callable[[Hold, int, int], Verdict | None]
"""The re-check at release time (see :meth:`LedgerStore.finish_release`): given the hold and
the exporting tenant's individuals of the exporter this year (all, with sensitive
information) with the document's added, ``None`` when the officer's release stands, else the
held :class:`Verdict` saying what is needed now."""


PolicyCheck = Callable[[Hold], Verdict | None]
"""The policy's re-check of a hold at release time: ``None`` when the officer's release
stands, else the held :class:`Verdict` saying why not (a negative-list rule in force now that
did not hold the document)."""


def _rechecked(hold: Hold, released: Verdict, recheck: Recheck) -> Judge:
    """The judge of a counted release: the officer's ``released`` verdict unless
    ``recheck`` stops it."""

    def judge(personal: int, sensitive: int) -> Verdict:
        stopped = recheck(hold, personal, sensitive)
        return released if stopped is None else stopped

    return judge


__all__ = [
    "HELD",
    "LISTED_STATES",
    "REFUSED",
    "RELEASE",
    "RELEASE_FAILED",
    "ExportRecord",
    "ExportResult",
    "Hold",
    "Judge",
    "LedgerStore",
    "PolicyCheck",
    "Recheck",
    "Verdict",
    "china_year",
]
