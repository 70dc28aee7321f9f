"""What the export gate sorts data into, and what one document's classification says."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Category(StrEnum):
    """Data categories of the 2024 Provisions (and the PIPL they rest on)."""

    BUSINESS = "business"
    """Trade and transport data about organisations, goods, amounts."""
    PERSONAL = "personal"
    """Information about an identified or identifiable natural person."""
    SENSITIVE = "sensitive"
    """Sensitive personal information: ID-card and passport numbers, individuals' bank-card
    numbers, medical and travel records."""
    IMPORTANT = "important"
    """Important data: only what a notice of the authorities declares (the policy lists it)."""
    UNREAD = "unread"
    """Content the gate cannot read (a PDF or image sent with an eBL): not a category of the
    Provisions but what the gate knows of it. A policy rule may name it (e.g. an approval for
    what no one has read); else such a document is decided as unclassified data, the
    policy's default (Art. 3), and its ledger entry says ``unread``."""


PERSONAL_CATEGORIES = frozenset({Category.PERSONAL, Category.SENSITIVE})


@dataclass(frozen=True, slots=True)
class Finding:
    """One field of the document, its category, and why."""

    path: str
    """Where the field is: a business term or fapiao path (``buyer.phone``, ``Drawer`` …)."""
    category: Category
    reason: str
    leaves: bool = True
    """Whether the value is in the document as it leaves (after minimisation)."""
    subject: str | None = None
    """The natural person the field is about (an identity key, never shown), if any."""

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "category": self.category.value,
            "reason": self.reason,
            "leaves": self.leaves,
        }


@dataclass(frozen=True, slots=True)
class Classification:
    """Every classified field of one outbound document."""

    findings: tuple[Finding, ...]

    def leaving(self) -> Iterable[Finding]:
        """Findings whose value leaves with the document."""
        return (f for f in self.findings if f.leaves)

    @property
    def categories(self) -> frozenset[Category]:
        """Categories the document carries as it leaves (``business`` at least)."""
        return frozenset({Category.BUSINESS, *(f.category for f in self.leaving())})

    @property
    def personal(self) -> bool:
        return bool(self.categories & PERSONAL_CATEGORIES)

    @property
    def sensitive(self) -> bool:
        return Category.SENSITIVE in self.categories

    @property
    def important(self) -> bool:
        return Category.IMPORTANT in self.categories

    def subjects(self) -> dict[str, bool]:
        """Distinct natural persons whose data leaves: identity key → whether sensitive
        personal information of them leaves."""
        found: dict[str, bool] = {}
        for finding in self.leaving():
            if finding.subject is None:
                continue
            sensitive = finding.category is Category.SENSITIVE
            found[finding.subject] = found.get(finding.subject, False) or sensitive
        return found

    def to_json(self) -> dict[str, Any]:
        return {
            "categories": sorted(c.value for c in self.categories),
            "subjects": len(self.subjects()),
            "fields": [f.to_json() for f in self.findings if f.category is not Category.BUSINESS],
        }
