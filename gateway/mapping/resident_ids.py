"""Resident identity card numbers (居民身份证号码) written into free text, found and blanked.

A buyer's ID-card number printed as ``BuyerIdNum`` is not forwarded (BT-46) and is blanked in
the embedded original. The same kind of number — the buyer's or anyone's — may also be written
into the remark (备注) or a 附加要素 value. There it is recognised by its form: 17 digits and a
check character with no digit either side (a 20-digit invoice number holds no ID; one space,
hyphen or ideographic space may part the region, year, month-and-day and sequence groups, as
in ``310115 19880817 4021`` or ``310115-1988-0817-4021``), a real
birth date from 1900 on, and the GB 11643 check character (ISO 7064 MOD 11-2) right. An
18-digit order or customs-declaration number rarely passes both (the check alone fails ten
times in eleven) and is kept; full-width digits (１２３…) are read as digits, and ``x`` as
``X``.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

from gateway.ingest.uscc import resident_id_valid

_DIGIT = "0-9０-９"
_GAP = r" \u00a0\u3000\-－"
_CANDIDATE = re.compile(
    rf"(?<![{_DIGIT}])[{_DIGIT}]{{6}}[{_GAP}]?[{_DIGIT}]{{4}}[{_GAP}]?[{_DIGIT}]{{4}}[{_GAP}]?"
    rf"[{_DIGIT}]{{3}}[{_DIGIT}XxＸｘ](?![{_DIGIT}])"
)
_GAPS = re.compile(rf"[{_GAP}]")
FIRST_BIRTH_YEAR = 1900


def _is_resident_id(candidate: str) -> bool:
    code = canonical_id(candidate)
    year = int(code[6:10])
    return FIRST_BIRTH_YEAR <= year <= dt.date.today().year and resident_id_valid(code)


def holds_resident_id(text: str) -> bool:
    """True when ``text`` holds a resident identity card number."""
    return any(_is_resident_id(found.group()) for found in _CANDIDATE.finditer(text))


def resident_ids_in(text: str) -> list[str]:
    """The resident identity card numbers in ``text``, each as written (full-width digits and
    a lower-case ``x`` left as they are), in order."""
    return [found.group() for found in _CANDIDATE.finditer(text) if _is_resident_id(found.group())]


def canonical_id(written: str) -> str:
    """A resident identity card number as written, in ASCII with an upper-case ``X`` and no
    gaps between its groups (the form a ``BuyerIdNum`` is read in)."""
    return _GAPS.sub("", unicodedata.normalize("NFKC", written)).upper()


def blank_resident_ids(text: str) -> tuple[str, int]:
    """``text`` with every resident identity card number in it removed, and how many were."""
    count = 0

    def blank(found: re.Match[str]) -> str:
        nonlocal count
        if not _is_resident_id(found.group()):
            return found.group()
        count += 1
        return ""

    return _CANDIDATE.sub(blank, text), count
