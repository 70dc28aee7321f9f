"""Reading XPath text: string literals, bracket nesting, top-level separators."""

from __future__ import annotations

from collections.abc import Iterator


def unquoted_spans(expression: str) -> list[tuple[int, int]]:
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


def code_characters(text: str, start: int = 0) -> Iterator[tuple[int, str]]:
    """``(index, char)`` of every character of ``text`` from ``start`` that is outside string
    literals; the quotes themselves are not given (a doubled quote inside a literal closes and
    reopens it, which skips it just the same)."""
    quote: str | None = None
    for index in range(start, len(text)):
        char = text[index]
        if quote is not None:
            if char == quote:
                quote = None
        elif char in "'\"":
            quote = char
        else:
            yield index, char


def closing(text: str, index: int, open_char: str, close_char: str) -> int:
    """Index of the ``close_char`` matching the first ``open_char`` at or after ``index``,
    string literals skipped (-1 if there is none)."""
    depth = 0
    for position, char in code_characters(text, index):
        if char == open_char:
            depth += 1
        elif char == close_char:
            depth -= 1
            if depth == 0:
                return position
    return -1


def opening_bracket(text: str) -> int:
    """Index of the top-level ``[`` whose ``]`` ends ``text`` (-1 if there is none)."""
    depth = 0
    start = -1
    for index, char in code_characters(text):
        if char in "([":
            if depth == 0 and char == "[":
                start = index
            depth += 1
        elif char in ")]":
            depth -= 1
            if depth == 0 and char == "]" and index == len(text) - 1:
                return start
    return -1


def split_top_level(text: str, separator: str) -> list[str]:
    """``text`` split at ``separator`` outside brackets, parentheses and string literals."""
    parts: list[str] = []
    depth = 0
    start = 0
    for index, char in code_characters(text):
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif char == separator and depth == 0:
            parts.append(text[start:index])
            start = index + 1
    parts.append(text[start:])
    return parts
