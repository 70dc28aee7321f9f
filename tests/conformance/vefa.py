"""Reading vefa validator test sets and checking a rule run against them.

A vefa file (root ``testSet`` in ``http://difi.no/xsd/vefa/validator/1.0``) names the rules
in scope and wraps one document per ``<test>``; each test's ``<assert>`` lists the rule ids
that must fire as ``<error>`` (fatal) or ``<warning>``, and ``<success>`` ids that must not.
A rule that fires but is neither in scope nor expected belongs to another test and is ignored.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from gateway.validation.report import Finding

VEFA = "http://difi.no/xsd/vefa/validator/1.0"
_FLAG_OF = {"error": "fatal", "warning": "warning"}


@dataclass(frozen=True)
class VefaCase:
    """One ``<test>``: the document and what must (not) fire."""

    file: str
    index: int
    document: etree._Element
    scope: frozenset[str]
    expected: dict[str, str]
    """Rule id → ``fatal`` / ``warning``."""
    absent: frozenset[str]

    @property
    def name(self) -> str:
        return f"{self.file}#{self.index}"


def read_cases(path: Path) -> list[VefaCase]:
    """Every test case of one vefa file (the file is trusted reference data)."""
    root = etree.parse(
        str(path), etree.XMLParser(resolve_entities=False, no_network=True)
    ).getroot()
    scope = frozenset(
        s.text.strip() for s in root.iterfind(f"{{{VEFA}}}assert/{{{VEFA}}}scope") if s.text
    )
    cases = []
    for index, test in enumerate(root.iterfind(f"{{{VEFA}}}test"), start=1):
        expected: dict[str, str] = {}
        absent: set[str] = set()
        local_scope = set(scope)
        for item in test.iterfind(f"{{{VEFA}}}assert/*"):
            name, text = etree.QName(item).localname, (item.text or "").strip()
            if name in _FLAG_OF:
                expected[text] = _FLAG_OF[name]
            elif name == "success":
                absent.add(text)
            elif name == "scope":
                local_scope.add(text)
        documents = [c for c in test if isinstance(c.tag, str) and etree.QName(c).namespace != VEFA]
        assert len(documents) == 1, f"{path.name} test {index} has {len(documents)} documents"
        cases.append(
            VefaCase(
                path.name, index, documents[0], frozenset(local_scope), expected, frozenset(absent)
            )
        )
    return cases


def mismatches(case: VefaCase, findings: list[Finding]) -> list[str]:
    """What differs between the findings and the case's expectations (empty: as expected)."""
    fired: dict[str, set[str]] = {}
    for finding in findings:
        fired.setdefault(finding.rule_id, set()).add(finding.flag)
    problems = []
    for rule, flag in sorted(case.expected.items()):
        if flag not in fired.get(rule, set()):
            problems.append(f"{rule} should fire as {flag}, fired as {sorted(fired.get(rule, []))}")
    relevant = case.scope | case.absent | set(case.expected)
    for rule in sorted(set(fired) & relevant - set(case.expected)):
        problems.append(f"{rule} fired ({sorted(fired[rule])}) but is not expected")
    engine = [f.text for f in findings if f.rule_id == "ENGINE"]
    problems += [f"engine error: {text}" for text in engine]
    return problems
