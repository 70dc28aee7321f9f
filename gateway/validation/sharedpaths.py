"""Filters of whole-document paths written in several asserts, computed once per document.

After :func:`~gateway.validation.fastrules.hoist_document_paths`, the CEN rules' VAT
category asserts read ``$lingang-all-3[normalize-space(cbc:ID) = 'AE'][cac:TaxScheme/...]``
(every ``ClassifiedTaxCategory`` of the document, filtered) up to four times per assert and in
several asserts. Such an expression starts at a global variable holding nodes of the one
document and filters and steps from there, with no reference to the context item, a local
variable or ``current()``: it has the same value wherever it is written. Each one written
more than once becomes a global variable too (evaluated on first use, once per document).

A dynamic error in such an expression is raised where it is first used, as before, or (if
Saxon evaluates the variable earlier) earlier: either way our form stops with an error, and
the validator then decides with the official form (see ``Validator._run_rules``).
"""

from __future__ import annotations

import re
from collections import Counter

from lxml import etree

from gateway.validation.xpathtext import closing, unquoted_spans
from gateway.validation.xsltplaces import xpath_places

XSL = "http://www.w3.org/1999/XSL/Transform"
_X = f"{{{XSL}}}"
_START = re.compile(r"\$lingang-all-\d+(?![\w.-])")
_STEP = re.compile(r"/@?(?:[A-Za-z_][\w.-]*:)?(?:[A-Za-z_][\w.-]*|\*)(?![\w.(:-])")
_VARIABLE = re.compile(r"\$([A-Za-z_][\w.-]*)")
PREFIX = "lingang-shared-"


def share_repeated_filters(sheet: etree._Element) -> int:
    """Make every filter written more than once a global variable; how many there are."""
    places: list[tuple[etree._Element, str]] = []
    counts: Counter[tuple[str, tuple[tuple[str | None, str], ...]]] = Counter()
    for element, attribute, expression in xpath_places(sheet, "$lingang-all-"):
        places.append((element, attribute))
        scope = _scope(element)
        for _, _, text in _filters(expression):
            counts[(text, scope)] += 1
    names: dict[tuple[str, tuple[tuple[str | None, str], ...]], str] = {}
    for element, attribute in places:
        expression = element.get(attribute, "")
        scope = _scope(element)
        out: list[str] = []
        position = 0
        for start, end, text in _filters(expression):
            if counts[(text, scope)] < 2:
                continue
            name = names.setdefault((text, scope), f"{PREFIX}{len(names) + 1}")
            out += [expression[position:start], f"${name}"]
            position = end
        if position:
            element.set(attribute, "".join(out) + expression[position:])
    for (text, scope), name in names.items():
        prefixes = {prefix: uri for prefix, uri in scope if prefix}
        variable = etree.Element(f"{_X}variable", name=name, nsmap=prefixes)
        variable.set("select", text)
        sheet.insert(0, variable)
    return len(names)


def _scope(element: etree._Element) -> tuple[tuple[str | None, str], ...]:
    return tuple(sorted(element.nsmap.items(), key=lambda item: item[0] or ""))


def _filters(expression: str) -> list[tuple[int, int, str]]:
    """(start, end, text) of each longest ``$lingang-all-N`` followed by predicates and
    steps (at least one), outside string literals, with no other variable and no
    ``current()`` in its predicates."""
    spans = unquoted_spans(expression)
    found: list[tuple[int, int, str]] = []
    for match in _START.finditer(expression):
        start = match.start()
        if not any(a <= start < b for a, b in spans) or (found and start < found[-1][1]):
            continue
        end = match.end()
        while True:
            if expression.startswith("[", end):
                close = closing(expression, end, "[", "]")
                if close < 0:
                    break
                end = close + 1
                continue
            step = _STEP.match(expression, end)
            if step is None:
                break
            end = step.end()
        text = expression[start:end]
        if end == match.end() or not _context_free(text):
            continue
        found.append((start, end, text))
    return found


def _context_free(text: str) -> bool:
    if "current()" in text:
        return False
    return all(name.startswith("lingang-all-") for name in _VARIABLE.findall(text))
