"""Namespace tests as name tests: which wildcards are rewritten, and that a rewritten rule
matches and selects exactly the elements the official one does (SaxonC runs both)."""

from __future__ import annotations

import pytest
from lxml import etree

from gateway.validation.namespacetests import namespace_name_tests, rewrite_expression
from gateway.validation.schematron import saxon

XSL = "http://www.w3.org/1999/XSL/Transform"
CBC = "urn:cbc"


@pytest.mark.parametrize(
    ("expression", "rewritten"),
    [
        (
            "//*[namespace-uri()='urn:cbc' and ends-with(local-name(), 'Time')]",
            "//Q{urn:cbc}*[ends-with(local-name(), 'Time')]",
        ),
        ("/ | //*[namespace-uri() = 'u' and @x = 1]", "/ | //Q{u}*[boolean(@x = 1)]"),
        ("*[namespace-uri()='' and not(*)]", "Q{}*[not(*)]"),
        ("a/*[namespace-uri()='u' and 2]", "a/Q{u}*[boolean(2)]"),
        ("//*[namespace-uri()='u' and a or b]", None),
        ("//*[namespace-uri()='u' and a eq'x'or b]", None),
        ("2 *[namespace-uri()='u' and a]", None),
        ("'//*[namespace-uri()=''u'' and a]'", None),
        ("//*[namespace-uri(..)='u' and a]", None),
        ("//*[a and namespace-uri()='u']", None),
    ],
)
def test_only_exact_namespace_tests_are_rewritten(expression: str, rewritten: str | None) -> None:
    new, count = rewrite_expression(expression)
    assert count == (0 if rewritten is None else 1)
    assert new == (rewritten or expression)


def test_rewritten_rule_matches_and_selects_the_same_elements() -> None:
    xml = (
        f'<p:Doc xmlns:p="urn:p" xmlns:c="{CBC}"><c:IssueTime/><p:IssueTime/><IssueTime/>'
        "<c:Time/><c:Times/><c:DueTime>x</c:DueTime><c:Name/></p:Doc>"
    )
    wildcard = f"*[namespace-uri()='{CBC}' and ends-with(local-name(), 'Time')]"
    found = []
    for rewrite in (False, True):
        sheet = etree.fromstring(
            f'<xsl:stylesheet xmlns:xsl="{XSL}" version="3.0">'
            f'<xsl:template match="/"><out><xsl:apply-templates select="//{wildcard}" mode="m"/>'
            '<xsl:apply-templates select="//*"/></out></xsl:template>'
            f'<xsl:template match="{wildcard}" mode="m"><sel name="{{name()}}"/></xsl:template>'
            f'<xsl:template match="{wildcard}"><hit name="{{name()}}"/></xsl:template>'
            '<xsl:template match="*"/></xsl:stylesheet>'
        )
        if rewrite:
            assert namespace_name_tests(sheet) == 3
        text = etree.tostring(sheet, encoding="unicode")
        assert ("namespace-uri()" in text) != rewrite
        executable = saxon().new_xslt30_processor().compile_stylesheet(stylesheet_text=text)
        out = etree.fromstring(
            str(executable.transform_to_value(xdm_node=saxon().parse_xml(xml_text=xml)).head)
        )
        found.append([(hit.tag, hit.get("name")) for hit in out])
    expected = ["c:IssueTime", "c:Time", "c:DueTime"]
    assert found[0] == [("sel", n) for n in expected] + [("hit", n) for n in expected]
    assert found[1] == found[0]
