"""Where a stylesheet's templates hold XPath: the places the rule rewriters edit."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from lxml import etree

XSL = "http://www.w3.org/1999/XSL/Transform"
_X = f"{{{XSL}}}"

Rewrite = Callable[[str], tuple[str, int]]
"""An expression's rewritten text and how many rewrites it took (0: leave it alone)."""


def xpath_places(
    sheet: etree._Element, needle: str, *, match: bool = False, selects: bool = False
) -> Iterator[tuple[etree._Element, str, str]]:
    """``(element, attribute, expression)`` of every test (``when``, ``if``) and variable
    ``select`` of the templates whose XPath contains ``needle``, with (per template, first)
    its ``match`` pattern when ``match`` and (last) its ``apply-templates`` selects when
    ``selects``. Setting the attribute while iterating is safe (the tree keeps its shape)."""
    for template in sheet.iterchildren(f"{_X}template"):
        places: list[tuple[etree._Element, str]] = [(template, "match")] if match else []
        for element in template.iter(f"{_X}when", f"{_X}if", f"{_X}variable"):
            places.append((element, "select" if element.tag == f"{_X}variable" else "test"))
        if selects:
            places += [(e, "select") for e in template.iter(f"{_X}apply-templates")]
        for element, attribute in places:
            expression = element.get(attribute)
            if expression is not None and needle in expression:
                yield element, attribute, expression


def rewrite_templates(
    sheet: etree._Element, needle: str, rewrite: Rewrite, *, match: bool, selects: bool
) -> int:
    """Apply ``rewrite`` to every expression :func:`xpath_places` finds (same arguments);
    the number of rewrites."""
    rewritten = 0
    for element, attribute, expression in xpath_places(sheet, needle, match=match, selects=selects):
        new, count = rewrite(expression)
        if count:
            element.set(attribute, new)
            rewritten += count
    return rewritten
