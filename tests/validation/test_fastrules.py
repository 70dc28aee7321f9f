"""Our compiled form of the official rules: how it is built, cached and rebuilt.

That it finds exactly what the official XSLT finds is proven by the conformance tests (every
official example and vefa case, both forms) and ``test_differential.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from gateway.artefacts import require_files
from gateway.errors import ArtefactError
from gateway.validation.fastrules import (
    ANY,
    FORM_VERSION,
    FastRulesError,
    Reach,
    compile_fast,
    guard_absent_elements,
    hoist_document_paths,
    offered_nodes,
    reach_of,
    stylesheet_for,
)

XSL = "http://www.w3.org/1999/XSL/Transform"


def _official(artefacts_home: Path) -> Path:
    (path,) = require_files("peppol-bis3", "3.0.21", ["PEPPOL-EN16931-UBL.xslt"], artefacts_home)
    return path


def test_compiled_form_is_built_once_and_rebuilt_when_the_artefact_changes(
    artefacts_home: Path, tmp_path: Path
) -> None:
    official = tmp_path / "PEPPOL-EN16931-UBL.xslt"
    official.write_bytes(_official(artefacts_home).read_bytes())
    first = stylesheet_for(official, "fast", tmp_path)
    assert first != official and first.parent.name == f"fast-{FORM_VERSION}"
    built = first.stat().st_mtime_ns
    assert stylesheet_for(official, "fast", tmp_path) == first
    assert first.stat().st_mtime_ns == built, "an unchanged artefact must not be rebuilt"

    message = b"Business process MUST have an approved identifier."
    official.write_bytes(official.read_bytes().replace(message, b"Changed upstream."))
    second = stylesheet_for(official, "fast", tmp_path)
    assert second != first
    assert b"Changed upstream." in second.read_bytes()
    assert message not in second.read_bytes()


def test_official_choice_runs_the_official_file(artefacts_home: Path, tmp_path: Path) -> None:
    official = _official(artefacts_home)
    assert stylesheet_for(official, "official", tmp_path) == official
    with pytest.raises(ArtefactError, match="expected one of official, fast"):
        stylesheet_for(official, "quick", tmp_path)


def test_unknown_shape_keeps_the_official_form(tmp_path: Path) -> None:
    sheet = tmp_path / "other.xslt"
    sheet.write_text(
        f'<xsl:stylesheet version="2.0" xmlns:xsl="{XSL}"><xsl:template match="/"/>'
        "</xsl:stylesheet>"
    )
    with pytest.raises(FastRulesError):
        compile_fast(sheet.read_bytes())
    assert stylesheet_for(sheet, "fast", tmp_path) == sheet


def test_compiled_form_offers_each_pattern_its_nodes_and_no_fired_rules(
    artefacts_home: Path,
) -> None:
    form = compile_fast(_official(artefacts_home).read_bytes())
    assert form.patterns == 13 and form.rules > 90
    text = form.xslt
    assert b"fired-rule" not in text and b"active-pattern" not in text
    sheet = etree.fromstring(text)
    (root,) = [t for t in sheet.iterfind(f"{{{XSL}}}template[@match='/']") if t.get("mode") is None]
    offers = root.findall(f".//{{{XSL}}}apply-templates")
    assert len(offers) == 13, "one selection per pattern, in the patterns' order"
    selects = [a.get("select", "") for a in offers]
    assert all(s.startswith("/ | ") or s == "/" for s in selects), "the document node to all"
    assert any("//*" not in s for s in selects), "other nodes only where rules can match"


def test_offered_nodes_follow_the_reach() -> None:
    named = Reach({"{urn:cac}Line", "{urn:cac}Party"}, {"{}code"})
    assert offered_nodes(named, attributes=False) == "/ | //Q{urn:cac}Line | //Q{urn:cac}Party"
    assert offered_nodes(named, attributes=True).endswith(" | //@Q{}code")
    assert offered_nodes(Reach({ANY}, {ANY}), attributes=True) == "/ | //* | //@*"
    assert offered_nodes(Reach(set(), set()), attributes=True) == "/"


def _hoisted(test: str) -> str:
    sheet = etree.fromstring(
        f'<xsl:stylesheet xmlns:xsl="{XSL}" xmlns:cac="urn:cac">'
        f'<xsl:template match="x"><xsl:if test="{test}"/></xsl:template></xsl:stylesheet>'
    )
    hoist_document_paths(sheet)
    return sheet.find(f".//{{{XSL}}}if").get("test", "")


@pytest.mark.parametrize(
    ("test", "hoisted"),
    [
        ("exists(//cac:Line)", True),
        ("count(//cac:Line[cbc:ID = 'S']) = 1", True),
        ("//cac:Line[normalize-space(cbc:ID)]/cbc:Amount", True),
        ("x and //*[ends-with(name(), 'Amount')]", True),
        ("count(//cac:Line[1]) = 1", False),
        ("exists(//cac:Line[last()])", False),
        ("exists(//cac:Line[$n])", False),
        ("count(//cac:Line[count(x)])", False),
        ("exists(cac:Doc//cac:Line)", False),
        ("contains('a //cac:Line b', 'x')", False),
        ("exists(//cac:Line/..)", True),
        ("exists(//unknown:Line)", False),
    ],
)
def test_document_paths_are_hoisted_only_where_exactly_equal(test: str, hoisted: bool) -> None:
    rewritten = _hoisted(test)
    assert ("$lingang-all-1" in rewritten) is hoisted, rewritten


def _choose(test: str) -> str:
    return (
        f'<xsl:choose><xsl:when test="{test}"/><xsl:otherwise><failed id="{test}"/>'
        "</xsl:otherwise></xsl:choose>"
    )


def test_runs_of_absent_element_asserts_share_one_guard() -> None:
    tests = [
        "not(cac:A/cbc:X)",
        "not(cac:A/cbc:Y)",
        "not(cac:B)",
        "cbc:Z = 1",
        "not(cac:C/cbc:X)",
        "not(cac:C)",
    ]
    sheet = etree.fromstring(
        f'<xsl:stylesheet xmlns:xsl="{XSL}"><xsl:template match="x">'
        + "".join(_choose(t) for t in tests)
        + "</xsl:template></xsl:stylesheet>"
    )
    assert guard_absent_elements(sheet) == 2
    template = sheet[0]
    shape = [(c.tag.split("}")[1], c.get("test")) for c in template]
    assert shape == [
        ("if", "cac:A"),
        ("choose", None),
        ("choose", None),
        ("if", "cac:C"),
    ]
    ordered = [f.get("id") for f in template.iter("failed")]
    assert ordered == tests, "the asserts keep their order"


@pytest.mark.parametrize(
    ("match", "elements", "attributes"),
    [
        ("cac:Line", {"{urn:cac}Line"}, set()),
        ("/ubl:Invoice | /cac:Line[cbc:ID = 'a|b']", {"{urn:ubl}Invoice", "{urn:cac}Line"}, set()),
        ("cac:Party[x/y]/cac:Line[contains(., ']')]", {"{urn:cac}Line"}, set()),
        ("cac:Line/@cac:code", set(), {"{urn:cac}code"}),
        ("cac:Line/@code", set(), {"{}code"}),
        ("//*[ends-with(name(), 'Amount')]", set(), set()),
        ("//*[position() = 1]", {ANY}, set()),
        (
            "(/ubl:Invoice/cac:Line | /cac:Party)[$de and $at]",
            {"{urn:cac}Line", "{urn:cac}Party"},
            set(),
        ),
        ("(cac:Line/@code | cac:Party)[$de]", {"{urn:cac}Party"}, {"{}code"}),
        ("cac:*", {ANY}, {ANY}),
        ("node()", {ANY}, {ANY}),
        ("unknown:Line", {ANY}, set()),
        ("/", set(), set()),
    ],
)
def test_reach_is_read_from_the_last_step_of_each_branch(
    match: str, elements: set[str], attributes: set[str]
) -> None:
    template = etree.fromstring(
        f'<xsl:template xmlns:xsl="{XSL}" xmlns:cac="urn:cac" xmlns:ubl="urn:ubl" match="{match}"/>'
    )
    reach = reach_of([template], None)
    assert (reach.elements, reach.attributes) == (elements, attributes)


@pytest.mark.parametrize(
    ("match", "offered"),
    [
        ("//*[ends-with(name(), 'Amount')]", "//*[ends-with(name(), 'Amount')]"),
        ("*[not(*) and not(normalize-space())]", "//*[not(*) and not(normalize-space())]"),
        ("//*[cbc:ID = 'S'][exists(x)]", "//*[cbc:ID = 'S'][exists(x)]"),
        ("//*[1]", None),
        ("//*[last()]", None),
        ("//*[. is current()]", None),
        ("//*[x]/cac:Line", None),
        ("//*", None),
    ],
)
def test_wildcard_rules_offer_exactly_the_elements_they_match(
    match: str, offered: str | None
) -> None:
    template = etree.fromstring(
        f'<xsl:template xmlns:xsl="{XSL}" xmlns:cac="urn:cac" xmlns:cbc="urn:cbc" match="{match}"/>'
    )
    reach = reach_of([template], None)
    if offered is None:
        assert reach.filters == set(), "a named step or a positional test: as before"
    else:
        assert (reach.filters, reach.elements) == ({offered}, set())
        assert offered_nodes(reach, attributes=True) == f"/ | {offered}"


def test_when_our_form_cannot_run_the_official_form_decides(
    reference: Path, artefacts_home: Path
) -> None:
    """Two malformed amounts make both forms stop at a dynamic error (an ``ENGINE``
    finding); the 10,000-document differential found cases where they stop at different
    ones. The validator then runs the official form, so the report is the official one."""
    import re

    from gateway.validation import Validator
    from gateway.validation.schematron import SaxonCEngine
    from gateway.validation.svrl import ENGINE_RULE

    example = reference / "openpeppol-pint-sg-1.4.1/trn-invoice/example"
    xml = (example / "PINT-SG INV example 09 - Zero rated GST.xml").read_bytes()
    xml = re.sub(rb"(<cbc:LineExtensionAmount[^>]*>)[^<]*", rb"\g<1>1,5", xml, count=1)
    xml = re.sub(rb"(<cbc:PayableAmount[^>]*>)[^<]*", rb"\g<1>--1", xml)
    engine = SaxonCEngine()
    official = Validator(artefacts_home, engine, "official").validate(xml, "pint-sg")
    assert ENGINE_RULE in {f.rule_id for f in official.findings}
    fast = Validator(artefacts_home, engine, "fast").validate(xml, "pint-sg")
    assert fast.findings == official.findings
