"""Quantified code-list tests as one general comparison: which are rewritten, and that the
rewritten test decides exactly as the official one (SaxonC runs both)."""

from __future__ import annotations

import pytest
from lxml import etree

from gateway.validation.schematron import saxon
from gateway.validation.somecodes import compare_code_lists

XSL = "http://www.w3.org/1999/XSL/Transform"
CODES = "<xsl:variable name=\"CODES\" select=\"tokenize('EUR SGD USD', '\\s')\"/>"


def _sheet(test: str, extra: str = "") -> etree._Element:
    return etree.fromstring(
        f'<xsl:stylesheet xmlns:xsl="{XSL}" xmlns:c="urn:c" version="3.0">{CODES}{extra}'
        '<xsl:template match="/"><out><xsl:apply-templates select="//c:A"/></out>'
        "</xsl:template>"
        f'<xsl:template match="c:A"><xsl:choose><xsl:when test="{test}"/>'
        '<xsl:otherwise><failed at="{@n}"/></xsl:otherwise></xsl:choose></xsl:template>'
        "</xsl:stylesheet>"
    )


def _when(sheet: etree._Element) -> str:
    when = sheet.find(f".//{{{XSL}}}when")
    assert when is not None
    return when.get("test", "")


@pytest.mark.parametrize(
    ("test", "rewritten"),
    [
        ("some $code in $CODES satisfies @currencyID = $code", "(@currencyID) = $CODES"),
        (
            "x or (some $code in $CODES\n   satisfies normalize-space(text()) = $code)",
            "x or ((normalize-space(text())) = $CODES)",
        ),
        (
            "some $c in tokenize('1 2', '\\s') satisfies normalize-space(c:B) = $c",
            "(normalize-space(c:B)) = tokenize('1 2', '\\s')",
        ),
        ("some $code in $CODES satisfies @currencyID = $code or x", None),
        ("some $code in $CODES satisfies $code = @currencyID", None),
        ("some $code in $CODES satisfies xs:decimal(.) = $code", None),
        ("some $code in $OTHER satisfies @currencyID = $code", None),
        ("some $code in tokenize('', '\\s') satisfies @currencyID = $code", None),
        ("some $code in $CODES satisfies normalize-space($x) = $code", None),
    ],
)
def test_only_exact_shapes_are_rewritten(test: str, rewritten: str | None) -> None:
    sheet = _sheet(test, '<xsl:variable name="OTHER" select="(\'EUR\')"/>')
    assert compare_code_lists(sheet) == (0 if rewritten is None else 1)
    assert _when(sheet) == (rewritten or test)


def test_a_list_shadowed_by_a_local_variable_is_left_alone() -> None:
    sheet = _sheet("some $code in $CODES satisfies @currencyID = $code")
    template = sheet.find(f"{{{XSL}}}template[@match='c:A']")
    assert template is not None
    template.insert(0, etree.fromstring(f'<xsl:variable xmlns:xsl="{XSL}" name="CODES"/>'))
    assert compare_code_lists(sheet) == 0


@pytest.mark.parametrize(
    "test",
    [
        "some $code in $CODES satisfies @currencyID = $code",
        "some $code in $CODES satisfies normalize-space(text()) = $code",
        "some $code in $CODES satisfies c:B = $code",
    ],
)
def test_rewritten_test_decides_as_the_official_one(test: str) -> None:
    xml = (
        '<c:Doc xmlns:c="urn:c"><c:A n="1" currencyID="SGD"> SGD </c:A>'
        '<c:A n="2" currencyID="sgd">sgd</c:A><c:A n="3"/><c:A n="4" currencyID="">  </c:A>'
        '<c:A n="5"><c:B>CNY</c:B><c:B>USD</c:B></c:A><c:A n="6"><c:B>X</c:B></c:A>'
        '<c:A n="7" currencyID="EUR ">EUR<!-- c -->X</c:A></c:Doc>'
    )
    outcomes = []
    for rewrite in (False, True):
        sheet = _sheet(test)
        if rewrite:
            assert compare_code_lists(sheet) == 1
        text = etree.tostring(sheet, encoding="unicode")
        executable = saxon().new_xslt30_processor().compile_stylesheet(stylesheet_text=text)
        node = saxon().parse_xml(xml_text=xml)
        try:
            out = etree.fromstring(str(executable.transform_to_value(xdm_node=node).head))
            outcomes.append([f.get("at") for f in out.iter("failed")])
        except Exception as exc:  # a dynamic error (two text nodes) must happen in both
            outcomes.append([type(exc).__name__])
    assert outcomes[1] == outcomes[0]
