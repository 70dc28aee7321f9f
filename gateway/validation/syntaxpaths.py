"""Absent-path asserts on the document element, decided by one pass over the document.

The syntax patterns of the CEN rules (``UBL-CR-*``) are hundreds of asserts on the document
element of the form ``not(cac:InvoiceLine/cac:Item/cbc:Foo)``: each scans its path again.
Such an assert fails exactly when the document has an element (or attribute) at that path
below the document element. This pass collects every such path of a stylesheet, and:

* adds a walk of the document, from the document element down, following only children
  whose path so far starts some collected path, that returns the collected paths the
  document has (``$lingang-present``: usually none; a global variable, computed once per
  document);
* puts each run of consecutive such asserts under ``xsl:if test="$lingang-present = (...)"``
  listing the paths of the run: a run whose paths the document lacks holds everywhere and
  writes nothing, so skipping it is exact; otherwise the run's asserts all run, in order,
  as before.

The same rules forbid attributes anywhere in the document, ``not(//@schemeName)``: each such
assert is a walk of the whole document. ``$lingang-attributes`` (the expanded names of the
document's attributes, one walk, computed once per document) decides a run of them the same
way: ``xsl:if test="$lingang-attributes = (...)"``.

Paths are written as expanded names, ``Q{uri}local`` steps joined by ``/``, an attribute
step as ``@Q{uri}local``, so prefixes in the document do not matter.
"""

from __future__ import annotations

import re

from lxml import etree

XSL = "http://www.w3.org/1999/XSL/Transform"
LINGANG = "urn:lingang:fast-rules"
_X = f"{{{XSL}}}"
PRESENT = "lingang-present"
"""Name of the global variable holding the collected paths the document has."""
ATTRIBUTES = "lingang-attributes"
"""Name of the global variable holding the expanded names of the document's attributes."""

_QNAME = r"[A-Za-z_][\w.-]*:[A-Za-z_][\w.-]*"
_FIRST = rf"\(\s*{_QNAME}(?:\s*\|\s*{_QNAME})*\s*\)|{_QNAME}"
_PATH = re.compile(
    rf"not\(\s*(?P<first>{_FIRST})(?P<rest>(?:/{_QNAME})*)"
    rf"(?:/@(?P<attribute>(?:[A-Za-z_][\w.-]*:)?[A-Za-z_][\w.-]*))?\s*\)"
)
_DOCUMENT_ELEMENT = re.compile(rf"/{_QNAME}")
_ANYWHERE = re.compile(r"not\(\s*//@(?P<name>(?:[A-Za-z_][\w.-]*:)?[A-Za-z_][\w.-]*)\s*\)")
_ATTRIBUTE_NAMES = "distinct-values(//@*!('Q{' || namespace-uri(.) || '}' || local-name(.)))"


def guard_absent_paths(sheet: etree._Element) -> int:
    """Guard the absent-path asserts of rules on the document element (see the module
    docstring); the number of guards added."""
    found: dict[str, set[str]] = {PRESENT: set(), ATTRIBUTES: set()}
    guards = 0
    for template in sheet.iterchildren(f"{_X}template"):
        if not _on_document_element(template.get("match", "")):
            continue
        run: list[etree._Element] = []
        run_paths: list[str] = []
        run_kind = PRESENT
        for child in list(template):
            kind, paths = _assert_paths(child) if isinstance(child.tag, str) else (None, [])
            if paths is None or (paths and run and kind != run_kind):
                guards += _guard(run, run_paths, run_kind, found)
                run, run_paths = [], []
            if paths:
                run_kind = kind or PRESENT
                run.append(child)
                run_paths += [p for p in paths if p not in run_paths]
            elif paths is not None and run:
                run.append(child)  # a comment between two asserts
        guards += _guard(run, run_paths, run_kind, found)
    if found[PRESENT]:
        _add_walk(sheet, found[PRESENT])
    if found[ATTRIBUTES]:
        variable = etree.Element(f"{_X}variable", name=ATTRIBUTES, nsmap={"xsl": XSL})
        variable.set("select", _ATTRIBUTE_NAMES)
        sheet.insert(0, variable)
    return guards


def _on_document_element(match: str) -> bool:
    """Whether the rule's context is always the document element (``/p:a | /p:b``)."""
    branches = [b.strip() for b in match.split("|")]
    return bool(branches) and all(_DOCUMENT_ELEMENT.fullmatch(b) for b in branches)


