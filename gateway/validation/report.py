"""Validation findings and reports, as data and as text for people."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

FLAGS = ("fatal", "warning", "information")


@dataclass(frozen=True, slots=True)
class Finding:
    """One rule that fired (or one schema error)."""

    rule_id: str
    """The official rule id (``BR-CO-10``, ``PEPPOL-EN16931-R001``) or ``XSD`` for schema errors."""
    flag: str
    """``fatal`` | ``warning`` | ``information``."""
    location: str
    """Where in the document: an XPath (schematron) or ``line N`` (XSD)."""
    text: str
    source: str
    """``xsd`` or the artefact set whose rules fired (``cen-ubl``, ``peppol-bis3``, ``pint`` …)."""

    def to_json(self) -> dict[str, str]:
        """The finding as a JSON object."""
        return {
            "rule_id": self.rule_id,
            "flag": self.flag,
            "location": self.location,
            "text": self.text,
            "source": self.source,
        }


@dataclass
class ValidationReport:
    """The result of validating one document under one profile."""

    profile: str
    document_type: str
    findings: list[Finding] = field(default_factory=list)
    artefacts: list[str] = field(default_factory=list)
    """The artefacts applied, as ``set/version:path``."""

    @property
    def fatal(self) -> bool:
        """Whether any finding is fatal (the document must not be sent)."""
        return any(f.flag == "fatal" for f in self.findings)

    def fatals(self) -> list[Finding]:
        """The fatal findings."""
        return [f for f in self.findings if f.flag == "fatal"]

    def warnings(self) -> list[Finding]:
        """The warnings."""
        return [f for f in self.findings if f.flag == "warning"]

    def rule_ids(self) -> set[str]:
        """Ids of every rule that fired."""
        return {f.rule_id for f in self.findings}

    def to_json(self) -> dict[str, Any]:
        """The report as JSON data."""
        return {
            "profile": self.profile,
            "document_type": self.document_type,
            "valid": not self.fatal,
            "counts": {flag: sum(f.flag == flag for f in self.findings) for flag in FLAGS},
            "findings": [f.to_json() for f in self.findings],
            "artefacts": list(self.artefacts),
        }

    def to_text(self) -> str:
        """The report as readable text, fatal findings first."""
        verdict = "INVALID" if self.fatal else "valid"
        lines = [
            f"{self.document_type} under profile {self.profile}: {verdict} "
            f"({len(self.fatals())} fatal, {len(self.warnings())} warnings)"
        ]
        order = {flag: i for i, flag in enumerate(FLAGS)}
        for f in sorted(self.findings, key=lambda f: order.get(f.flag, len(FLAGS))):
            lines.append(f"  {f.flag.upper():<11} {f.rule_id} [{f.source}] {f.text}")
            lines.append(f"              at {f.location}")
        if self.artefacts:
            lines.append("artefacts: " + ", ".join(self.artefacts))
        return "\n".join(lines)
