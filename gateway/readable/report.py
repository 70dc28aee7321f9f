"""The validation report (``ValidationReport.to_json()``) grouped for reading.

The report arrives as stored JSON; anything missing or of the wrong type is read as empty
rather than trusted, so a damaged report still renders.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

SEVERITIES = ("fatal", "warning", "information")
"""Schematron flags, most severe first; other flags are shown after them as ``information``."""


@dataclass(frozen=True, slots=True)
class ReportFinding:
    rule_id: str
    flag: str
    location: str
    text: str
    source: str


@dataclass(frozen=True, slots=True)
class FindingGroup:
    flag: str
    findings: list[ReportFinding] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ReadableReport:
    profile: str
    valid: bool
    groups: list[FindingGroup]
    artefacts: list[str]

    @property
    def total(self) -> int:
        """How many findings in all."""
        return sum(len(g.findings) for g in self.groups)


def readable_report(data: Mapping[str, Any] | None) -> ReadableReport | None:
    """The report grouped by severity (fatal, warning, information), or ``None``."""
    if not isinstance(data, Mapping):
        return None
    groups = {flag: FindingGroup(flag) for flag in SEVERITIES}
    findings = data.get("findings")
    for item in findings if isinstance(findings, list) else []:
        if not isinstance(item, Mapping):
            continue
        flag = _text(item.get("flag")) or "information"
        finding = ReportFinding(
            rule_id=_text(item.get("rule_id")),
            flag=flag,
            location=_text(item.get("location")),
            text=_text(item.get("text")),
            source=_text(item.get("source")),
        )
        groups.get(flag, groups["information"]).findings.append(finding)
    artefacts = data.get("artefacts")
    return ReadableReport(
        profile=_text(data.get("profile")),
        valid=not groups["fatal"].findings and data.get("valid") is not False,
        groups=list(groups.values()),
        artefacts=[_text(a) for a in artefacts] if isinstance(artefacts, list) else [],
    )


def _text(value: Any) -> str:
    return "" if value is None else str(value)
