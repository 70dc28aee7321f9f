"""Red-letter (credit) fapiao: is it red, and which blue invoice does it reverse (FORMAT.md §7)."""

from __future__ import annotations

import re
from decimal import Decimal

from gateway.ingest.record import RawFapiao
from gateway.ingest.types import Warn

BLUE_IN_REMARK = re.compile(r"被红冲蓝字数电(?:发票|票)?号码[:：]?\s*([0-9A-Za-z]{8,32})")
CONFIRMATION_IN_REMARK = re.compile(r"红字发票信息确认单编号[:：]?\s*([0-9A-Za-z]{8,32})")
LEGACY_BLUE_IN_REMARK = re.compile(r"对应正数发票代码[:：]?\s*(\d{10,12})\s*号码[:：]?\s*(\d{8})")


def is_red(raw: RawFapiao, net: Decimal | None, warn: Warn) -> bool:
    """The blue/red flag, or — when empty — red inferred from the other evidence (warned)."""
    if raw.blue is not None:
        return not raw.blue
    evidence = []
    if raw.red_original is not None and raw.red_original.value:
        evidence.append("a RedEInvoice block")
    if net is not None and net < 0:
        evidence.append("a negative net total")
    remark = raw.remark.value if raw.remark else None
    if remark and BLUE_IN_REMARK.search(remark):
        evidence.append("the remark")
    words = raw.gross_in_words.value if raw.gross_in_words else None
    if words and "负数" in words:
        evidence.append("（负数） in the amount in words")
    if evidence:
        warn("fapiao.red-inferred", "blue/red flag empty; red inferred from " + ", ".join(evidence))
        return True
    return False


def _blue_in_remark(remark: str) -> str | None:
    """The blue invoice the remark names: a 数电 number, or a legacy code + number."""
    if found := BLUE_IN_REMARK.search(remark):
        return found.group(1)
    if legacy := LEGACY_BLUE_IN_REMARK.search(remark):
        return legacy.group(1) + legacy.group(2)
    return None


def red_references(raw: RawFapiao, red: bool, warn: Warn) -> tuple[str | None, str | None]:
    """(blue invoice number, confirmation-form number): the RedEInvoice block, else the Remark."""
    original = raw.red_original.value if raw.red_original else None
    confirmation = raw.red_confirmation.value if raw.red_confirmation else None
    if not red:
        if original or confirmation:
            path = raw.red_original.path if raw.red_original else None
            warn(
                "fapiao.red-block-on-blue",
                "a blue fapiao carries red-letter references; ignored",
                path,
            )
        return None, None
    remark = (raw.remark.value if raw.remark else None) or ""
    in_remark = _blue_in_remark(remark)
    found_confirmation = CONFIRMATION_IN_REMARK.search(remark)
    remarked_confirmation = found_confirmation.group(1) if found_confirmation else None
    for block, remarked, what in (
        (raw.red_original, in_remark, "blue invoice number (被红冲蓝字数电发票号码)"),
        (raw.red_confirmation, remarked_confirmation, "confirmation form (红字发票信息确认单编号)"),
    ):
        if block is not None and block.value and remarked and remarked != block.value:
            warn(
                "red.reference-mismatch",
                f"the remark's {what} {remarked} differs from {block.path} {block.value}; "
                f"{block.path} is used: check which invoice this red-letter fapiao reverses",
                block.path,
            )
    original = original or in_remark
    confirmation = confirmation or remarked_confirmation
    if original is None:
        warn("red.no-blue-reference", "red-letter fapiao names no blue invoice it reverses")
    return original, confirmation
