"""Input conformance: whether a fapiao is a real one or a template / placeholder.

The parser keeps going on findings the tax bureau itself would reject — the input schema's
(``xsd``) and identifiers that are not taxpayer numbers (a seller id ``销售方纳税人识别号``
is the STA template's placeholder). In strict mode those findings refuse the input; otherwise
each one is a warning that says it would be refused with ``--strict``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from gateway.errors import FieldError

NONCONFORMANT_CODES = frozenset(
    {"xsd", "party.id-format", "uscc.format", "uscc.check-digit", "uscc.org-code-check"}
)
"""Parser warning codes that mark a non-conformant fapiao."""
STRICT_MARK = "NOT CONFORMANT (refused with --strict)"


def warning_text(warning: Any) -> str:
    """``code: message`` of a parser warning (or its plain text)."""
    message = getattr(warning, "message", None)
    code = getattr(warning, "code", None)
    return f"{code}: {message}" if code and message else str(warning)


def input_conformance(parse_warnings: Iterable[Any], *, strict: bool) -> list[str]:
    """The parser warnings as text; non-conformant ones marked, or refused when ``strict``."""
    out: list[str] = []
    refused: list[Any] = []
    for warning in parse_warnings:
        if getattr(warning, "code", None) in NONCONFORMANT_CODES:
            refused.append(warning)
            out.append(f"{STRICT_MARK} {warning_text(warning)}")
        else:
            out.append(warning_text(warning))
    if strict and refused:
        first = refused[0]
        listed = "; ".join(warning_text(w) for w in refused[:5])
        more = f" (and {len(refused) - 5} more)" if len(refused) > 5 else ""
        raise FieldError(
            f"strict mode: the fapiao is not conformant: {listed}{more}",
            field=getattr(first, "field", None),
            rule="strict.input",
        )
    return out
