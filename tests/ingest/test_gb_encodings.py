"""Fapiao XML in the Chinese national encodings, as real bytes (FORMAT.md §2 specifies UTF-8;
Chinese systems also write GBK, GB18030 and GBK labelled ``GB2312``).

Before: a document labelled ``GB2312`` (EUC-CN) holding a character outside GB2312 — 喆, 堃,
镕, common in people's and company names, all in GBK — was refused as "not valid gb2312",
although the WHATWG Encoding Standard reads the label ``gb2312`` as GBK and every
GB2312 text reads the same as GBK. Now it is read as GBK, said in a warning, the received
bytes kept as they are and the embedded copy in UTF-8; the limits apply as before, and a
wrongly declared encoding is still a specific error.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from gateway.api.door import check_document
from gateway.api.problems import Problem
from gateway.errors import InputError, UnsafeInputError
from gateway.ingest import IngestLimits, parse
from gateway.mapping import map_parsed
from gateway.policy import DEFAULT_POLICY, run_gate
from gateway.samples.writers import einvoice_xml
from gateway.validation import Validator
from tests.mapping.fidelity import convert, directory, fapiao, machine_line

GBK_ONLY = "喆堃镕"
"""In GBK, not in GB2312."""
GB18030_ONLY = "𠀀䶮"
"""Four-byte GB18030 sequences (CJK Extension B, Unicode 8 …): not in GBK."""
SELLER = "上海临港示例精密机械有限公司"


def _xml(declared: str, seller: str = SELLER, item: str = "*机械设备*数控机床") -> str:
    inv = fapiao([machine_line(name=item)])
    text = einvoice_xml(inv).decode("utf-8").replace(SELLER, seller)
    return text.replace("encoding='UTF-8'", f"encoding='{declared}'")


@pytest.mark.parametrize(
    ("declared", "codec", "seller"),
    [
        ("GBK", "gbk", SELLER + GBK_ONLY),
        ("gbk", "gbk", SELLER),
        ("GB18030", "gb18030", SELLER + GBK_ONLY + GB18030_ONLY),
        ("GB2312", "gb2312", SELLER),
        ("EUC-CN", "gb2312", SELLER),
    ],
)
def test_national_encodings_are_read_as_declared(declared: str, codec: str, seller: str) -> None:
    data = _xml(declared, seller, f"*机械设备*{seller[-3:]}").encode(codec)
    parsed = parse(data)
    assert parsed.invoice.seller.name == seller
    assert parsed.invoice.lines[0].item.name == f"*机械设备*{seller[-3:]}"
    assert parsed.original == data  # the received bytes, unchanged
    assert not [w for w in parsed.warnings if w.code.startswith("xml.")]


def test_gbk_labelled_gb2312_is_read_as_gbk_with_a_warning() -> None:
    data = _xml("GB2312", SELLER + GBK_ONLY).encode("gbk")
    with pytest.raises(UnicodeDecodeError):
        data.decode("gb2312")  # really not GB2312
    parsed = parse(data)
    assert parsed.invoice.seller.name == SELLER + GBK_ONLY
    (note,) = [w.message for w in parsed.warnings if w.code == "xml.encoding-superset"]
    assert "gb2312" in note and "GBK" in note
    assert parsed.original == data
    assert parsed.original_xml is not None
    assert parsed.original_xml.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
    assert (SELLER + GBK_ONLY).encode("utf-8") in parsed.original_xml
    check_document(data, "application/xml")  # the HTTP door lets it in too


def test_gbk_labelled_gb2312_goes_through_mapping_gate_and_rules(artefacts_home: Path) -> None:
    data = _xml("GB2312", SELLER + GBK_ONLY).encode("gbk")
    out = convert(data, "pint-sg", Validator.default(artefacts_home))
    assert out.fatal == []
    assert any("xml.encoding-superset" in w for w in out.mapped.warnings)
    parsed = parse(data)
    gated = run_gate(
        parsed, map_parsed(parsed, directory(), profile="pint-sg"), DEFAULT_POLICY, b"k" * 32
    )
    assert gated.decision.outcome == "allowed"


def test_gbk_labelled_gb2312_inside_a_legacy_ofd(reference: Path) -> None:
    ofd = reference / "fapiao/samples/ofd/ofdrw_fapiao-shili_vat-e-ordinary-2020.ofd"
    source = zipfile.ZipFile(ofd)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as target:
        for info in source.infolist():
            body = source.read(info)
            if info.filename.endswith("original_invoice.xml"):
                text = body.decode("utf-8").replace('encoding="utf-8"', 'encoding="GB2312"')
                body = text.replace("杭州融易算", "杭州喆堃算").encode("gbk")
            target.writestr(info, body)
    parsed = parse(buffer.getvalue())
    assert parsed.invoice.seller.name.startswith("杭州喆堃算")
    assert any(w.code == "xml.encoding-superset" for w in parsed.warnings)
    assert parsed.original_xml is not None and b'encoding="UTF-8"' in parsed.original_xml


@pytest.mark.parametrize(
    ("declared", "codec", "seller", "named"),
    [
        ("GBK", "gb18030", SELLER + GB18030_ONLY, "gbk"),  # GB18030 bytes said to be GBK
        ("GB2312", "gb18030", SELLER + GB18030_ONLY, "nor GBK"),
        ("GB2312", "utf-8", SELLER, "nor GBK"),  # UTF-8 bytes said to be GB2312
        ("UTF-8", "gb18030", SELLER, "GBK/GB18030 text declared as UTF-8"),
    ],
)
def test_a_wrongly_declared_encoding_is_a_specific_error(
    declared: str, codec: str, seller: str, named: str
) -> None:
    data = _xml(declared, seller).encode(codec)
    with pytest.raises(InputError) as caught:
        parse(data)
    assert caught.value.rule == "xml.encoding"
    assert "offset" in caught.value.message and named in caught.value.message
    with pytest.raises(Problem) as refused:
        check_document(data, "application/xml")  # the HTTP door: a 422 naming the same
    assert refused.value.status == 422
    assert refused.value.detail.removeprefix(
        "the XML document"
    ) == caught.value.message.removeprefix("fapiao XML")


def test_limits_are_those_of_the_bytes_received() -> None:
    data = _xml("GB2312", SELLER + GBK_ONLY).encode("gbk")
    limits = IngestLimits(max_input_bytes=len(data) - 1)
    with pytest.raises(UnsafeInputError) as caught:
        parse(data, limits=limits)
    assert caught.value.rule == "input.max-bytes"
    doctype = _xml("GB2312", SELLER + GBK_ONLY).replace(
        "<EInvoice>", "<!DOCTYPE EInvoice [<!ENTITY x 'y'>]><EInvoice>", 1
    )
    with pytest.raises(UnsafeInputError) as caught:
        parse(doctype.encode("gbk"))
    assert caught.value.rule == "xml.no-dtd"
    deep = _xml("GB2312", SELLER + GBK_ONLY).replace(
        "<Header>", "<Header>" + "<a>" * 200 + "</a>" * 200, 1
    )
    with pytest.raises(UnsafeInputError) as caught:
        parse(deep.encode("gbk"))
    assert caught.value.rule == "xml.max-depth"
