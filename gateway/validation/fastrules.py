"""Our compiled form of an official Schematron XSLT: the same rules, no walk, less output.

The official stylesheets are ISO-skeleton output. Each pattern is a mode that walks the whole
document from ``/`` (the template rules of the pattern's ``<rule>`` elements fire on the nodes
they match, first match by priority, and each recurses into ``@*|*`` or ``*``), the root
template also walks the document once per pattern in the default mode to build each
``svrl:active-pattern``, and every rule that fires writes an ``svrl:fired-rule``. This module
turns such a stylesheet into one that, rule for rule, gives the same failed asserts and
successful reports:

* **no walk**: each pattern, in turn, gets in one ``apply-templates`` the nodes the official
  walk would offer it (the document node, every element and, where the official walk does,
  every attribute, in document order) restricted to those its rules can match by name
  (:func:`reach_of`, :func:`offered_nodes`; a pattern with a rule that is not a plain name
  test gets every element); its first matching rule still fires for each, and the findings
  come out in the official order (pattern by pattern, document order within a pattern)
  with no sorting. The rule templates and the patterns' catch-all templates no longer
  recurse (the catch-alls stay, empty, and one more for the document node, which
  ``node()`` does not match: the built-in rule would descend from it);
* **only findings** are written: no ``fired-rule``, ``active-pattern``, namespace prefixes or
  comment;
* **whole-document paths once**: a test's ``//q:name`` (every ``q:name`` element of the
  document, which the CEN rules scan again in dozens of asserts of the same rule) becomes
  a global variable computed once per document, where that is provably the same node
  sequence (:func:`hoist_document_paths`);
* **repeated filters of those once**: ``$that[predicates]/steps`` written in several asserts
  becomes a global variable too
  (:func:`~gateway.validation.sharedpaths.share_repeated_filters`);
* **absent paths found in one walk**: the asserts ``not(path)`` on the document element
  (the syntax patterns' hundreds) run only when one walk of the document found one of
  their paths (:func:`~gateway.validation.syntaxpaths.guard_absent_paths`);
* **absent elements checked once**: elsewhere, a run of asserts ``not(q:name/...)`` that all
  start at the same child runs only when there is such a child (:func:`guard_absent_elements`).

* **attributes forbidden anywhere found in one walk**: runs of ``not(//@name)`` on the
  document element run only when the document has one of their attributes (same module);
* **name suffixes on the local name**: ``ends-with(name(), 'Amount')`` becomes
  ``ends-with(local-name(), 'Amount')``, the same truth without building ``prefix:name``
  for every element a wildcard rule is tried on
  (:func:`~gateway.validation.namesuffix.local_name_suffixes`);
* **namespace tests as name tests**: ``*[namespace-uri()='U' and rest]`` becomes
  ``Q{U}*[rest]``, which Saxon decides on the name's code without building the namespace
  string (:func:`~gateway.validation.namespacetests.namespace_name_tests`).

* **code lists as maps**: ``contains(' A B C ', concat(' ', code, ' '))`` becomes a look-up
  in a map written as a literal, which Saxon builds once when it compiles the stylesheet
  (:func:`~gateway.validation.codelists.map_code_lists`; a map built from the list with
  ``tokenize`` in each transform was measured slower than the scans);
* **quantified code-list tests as one comparison**: ``some $code in $ISO4217 satisfies
  @currencyID = $code`` becomes ``(@currencyID) = $ISO4217``
  (:func:`~gateway.validation.somecodes.compare_code_lists`).

A key
look-up guarding each ``not(a/b/q:name)`` assert (is there any ``name`` element at all?) was
measured no faster than the asserts themselves (Saxon's cost per instruction dominates).

Everything else (tests, messages, ``let`` variables, functions, the location templates) is
the official text, untouched. A stylesheet of another shape raises :class:`FastRulesError`,
and the caller keeps the official form for it.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from gateway.artefacts.compiled import compiled_form
from gateway.errors import ArtefactError
from gateway.validation.codelists import map_code_lists
from gateway.validation.namespacetests import namespace_name_tests
from gateway.validation.namesuffix import local_name_suffixes
from gateway.validation.options import RULES_CHOICES
from gateway.validation.sharedpaths import share_repeated_filters
from gateway.validation.somecodes import compare_code_lists
from gateway.validation.syntaxpaths import guard_absent_paths
from gateway.validation.xpathtext import closing as _closing
from gateway.validation.xpathtext import code_characters, opening_bracket
from gateway.validation.xpathtext import split_top_level as _split_top_level
from gateway.validation.xpathtext import unquoted_spans as _unquoted_spans
from gateway.validation.xsltplaces import xpath_places

log = logging.getLogger(__name__)

XSL = "http://www.w3.org/1999/XSL/Transform"
SVRL = "http://purl.oclc.org/dsdl/svrl"
_X = f"{{{XSL}}}"
FORM_VERSION = "14"
"""Version of this compiler's output: part of the cache key of compiled forms."""

