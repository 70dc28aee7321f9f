"""Code-list tests written as quantified expressions, as one general comparison.

The PEPPOL rules check a code against a list held in a global variable,
``some $code in $ISO4217 satisfies @currencyID = $code``: Saxon binds ``$code`` to each
code of the list in turn (about 180 for currencies, for every amount of the document) and
evaluates the comparison again each time. When the list is a global variable (or an inline
call) ``tokenize('<codes>', '\\s')`` with a non-empty literal, and the value compared is an
attribute, a plain path or a ``normalize-space(...)`` call (untyped or string values only),
the test becomes ``(value) = $ISO4217``:

* a general comparison is true exactly when some pair of an item of the value and an item
  of the list is equal, which is what the quantified expression asks, pair by pair;
* both compare strings (an untyped value is compared as a string) with the same default
  collation, and no such pair can raise a type error;
* the value is evaluated once instead of once per code: the same value, and, the list
  being non-empty, it is evaluated (and raises an error, if it does) in both forms.
"""

from __future__ import annotations

import re

from lxml import etree

from gateway.validation.xpathtext import closing, unquoted_spans
from gateway.validation.xsltplaces import rewrite_templates

XSL = "http://www.w3.org/1999/XSL/Transform"
_X = f"{{{XSL}}}"
_NAME = r"[A-Za-z_][\w.-]*"
_SOME = re.compile(
    rf"some\s+\$(?P<var>{_NAME})\s+in\s+"
    rf"(?P<list>\$(?P<global>{_NAME})|tokenize\(\s*'[^']+'\s*,\s*'\\s'\s*\))"
    r"\s+satisfies\s+"
)
_VALUE = re.compile(rf"@(?:{_NAME}:)?{_NAME}|[\w.:/@-]+|normalize-space\((?P<inner>.*)\)", re.S)
_TOKENIZED = re.compile(r"tokenize\(\s*'[^']+'\s*,\s*'\\s'\s*\)")


def compare_code_lists(sheet: etree._Element) -> int:
    """Rewrite the quantified code-list tests of the templates' match patterns and tests
    (see the module docstring); the number rewritten."""
    lists = _tokenized_globals(sheet)
    local = {v.get("name") for v in sheet.iter(f"{_X}variable", f"{_X}param") if v not in lists}
    usable = {name for name in lists.values() if name not in local}
    return rewrite_templates(
        sheet, "some", lambda e: _rewrite(e, usable), match=True, selects=False
    )


def _tokenized_globals(sheet: etree._Element) -> dict[etree._Element, str]:
    """The global variables whose value is ``tokenize('<codes>', '\\s')``, by name."""
    found: dict[etree._Element, str] = {}
    for variable in sheet.iterchildren(f"{_X}variable"):
        select = (variable.get("select") or "").strip()
        if len(variable) == 0 and _TOKENIZED.fullmatch(select):
            found[variable] = variable.get("name", "")
    return found


def _rewrite(expression: str, lists: set[str]) -> tuple[str, int]:
    spans = unquoted_spans(expression)
    out: list[str] = []
    position = 0
    count = 0
    for match in _SOME.finditer(expression):
        start = match.start()
        if start < position or not any(a <= start < b for a, b in spans):
            continue
        if start and (expression[start - 1].isalnum() or expression[start - 1] in "-_.:$"):
            continue
        if match.group("global") is not None and match.group("global") not in lists:
            continue
        end = _end_of_expression(expression, match.end())
        value = _compared_value(expression[match.end() : end], match.group("var"))
        if value is None:
            continue
        out += [expression[position:start], f"({value}) = {match.group('list')}"]
        position = end
        count += 1
    out.append(expression[position:])
    return "".join(out), count


def _end_of_expression(expression: str, index: int) -> int:
    """Where the ``satisfies`` expression starting at ``index`` ends: the first unmatched
    closing bracket or top-level comma, or the end."""
    quote: str | None = None
    depth = 0
    for position in range(index, len(expression)):
        char = expression[position]
        if quote is not None:
            quote = None if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            if depth == 0:
                return position
            depth -= 1
        elif char == "," and depth == 0:
            return position
    return len(expression)


def _compared_value(body: str, var: str) -> str | None:
    """``value`` when ``body`` is exactly ``value = $var`` with a value of the allowed shapes
    (see the module docstring) not using ``$var``; else ``None``."""
    text = body.strip()
    suffix = re.search(rf"\s*=\s*\${re.escape(var)}$", text)
    if suffix is None:
        return None
    value = text[: suffix.start()].strip()
    shape = _VALUE.fullmatch(value)
    if shape is None or "$" in value:
        return None
    inner = shape.group("inner")
    if inner is not None:
        if closing(value, 0, "(", ")") != len(value) - 1 or "," in inner:
            return None
        if not re.fullmatch(r"[\w.:/@()-]*", inner):
            return None
    return value
