"""Our compiled form of an official Schematron XSLT: the same rules, one walk, less output.

The official stylesheets are ISO-skeleton output. Each pattern is a mode that walks the whole
document from ``/`` (the template rules of the pattern's ``<rule>`` elements fire on the nodes
they match, first match by priority, and each recurses into ``@*|*`` or ``*``), the root
template also walks the document once per pattern in the default mode to build each
``svrl:active-pattern``, and every rule that fires writes an ``svrl:fired-rule``. This module
turns such a stylesheet into one that, rule for rule, gives the same failed asserts and
successful reports:

* **one traversal** for all patterns: a walk mode visits the document node, every element
  and (when the official walk does, and only for patterns with a rule that can match an
  attribute) every attribute once, and offers each node to every pattern's mode in turn
  (``apply-templates select="."``), so each pattern's first matching rule still fires for it;
  the rule templates and the patterns' catch-all templates no longer recurse themselves (the
  catch-alls stay, empty, and one more for the document node, which ``node()`` does not
  match: the built-in rule would descend from it);
* **only findings** are written: no ``fired-rule``, ``active-pattern``, namespace prefixes or
  comment; findings are put back in the official order (pattern by pattern, document order
  within a pattern) with a stable sort on the pattern's number;
* **whole-document paths once**: a test's ``//q:name`` (every ``q:name`` element of the
  document, which the CEN rules scan again in dozens of asserts of the same rule) becomes
  a global variable computed once per document, where that is provably the same node
  sequence (:func:`hoist_document_paths`).

Code lists stay as the official string scans: a map built from each list per transform
(global variables are per transform) was measured slower than the scans it replaced.

Everything else (tests, messages, ``let`` variables, functions, the location templates) is
the official text, untouched. A stylesheet of another shape raises :class:`FastRulesError`,
and the caller keeps the official form for it.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from gateway.artefacts.compiled import compiled_form
from gateway.errors import ArtefactError
from gateway.validation.options import RULES_CHOICES

log = logging.getLogger(__name__)

XSL = "http://www.w3.org/1999/XSL/Transform"
SVRL = "http://purl.oclc.org/dsdl/svrl"
_X = f"{{{XSL}}}"
WALK_MODE = "lingang-walk"
PATTERN_ATTRIBUTE = "lingang-pattern"
"""Attribute on each finding carrying its pattern's number (readers ignore it)."""
FORM_VERSION = "5"
"""Version of this compiler's output: part of the cache key of compiled forms."""

_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True, remove_blank_text=False
)


class FastRulesError(ArtefactError):
    """The official stylesheet is not of the shape this compiler rewrites."""


@dataclass(frozen=True, slots=True)
class FastForm:
    """A compiled form and what was done to make it (for logs and tests)."""

    xslt: bytes
    patterns: int
    rules: int
    document_paths: int


