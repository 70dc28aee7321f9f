"""The seller's staff named in a fapiao's remark (备注): ``收款人:李蓉蓉; 复核人:周欣铭``.

Issuers print the payee (收款人), the checker (复核人) and sometimes the issuing clerk (开票人)
into the remark, where a 数电票 has no fields for the first two (FORMAT.md: BT-22 takes the
remark, "optionally 开票人/收款人 text"); the tax platform's own OFD of a 2024 special invoice
does. Each is a natural person of the seller, like the clerk of ``Drawer``: the gate
classifies them as personal information and minimisation masks them where the remark
leaves (the invoice's note and the embedded original's ``Remark``, a legacy ``Note``).
"""

from __future__ import annotations

import re
from collections.abc import Callable

ROLES = {
    "收款人": "payee (收款人)",
    "复核人": "checker (复核人)",
    "开票人": "issuing clerk (开票人)",
}
"""The labels an issuer writes before a staff member's name, with the role each names."""

KEEP = "remark.staff"
"""What a positive-guidance rule names in ``keep`` to leave these names as written."""

_NAMED = re.compile(
    "(" + "|".join(ROLES) + r")[ \t\u3000]*[:：][ \t\u3000]*"
    r"([^\s:：;；,，、|()（）\[\]【】]{1,30}(?: [A-Za-z][A-Za-z.'-]*){0,3})"
)
"""A label, a colon (half- or full-width) and the name up to the next separator (a Latin
name may hold spaces: ``Li Lei``)."""


def staff_in(text: str | None) -> list[tuple[str, str]]:
    """``(role, name)`` of each staff member ``text`` names, in order; a name already masked
    (holding ``*``) is none."""
    return [
        (ROLES[found.group(1)], found.group(2))
        for found in _NAMED.finditer(text or "")
        if "*" not in found.group(2)
    ]


def mask_staff(text: str, mask: Callable[[str], str]) -> tuple[str, int]:
    """``text`` with each staff member's name masked by ``mask``, and how many were."""
    count = 0

    def masked(found: re.Match[str]) -> str:
        nonlocal count
        name = found.group(2)
        if "*" in name:
            return found.group(0)
        count += 1
        return found.string[found.start() : found.start(2)] + mask(name)  # the name ends it

    return _NAMED.sub(masked, text), count
