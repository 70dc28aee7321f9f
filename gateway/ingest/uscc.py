"""Chinese party identifiers: USCC (GB 32100-2015), organisation code (GB 11714), ID card (GB 11643).

A failed check is a warning for the caller, never a rejection: the tax bureau itself only
checks "15-20 digits and upper-case letters", and test or legacy data fail the checks.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from gateway.model.party import IdScheme

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
"""The 31 characters a USCC may use (no I, O, S, V, Z); a character's value is its index."""
_USCC_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_ID_WEIGHTS = tuple(pow(2, 17 - i, 11) for i in range(17))
_ID_CHECK = "10X98765432"

_USCC_SHAPE = re.compile(r"[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}")
_ID_CARD_SHAPE = re.compile(r"[1-9][0-9]{16}[0-9X]")
_TAXPAYER_SHAPE = re.compile(r"[0-9A-Z]{15,20}")


def uscc_check_char(first17: str) -> str:
    """The GB 32100 check character for the first 17 characters of a USCC."""
    if len(first17) != 17 or any(c not in USCC_ALPHABET for c in first17):
        raise ValueError(f"{first17!r} is not 17 USCC characters")
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def org_code_check_char(first8: str) -> str:
    """The GB 11714 check character for the first 8 characters of an organisation code."""
    if len(first8) != 8 or not first8.isascii() or not first8.isalnum():
        raise ValueError(f"{first8!r} is not 8 organisation-code characters")
    total = sum(int(c, 36) * w for c, w in zip(first8.upper(), _ORG_WEIGHTS, strict=True))
    check = 11 - total % 11
    return "X" if check == 10 else "0" if check == 11 else str(check)


def uscc_shape_ok(code: str) -> bool:
    """18 characters from the USCC alphabet, positions 3-8 digits (no check computed)."""
    return _USCC_SHAPE.fullmatch(code) is not None


def uscc_valid(code: str) -> bool:
    """True when ``code`` is a USCC whose check character (position 18) is right."""
    return uscc_shape_ok(code) and uscc_check_char(code[:17]) == code[17]


def org_code_valid(code: str) -> bool:
    """True when a 9-character GB 11714 organisation code has the right check character."""
    if len(code) != 9 or not code.isascii() or not code[:8].isalnum():
        return False
    return org_code_check_char(code[:8]) == code[8]


def resident_id_valid(code: str) -> bool:
    """True for an 18-character GB 11643 resident ID with a real birth date and check digit."""
    if _ID_CARD_SHAPE.fullmatch(code) is None:
        return False
    try:
        dt.date(int(code[6:10]), int(code[10:12]), int(code[12:14]))
    except ValueError:
        return False
    total = sum(int(c) * w for c, w in zip(code[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == code[17]


def make_uscc(first17: str) -> str:
    """Complete 17 characters to a valid USCC (used to build fictitious sample parties)."""
    return first17 + uscc_check_char(first17)


@dataclass(frozen=True, slots=True)
class IdVerdict:
    """How a taxpayer identification number was classified, with any problems found."""

    scheme: str | None
    """``IdScheme.USCC``, ``CN_RESIDENT_ID``, ``CN_TAXPAYER`` or ``None`` (unrecognised)."""
    problems: tuple[tuple[str, str], ...] = ()
    """(warning code, message) pairs."""


def classify_taxpayer_id(code: str, *, natural_person: bool = False) -> IdVerdict:
    """Classify a SellerIdNum / BuyerIdNum value and check it.

    A valid ID-card number wins over a USCC-shaped value only for a natural person or when
    it is not also a valid USCC.
    """
    if resident_id_valid(code) and (natural_person or not uscc_valid(code)):
        return IdVerdict(IdScheme.CN_RESIDENT_ID)
    if uscc_shape_ok(code):
        problems: list[tuple[str, str]] = []
        if not uscc_valid(code):
            want = uscc_check_char(code[:17])
            problems.append(
                ("uscc.check-digit", f"USCC {code} fails its GB 32100 check (expected '{want}')")
            )
        if not org_code_valid(code[8:17]):
            problems.append(
                (
                    "uscc.org-code-check",
                    f"organisation code {code[8:17]} inside USCC {code} fails its GB 11714 check",
                )
            )
        return IdVerdict(IdScheme.USCC, tuple(problems))
    if _TAXPAYER_SHAPE.fullmatch(code):
        if len(code) == 18:
            return IdVerdict(
                IdScheme.CN_TAXPAYER,
                (("uscc.format", f"18-character id {code} is not a well-formed USCC"),),
            )
        return IdVerdict(IdScheme.CN_TAXPAYER)
    return IdVerdict(
        None,
        (
            (
                "party.id-format",
                f"taxpayer id {code!r} is not 15-20 digits and upper-case letters",
            ),
        ),
    )
