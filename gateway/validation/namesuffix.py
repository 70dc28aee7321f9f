"""Name-suffix tests on the local name, which Saxon has at hand, not on the prefixed name.

The CEN syntax rules match ``//*[ends-with(name(), 'Amount') ...]`` and
``//*[ends-with(name(), 'BinaryObject')]``: Saxon tries these patterns on every element the
pattern is offered, and ``name()`` builds the string ``prefix:local`` each time. For a suffix
without a colon, ``ends-with(name(), 'suffix')`` equals ``ends-with(local-name(),
'suffix')``: ``name()`` is ``local`` or ``prefix:local``, and its last characters are
``suffix`` exactly when they lie after the colon, in the local name. So the call becomes the
one on ``local-name()``, wherever it is written (match patterns, tests and the selects of
the nodes offered to the patterns).
"""

from __future__ import annotations

import re

from lxml import etree

from gateway.validation.xpathtext import unquoted_spans
from gateway.validation.xsltplaces import rewrite_templates

XSL = "http://www.w3.org/1999/XSL/Transform"
_X = f"{{{XSL}}}"
_CALL = re.compile(r"ends-with\(\s*name\(\s*\)(?P<rest>\s*,\s*'[^':]+'\s*\))")


def local_name_suffixes(sheet: etree._Element) -> int:
    """Rewrite every ``ends-with(name(), 'suffix')`` of the templates' match patterns, tests
    and selects (see the module docstring); the number of calls rewritten."""
    return rewrite_templates(sheet, "ends-with(", _rewrite, match=True, selects=True)


def _rewrite(expression: str) -> tuple[str, int]:
    spans = unquoted_spans(expression)
    out: list[str] = []
    position = 0
    for match in _CALL.finditer(expression):
        start = match.start()
        if start and (expression[start - 1].isalnum() or expression[start - 1] in "-_.:$"):
            continue
        if not any(a <= start < b for a, b in spans):
            continue
        out += [expression[position:start], "ends-with(local-name()", match.group("rest")]
        position = match.end()
    if not out:
        return expression, 0
    return "".join(out) + expression[position:], len(out) // 3
