"""The export decision: negative list, positive guidance, then the 2024 Provisions' defaults.

=====================================================================  ==================
the document                                                            decision
=====================================================================  ==================
matches a negative-list rule                                            held (forbidden /
                                                                        needs approval)
is covered by a positive-guidance rule (every category it carries     allowed, its basis
besides business data named by the rule)
no personal information, no important data                              exempt, Art. 3
(content the gate cannot read, ``unread``, that no rule names: the same,
said as such in the basis)
personal information only of the individual who is party to the        exempt, Art. 5(1)
contract (a personal buyer's own invoice)
important data, or a CIIO exporter                                      Art. 7 approval
otherwise, by the exporter's yearly count of individuals (this          Art. 5(4) exempt /
document's new ones included): < 100,000 and no sensitive PI;           Art. 8 filing /
100,000 – < 1,000,000 or sensitive PI of < 10,000; more                 Art. 7 approval
=====================================================================  ==================

A decision that needs a filing or approval is *allowed* with it as the basis when the
exporter has a valid one (``[exporters.data_export]``), else *held* with the reason. Counted
documents (the last row) add their individuals to the exporter's yearly counts; exempt and
rule-based ones do not (the Provisions count only what the thresholds govern).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from gateway.partners.data_export import DataExport
from gateway.policy.categories import Category, Classification
from gateway.policy.policyfile import Policy

ALLOWED = "allowed"
HELD = "held"
VOLUME = "volume"
"""Preliminary outcome: the decision depends on the exporter's yearly counts."""

ART_3 = "Art. 3: trade data without personal information or important data (exempt)"
ART_3_UNREAD = (
    "Art. 3 by default: content the gate cannot read, decided as unclassified data (no "
    "personal information or important data found; no policy rule names unread content)"
)
"""The basis of a document the gate cannot read that no rule decided: the policy's default
for unclassified data, said as such (the ledger entry's categories say ``unread`` too)."""
ART_5_1 = (
    "Art. 5(1): personal information necessary to perform a contract to which the "
    "individual is a party (exempt)"
)
ART_5_4 = (
    "Art. 5(4): non-CIIO exporter, non-sensitive personal information of fewer than "
    "{limit:,} individuals since 1 January (exempt)"
)
ART_8_FILINGS = ("standard-contract", "certification")
ART_7_FILINGS = ("security-assessment",)


@dataclass(frozen=True, slots=True)
class Counts:
    """An exporter's distinct individuals this year, this document's new ones included."""

    personal: int = 0
    sensitive: int = 0