_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True, remove_blank_text=False
)


class FastRulesError(ArtefactError):
    """The official stylesheet is not of the shape this compiler rewrites."""

    code = "fast-rules"


@dataclass(frozen=True, slots=True)
class FastForm:
    """A compiled form and what was done to make it (for logs and tests)."""

    xslt: bytes
    patterns: int
    rules: int
    document_paths: int
    shared_filters: int
    guards: int
    code_lists: int


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
    default_namespace = sheet.get("xpath-default-namespace")
    reaches = {
        mode: reach_of([t for t in templates[mode] if not _is_catch_all(t)], default_namespace)
        for mode in modes
    }
    rules = 0
    for mode in modes:
        rules += _rewrite_pattern(sheet, templates[mode], mode, walk)
    document_paths = hoist_document_paths(sheet)
    shared = share_repeated_filters(sheet)
    guards = guard_absent_paths(sheet) + guard_absent_elements(sheet)
    code_lists = map_code_lists(sheet) + compare_code_lists(sheet)
    _replace_root_template(sheet, root_template, modes, reaches, walk)
    local_name_suffixes(sheet)
    namespace_name_tests(sheet)
    sheet.set("version", "3.0")
    text = etree.tostring(sheet, xml_declaration=True, encoding="UTF-8")
    return FastForm(text, len(modes), rules, document_paths, shared, guards, code_lists)


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
    sheet: etree._Element, group: list[etree._Element], mode: str, walk: str
) -> int:
    """Strip one pattern's rule templates to their checks; the number of rules."""
    rules = 0
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
        rules += 1
    return rules


def _replace_root_template(
    sheet: etree._Element,
    root_template: etree._Element,
    modes: list[str],
    reaches: dict[str, Reach],
    walk: str,
) -> None:
    """The root template offers each pattern, in turn, the nodes its rules can match, in
    document order: the findings come out in the official order, pattern by pattern."""
    nsmap = {"xsl": XSL, "svrl": SVRL}
    root = etree.Element(f"{_X}template", match="/", nsmap=nsmap)
    output = etree.SubElement(root, f"{{{SVRL}}}schematron-output")
    title = root_template.find(f"{{{SVRL}}}schematron-output")
    if title is not None and title.get("title") is not None:
        output.set("title", title.get("title", ""))
    for mode in modes:
        select = offered_nodes(reaches[mode], attributes=walk == "@*|*")
        etree.SubElement(output, f"{_X}apply-templates", select=select, mode=mode)
    sheet.replace(root_template, root)


def offered_nodes(reach: Reach, *, attributes: bool) -> str:
    """XPath selecting, in document order, the nodes the official walk offers a pattern
    (the document node, every element and, with ``attributes``, every attribute) that
    the pattern's rules can match (``reach``)."""
    branches = ["/"]
    if ANY in reach.elements:
        branches.append("//*")
    else:
        branches += [f"//{_eqname(name)}" for name in sorted(reach.elements)]
        branches += sorted(reach.filters)
    if attributes:
        if ANY in reach.attributes:
            branches.append("//@*")
        else:
            branches += [f"//@{_eqname(name)}" for name in sorted(reach.attributes)]
    return " | ".join(branches)


def _eqname(name: str) -> str:
    """``{uri}local`` as an XPath EQName ``Q{uri}local``."""
    return f"Q{name}"


