"""The export gate's side of the jobs: finishing an outbound document's processing through
the export ledger, and the ``release`` kind.

The flow's ``policy`` stage decided by the rules (:func:`gateway.policy.run_gate`); what
depends on the tenant's yearly counts of the exporter is decided here, *inside* the store
transaction that also writes the ledger entry and queues the delivery
(:meth:`~gateway.store.ledger.LedgerStore.finish_export`), so concurrent workers see each
other's counts. A held document keeps its outputs and waits for a compliance officer;
released, the ``release`` job writes its ledger entry and queues its delivery.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from gateway.flows import FlowOutcome
from gateway.jobs.document_facts import facts_held_without
from gateway.jobs.kinds import JobResult, Recorded
from gateway.partners.data_export import DataExport
from gateway.policy import (
    CHINA,
    DEFAULT_POLICY,
    HELD,
    VOLUME,
    Category,
    Counts,
    Decision,
    PolicySource,
    decide_volume,
)
from gateway.policy.ebl import EBL_CHANNEL, EBL_KIND, gate_ebl, gate_enclosure
from gateway.policy.keys import KeyProvider
from gateway.policy.subjects import key_id_of
from gateway.store import (
    Job,
    JobSpec,
    NotFoundError,
    OutputSpec,
    StateChange,
    Store,
    Submission,
)
from gateway.store.ebl import TRANSFER
from gateway.store.ledger import (
    RELEASE,
    ExportRecord,
    ExportResult,
    Hold,
    LedgerStore,
    PolicyCheck,
    Recheck,
    Verdict,
)
from gateway.store.ledger_anchor import append_anchor
from gateway.store.ledger_records import Enclosure, EnclosureExport, Judge, TransferExport
from gateway.store.records import Clock, utcnow
from gateway.store.sent_documents import Claim

log = logging.getLogger("lingang.gate")

Sign = Callable[[bytes], tuple[str, str]]
"""Signs a ledger checkpoint: payload → (detached JWS, the signer's certificate PEM)."""


class ExportGate:
    """Finishes gated documents and signs ledger checkpoints every ``checkpoint_every``,
    appending each to the ``anchor`` file too (:mod:`gateway.store.ledger_anchor`)."""

    def __init__(
        self,
        ledger: LedgerStore,
        *,
        sign: Sign | None = None,
        checkpoint_every: int = 100,
        anchor: Path | None = None,
    ) -> None:
        self.ledger = ledger
        self.sign = sign
        self.checkpoint_every = max(1, checkpoint_every)
        self.anchor = anchor
        self._missed = False

    @staticmethod
    def applies(outcome: FlowOutcome) -> bool:
        """Whether the flow ran the gate (its facts carry the ``policy`` decision)."""
        return isinstance(outcome.facts.get("policy"), Mapping)

    async def finish(
        self,
        job: Job,
        worker_id: str,
        submission: Submission,
        outcome: FlowOutcome,
        outputs: Sequence[OutputSpec],
        enqueue: JobSpec,
        reason: str,
        detail: Mapping[str, Any],
        *,
        hand_off_seconds: float | None = None,
        claim: Claim | None = None,
    ) -> ExportResult:
        """Record the processing result through the ledger (one transaction); with
        ``hand_off_seconds`` the delivery job is queued leased to ``worker_id`` (see
        :meth:`~gateway.store.Store.finish_processing`); with ``claim`` the fapiao is
        registered as sent in it, or :class:`~gateway.store.sent_documents.AlreadySent`
        is raised and nothing is recorded."""
        policy = dict(outcome.facts["policy"])
        subjects = tuple((str(h), bool(s)) for h, s in policy.pop("subjects", ()))
        decision = Decision.from_json(policy["decision"])
        data_export = DataExport.from_json(policy["data_export"])
        body = outcome.output("signed") or outcome.output("rendered")
        record = ExportRecord(
            exporter=str(policy["exporter"]),
            destination=str(policy.get("destination") or ""),
            recipient=str(policy.get("recipient") or ""),
            document_id=str(outcome.facts.get("number") or submission.id),
            digest=hashlib.sha256(body.data if body is not None else b"").hexdigest(),
            categories=tuple(policy["classification"]["categories"]),
            subjects=subjects,
            subject_key_id=str(policy.pop("subject_key_id", "") or ""),
            platform=str(outcome.facts.get("profile") or ""),
            kind=str(policy.get("kind") or ""),
        )
        facts = {**outcome.facts, "policy": policy}
        queued = StateChange("queued", reason, {"stages": outcome.timings, **facts, **detail})
        result = await self.ledger.finish_export(
            job.id,
            worker_id,
            tenant_id=submission.tenant_id,
            outputs=outputs,
            record=record,
            judge=self.judge(decision, data_export),
            enqueue=enqueue,
            queued=queued,
            hand_off_seconds=hand_off_seconds,
            claim=claim,
        )
        for warning in result.verdict.detail.get("warnings", ()):
            log.warning("exporter %s: %s", record.exporter, warning)
        await self.after(result)
        return result

    def judge(self, decision: Decision, data_export: DataExport) -> Judge | Verdict:
        """The final decision given the yearly counts (run inside the transaction), or the
        final one already when the counts cannot change it."""
        return volume_judge(decision, data_export, self.ledger.clock)

    async def after(self, result: ExportResult) -> None:
        """Sign a checkpoint when the ledger has grown past a multiple of
        ``checkpoint_every`` entries (or after the one that failed in this process), and
        append it to the anchor file."""
        if result.seq is None or self.sign is None:
            return
        every = self.checkpoint_every
        crossed = result.seq // every != (result.seq - result.entries) // every
        if not crossed and not self._missed:
            return
        try:
            mark = await self.ledger.checkpoint(self.sign)
            if mark is not None and self.anchor is not None:
                await asyncio.to_thread(append_anchor, self.anchor, mark)
        except Exception:  # the next export tries again; never fail a job
            self._missed = True
            log.exception("ledger checkpoint at entry %s failed", result.seq)
        else:
            self._missed = False


def volume_judge(decision: Decision, data_export: DataExport, clock: Clock) -> Judge | Verdict:
    """The :data:`Judge` that finishes ``decision`` with the tenant's yearly counts of the
    exporter, or the final :class:`Verdict` when the counts cannot change it (any decision
    but ``volume``): then the store takes no lock on them."""
    if decision.outcome != VOLUME:
        return _verdict(decision, data_export)

    def final(personal: int, sensitive: int) -> Verdict:
        day = clock().astimezone(CHINA).date()
        decided = decide_volume(decision, data_export, Counts(personal, sensitive), day)
        for warning in decided.warnings:
            log.warning("export gate: %s", warning)
        return _verdict(decided, data_export)

    return final


MECHANISM_RANK = {"art-8": 1, "art-7": 2}
"""How much a count-based decision asks: nothing (Art. 5(4), or a hold not about the counts),
a standard-contract filing or certification (Art. 8), a security assessment (Art. 7)."""


def release_recheck(clock: Clock) -> Recheck:
    """The re-check of a counted document at release time
    (:meth:`~gateway.store.ledger.LedgerStore.finish_release`): the exporter's counts as the
    release leaves them, decided again with the thresholds and filings the gate had. When
    that needs a mechanism above the one the hold was about (the Art. 7 threshold crossed
    since an Art. 8 hold; any filing, for a hold by the negative list or when the filing
    has expired since) and the exporter holds none valid today, the release is stopped: the
    document is held again with that reason, and a new release answers it."""

    def recheck(hold: Hold, personal: int, sensitive: int) -> Verdict | None:
        if hold.data_export is None:  # held before the gateway kept the thresholds
            return None
        data_export = DataExport.from_json(hold.data_export)
        day = clock().astimezone(CHINA).date()
        pending = Decision(VOLUME, "volume", policy_version=hold.policy_version, counted=True)
        now = decide_volume(pending, data_export, Counts(personal, sensitive), day)
        rank = MECHANISM_RANK.get(now.article, 0)
        if now.allowed or rank <= MECHANISM_RANK.get(hold.article, 0):
            return None
        verdict = _verdict(now, data_export)
        return replace(verdict, reason=f"export gate, re-checked at release: {now.reason}")

    return recheck


def policy_recheck(source: PolicySource | None) -> PolicyCheck:
    """The re-check of any hold at release time against the policy in force now
    (:meth:`~gateway.store.ledger.LedgerStore.finish_release`): when the policy has changed
    since the hold and a negative-list rule other than the one that held the document now
    applies to its destination, platform, kind and categories, the release is stopped and
    the document held again on that rule (the officer decides again, under the new
    version). A hold recorded before holds kept their platform and kind is not checked."""

    def check(hold: Hold) -> Verdict | None:
        if source is None or not hold.record.kind:
            return None
        policy = source.current()
        if policy.version == hold.policy_version:
            return None
        known = {c.value for c in Category}
        carried = frozenset(Category(c) for c in hold.record.categories if c in known)
        record = hold.record
        rule = next(
            (r for r in policy.negative
             if r.matches(record.destination, record.platform, record.kind, carried)),
            None,
        )  # fmt: skip
        if rule is None or (hold.article == "negative" and rule.id == hold.rule):
            return None
        what = "forbidden" if rule.effect == "forbid" else "needs an approval"
        source_note = f" [{rule.source}]" if rule.source else ""
        why = f"negative list {rule.id}: {what}{source_note}" + (
            f": {rule.reason}" if rule.reason else ""
        )
        decided = Decision(
            HELD, "negative", reason=why, rule=rule.id, policy_version=policy.version,
            counted=hold.counted,
        )  # fmt: skip
        data_export = None if hold.data_export is None else DataExport.from_json(hold.data_export)
        verdict = _verdict(decided, data_export)
        reason = (
            f"export gate, re-checked at release under policy {policy.version} (held under "
            f"{hold.policy_version}): {why}"
        )
        return replace(verdict, reason=reason)

    return check


def _verdict(decided: Decision, data_export: DataExport | None = None) -> Verdict:
    """A final decision as the store records it (with the exporter's thresholds and filings,
    which a hold keeps for the re-check at release time)."""
    reason = decided.reason or decided.basis
    detail: dict[str, Any] = {"decision": decided.to_json(), "warnings": list(decided.warnings)}
    if data_export is not None:
        detail["data_export"] = data_export.to_json()
    return Verdict(
        allowed=decided.allowed,
        basis=decided.basis,
        article=decided.article,
        reason=f"export gate: {reason}" if not decided.allowed else reason,
        policy_version=decided.policy_version,
        decided_by=f"policy {decided.policy_version}",
        counted=decided.counted,
        detail=detail,
    )


class TransferGate:
    """The export gate for eBL transfers over DCSA PINT (a :class:`TransferAssessor`): the
    platform asks it before locking the eBL, and the registry records its answer with the
    ``transfer`` job in one transaction (:meth:`~gateway.store.ebl.EblRegistry.begin_transfer`).
    Exporters' thresholds are ``data_export`` (one table for the platform's eBLs)."""

    def __init__(
        self,
        policy: PolicySource | None,
        keys: KeyProvider | bytes,
        *,
        clock: Clock = utcnow,
        data_export: DataExport | None = None,
    ) -> None:
        self.policy = policy
        self.keys = keys
        self.clock = clock
        self.data_export = data_export or DataExport()

    def assess(
        self,
        document: Mapping[str, Any],
        *,
        td_checksum: str,
        exporter: str,
        destination: str,
        recipient: str,
        tenant_id: str,
        enclosures: Sequence[Enclosure] = (),
    ) -> TransferExport:
        """The transport document and each enclosure classified and decided by the same
        policy version; the transfer's judge holds it when any enclosure is held (its
        reason names them), and otherwise is the transport document's."""
        policy = self.policy.current() if self.policy is not None else DEFAULT_POLICY
        day = self.clock().astimezone(CHINA).date()
        classification, decision, subjects = gate_ebl(
            document, policy, self.keys, exporter=exporter, destination=destination,
            data_export=self.data_export, day=day,
        )  # fmt: skip
        reference = str(document.get("transportDocumentReference") or td_checksum)
        record = ExportRecord(
            exporter=exporter,
            destination=destination,
            recipient=recipient,
            document_id=reference,
            digest=td_checksum,
            categories=tuple(sorted(c.value for c in classification.categories)),
            subjects=tuple(subjects),
            subject_key_id=key_id_of(self.keys),
            platform=EBL_CHANNEL,
            kind=EBL_KIND,
        )
        enclosed: list[EnclosureExport] = []
        held: list[str] = []
        for enclosure in enclosures:
            found, decided = gate_enclosure(
                enclosure.role, enclosure.media_type, policy, destination=destination,
                data_export=self.data_export, day=day,
            )  # fmt: skip
            leaving = replace(
                record,
                document_id=f"{reference} {enclosure.role}: {enclosure.name} "
                f"({enclosure.media_type})",
                digest=enclosure.checksum,
                categories=tuple(sorted(c.value for c in found.categories)),
                subjects=(),
            )
            enclosed.append(EnclosureExport(leaving, _verdict(decided)))
            if not decided.allowed:
                held.append(f"{enclosure.role} {enclosure.name!r}: {decided.reason}")
        judge = volume_judge(decision, self.data_export, self.clock)
        return TransferExport(record, _holding(judge, held), tenant_id, tuple(enclosed))


def _holding(judge: Judge | Verdict, held: Sequence[str]) -> Judge | Verdict:
    """``judge``, made to hold the transfer for the enclosures ``held`` (their reasons; only
    a negative-list rule holds what the gate cannot read): the transport document's own
    reason is kept when it is held too, and whether its individuals count once the transfer
    is released (a held verdict counts no one before)."""
    if not held:
        return judge

    def hold(verdict: Verdict) -> Verdict:
        reasons = ([] if verdict.allowed else [verdict.reason]) + [
            f"export gate: {why}" for why in held
        ]
        detail = {**verdict.detail, "enclosures_held": list(held)}
        return replace(
            verdict, allowed=False, basis="", reason="; ".join(reasons), detail=detail,
            article=verdict.article if not verdict.allowed else "negative",
        )  # fmt: skip

    if isinstance(judge, Verdict):
        return hold(judge)
    decide = judge

    def final(personal: int, sensitive: int) -> Verdict:
        return hold(decide(personal, sensitive))

    return final


class ReleaseKind:
    """Job kind ``release``: a released document's ledger entry and delivery job."""

    name = RELEASE

    def __init__(
        self, gate: ExportGate, policy: PolicySource | None = None, *, store: Store | None = None
    ) -> None:
        self.gate = gate
        self.policy = policy
        self.store = store
        """Where a document held before its kind and issue date were recorded is read
        from, so that its release records them (:mod:`gateway.jobs.document_facts`)."""

    async def run(self, job: Job, worker_id: str) -> JobResult:
        """Finish the release, re-checked against the policy in force (``policy``) and the
        exporter's counts (see :func:`policy_recheck`, :func:`release_recheck`)."""
        recheck = release_recheck(self.gate.ledger.clock)
        result = await self.gate.ledger.finish_release(
            job.id,
            worker_id,
            recheck=recheck,
            policy_check=policy_recheck(self.policy),
            document_facts=await self._unrecorded_facts(job),
        )
        if not result.verdict.allowed:
            log.warning("release of %s stopped: %s", job.submission_id, result.verdict.reason)
        await self.gate.after(result)
        return Recorded()

    async def _unrecorded_facts(self, job: Job) -> dict[str, str]:
        """The kind and issue date of a document held before they were recorded, read from
        the stored document (``{}`` when its hold recorded them, or for an eBL transfer)."""
        if self.store is None or job.endpoint == TRANSFER:
            return {}
        events = await self.store.list_events(job.submission_id)
        return await facts_held_without(self.store, job.submission_id, events)

    def dead_event(self, job: Job, reason: str, *, retryable: bool) -> StateChange | None:
        if job.endpoint == TRANSFER:  # an eBL transfer: no submission to record it on
            return None
        return StateChange("held", f"release failed: {reason}", {"job_id": job.id})


def jws_checkpoint_signer(signer: Any, certificate_pem: str) -> Sign:
    """A :data:`Sign` from a :class:`~gateway.signing.jws.DetachedJwsSigner`."""

    def sign(payload: bytes) -> tuple[str, str]:
        return signer.sign_detached(payload), certificate_pem

    return sign


class HeldDocuments:
    """A tenant's way to decide its held documents (the operator console's ``holds``): the
    hold must be the tenant's, and the decision records the officer's name, the basis and
    the principal that decided (the caller has checked that it may decide: an officer's
    key, see :mod:`gateway.api.auth`)."""

    def __init__(self, ledger: LedgerStore) -> None:
        self.ledger = ledger

    async def _owned(self, tenant_id: str, submission_id: str) -> None:
        hold = await self.ledger.get_hold(submission_id)
        if hold is None or hold.tenant_id != tenant_id:
            raise NotFoundError(f"no held document {submission_id}", field="id")

    async def release(
        self, tenant_id: str, submission_id: str, *, officer: str, basis: str, principal: str
    ) -> None:
        """Release the document (its ``release`` job writes the ledger entry and queues the
        delivery); :class:`NotFoundError` when the tenant holds no such document."""
        await self._owned(tenant_id, submission_id)
        await self.ledger.release(submission_id, officer, basis, principal=principal)

    async def refuse(
        self, tenant_id: str, submission_id: str, *, officer: str, reason: str, principal: str
    ) -> None:
        """Refuse the document for good; :class:`NotFoundError` as for :meth:`release`."""
        await self._owned(tenant_id, submission_id)
        await self.ledger.refuse(submission_id, officer, reason, principal=principal)
