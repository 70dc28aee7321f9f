"""Reading the SVRL a Schematron run writes, shared by both engines.

An SVRL ``failed-assert`` or ``successful-report`` becomes a :class:`Finding` through
:func:`svrl_finding` whichever engine ran the rules; :func:`engine_finding` is the fatal
finding that says the rules could not run at all.
"""

from __future__ import annotations

import re

from lxml import etree

from gateway.validation.report import Finding

SVRL = "http://purl.oclc.org/dsdl/svrl"
ENGINE_RULE = "ENGINE"
"""Rule id of findings that say the validation itself could not run."""

_SVRL_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True
)
_NS_STEP = re.compile(r"\*:([\w.-]+)\[namespace-uri\(\)='[^']*'\]|Q\{[^}]*\}([\w.-]+)")
_FINDINGS = (f"{{{SVRL}}}failed-assert", f"{{{SVRL}}}successful-report")


def engine_finding(source: str, text: str) -> Finding:
    """A fatal finding saying the validation step could not run."""
    return Finding(ENGINE_RULE, "fatal", "/", text, source)


def compact_location(location: str) -> str:
    """``/*:Invoice[namespace-uri()='…'][1]`` or ``/Q{…}Invoice[1]`` → ``/Invoice[1]``."""
    return _NS_STEP.sub(lambda m: m.group(1) or m.group(2), location)


def rule_from_text(text: str) -> str | None:
    """The rule id of a message written ``[ID]-text`` (when the SVRL names none)."""
    match = re.match(r"\[([^\]]+)\]", text)
    return match.group(1) if match else None


def svrl_finding(
    rule_id: str | None, flag: str | None, location: str | None, text: str | None, source: str
) -> Finding:
    """One failed assert or successful report as a finding: whitespace of the text collapsed,
    the rule id taken from a ``[ID]`` prefix when the SVRL names none, ``fatal`` by default,
    the location compacted (both engines read SVRL through this)."""
    message = " ".join((text or "").split())
    return Finding(
        rule_id=rule_id or rule_from_text(message) or "UNNAMED",
        flag=(flag or "fatal").lower(),
        location=compact_location(location or ""),
        text=message,
        source=source,
    )


def parse_svrl(svrl: str, source: str) -> list[Finding]:
    """The failed asserts and successful reports of an SVRL document, as findings."""
    try:
        root = etree.fromstring(svrl.encode("utf-8"), _SVRL_PARSER)
    except (etree.XMLSyntaxError, ValueError) as exc:
        return [engine_finding(source, f"the {source} report (SVRL) is unreadable: {exc}")]
    if root.tag != f"{{{SVRL}}}schematron-output":
        return [engine_finding(source, f"the {source} rules did not produce an SVRL report")]
    return [
        svrl_finding(
            element.get("id"),
            element.get("flag"),
            element.get("location"),
            element.findtext(f"{{{SVRL}}}text"),
            source,
        )
        for element in root
        if element.tag in _FINDINGS
    ]