def stylesheet_for(official: Path, rules: str, home: Path) -> Path:
    """The stylesheet to run for the official ``official`` under the rules choice ``rules``
    (:data:`~gateway.validation.options.RULES_CHOICES`): the official file itself, or our
    compiled form of it, built on first use and cached per content hash in ``home``.

    A stylesheet this compiler does not rewrite (and an official ``.sch``, which
    :mod:`.schc` compiles already) runs in its official form, and so does every one when
    ``home`` cannot keep compiled forms (a read-only data home).
    """
    if rules not in RULES_CHOICES:
        raise ArtefactError(
            f"rules {rules!r}: expected one of {', '.join(RULES_CHOICES)}", field="rules"
        )
    if rules == "official" or official.suffix != ".xslt":
        return official
    try:
        return compiled_form(official, f"fast-{FORM_VERSION}", _build, home)
    except (FastRulesError, OSError) as exc:
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
    for element, attribute, expression in xpath_places(sheet, "//"):
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
    out = [" "] * len(text)
    depth = 0
    for index, char in code_characters(text):
        if char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
        elif depth == 0:
            out[index] = char
    return "".join(out)


def _closing_bracket(text: str, index: int) -> int:
    return _closing(text, index, "[", "]")


def _closing_paren(text: str) -> int:
    index = text.find("(")
    return _closing(text, index, "(", ")") if index >= 0 else -1


# -- absent-element guards -----------------------------------------------------------------

_ABSENT_PATH = re.compile(r"not\(\s*([A-Za-z_][\w.-]*:[A-Za-z_][\w.-]*)(/[\w.:/@-]*)?\s*\)")


def guard_absent_elements(sheet: etree._Element) -> int:
    """Put each run of consecutive asserts ``not(q:name/...)`` sharing their first step
    under one ``xsl:if test="q:name"``; the number of guards.

    Without a ``q:name`` child every such path is empty and every one of those asserts
    holds: they write nothing, so skipping them is exact; with one, they all run as before,
    in the same order. The syntax patterns of the CEN and PINT rules are hundreds of
    asserts like ``not(cac:BillingReference/cbc:UUID)``, each scanning the root's children.
    """
    guards = 0
    for template in sheet.iterchildren(f"{_X}template"):
        run: list[etree._Element] = []
        first_step: str | None = None
        for child in list(template):
            step = _absent_step(child) if isinstance(child.tag, str) else first_step
            if step is not None and step == first_step:
                run.append(child)
                continue
            guards += _guard(run, first_step)
            run, first_step = ([child], step) if step is not None else ([], None)
        guards += _guard(run, first_step)
    return guards


def _absent_step(element: etree._Element) -> str | None:
    """The first step of an assert ``not(step/...)`` (an ``xsl:choose``), else ``None``."""
    if element.tag != f"{_X}choose" or len(element) != 2:
        return None
    when = element[0]
    if when.tag != f"{_X}when" or len(when) or (when.text or "").strip():
        return None
    match = _ABSENT_PATH.fullmatch(when.get("test", "").strip())
    return match.group(1) if match else None


def _guard(run: list[etree._Element], step: str | None) -> int:
    asserts = [e for e in run if isinstance(e.tag, str)]
    if step is None or len(asserts) < 2:
        return 0
    guard = etree.Element(f"{_X}if", test=step)
    run[0].addprevious(guard)
    for element in run:
        guard.append(element)
    return 1


# -- which nodes a pattern's rules can match ------------------------------------------------

ANY = "*"
"""In a :class:`Reach`: any name."""


@dataclass
class Reach:
    """The nodes a pattern's rules can match, by kind and expanded name (``{uri}local``);
    :data:`ANY` when a rule's pattern is not a plain name test (or cannot be read)."""

    elements: set[str]
    attributes: set[str]
    filters: set[str] = field(default_factory=set)
    """Expressions selecting the elements a wildcard rule ``//*[p]`` can match (see
    :func:`_wildcard_filter`), offered besides the named elements."""

    def offers(self, kind: str, name: str) -> bool:
        """Whether a node of ``kind`` (``element``/``attribute``) named ``name`` may match."""
        names = self.elements if kind == "element" else self.attributes
        return ANY in names or name in names


