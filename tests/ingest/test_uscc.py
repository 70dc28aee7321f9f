"""USCC (GB 32100-2015), organisation code (GB 11714) and ID-card (GB 11643) checks."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.ingest.uscc import (
    USCC_ALPHABET,
    classify_taxpayer_id,
    make_uscc,
    org_code_check_char,
    org_code_valid,
    resident_id_valid,
    uscc_check_char,
    uscc_valid,
)
from gateway.model import IdScheme


def test_worked_example_from_format_md() -> None:
    assert uscc_check_char("91110108690017781") == "B"
    assert org_code_check_char("69001778") == "1"
    assert uscc_valid("91110108690017781B") and org_code_valid("690017781")


@pytest.mark.parametrize(
    "code", ["91110108690017781B", "91460300MAA92DJN95", "91310115MA1FL8K22H", "91310115MA7CX3Q041"]
)
def test_valid_codes(code: str) -> None:
    assert uscc_valid(code)
    assert classify_taxpayer_id(code).problems == ()


@pytest.mark.parametrize(
    ("code", "problem"),
    [
        ("91500106MA2CE71F65", "uscc.check-digit"),
        ("91110108690017781A", "uscc.check-digit"),
        ("9150010807MGZHI002", "uscc.format"),
        ("91xxxxxxxxxxxxxxxx3", "party.id-format"),
        ("销售方纳税人识别号", "party.id-format"),
    ],
)
def test_invalid_codes_are_problems_not_exceptions(code: str, problem: str) -> None:
    assert problem in {p for p, _ in classify_taxpayer_id(code).problems}
    assert not uscc_valid(code)


def test_id_cards() -> None:
    assert resident_id_valid("11010519491231002X")
    assert not resident_id_valid("11010519491231002Y")
    assert not resident_id_valid("110105194902300021")  # 30 February
    assert classify_taxpayer_id("11010519491231002X").scheme == IdScheme.CN_RESIDENT_ID
    assert classify_taxpayer_id("110105194912310").scheme == IdScheme.CN_TAXPAYER  # 15 digits


body = st.text(alphabet=USCC_ALPHABET, min_size=10, max_size=10)


@given(
    st.sampled_from(["91", "92", "93", "11", "51", "Y1"]),
    st.from_regex(r"[0-9]{6}", fullmatch=True),
    body,
)
def test_every_made_uscc_is_valid_and_one_change_breaks_it(
    head: str, region: str, rest: str
) -> None:
    code = make_uscc(head + region + rest[:9])
    assert uscc_valid(code)
    for i in range(18):
        for other in ("0", "A"):
            if code[i] != other and not (2 <= i < 8 and other == "A"):
                changed = code[:i] + other + code[i + 1 :]
                assert not uscc_valid(changed)
