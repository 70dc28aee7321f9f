"""The renderers' light tree gives the tree lxml's API builds, element for element."""

from __future__ import annotations

import enum

import pytest
from lxml import etree

from gateway.render._tree import Node, _replay, root, to_lxml
from gateway.render._xml import serialise

NSMAP: dict[str | None, str] = {None: "urn:test:doc", "cac": "urn:test:cac", "cbc": "urn:test:cbc"}


class Scheme(enum.StrEnum):
    """A string enum, as the model's identifier schemes are."""

    ORG = "0131"


class Shown(str):
    """A string whose ``str()`` is not its characters: lxml writes its characters."""

    def __str__(self) -> str:
        return "shown"


def _add(parent: Node, tag: str, text: object = None, **attrib: object) -> Node:
    node: Node = [tag, text, attrib, []]
    parent[3].append(node)
    return node


def _document(text: object, attribute: object = "x") -> Node:
    top = root("Invoice")
    party = _add(top, "cac:Party")
    _add(party, "cbc:ID", "91310115MA1K4ABC4H", schemeID=Scheme.ORG)
    _add(party, "cbc:Name", "上海临港示例科技有限公司")
    _add(_add(top, "cac:Empty"), "cac:Nested")
    _add(top, "cbc:Note", text, name=attribute)
    return top


def _items(element: etree._Element) -> list[tuple[object, ...]]:
    return [(e.tag, e.text, dict(e.attrib), e.tail) for e in element.iter()]


@pytest.mark.parametrize(
    ("text", "attribute"),
    [
        ("plain", "plain"),
        ("a & b < c > d ]]> \"e\" 'f'", "a & b < c > \"d\" 'e'"),
        ("line\r\nbreak\rand\ttab\n", "line\r\nbreak\rand\ttab\n"),
        ("  padded  ", " "),
        ("𠀀 emoji 😀 and ¥1,234.00", "½"),
        (Scheme.ORG, Scheme.ORG),
        (Shown("kept"), Shown("kept")),
    ],
)
def test_same_tree_and_bytes_as_the_api(text: object, attribute: object) -> None:
    built = to_lxml(_document(text, attribute), NSMAP)
    reference = _replay(_document(text, attribute), NSMAP)
    assert serialise(built) == serialise(reference)
    assert _items(built) == _items(reference)
    assert built.nsmap == reference.nsmap


def test_empty_text_is_kept_as_the_api_keeps_it() -> None:
    built = to_lxml(_document(""), NSMAP)
    assert serialise(built) == serialise(_replay(_document(""), NSMAP))
    assert b'<cbc:Note name="x"></cbc:Note>' in serialise(built)


@pytest.mark.parametrize("bad", ["control \x01 character", "nul \x00", "surrogate \ud800"])
def test_text_xml_cannot_hold_fails_as_the_api_fails(bad: str) -> None:
    with pytest.raises(ValueError) as api:
        _replay(_document(bad), NSMAP)
    with pytest.raises(ValueError) as ours:
        to_lxml(_document(bad), NSMAP)
    assert type(ours.value) is type(api.value)
    assert str(ours.value) == str(api.value)


@pytest.mark.parametrize(("text", "attribute"), [(12, "x"), ("x", None), ("x", 3)])
def test_values_that_are_not_strings_fail_as_the_api_fails(text: object, attribute: object) -> None:
    with pytest.raises(TypeError) as api:
        _replay(_document(text, attribute), NSMAP)
    with pytest.raises(TypeError) as ours:
        to_lxml(_document(text, attribute), NSMAP)
    assert str(ours.value) == str(api.value)