def _assert_paths(element: etree._Element) -> tuple[str | None, list[str] | None]:
    """The guard variable and the paths of an assert ``not(path)`` or ``not(//@name)`` (an
    ``xsl:choose``); ``(None, None)`` for anything else."""
    if element.tag != f"{_X}choose" or len(element) != 2:
        return None, None
    when = element[0]
    if when.tag != f"{_X}when" or len(when) or (when.text or "").strip():
        return None, None
    test = when.get("test", "").strip()
    anywhere = _ANYWHERE.fullmatch(test)
    if anywhere is not None:
        name = _attribute_name(anywhere.group("name"), element.nsmap)
        return (ATTRIBUTES, [name]) if name is not None else (None, None)
    return PRESENT, _child_paths(test, element.nsmap)


def _child_paths(test: str, nsmap: dict[str | None, str]) -> list[str] | None:
    """The paths below the document element of a test ``not(path)``; ``None`` otherwise."""
    match = _PATH.fullmatch(test)
    if match is None:
        return None
    firsts = [s.strip() for s in match.group("first").strip("()").split("|")]
    rest = [s for s in match.group("rest").split("/") if s]
    tail: list[str] = []
    for step in rest:
        name = _expanded(step, nsmap)
        if name is None:
            return None
        tail.append(name)
    attribute = match.group("attribute")
    if attribute is not None:
        name = _attribute_name(attribute, nsmap)
        if name is None:
            return None
        tail.append(f"@{name}")
    paths = []
    for first in firsts:
        name = _expanded(first, nsmap)
        if name is None:
            return None
        paths.append("/".join([name, *tail]))
    return paths


def _attribute_name(qname: str, nsmap: dict[str | None, str]) -> str | None:
    """An attribute's expanded name (no prefix: no namespace, not the default one)."""
    return _expanded(qname, nsmap) if ":" in qname else f"Q{{}}{qname}"


def _expanded(qname: str, nsmap: dict[str | None, str]) -> str | None:
    prefix, _, local = qname.partition(":")
    uri = nsmap.get(prefix)
    return None if uri is None else f"Q{{{uri}}}{local}"


def _guard(
    run: list[etree._Element], paths: list[str], variable: str, found: dict[str, set[str]]
) -> int:
    """Put ``run`` (asserts, maybe comments between them) under one guard for ``paths``,
    names held by the global ``variable``."""
    while run and not isinstance(run[-1].tag, str):
        run.pop()
    if not run:
        return 0
    found[variable].update(paths)
    listed = ", ".join(_literal(p) for p in paths)
    guard = etree.Element(f"{_X}if", test=f"${variable} = ({listed})")
    run[0].addprevious(guard)
    for element in run:
        guard.append(element)
    return 1


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _add_walk(sheet: etree._Element, paths: set[str]) -> None:
    """``$lingang-present`` and the walk computing it (placed first in the stylesheet).

    The collected paths form a tree of steps; each of its nodes gets a mode whose template
    rules match the next steps by name (Saxon finds a rule by name at once), and a node's
    template returns its path when it is a collected one and applies the templates of its
    own mode to the children (elements, or attributes) that continue some path. Nodes
    matched by no rule are skipped with everything below them (``on-no-match``)."""
    tree: dict[str, set[str]] = {"": set()}
    for path in paths:
        steps = path.split("/")
        for n in range(1, len(steps) + 1):
            tree.setdefault("/".join(steps[:n]), set())
            tree["/".join(steps[: n - 1])].add(steps[n - 1])
    modes = {node: f"lingang-walk-{index}" for index, node in enumerate(sorted(tree))}
    nsmap = {"xsl": XSL, "xs": "http://www.w3.org/2001/XMLSchema"}
    declarations: list[etree._Element] = []
    for node, mode in modes.items():
        if not tree[node]:
            continue
        declaration = etree.Element(f"{_X}mode", name=mode, nsmap=nsmap)
        declaration.set("on-no-match", "deep-skip")
        declarations.append(declaration)
        for step in sorted(tree[node]):
            child = f"{node}/{step}" if node else step
            template = etree.Element(f"{_X}template", match=step, mode=mode, nsmap=nsmap)
            if child in paths:
                etree.SubElement(template, f"{_X}sequence", select=_literal(child))
            below = tree[child]
            selects = [
                select
                for select, attribute in (("*", False), ("@*", True))
                if any(step.startswith("@") == attribute for step in below)
            ]
            if selects:
                apply = etree.SubElement(template, f"{_X}apply-templates", mode=modes[child])
                apply.set("select", " | ".join(selects))
            declarations.append(template)
    variable = etree.Element(f"{_X}variable", name=PRESENT, nsmap=nsmap)
    variable.set("as", "xs:string*")
    etree.SubElement(variable, f"{_X}apply-templates", select="/*/*", mode=modes[""])
    for element in reversed([variable, *declarations]):
        sheet.insert(0, element)
