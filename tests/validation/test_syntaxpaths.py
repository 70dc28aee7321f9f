"""The absent-path guards of our compiled form: which asserts they cover, and that a guarded
run fires exactly when the document has one of its paths (SaxonC runs a small stylesheet).

That whole rule sets still find exactly what the official XSLT finds is proven by the
conformance tests and ``test_differential.py`` (whose ``ubl-extra`` mutation adds elements
and attributes the CEN syntax rules forbid).
"""

from __future__ import annotations

import pytest
from lxml import etree

from gateway.validation.schematron import saxon
from gateway.validation.syntaxpaths import guard_absent_paths

XSL = "http://www.w3.org/1999/XSL/Transform"
NS = 'xmlns:a="urn:a" xmlns:b="urn:b"'


def _choose(test: str) -> str:
    return (
        f'<xsl:choose><xsl:when test="{test}"/><xsl:otherwise><failed id="{test}"/>'
        "</xsl:otherwise></xsl:choose>"
    )


def _sheet(match: str, tests: list[str]) -> etree._Element:
    return etree.fromstring(
        f'<xsl:stylesheet xmlns:xsl="{XSL}" {NS} version="3.0">'
        '<xsl:template match="/"><out><xsl:apply-templates select="*"/></out></xsl:template>'
        f'<xsl:template match="{match}">'
        + "".join(_choose(t) for t in tests)
        + "</xsl:template></xsl:stylesheet>"
    )


def _fired(sheet: etree._Element, xml: str) -> list[str | None]:
    """The ids of the asserts that fail when SaxonC runs ``sheet`` on ``xml``."""
    text = etree.tostring(sheet, encoding="unicode")
    executable = saxon().new_xslt30_processor().compile_stylesheet(stylesheet_text=text)
    node = saxon().parse_xml(xml_text=xml)
    out = etree.fromstring(str(executable.transform_to_value(xdm_node=node).head))
    return [f.get("id") for f in out.iter("failed")]


TESTS = [
    "not(a:X)",
    "not(a:X/b:Y)",
    "not((a:P | a:Q)/b:Y)",
    "not(a:X/@code)",
    "not(a:X) or a:X = 'z'",
    "not(a:X/b:Y/b:Z)",
]


def test_runs_on_the_document_element_are_guarded_in_order() -> None:
    sheet = _sheet("/a:Doc | /b:Doc", TESTS)
    assert guard_absent_paths(sheet) == 2
    template = sheet.find(f"{{{XSL}}}template[@match='/a:Doc | /b:Doc']")
    assert template is not None
    shape = [child.tag.split("}")[1] for child in template]
    assert shape == ["if", "choose", "if"]
    assert [f.get("id") for f in template.iter("failed")] == TESTS, "order is kept"
    assert sheet.find(f"{{{XSL}}}variable[@name='lingang-present']") is not None


@pytest.mark.parametrize("match", ["a:Doc", "/a:Doc/a:X", "/*", "//a:Doc"])
def test_other_contexts_are_left_alone(match: str) -> None:
    sheet = _sheet(match, TESTS)
    assert guard_absent_paths(sheet) == 0
    assert sheet.find(f"{{{XSL}}}variable") is None


@pytest.mark.parametrize(
    ("document", "fired"),
    [
        ("<a:Doc {ns}/>", []),
        ("<a:Doc {ns}><a:W/></a:Doc>", []),
        ("<a:Doc {ns}><a:X/></a:Doc>", ["not(a:X)", "not(a:X) or a:X = 'z'"]),
        ("<a:Doc {ns}><a:P><b:Y/></a:P></a:Doc>", ["not((a:P | a:Q)/b:Y)"]),
        ("<a:Doc {ns}><a:Q><b:Y/></a:Q></a:Doc>", ["not((a:P | a:Q)/b:Y)"]),
        ("<a:Doc {ns}><a:P><a:Y/></a:P></a:Doc>", []),
        ("<a:Doc {ns}><b:X><b:Y/></b:X></a:Doc>", []),
        (
            "<a:Doc {ns}><a:X code='1'><b:Y><b:Z/></b:Y></a:X></a:Doc>",
            [
                "not(a:X)",
                "not(a:X/b:Y)",
                "not(a:X/@code)",
                "not(a:X) or a:X = 'z'",
                "not(a:X/b:Y/b:Z)",
            ],
        ),
        ("<a:Doc {ns}><a:X b:code='1'/></a:Doc>", ["not(a:X)", "not(a:X) or a:X = 'z'"]),
        ("<a:Doc {ns}><a:W><a:X/></a:W></a:Doc>", []),
    ],
)
def test_guarded_asserts_fire_exactly_as_unguarded_ones(document: str, fired: list[str]) -> None:
    xml = document.format(ns=NS)
    results = []
    for guarded in (False, True):
        sheet = _sheet("/a:Doc", TESTS)
        if guarded:
            assert guard_absent_paths(sheet) == 2
        results.append(_fired(sheet, xml))
    assert results[0] == fired
    assert results[1] == results[0]


ANYWHERE = [
    "not(//@code)",
    "not(//@b:code)",
    "not(a:X)",
    "not(//@name)",
    "count(//@name) = 0",
]


@pytest.mark.parametrize(
    ("document", "fired"),
    [
        ("<a:Doc {ns}/>", []),
        ("<a:Doc {ns}><a:W code=''/></a:Doc>", ["not(//@code)"]),
        ("<a:Doc {ns} b:code='1'/>", ["not(//@b:code)"]),
        (
            "<a:Doc {ns}><a:W><a:V a:code='1' name='n'/></a:W></a:Doc>",
            ["not(//@name)", "count(//@name) = 0"],
        ),
        ("<a:Doc {ns}><a:X><a:V code='1'/></a:X></a:Doc>", ["not(//@code)", "not(a:X)"]),
    ],
)
def test_attributes_forbidden_anywhere_fire_exactly_as_unguarded(
    document: str, fired: list[str]
) -> None:
    xml = document.format(ns=NS)
    results = []
    for guarded in (False, True):
        sheet = _sheet("/a:Doc", ANYWHERE)
        if guarded:
            assert guard_absent_paths(sheet) == 3, "two attribute runs, one path run"
            template = sheet.find(f"{{{XSL}}}template[@match='/a:Doc']")
            assert template is not None
            tests = [child.get("test") for child in template if child.tag == f"{{{XSL}}}if"]
            assert tests[0] == "$lingang-attributes = ('Q{}code', 'Q{urn:b}code')"
        results.append(_fired(sheet, xml))
    assert results[0] == fired
    assert results[1] == results[0]
