"""A readable page's text as a reader sees it, for tests that look for a label."""

from __future__ import annotations

import html
import re


def page_text(page: str) -> str:
    """Tags dropped, entities decoded, runs of blanks joined into one space."""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))
