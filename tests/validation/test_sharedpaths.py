"""Repeated filters of whole-document paths shared as global variables: which expressions
are shared, and that the rewritten stylesheet answers as before (SaxonC runs both).

That whole rule sets still find exactly what the official XSLT finds is proven by the
conformance tests and ``test_differential.py``.
"""

from __future__ import annotations

import pytest
from lxml import etree

from gateway.validation.schematron import saxon
from gateway.validation.sharedpaths import share_repeated_filters

XSL = "http://www.w3.org/1999/XSL/Transform"
ALL = "$lingang-all-1"


def _sheet(tests: list[str]) -> etree._Element:
    whens = "".join(
        f'<xsl:choose><xsl:when test="{t}"><yes/></xsl:when><xsl:otherwise><no/>'
        "</xsl:otherwise></xsl:choose>"
        for t in tests
    )
    return etree.fromstring(
        f'<xsl:stylesheet xmlns:xsl="{XSL}" xmlns:a="urn:a" version="3.0">'
        '<xsl:variable name="lingang-all-1" select="//a:T"/>'
        f'<xsl:template match="/"><out><xsl:for-each select="//a:R">{whens}</xsl:for-each>'
        "</out></xsl:template></xsl:stylesheet>"
    )


def _answers(sheet: etree._Element) -> list[str]:
    text = etree.tostring(sheet, encoding="unicode")
    executable = saxon().new_xslt30_processor().compile_stylesheet(stylesheet_text=text)
    document = (
        "<d xmlns='urn:a'><R n='1'/><R n='2'/><T><ID>S</ID><S>VAT</S></T><T><ID>Z</ID></T></d>"
    )
    out = executable.transform_to_value(xdm_node=saxon().parse_xml(xml_text=document))
    return [child.tag for child in etree.fromstring(str(out.head))]


FILTER = f"{ALL}[a:ID = 'S'][a:S = 'VAT']/a:ID"


@pytest.mark.parametrize(
    ("tests", "shared"),
    [
        ([f"exists({FILTER})", f"count({FILTER}) = 1 or not({FILTER})"], 1),
        ([f"exists({FILTER})"], 0),
        ([f"exists({ALL})", f"empty({ALL})"], 0),
        ([f"{ALL}[a:ID = current()/@n]", f"{ALL}[a:ID = current()/@n]"], 0),
        ([f"exists({ALL}[a:ID = $n])", f"exists({ALL}[a:ID = $n])"], 0),
        ([f"'{FILTER}' = 'x'", f"'{FILTER}' = 'y'"], 0),
        ([f"{ALL}/a:ID/string() = 'S'", f"{ALL}/a:ID/string() = 'Z'"], 1),
    ],
)
def test_only_context_free_filters_written_twice_are_shared(tests: list[str], shared: int) -> None:
    assert share_repeated_filters(_sheet(tests)) == shared


def test_shared_filters_answer_as_before() -> None:
    tests = [
        f"exists({FILTER})",
        f"count({FILTER}) = 2 or not({FILTER})",
        f"{ALL}[a:ID = 'Z']/a:S",
        f"not({ALL}[a:ID = 'Z']/a:S)",
        f"{ALL}[1]/a:ID = 'S'",
        f"{ALL}[1]/a:ID = 'Z'",
    ]
    before = _answers(_sheet(tests))
    sheet = _sheet(tests)
    assert share_repeated_filters(sheet) == 3
    assert "$lingang-shared-" in etree.tostring(sheet, encoding="unicode")
    assert _answers(sheet) == before
    assert before == ["yes", "no", "no", "yes", "yes", "no"] * 2
