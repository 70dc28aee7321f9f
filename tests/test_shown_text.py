"""Identifiers and names people read refuse what shows them other than they are (TR #36)."""

from __future__ import annotations

import pytest

from gateway.errors import FieldError
from gateway.shown_text import check_identifier, check_name, unsafe_in_identifier, unsafe_in_name

BIDI = [
    "\u061c",
    "\u200e",
    "\u200f",
    *map(chr, range(0x202A, 0x202F)),
    *map(chr, range(0x2066, 0x206A)),
]
"""Every character with the Bidi_Control property (PropList.txt)."""


@pytest.mark.parametrize(
    "character", [*BIDI[3:], "\x00", "\x1b", "\n", "\x7f", "\x85", "\x9f", "\u2028"]
)
def test_controls_and_direction_characters_are_refused_in_names_and_identifiers(
    character: str,
) -> None:
    text = f"LG{character}0001"
    assert unsafe_in_name(text) == character
    assert unsafe_in_identifier(text) == character


@pytest.mark.parametrize(
    "character", [*BIDI[:3], "\u200b", "\u200d", "\ufeff", "\u00ad", "\U000e0041"]
)
def test_invisible_format_characters_are_refused_in_identifiers_only(character: str) -> None:
    """A zero-width joiner or a right-to-left mark may belong in a name (an Arabic name
    among Latin text, scripts that need the joiners), never in a code."""
    assert unsafe_in_identifier(f"LG{character}0001") == character
    assert unsafe_in_name(f"Name{character}x") is None


@pytest.mark.parametrize("text", ["LGTD0001", "上海临港-1", "Ñandú S.A.", "شركة", "A B/C_D:E"])
def test_ordinary_text_passes(text: str) -> None:
    assert unsafe_in_identifier(text) is None and unsafe_in_name(text) is None


def test_the_refusal_names_the_field_and_the_character() -> None:
    with pytest.raises(FieldError) as caught:
        check_identifier("LG\u202e0001", "transportDocumentReference")
    assert caught.value.field == "transportDocumentReference"
    assert caught.value.rule == "text.unsafe-character"
    assert "U+202E (RIGHT-TO-LEFT OVERRIDE)" in caught.value.message
    assert "bidirectional" in caught.value.message
    with pytest.raises(FieldError) as caught:
        check_name("Acme\u2066Ltd", "name")
    assert "U+2066 (LEFT-TO-RIGHT ISOLATE)" in caught.value.message
