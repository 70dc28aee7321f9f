"""Name-suffix tests on the local name: which calls are rewritten, and that a rewritten
wildcard rule matches exactly the elements the official one matches (SaxonC runs both)."""

from __future__ import annotations

import pytest
from lxml import etree

from gateway.validation.namesuffix import local_name_suffixes
from gateway.validation.schematron import saxon

XSL = "http://www.w3.org/1999/XSL/Transform"


@pytest.mark.parametrize(
    ("test", "rewritten"),
    [
        ("ends-with(name(), 'Amount')", "ends-with(local-name(), 'Amount')"),
        (
            "x and not(ends-with(name(),'PriceAmount'))",
            "x and not(ends-with(local-name(),'PriceAmount'))",
        ),
        ("ends-with(name(), 'a:Amount')", None),
        ("ends-with(name(..), 'Amount')", None),
        ("my:ends-with(name(), 'Amount')", None),
        ("contains('ends-with(name(), ''A'')', 'x')", None),
    ],
)
def test_only_suffixes_without_a_colon_are_rewritten(test: str, rewritten: str | None) -> None:
    sheet = etree.fromstring(
        f'<xsl:stylesheet xmlns:xsl="{XSL}" xmlns:my="urn:my"><xsl:template match="x">'
        '<xsl:if test=""/></xsl:template></xsl:stylesheet>'
    )
    element = sheet.find(f".//{{{XSL}}}if")
    assert element is not None
    element.set("test", test)
    assert local_name_suffixes(sheet) == (0 if rewritten is None else 1)
    assert element.get("test") == (rewritten or test)


def test_rewritten_wildcard_rule_matches_the_same_elements() -> None:
    xml = (
        '<p:Doc xmlns:p="urn:p" xmlns:q="urn:q"><p:TaxAmount/><q:Amount/><Amount/><p:Am/>'
        "<p:PriceAmount/><q:Amounts/><p:ount/></p:Doc>"
    )
    found = []
    for rewrite in (False, True):
        sheet = etree.fromstring(
            f'<xsl:stylesheet xmlns:xsl="{XSL}" version="3.0">'
            '<xsl:template match="/"><out><xsl:apply-templates select="//*"/></out></xsl:template>'
            "<xsl:template match=\"*[ends-with(name(), 'Amount') and "
            'not(ends-with(name(), \'PriceAmount\'))]"><hit name="{name()}"/></xsl:template>'
            '<xsl:template match="*"/></xsl:stylesheet>'
        )
        if rewrite:
            assert local_name_suffixes(sheet) == 2
        text = etree.tostring(sheet, encoding="unicode")
        executable = saxon().new_xslt30_processor().compile_stylesheet(stylesheet_text=text)
        out = etree.fromstring(
            str(executable.transform_to_value(xdm_node=saxon().parse_xml(xml_text=xml)).head)
        )
        found.append([hit.get("name") for hit in out])
    assert found[0] == ["p:TaxAmount", "q:Amount", "Amount"]
    assert found[1] == found[0]