_NAME = re.compile(r"(?:([A-Za-z_][\w.-]*):)?([A-Za-z_][\w.-]*)")


def reach_of(templates: list[etree._Element], default_namespace: str | None) -> Reach:
    """What the rule templates of one pattern can match, from the last step of each branch
    of their ``match`` patterns (an over-approximation: anything unusual counts as ANY).

    A wildcard filter is written in the root template's select, where the stylesheet
    element's namespaces are in scope: taken only from a template declaring none of its own.
    """
    reach = Reach(set(), set())
    for template in templates:
        for branch in _branches(template.get("match", "")):
            wildcard = _wildcard_filter(branch)
            parent = template.getparent()
            if wildcard is not None and (parent is None or parent.nsmap == template.nsmap):
                reach.filters.add(wildcard)
                continue
            kind, name = _last_step(branch, template.nsmap, default_namespace)
            if kind in ("element", "any"):
                reach.elements.add(name)
            if kind in ("attribute", "any"):
                reach.attributes.add(name)
    return reach


def _wildcard_filter(branch: str) -> str | None:
    """``//*[p]...`` selecting exactly the elements the pattern ``branch`` matches, when it
    is ``*`` or ``//*`` filtered by boolean, non-positional predicates that do not use
    ``current()`` (which means the matched node in a pattern, the document node in the root
    template's select); else ``None``.

    Such a pattern matches an element of the document exactly when every predicate holds
    with the element as context item, which is what the expression selects. The expression
    also evaluates the predicates on elements a rule of higher priority takes; where that
    raises a dynamic error the official walk may not, our form stops and the official form
    decides (``Validator._run_rules``)."""
    rest = branch.removeprefix("//")
    if not rest.startswith("*["):
        return None
    index = 1
    while index < len(rest):
        if rest[index] != "[":
            return None
        end = _closing_bracket(rest, index)
        predicate = rest[index + 1 : end].strip() if end > 0 else ""
        if not predicate or "current()" in predicate or not _is_boolean_test(predicate):
            return None
        index = end + 1
    return f"//{rest}"


def _branches(pattern: str) -> list[str]:
    """The branches of a union pattern; a parenthesised union filtered by predicates,
    ``(a | b)[p]``, counts as its branches ``a`` and ``b`` (it matches only nodes they
    match)."""
    branches: list[str] = []
    for branch in _split_top_level(pattern, "|"):
        branch = branch.strip()
        inner = branch
        while inner.endswith("]") and (start := opening_bracket(inner)) > 0:
            inner = inner[:start].rstrip()
        if inner.startswith("(") and _closing(inner, 0, "(", ")") == len(inner) - 1:
            branches += _branches(inner[1:-1])
        else:
            branches.append(branch)
    return branches


def _last_step(
    branch: str, nsmap: dict[str | None, str], default_namespace: str | None
) -> tuple[str, str]:
    """(``element``|``attribute``|``document``|``any``, expanded name or ANY)."""
    while branch.endswith("]"):
        start = opening_bracket(branch)
        if start < 0:
            return "any", ANY
        branch = branch[:start].rstrip()
    steps = _split_top_level(branch, "/")
    if not steps or all(not s.strip() for s in steps):
        return ("document", "") if branch == "/" else ("any", ANY)
    step = steps[-1].strip()
    if step.startswith("@") or step.startswith("attribute::"):
        local = step[1:] if step.startswith("@") else step[len("attribute::") :]
        match = _NAME.fullmatch(local)
        if match is None:
            return "attribute", ANY
        prefix, name = match.groups()
        uri = "" if prefix is None else nsmap.get(prefix)
        return ("attribute", f"{{{uri}}}{name}") if uri is not None else ("attribute", ANY)
    step = step.removeprefix("child::")
    match = _NAME.fullmatch(step)
    if match is None:
        return ("element", ANY) if step in ("*", "element()") else ("any", ANY)
    prefix, name = match.groups()
    if prefix is None and default_namespace is not None:
        return "element", ANY
    uri = "" if prefix is None else nsmap.get(prefix)
    return ("element", f"{{{uri}}}{name}") if uri is not None else ("element", ANY)
