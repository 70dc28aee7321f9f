"""The gate as one call: minimise, classify, decide by the rules (pure; the flow's ``policy``
stage runs it, the jobs layer finishes a count-based decision inside the store transaction)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gateway.model.china_time import CHINA_TIME
from gateway.partners.data_export import DataExport
from gateway.policy.categories import Category, Classification
from gateway.policy.classify import classify
from gateway.policy.decide import Decision, Flow, decide_rules
from gateway.policy.minimise import minimise
from gateway.policy.policyfile import Policy
from gateway.policy.subjects import key_id_of, subject_hashes

if TYPE_CHECKING:
    from gateway.ingest.types import ParsedInvoice
    from gateway.mapping import MappedDocument
    from gateway.policy.keys import KeyProvider

CHINA = CHINA_TIME
"""The Provisions count from 1 January, Beijing time."""


@dataclass(frozen=True, slots=True)
class GateResult:
    """The minimised document and everything the gate decided about it."""

    mapped: MappedDocument
    classification: Classification
    decision: Decision
    minimised: list[str]
    exporter_id: str
    data_export: DataExport
    destination: str
    kind: str
    subjects: list[tuple[str, bool]]
    subject_key_id: str = ""

    def facts(self, recipient: str) -> dict[str, Any]:
        """Plain data for the flow's facts (``policy``); ``subjects`` is taken out before
        anything is recorded in the submission's history."""
        return {
            "decision": self.decision.to_json(),
            "classification": self.classification.to_json(),
            "minimised": self.minimised,
            "exporter": self.exporter_id,
            "data_export": self.data_export.to_json(),
            "destination": self.destination,
            "recipient": recipient,
            "kind": self.kind,
            "subjects": [[h, s] for h, s in self.subjects],
            "subject_key_id": self.subject_key_id,
        }


def run_gate(
    parsed: ParsedInvoice,
    mapped: MappedDocument,
    policy: Policy,
    subject_key: KeyProvider | bytes,
    *,
    now: dt.datetime | None = None,
) -> GateResult:
    """Minimise ``mapped`` for its destination, classify what leaves, decide by the rules.
    A positive-guidance rule's ``keep`` applies only when that rule allows the export: a
    document it does not cover is minimised as if the rule were not there."""
    from dataclasses import replace

    day = (now or dt.datetime.now(CHINA)).astimezone(CHINA).date()
    invoice = mapped.invoice
    kind = "credit-note" if invoice.is_credit_note else "invoice"
    destination = mapped.partner.country or ""
    data_export = mapped.exporter.data_export if mapped.exporter is not None else DataExport()
    flow = Flow(destination, mapped.profile, kind, data_export)
    keep: frozenset[str] = frozenset()
    for rule in policy.positive:
        if rule.keep and rule.matches(destination, mapped.profile, kind, frozenset(Category)):
            keep |= rule.keep
    minimised, actions = minimise(invoice, policy.minimisation, keep)
    classification = classify(parsed, minimised, policy.important)
    decision = decide_rules(classification, flow, policy, day)
    wanted = _kept_by(decision, policy)
    if keep != wanted:  # only the rule that allows the export keeps what it names
        minimised, actions = minimise(invoice, policy.minimisation, wanted)
        classification = classify(parsed, minimised, policy.important)
        decision = decide_rules(classification, flow, policy, day)
    exporter_id = mapped.exporter.seller_id if mapped.exporter is not None else _seller_id(parsed)
    subjects = subject_hashes(classification.subjects(), subject_key, exporter_id)
    return GateResult(
        mapped=replace(mapped, invoice=minimised),
        classification=classification,
        decision=decision,
        minimised=actions,
        exporter_id=exporter_id,
        data_export=data_export,
        destination=destination,
        kind=kind,
        subjects=subjects,
        subject_key_id=key_id_of(subject_key),
    )


def _kept_by(decision: Decision, policy: Policy) -> frozenset[str]:
    """The fields the positive-guidance rule that allowed ``decision`` keeps (none when no
    such rule allowed it)."""
    if decision.article != "positive":
        return frozenset()
    rule = next((r for r in policy.positive if r.id == decision.rule), None)
    return rule.keep if rule is not None else frozenset()


def _seller_id(parsed: ParsedInvoice) -> str:
    seller = parsed.invoice.seller
    ident = seller.legal_registration or (seller.identifiers[0] if seller.identifiers else None)
    return ident.value if ident is not None else seller.name