def compile_fast(official: bytes, *, what: str = "stylesheet") -> FastForm:
    """Our compiled form of the official Schematron XSLT ``official``."""
    try:
        sheet = etree.fromstring(official, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise FastRulesError(f"{what} is not well-formed: {exc}") from exc
    if sheet.tag != f"{_X}stylesheet" and sheet.tag != f"{_X}transform":
        raise FastRulesError(f"{what} is not an XSLT stylesheet")
    root_template = _root_template(sheet, what)
    modes = _pattern_modes(root_template, what)
    templates = _templates_by_mode(sheet, modes)
    walk = _walk_select(templates, what)
    rules = 0
    attribute_modes: list[str] = []
    for number, mode in enumerate(modes, start=1):
        count, matches_attributes = _rewrite_pattern(sheet, templates[mode], mode, number, walk)
        rules += count
        if matches_attributes:
            attribute_modes.append(mode)
    document_paths = hoist_document_paths(sheet)
    _replace_root_template(sheet, root_template, modes, attribute_modes, walk)
    sheet.set("version", "3.0")
    text = etree.tostring(sheet, xml_declaration=True, encoding="UTF-8")
    return FastForm(text, len(modes), rules, document_paths)


def _root_template(sheet: etree._Element, what: str) -> etree._Element:
    for template in sheet.iterchildren(f"{_X}template"):
        if template.get("match") == "/" and template.get("mode") is None:
            return template
    raise FastRulesError(f"{what} has no root template")


def _pattern_modes(root_template: etree._Element, what: str) -> list[str]:
    modes = [
        apply.get("mode", "")
        for apply in root_template.iter(f"{_X}apply-templates")
        if apply.get("select") == "/" and apply.get("mode")
    ]
    if not modes or len(set(modes)) != len(modes):
        raise FastRulesError(f"{what}: cannot tell its patterns from the root template")
    return modes


def _templates_by_mode(sheet: etree._Element, modes: list[str]) -> dict[str, list[etree._Element]]:
    found: dict[str, list[etree._Element]] = {mode: [] for mode in modes}
    for template in sheet.iterchildren(f"{_X}template"):
        mode = template.get("mode")
        if mode in found:
            found[mode].append(template)
    return found


def _is_catch_all(template: etree._Element) -> bool:
    return template.get("priority") in ("-1", "-2") and template.get("match") in (
        "text()",
        "@*|node()",
    )


def _walk_select(templates: dict[str, list[etree._Element]], what: str) -> str:
    """The node set every pattern walks into (``@*|*`` or ``*``): the same for all patterns."""
    selects = set()
    for mode, group in templates.items():
        for template in group:
            if template.get("match") == "@*|node()" and template.get("priority") == "-2":
                children = _element_children(template)
                if len(children) != 1 or children[0].get("mode") != mode:
                    raise FastRulesError(f"{what}: unexpected catch-all template in {mode}")
                selects.add(children[0].get("select", ""))
    if len(selects) != 1 or next(iter(selects)) not in ("@*|*", "*"):
        raise FastRulesError(f"{what}: the patterns walk different nodes ({sorted(selects)})")
    return next(iter(selects))


def _element_children(element: etree._Element) -> list[etree._Element]:
    return [child for child in element if isinstance(child.tag, str)]


def _rewrite_pattern(
    sheet: etree._Element, group: list[etree._Element], mode: str, number: int, walk: str
) -> tuple[int, bool]:
    """Strip one pattern's rule templates to their checks; (rules, whether one can match an
    attribute)."""
    rules = 0
    matches_attributes = False
    for template in group:
        if _is_catch_all(template):
            for child in list(template):
                template.remove(child)
            if template.get("priority") == "-2":
                template.addnext(
                    etree.Element(f"{_X}template", match="/", mode=mode, priority="-2")
                )
            continue
        children = _element_children(template)
        last = children[-1] if children else None
        if (
            last is None
            or last.tag != f"{_X}apply-templates"
            or last.get("mode") != mode
            or last.get("select") != walk
        ):
            raise FastRulesError(f"rule {template.get('match')!r} of {mode} does not recurse")
        template.remove(last)
        for child in children:
            if child.tag == f"{{{SVRL}}}fired-rule":
                if len(child):
                    raise FastRulesError(f"rule {template.get('match')!r}: computed fired-rule")
                template.remove(child)
        for finding in template.iter(f"{{{SVRL}}}failed-assert", f"{{{SVRL}}}successful-report"):
            finding.set(PATTERN_ATTRIBUTE, str(number))
        match = template.get("match", "")
        matches_attributes = matches_attributes or "@" in match or "attribute" in match
        rules += 1
    return rules, matches_attributes


def _replace_root_template(
    sheet: etree._Element,
    root_template: etree._Element,
    modes: list[str],
    attribute_modes: list[str],
    walk: str,
) -> None:
    """The root template walks once and writes the findings in the official order; the walk
    template offers each node to every pattern."""
    nsmap = {"xsl": XSL, "svrl": SVRL}
    root = etree.Element(f"{_X}template", match="/", nsmap=nsmap)
    found = etree.SubElement(root, f"{_X}variable", name="lingang-found")
    found.set("as", "element()*")
    etree.SubElement(found, f"{_X}apply-templates", select=".", mode=WALK_MODE)
    output = etree.SubElement(root, f"{{{SVRL}}}schematron-output")
    title = root_template.find(f"{{{SVRL}}}schematron-output")
    if title is not None and title.get("title") is not None:
        output.set("title", title.get("title", ""))
    ordered = etree.SubElement(output, f"{_X}perform-sort", select="$lingang-found")
    etree.SubElement(ordered, f"{_X}sort", select=f"number(@{PATTERN_ATTRIBUTE})")
    sheet.replace(root_template, root)

    visit = etree.Element(f"{_X}template", match="/|*", mode=WALK_MODE)
    for mode in modes:
        etree.SubElement(visit, f"{_X}apply-templates", select=".", mode=mode)
    children = "@*|*" if walk == "@*|*" and attribute_modes else "*"
    etree.SubElement(visit, f"{_X}apply-templates", select=children, mode=WALK_MODE)
    root.addnext(visit)
    if children == "@*|*":
        attribute = etree.Element(f"{_X}template", match="@*", mode=WALK_MODE)
        for mode in attribute_modes:
            etree.SubElement(attribute, f"{_X}apply-templates", select=".", mode=mode)
        visit.addnext(attribute)


def stylesheet_for(official: Path, rules: str, home: Path) -> Path:
    """The stylesheet to run for the official ``official`` under the rules choice ``rules``
    (:data:`~gateway.validation.options.RULES_CHOICES`): the official file itself, or our
    compiled form of it, built on first use and cached per content hash in ``home``.

    A stylesheet this compiler does not rewrite (and an official ``.sch``, which
    :mod:`.schc` compiles already) runs in its official form.
    """
    if rules not in RULES_CHOICES:
        raise ArtefactError(
            f"rules {rules!r}: expected one of {', '.join(RULES_CHOICES)}", field="rules"
        )
    if rules == "official" or official.suffix != ".xslt":
        return official
    try:
        return compiled_form(official, f"fast-{FORM_VERSION}", _build, home)
    except FastRulesError as exc:
        log.warning("%s runs in its official form: %s", official.name, exc)
        return official


def _build(official: bytes) -> bytes:
    return compile_fast(official).xslt


# -- whole-document paths ------------------------------------------------------------------

_STEP = re.compile(r"//(\*|([A-Za-z_][\w.-]*):([A-Za-z_][\w.-]*))(?![\w.(:-])")
_BEFORE = set("([,=|<>")
_KEYWORDS_BEFORE = ("and", "or", "in", "return", "satisfies", "then", "else")
_BOOLEAN_START = (
    "not(",
    "exists(",
    "empty(",
    "boolean(",
    "contains(",
    "starts-with(",
    "ends-with(",
    "matches(",
    "normalize-space(",
    "true(",
    "false(",
)
_COMPARISON = re.compile(r"!=|<=|>=|=|<|>|\s(and|or|eq|ne|lt|gt|le|ge)\s")
_PLAIN_PATH = re.compile(r"[@A-Za-z_][\w.:/@*-]*")


def hoist_document_paths(sheet: etree._Element) -> int:
    """Replace a test's ``//name`` (all ``name`` elements of the document) by a global
    variable holding them, evaluated once per document; the number of such variables.

    ``//q:name`` at the start of a path is ``root(.)/descendant-or-self::node()/q:name``: for
    the one document a transform validates it is the same node sequence wherever it is
    written, so it can be computed once. Rewritten only where that is exactly so: ``//`` opens
    a path (after an operator, a comma or a bracket, never after a step), and a predicate
    right after the name is a boolean test (a comparison, a boolean function or a plain
    path), never positional (``[1]``, ``[last()]``, ``[position() ...]`` are per-parent on
    the official path and would not be on the variable).
    """
    names: dict[str, str] = {}
    for template in sheet.iterchildren(f"{_X}template"):
        for element in template.iter(f"{_X}when", f"{_X}if", f"{_X}variable"):
            attribute = "select" if element.tag == f"{_X}variable" else "test"
            expression = element.get(attribute)
            if expression is None or "//" not in expression:
                continue
            rewritten = _hoist(expression, element.nsmap, names)
            if rewritten != expression:
                element.set(attribute, rewritten)
    for select, name in names.items():
        sheet.insert(0, etree.Element(f"{_X}variable", name=name, select=select))
    return len(names)


def _hoist(expression: str, nsmap: dict[str | None, str], names: dict[str, str]) -> str:
    out: list[str] = []
    position = 0
    for start, end in _unquoted_spans(expression):
        for match in _STEP.finditer(expression, start, end):
            if match.start() < position or not _opens_path(expression, match.start()):
                continue
            if not _boolean_predicates(expression, match.end()):
                continue
            if match.group(1) == "*":
                select = "//*"
            else:
                uri = nsmap.get(match.group(2))
                if uri is None:
                    continue
                select = f"//Q{{{uri}}}{match.group(3)}"
            name = names.setdefault(select, f"lingang-all-{len(names) + 1}")
            out.append(expression[position : match.start()])
            out.append(f"${name}")
            position = match.end()
    out.append(expression[position:])
    return "".join(out)


def _unquoted_spans(expression: str) -> list[tuple[int, int]]:
    """Start and end of every stretch of ``expression`` outside string literals."""
    spans = []
    start = 0
    quote: str | None = None
    for index, char in enumerate(expression):
        if quote is None and char in "'\"":
            spans.append((start, index))
            quote = char
        elif quote is not None and char == quote:
            quote = None
            start = index + 1
    if quote is None:
        spans.append((start, len(expression)))
    return spans


def _opens_path(expression: str, index: int) -> bool:
    before = expression[:index].rstrip()
    if not before or before[-1] in _BEFORE:
        return True
    return before.endswith(tuple(f" {word}" for word in _KEYWORDS_BEFORE))


def _boolean_predicates(expression: str, index: int) -> bool:
    """Whether every predicate right after ``index`` is a boolean, non-positional test."""
    while index < len(expression) and expression[index] == "[":
        end = _closing_bracket(expression, index)
        if end < 0:
            return False
        predicate = expression[index + 1 : end].strip()
        if not _is_boolean_test(predicate):
            return False
        index = end + 1
    return True


def _is_boolean_test(predicate: str) -> bool:
    if "position()" in predicate or "last()" in predicate or not predicate:
        return False
    if predicate[0].isdigit() or predicate[0] in "$-+":
        return False
    if predicate.startswith(_BOOLEAN_START) and _closing_paren(predicate) == len(predicate) - 1:
        return True
    if _PLAIN_PATH.fullmatch(predicate):
        return True
    return _COMPARISON.search(_top_level(predicate)) is not None


def _top_level(text: str) -> str:
    """``text`` with everything inside brackets, parentheses and quotes blanked out."""
    out = []
    depth = 0
    quote: str | None = None
    for char in text:
        if quote is not None:
            quote = None if char == quote else quote
            out.append(" ")
        elif char in "'\"":
            quote = char
            out.append(" ")
        elif char in "([":
            depth += 1
            out.append(" ")
        elif char in ")]":
            depth -= 1
            out.append(" ")
        else:
            out.append(char if depth == 0 else " ")
    return "".join(out)


def _closing_bracket(text: str, index: int) -> int:
    return _closing(text, index, "[", "]")


def _closing_paren(text: str) -> int:
    index = text.find("(")
    return _closing(text, index, "(", ")") if index >= 0 else -1


def _closing(text: str, index: int, open_char: str, close_char: str) -> int:
    depth = 0
    quote: str | None = None
    for position in range(index, len(text)):
        char = text[position]
        if quote is not None:
            if char == quote:
                quote = None
        elif char in "'\"":
            quote = char
        elif char == open_char:
            depth += 1
        elif char == close_char:
            depth -= 1
            if depth == 0:
                return position
    return -1