@dataclass(frozen=True, slots=True)
class Decision:
    """What the gate decided, why, and on whose authority."""

    outcome: str
    """``allowed``, ``held`` or (preliminary only) ``volume``."""
    article: str
    """``art-3``, ``art-5-1``, ``art-5-4``, ``art-8``, ``art-7``, ``positive``, ``negative``."""
    basis: str = ""
    """The legal basis an allowed export rests on."""
    reason: str = ""
    rule: str | None = None
    policy_version: str = ""
    counted: bool = False
    """The document's individuals count toward the exporter's yearly thresholds (also for a
    held document: once released, they are counted)."""
    warnings: tuple[str, ...] = ()

    @property
    def allowed(self) -> bool:
        return self.outcome == ALLOWED

    def to_json(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome,
            "article": self.article,
            "basis": self.basis,
            "reason": self.reason,
            "rule": self.rule,
            "policy_version": self.policy_version,
            "counted": self.counted,
            "warnings": list(self.warnings),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Decision:
        return cls(
            outcome=str(data["outcome"]),
            article=str(data["article"]),
            basis=str(data.get("basis") or ""),
            reason=str(data.get("reason") or ""),
            rule=data.get("rule"),
            policy_version=str(data.get("policy_version") or ""),
            counted=bool(data.get("counted")),
            warnings=tuple(data.get("warnings") or ()),
        )


@dataclass(frozen=True, slots=True)
class Flow:
    """Where the document goes and what it is."""

    destination: str
    """ISO 3166 country of the recipient."""
    platform: str
    """The target profile (``pint-sg``, ``bis3`` …) or channel."""
    kind: str
    exporter: DataExport = field(default_factory=DataExport)


def decide_rules(
    classification: Classification, flow: Flow, policy: Policy, day: dt.date
) -> Decision:
    """Everything but the count-based rows: a final decision, or ``volume`` when the
    exporter's yearly counts decide (then call :func:`decide_volume` with them)."""
    carried = classification.categories
    version = policy.version
    for rule in policy.negative:
        if rule.matches(flow.destination, flow.platform, flow.kind, carried):
            what = "forbidden" if rule.effect == "forbid" else "needs an approval"
            source = f" [{rule.source}]" if rule.source else ""
            reason = f"negative list {rule.id}: {what}{source}" + (
                f": {rule.reason}" if rule.reason else ""
            )
            if rule.destinations and not flow.destination:
                reason += " (the destination country is unknown: configure it)"
            counted = classification.personal and not only_the_contract_party(classification)
            return Decision(
                HELD, "negative", reason=reason, rule=rule.id, policy_version=version,
                counted=counted,
            )  # fmt: skip
    for rule in policy.positive:
        if rule.covers(flow.destination, flow.platform, flow.kind, carried):
            reason = f"positive guidance {rule.id}"
            return Decision(
                ALLOWED, "positive", basis=rule.basis, reason=reason, rule=rule.id,
                policy_version=version,
            )  # fmt: skip
    if Category.IMPORTANT in carried:
        return _needs(ART_7_FILINGS, "art-7", "important data", flow.exporter, day, version)
    if not classification.personal:
        basis = ART_3_UNREAD if Category.UNREAD in carried else ART_3
        return Decision(ALLOWED, "art-3", basis=basis, policy_version=version)
    if only_the_contract_party(classification):
        return Decision(ALLOWED, "art-5-1", basis=ART_5_1, policy_version=version)
    if flow.exporter.ciio:
        why = "personal information exported by a CIIO"
        return _needs(ART_7_FILINGS, "art-7", why, flow.exporter, day, version, counted=True)
    return Decision(VOLUME, "volume", policy_version=version, counted=True)


def decide_volume(
    preliminary: Decision, exporter: DataExport, counts: Counts, day: dt.date
) -> Decision:
    """The count-based rows, for a ``volume`` decision, given the exporter's yearly counts
    with this document's new individuals added."""
    if preliminary.outcome != VOLUME:
        return preliminary
    version = preliminary.policy_version
    warnings = _warnings(exporter, counts)
    if counts.personal >= exporter.assessment_from or (
        counts.sensitive >= exporter.sensitive_assessment_from
    ):
        why = (
            f"{counts.personal:,} individuals ({counts.sensitive:,} with sensitive personal "
            f"information) this year reach the Art. 7 threshold"
        )
        decision = _needs(ART_7_FILINGS, "art-7", why, exporter, day, version, counted=True)
    elif counts.personal >= exporter.exempt_below or counts.sensitive > 0:
        why = (
            f"{counts.personal:,} individuals this year"
            + (
                f", {counts.sensitive:,} with sensitive personal information"
                if counts.sensitive
                else ""
            )
            + " need a standard-contract filing or certification (Art. 8)"
        )
        decision = _needs(ART_8_FILINGS, "art-8", why, exporter, day, version, counted=True)
    else:
        basis = ART_5_4.format(limit=exporter.exempt_below)
        decision = Decision(ALLOWED, "art-5-4", basis=basis, policy_version=version, counted=True)
    return Decision(
        decision.outcome, decision.article, decision.basis, decision.reason, decision.rule,
        decision.policy_version, decision.counted, warnings,
    )  # fmt: skip


def only_the_contract_party(classification: Classification) -> bool:
    """Whether the only individual whose data leaves is the personal buyer (Art. 5(1))."""
    buyer = next(
        (f.subject for f in classification.leaving() if f.path == "buyer.name" and f.subject),
        None,
    )
    subjects = set(classification.subjects())
    return buyer is not None and subjects == {buyer}


def _needs(
    kinds: tuple[str, ...],
    article: str,
    why: str,
    exporter: DataExport,
    day: dt.date,
    version: str,
    *,
    counted: bool = False,
) -> Decision:
    filing = exporter.filing(kinds, day)
    name = (
        "Art. 7 security-assessment approval"
        if article == "art-7"
        else ("Art. 8 standard-contract filing or certification")
    )
    if filing is None:
        reason = f"{why}: needs an {name}; the exporter has none valid on {day.isoformat()}"
        return Decision(HELD, article, reason=reason, policy_version=version, counted=counted)
    until = f", valid until {filing.expires.isoformat()}" if filing.expires else ""
    basis = f"{article.replace('art-', 'Art. ')}: {filing.kind} {filing.reference}{until}"
    return Decision(
        ALLOWED, article, basis=basis, reason=why, policy_version=version, counted=counted
    )


def _warnings(exporter: DataExport, counts: Counts) -> tuple[str, ...]:
    found = []
    for count, limit, what in (
        (counts.personal, exporter.exempt_below, "individuals (Art. 8 threshold)"),
        (counts.personal, exporter.assessment_from, "individuals (Art. 7 threshold)"),
        (counts.sensitive, exporter.sensitive_assessment_from,
         "individuals' sensitive personal information (Art. 7 threshold)"),
    ):  # fmt: skip
        if exporter.warn_ratio * limit <= count < limit:
            found.append(f"{count:,} of {limit:,} {what}: {count / limit:.0%} of the threshold")
    return tuple(found)
