"""Which facts of an eBL a target format carries, and a warning for each it does not.

A target declares the DCSA members it carries as JSON-pointer patterns (``*`` matches one key
or index). :func:`not_carried` renders the document as DCSA JSON, walks every leaf, and
warns once per uncovered pattern (indices folded to ``*``), so nothing is dropped silently.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

from gateway.model.transport_document import TransportDocument
from gateway.render.dcsa import render_dcsa


def leaves(data: Any, path: str = "") -> Iterator[str]:
    """The JSON pointer of every leaf (scalars, empty objects and lists) of ``data``."""
    if isinstance(data, dict) and data:
        for key, value in data.items():
            yield from leaves(value, f"{path}/{key}")
    elif isinstance(data, list) and data:
        for index, value in enumerate(data):
            yield from leaves(value, f"{path}/{index}")
    else:
        yield path


def _pattern(patterns: Iterable[str]) -> re.Pattern[str]:
    parts = [
        "/".join("[^/]+" if p == "*" else re.escape(p) for p in pat.split("/")) for pat in patterns
    ]
    return re.compile("^(?:" + "|".join(parts) + ")$")


def not_carried(doc: TransportDocument, carried: Iterable[str], target: str) -> list[str]:
    """One warning per DCSA member (indices folded) of ``doc`` that ``target`` cannot carry."""
    covered = _pattern(carried)
    seen: dict[str, None] = {}
    for where in leaves(render_dcsa(doc).data):
        if not covered.match(where):
            seen[re.sub(r"/\d+(?=/|$)", "/*", where)] = None
    return [f"{where}: not carried by {target}" for where in seen]
