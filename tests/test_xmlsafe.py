"""The hardened XML parser refuses hostile input with a named rule."""

from __future__ import annotations

import pytest

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
