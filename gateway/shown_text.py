"""Identifiers and names that people read: no character that shows them other than they are.

An eBL's reference, a party's code, a Peppol participant id, a tenant's or partner's name
are shown to operators (console, ``lingang ebl list``, logs) and sent to counterparts, who
match them by eye. Unicode TR #36 (Unicode Security Considerations) 2.1 and 2.2: a
bidirectional override or isolate reorders what follows it (``LG\\u202e0001DB`` shows as
``LGBD1000``), an invisible format character makes two identifiers that look the same
differ, and a control character can break a log line. The gateway refuses them in such text,
as it already refuses them in an uploaded file's name and an officer's name, with a
:class:`~gateway.errors.FieldError` naming the field and the character.

Two strengths:

* :func:`unsafe_in_name`, for names (a tenant, a partner, a party's name): control
  characters (C0, DEL, C1), the bidirectional embeddings, overrides and isolates
  (U+202A–U+202E, U+2066–U+2069: they reorder the text that follows), line and paragraph
  separators, lone surrogates and the non-characters U+FFFE / U+FFFF. The direction marks
  (U+200E, U+200F, U+061C) and zero-width joiners stay allowed: an Arabic or Hebrew name
  may need a mark to show right among Latin text, some scripts need the joiners.
* :func:`unsafe_in_identifier`, for references and codes: the same and every other
  invisible format character (general category ``Cf``: the direction marks, zero-width
  space and joiners, the byte order mark, soft hyphen, tag characters), which no
  identifier needs.
"""

from __future__ import annotations

import unicodedata

from gateway.errors import FieldError

BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
"""The characters with Unicode's ``Bidi_Control`` property (PropList.txt)."""
BIDI_REORDERING = BIDI_CONTROLS - frozenset("\u061c\u200e\u200f")
"""The embeddings, overrides and isolates: the bidirectional controls but the marks."""
_UNSEEN_CATEGORIES = frozenset({"Cc", "Cs", "Zl", "Zp"})
"""Controls, surrogates, line and paragraph separators."""
_NON_CHARACTERS = frozenset("\ufffe\uffff")


def unsafe_in_name(text: str) -> str | None:
    """The first character of ``text`` a shown name may not hold, ``None`` when all may."""
    for character in text:
        if (
            character in BIDI_REORDERING
            or character in _NON_CHARACTERS
            or unicodedata.category(character) in _UNSEEN_CATEGORIES
        ):
            return character
    return None


def unsafe_in_identifier(text: str) -> str | None:
    """The first character of ``text`` a shown identifier may not hold, ``None`` when all
    may: those :func:`unsafe_in_name` refuses and every invisible format character."""
    for character in text:
        if unicodedata.category(character) == "Cf" or unsafe_in_name(character) is not None:
            return character
    return None


def describe(character: str) -> str:
    """``U+202E (RIGHT-TO-LEFT OVERRIDE)``: the character's code point and Unicode name."""
    code = f"U+{ord(character):04X}"
    name = unicodedata.name(character, "")
    return f"{code} ({name})" if name else code


def _kind(character: str) -> str:
    if character in BIDI_CONTROLS:
        return "a bidirectional control, which shows the text other than it is stored"
    category = unicodedata.category(character)
    if category == "Cf":
        return "an invisible format character, which makes look-alike identifiers differ"
    if category == "Cc":
        return "a control character"
    return "no character a reader can see"


def check_identifier(text: str, field: str, what: str = "an identifier") -> None:
    """Refuse ``text`` (``FieldError`` naming ``field``, rule ``text.unsafe-character``)
    when it holds a character :func:`unsafe_in_identifier` finds."""
    _refuse(unsafe_in_identifier(text), field, what)


def check_name(text: str, field: str, what: str = "a name") -> None:
    """Refuse ``text`` (``FieldError`` naming ``field``, rule ``text.unsafe-character``)
    when it holds a character :func:`unsafe_in_name` finds."""
    _refuse(unsafe_in_name(text), field, what)


def _refuse(found: str | None, field: str, what: str) -> None:
    if found is None:
        return
    raise FieldError(
        f"{field} holds {describe(found)}, {_kind(found)}; {what} may not hold it (Unicode TR #36)",
        field=field,
        rule="text.unsafe-character",
    )
