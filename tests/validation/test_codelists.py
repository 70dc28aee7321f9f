"""Code-list scans rewritten as map look-ups: which calls are rewritten, and that each gives
the official scan's answer for every kind of code, including odd ones (SaxonC runs both).

That whole rule sets still find exactly what the official XSLT finds is proven by the
conformance tests and ``test_differential.py`` (its ``wrong-code`` mutation sets codes to
valid, wrong, empty and spaced values).
"""

from __future__ import annotations

import pytest
from lxml import etree

from gateway.validation.codelists import map_code_lists
from gateway.validation.schematron import saxon

XSL = "http://www.w3.org/1999/XSL/Transform"
CODES = " AA BB CC DD EE FF GG HH C62 "
SCAN = f"contains('{CODES}', concat(' ', normalize-space(@c), ' '))"


def _sheet(test: str) -> etree._Element:
    return etree.fromstring(
        f'<xsl:stylesheet xmlns:xsl="{XSL}" version="3.0"><xsl:template match="/">'
        f'<out><xsl:for-each select="//v"><xsl:choose><xsl:when test="{test}"><yes/></xsl:when>'
        "<xsl:otherwise><no/></xsl:otherwise></xsl:choose></xsl:for-each></out>"
        "</xsl:template></xsl:stylesheet>"
    )


def _answers(sheet: etree._Element, document: str) -> list[str]:
    text = etree.tostring(sheet, encoding="unicode")
    executable = saxon().new_xslt30_processor().compile_stylesheet(stylesheet_text=text)
    out = executable.transform_to_value(xdm_node=saxon().parse_xml(xml_text=document))
    return [child.tag for child in etree.fromstring(str(out.head))]


@pytest.mark.parametrize(
    ("test", "rewritten"),
    [
        (SCAN, 1),
        (f"not(contains(normalize-space(@c), ' ')) and {SCAN}", 1),
        (f"{SCAN} or {SCAN.replace('@c', '.')}", 2),
        ("contains(' AA BB ', concat(' ', @c, ' '))", 0),
        (f"contains('{CODES}', concat(' ', @c))", 0),
        (f"contains('{CODES}', concat('-', @c, ' '))", 0),
        (f"contains('{CODES.replace(' BB', '  BB')}', concat(' ', @c, ' '))", 0),
        (f"my:contains('{CODES}', concat(' ', @c, ' '))", 0),
        (f"'contains({CODES}, concat(  , @c,  ))' = 'x'", 0),
    ],
)
def test_only_scans_of_a_plain_list_are_rewritten(test: str, rewritten: int) -> None:
    assert map_code_lists(_sheet(test)) == rewritten


def test_the_look_up_answers_as_the_scan_for_any_code() -> None:
    codes = ["AA", "HH", "C62", "c62", "A", "AAB", "", " ", "AA BB", "BB CC DD", "AA CC", "\tAA"]
    values = "".join(f"<v c='{c}'/>" for c in codes) + "<v/>"
    document = f"<d>{values}</d>"
    official = _answers(_sheet(SCAN), document)
    sheet = _sheet(SCAN)
    assert map_code_lists(sheet) == 1
    assert _answers(sheet, document) == official
    assert official.count("yes") == 6  # AA, HH, C62, "AA BB", "BB CC DD", tab-AA


def test_a_sequence_where_one_code_is_expected_is_still_an_error() -> None:
    sheet = _sheet(f"contains('{CODES}', concat(' ', //v/@c, ' '))")
    assert map_code_lists(sheet) == 1
    with pytest.raises(Exception, match=r"sequence of more than one item|XPTY0004"):
        _answers(sheet, "<d><v c='AA'/><v c='BB'/></d>")
