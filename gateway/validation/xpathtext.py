"""Reading XPath text: string literals, bracket nesting, top-level separators."""

from __future__ import annotations


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


def closing(text: str, index: int, open_char: str, close_char: str) -> int:
    """Index of the ``close_char`` matching the first ``open_char`` at or after ``index``,
    string literals skipped (-1 if there is none)."""
    depth = 0
    quote: str | None = None
    for position in range(index, len(text)):
        char = text[position]
        if quote is not None:
            if char == quote:
                quote = None
        elif char in "'\"":
            quote = char
        elif char == open_char:
            depth += 1
        elif char == close_char:
            depth -= 1
            if depth == 0:
                return position
    return -1


def split_top_level(text: str, separator: str) -> list[str]:
    """``text`` split at ``separator`` outside brackets, parentheses and string literals."""
    parts: list[str] = []
    depth = 0
    quote: str | None = None
    start = 0
    for index, char in enumerate(text):
        if quote is not None:
            if char == quote:
                quote = None
        elif char in "'\"":
            quote = char
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif char == separator and depth == 0:
            parts.append(text[start:index])
            start = index + 1
    parts.append(text[start:])
    return parts
