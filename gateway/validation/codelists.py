"""Code-list scans as look-ups in a map the compiler of the stylesheet builds once.

The official rules check a code against a list written as one string literal,
``contains(' A B C ', concat(' ', code, ' '))``: a scan of the whole list (thousands of
characters for units of measure) for every coded element, which Saxon does slowly. For a
list of single spaces between codes, with a space at each end, ``' s '`` occurs in it exactly
when ``s`` is one of its codes or, if ``s`` has a space, a run of consecutive codes. So the
call becomes::

    let $lingang-key := concat(' ', code, ' ')
    return map:contains($lingang-list-N, $lingang-key)
        or (contains(substring($lingang-key, 2, string-length($lingang-key) - 2), ' ')
            and contains(' A B C ', $lingang-key))

with ``$lingang-list-N`` a global map from each ``' code '`` to ``true()`` (a constant: Saxon
builds it when it compiles the stylesheet). ``code`` is evaluated once, as before, so errors
(a sequence where one string is expected) are the same; a code with a space still gets the
official scan.
"""

from __future__ import annotations

import re

from lxml import etree

from gateway.validation.xpathtext import closing, split_top_level, unquoted_spans
from gateway.validation.xsltplaces import rewrite_templates

XSL = "http://www.w3.org/1999/XSL/Transform"
MAP = "http://www.w3.org/2005/xpath-functions/map"
_X = f"{{{XSL}}}"
_CALL = re.compile(r"contains\(\s*'(?P<list> [^' ]+(?: [^' ]+)* )'\s*,\s*concat\(")
MIN_CODES = 8
"""Shorter lists stay scans (a map buys nothing there)."""
KEY = "$lingang-key"


def map_code_lists(sheet: etree._Element) -> int:
    """Rewrite every code-list scan in the tests and variables of the templates; the number
    of scans rewritten (see the module docstring)."""
    lists: dict[str, str] = {}
    rewritten = rewrite_templates(
        sheet, "contains(", lambda e: _rewrite(e, lists), match=False, selects=False
    )
    for text, name in lists.items():
        entries = ", ".join(f"' {code} ': true()" for code in text.split())
        variable = etree.Element(f"{_X}variable", name=name, nsmap={"xsl": XSL, "map": MAP})
        variable.set("select", f"map{{{entries}}}")
        sheet.insert(0, variable)
    return rewritten


def _rewrite(expression: str, lists: dict[str, str]) -> tuple[str, int]:
    out: list[str] = []
    position = 0
    count = 0
    spans = unquoted_spans(expression)
    for match in _CALL.finditer(expression):
        index = match.start()
        if index < position or not _starts_call(expression, index):
            continue
        if not any(start <= index < end for start, end in spans):
            continue
        replaced = _replacement(expression, match, lists)
        if replaced is None:
            continue
        text, call_end = replaced
        out.append(expression[position:index])
        out.append(text)
        position = call_end
        count += 1
    out.append(expression[position:])
    return "".join(out), count


def _starts_call(expression: str, index: int) -> bool:
    """Whether ``contains(`` at ``index`` is the function, not the end of another name."""
    return index == 0 or not (expression[index - 1].isalnum() or expression[index - 1] in "-_.:")


def _replacement(
    expression: str, match: re.Match[str], lists: dict[str, str]
) -> tuple[str, int] | None:
    """The rewritten call and the index just after the original one, or ``None``."""
    codes = match.group("list")
    if len(codes.split()) < MIN_CODES:
        return None
    concat_open = match.end() - 1
    concat_close = closing(expression, concat_open, "(", ")")
    if concat_close < 0:
        return None
    arguments = split_top_level(expression[concat_open + 1 : concat_close], ",")
    if len(arguments) != 3 or any(a.strip() != "' '" for a in (arguments[0], arguments[2])):
        return None
    rest = expression[concat_close + 1 :]
    stripped = rest.lstrip()
    if not stripped.startswith(")"):
        return None
    call_end = concat_close + 1 + (len(rest) - len(stripped)) + 1
    name = lists.setdefault(codes, f"lingang-list-{len(lists) + 1}")
    literal = f"'{codes}'"
    text = (
        f"(let {KEY} := concat(' ', {arguments[1].strip()}, ' ') return "
        f"(Q{{{MAP}}}contains(${name}, {KEY}) or "
        f"(contains(substring({KEY}, 2, string-length({KEY}) - 2), ' ') "
        f"and contains({literal}, {KEY}))))"
    )
    return text, call_end
