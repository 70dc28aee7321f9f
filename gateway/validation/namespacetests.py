"""A wildcard's namespace test as a name test, which Saxon checks without building a string.

The PINT rules match and offer ``//*[namespace-uri()='urn:…CommonBasicComponents-2' and
ends-with(local-name(), 'Time')]``: Saxon evaluates that predicate on every element, and
``namespace-uri()`` builds the namespace string each time. For an element, ``namespace-uri()
= 'U'`` holds exactly when its name is in namespace ``U``, which the name test ``Q{U}*``
says on the name's code alone. So ``*[namespace-uri()='U' and rest]`` becomes
``Q{U}*[rest]`` (``Q{U}*[boolean(rest)]`` unless ``rest`` is a call of a boolean function:
a bare number would test the position). Rewritten only where that is exactly so: the ``*``
is a step (after ``/``, ``::``, ``(``, ``|``, ``,`` or at the start), the predicate is that
one conjunction with no ``or`` beside it, and ``rest`` never sees an element outside ``U``
either way (``and`` does not evaluate it there in Saxon; the name test does not offer it).
"""

from __future__ import annotations

import re

from lxml import etree

from gateway.validation.xpathtext import closing, code_characters
from gateway.validation.xsltplaces import rewrite_templates

_TEST = re.compile(r"\*\[\s*namespace-uri\(\s*\)\s*=\s*'(?P<uri>[^'{}]*)'\s+and\s+")
_STEP_BEFORE = set("/(|,:")
_BOOLEAN_CALLS = re.compile(
    r"(?:not|exists|empty|boolean|contains|starts-with|ends-with|matches|true|false)\("
)
_OR = re.compile(r"(?<![\w.:$-])or(?![\w.:-])")


def namespace_name_tests(sheet: etree._Element) -> int:
    """Rewrite every ``*[namespace-uri()='U' and rest]`` of the templates' match patterns,
    tests and selects (see the module docstring); the number rewritten."""
    return rewrite_templates(sheet, "namespace-uri(", rewrite_expression, match=True, selects=True)


def rewrite_expression(expression: str) -> tuple[str, int]:
    """``expression`` with each namespace test it may rewrite rewritten; how many."""
    code = {index for index, _ in code_characters(expression)}
    out: list[str] = []
    position = 0
    count = 0
    for match in _TEST.finditer(expression):
        start = match.start()
        if start < position or start not in code or not _is_step(expression, start):
            continue
        end = closing(expression, start + 1, "[", "]")
        if end < 0:
            continue
        rest = expression[match.end() : end].strip()
        if not rest or _has_top_level_or(rest):
            continue
        if not _is_boolean_call(rest):
            rest = f"boolean({rest})"
        out += [expression[position:start], f"Q{{{match.group('uri')}}}*[{rest}]"]
        position = end + 1
        count += 1
    if not count:
        return expression, 0
    return "".join(out) + expression[position:], count


def _is_step(expression: str, star: int) -> bool:
    """Whether the ``*`` at ``star`` is a name test (not a multiplication)."""
    before = expression[:star].rstrip()
    return not before or before[-1] in _STEP_BEFORE


def _has_top_level_or(text: str) -> bool:
    """Whether ``text`` has an ``or`` outside brackets and string literals."""
    depth = 0
    plain = []
    last = -1
    for index, char in code_characters(text):
        if index != last + 1:
            plain.append(" ")
        last = index
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        plain.append(char if depth == 0 else " ")
    return bool(_OR.search("".join(plain)))


def _is_boolean_call(text: str) -> bool:
    """Whether ``text`` is one call of a function that returns a boolean."""
    call = _BOOLEAN_CALLS.match(text)
    return call is not None and closing(text, call.end() - 1, "(", ")") == len(text) - 1
