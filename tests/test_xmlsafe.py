"""The hardened XML parser refuses hostile input with a named rule."""

from __future__ import annotations

import random

import pytest
from lxml import etree

from gateway.errors import InputError, UnsafeInputError
from gateway.xmlsafe import XmlLimits, parse_xml

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;">]>
<lolz>&lol2;</lolz>"""

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><foo>&xxe;</foo>"""


@pytest.mark.parametrize("data", [BILLION_LAUGHS, XXE])
def test_doctype_and_entities_refused(data: bytes) -> None:
    with pytest.raises(UnsafeInputError) as info:
        parse_xml(data)
    assert info.value.rule == "xml.no-dtd"


def test_depth_limit() -> None:
    deep = b"<a>" * 200 + b"</a>" * 200
    with pytest.raises(UnsafeInputError) as info:
        parse_xml(deep)
    assert info.value.rule == "xml.max-depth"


def test_size_limit() -> None:
    with pytest.raises(UnsafeInputError) as info:
        parse_xml(b"<a>" + b"x" * 2000 + b"</a>", limits=XmlLimits(max_bytes=1000))
    assert info.value.rule == "xml.max-bytes"


def test_malformed_names_position() -> None:
    with pytest.raises(InputError) as info:
        parse_xml(b"<a><b></a>")
    assert info.value.rule == "xml.well-formed"
    assert "line 1" in str(info.value)


def test_plain_document_parses() -> None:
    root = parse_xml("<发票><号码>1</号码></发票>".encode())
    assert root[0].text == "1"


def _limit_met(root: etree._Element, limits: XmlLimits) -> str | None:
    """The limit an element-by-element walk meets first (the rule's plain definition)."""
    for count, element in enumerate(root.iter(tag=etree.Element), start=1):
        depth = 1 + sum(1 for _ in element.iterancestors())
        if depth > limits.max_depth:
            return "xml.max-depth"
        if count > limits.max_elements:
            return "xml.max-elements"
    return None


def _random_tree(rng: random.Random) -> bytes:
    root = etree.Element("r")
    budget = [rng.randint(1, 60)]

    def grow(parent: etree._Element, levels: int) -> None:
        for _ in range(rng.randint(0, 3)):
            if budget[0] <= 0:
                return
            budget[0] -= 1
            kind = rng.random()
            if kind < 0.15:
                parent.append(etree.Comment("c"))
            elif kind < 0.25:
                parent.append(etree.ProcessingInstruction("pi", "x"))
            else:
                child = etree.SubElement(parent, "e")
                child.text, child.tail = "t", "u"
                if levels > 0:
                    grow(child, levels - 1)

    grow(root, rng.randint(0, 12))
    return etree.tostring(root)


def test_shape_limits_match_an_element_walk() -> None:
    """The limits are decided in libxml2 (one XPath) and, beyond them, by a walk naming the
    limit met first; both must agree with the plain definition on every tree and limit."""
    rng = random.Random(12)
    outcomes = set()
    for _ in range(3000):
        data = _random_tree(rng)
        limits = XmlLimits(max_depth=rng.randint(1, 10), max_elements=rng.randint(1, 60))
        expected = _limit_met(etree.fromstring(data), limits)
        try:
            parse_xml(data, limits=limits)
            found = None
        except UnsafeInputError as exc:
            found = exc.rule
        assert found == expected, (data, limits)
        outcomes.add(found)
    assert outcomes == {None, "xml.max-depth", "xml.max-elements"}
