"""Where a stylesheet's templates hold XPath: the places the rule rewriters edit."""

from __future__ import annotations

from collections.abc import Callable

from lxml import etree

XSL = "http://www.w3.org/1999/XSL/Transform"
_X = f"{{{XSL}}}"

Rewrite = Callable[[str], tuple[str, int]]
"""An expression's rewritten text and how many rewrites it took (0: leave it alone)."""


def rewrite_templates(
    sheet: etree._Element, needle: str, rewrite: Rewrite, *, match: bool, selects: bool
) -> int:
    """Apply ``rewrite`` to every test (``when``, ``if``) and variable ``select`` of the
    templates that contains ``needle``, and to their ``match`` patterns (with ``match``)
    and ``apply-templates`` selects (with ``selects``); the number of rewrites."""
    rewritten = 0
    for template in sheet.iterchildren(f"{_X}template"):
        places: list[tuple[etree._Element, str]] = [(template, "match")] if match else []
        for element in template.iter(f"{_X}when", f"{_X}if", f"{_X}variable"):
            places.append((element, "select" if element.tag == f"{_X}variable" else "test"))
        if selects:
            places += [(e, "select") for e in template.iter(f"{_X}apply-templates")]
        for element, attribute in places:
            expression = element.get(attribute)
            if expression is None or needle not in expression:
                continue
            new, count = rewrite(expression)
            if count:
                element.set(attribute, new)
                rewritten += count
    return rewritten
