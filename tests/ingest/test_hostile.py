"""Hostile inputs: each ends in a clear typed error, within bounded memory (tracemalloc)."""

from __future__ import annotations

import io
import struct
import tracemalloc
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from gateway.cli import main
from gateway.errors import InputError, LingangError, UnsafeInputError
from gateway.ingest import IngestLimits, parse
from gateway.ingest.source import read_input
from gateway.samples import catalogue
from gateway.samples.build_ofd import ofd_package
from gateway.samples.writers import einvoice_xml, platform_json, zip_bytes

MiB = 1024 * 1024


@contextmanager
def peak_memory(limit: int) -> Iterator[None]:
    """Assert that Python allocations inside the block peak below ``limit`` bytes."""
    tracemalloc.start()
    try:
        yield
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < limit, f"peak {peak / MiB:.1f} MiB ≥ {limit / MiB:.1f} MiB"


def _rule_of(call: Callable[[], object]) -> str | None:
    with pytest.raises(InputError) as caught:
        call()
    return caught.value.rule


# XML -----------------------------------------------------------------------------------------

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]>
<EInvoice>&lol9;</EInvoice>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE EInvoice [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<EInvoice><Header><EIid>&xxe;</EIid></Header></EInvoice>"""


@pytest.mark.parametrize("data", [BILLION_LAUGHS, EXTERNAL_ENTITY])
@pytest.mark.parametrize("fmt", ["auto", "fapiao-xml"])
def test_dtd_and_entities_refused(data: bytes, fmt: str) -> None:
    with peak_memory(8 * MiB), pytest.raises(UnsafeInputError) as caught:
        parse(data, fmt)
    assert caught.value.rule == "xml.no-dtd"


def test_entity_inside_an_ofd_part_refused() -> None:
    data = zip_bytes({"OFD.xml": EXTERNAL_ENTITY})
    with pytest.raises(UnsafeInputError) as caught:
        parse(data, "fapiao-ofd")
    assert caught.value.rule == "xml.no-dtd"


def test_deep_xml_nesting() -> None:
    deep = b"<EInvoice>" + b"<a>" * 50_000 + b"</a>" * 50_000 + b"</EInvoice>"
    with peak_memory(32 * MiB), pytest.raises(UnsafeInputError) as caught:
        parse(deep)
    assert caught.value.rule == "xml.max-depth"


def test_oversized_input_refused_before_parsing() -> None:
    data = einvoice_xml(catalogue.EXEMPT)
    with pytest.raises(UnsafeInputError) as caught:
        parse(data, limits=IngestLimits(max_input_bytes=len(data) - 1))
    assert caught.value.rule == "input.max-bytes"


def test_hundred_megabyte_file_is_refused_without_being_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "huge.xml"
    chunk = b"<!-- " + b"x" * (MiB - 10) + b" -->\n"
    with path.open("wb") as handle:
        handle.write(b"<EInvoice>")
        for _ in range(100):
            handle.write(chunk)
        handle.write(b"</EInvoice>")
    assert path.stat().st_size > 100 * MiB
    assert main(["parse", str(tmp_path / "missing.xml")]) == 2  # imports done before measuring
    with peak_memory(4 * MiB):
        with pytest.raises(UnsafeInputError) as caught:
            read_input(path)
        assert caught.value.rule == "input.max-bytes"
        assert main(["parse", str(path)]) == 1
    assert "input.max-bytes" in capsys.readouterr().err


# encodings -----------------------------------------------------------------------------------


def _xml_text() -> str:
    return einvoice_xml(catalogue.MULTI_RATE_DISCOUNT).decode("utf-8")


def test_gbk_declared_xml_is_decoded() -> None:
    text = _xml_text().replace("encoding='UTF-8'", "encoding='GBK'")
    parsed = parse(text.encode("gbk"))
    assert parsed.invoice.seller.name == catalogue.MULTI_RATE_DISCOUNT.seller_name


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-le", "utf-8-sig"])
def test_utf16_and_bom_xml_is_decoded(codec: str) -> None:
    declared = "UTF-16" if codec.startswith("utf-16") else "UTF-8"
    text = _xml_text().replace("encoding='UTF-8'", f"encoding='{declared}'")
    data = text.encode(codec)
    if codec == "utf-16-le":
        data = b"\xff\xfe" + data
    assert parse(data).invoice.lines[0].item.name == "*通用设备*液压泵"


def test_gbk_bytes_declared_utf8_is_a_clear_error() -> None:
    data = _xml_text().encode("gbk")
    with pytest.raises(InputError) as caught:
        parse(data)
    assert caught.value.rule == "xml.encoding"
    assert "offset" in caught.value.message and "UTF-8" in caught.value.message.upper()


def test_unknown_declared_encoding() -> None:
    data = _xml_text().replace("encoding='UTF-8'", "encoding='x-nonsense'").encode()
    assert _rule_of(lambda: parse(data)) == "xml.encoding"


def test_json_encodings() -> None:
    text = platform_json(catalogue.PLATFORM_EXPORT).decode("utf-8")
    assert parse(text.encode("utf-8-sig")).invoice.number == catalogue.PLATFORM_EXPORT.number
    assert parse(text.encode("utf-16")).invoice.number == catalogue.PLATFORM_EXPORT.number
    assert _rule_of(lambda: parse(text.encode("gbk"), "fapiao-json")) == "json.encoding"
    assert _rule_of(lambda: parse(b'{"fphm": "\xff\xfe"}', "fapiao-json")) == "json.encoding"


def test_deep_json_nesting() -> None:
    deep = b'{"fphm": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    with peak_memory(16 * MiB), pytest.raises(UnsafeInputError) as caught:
        parse(deep)
    assert caught.value.rule == "json.max-depth"


@pytest.mark.parametrize(
    ("escape", "what"), [("\\u0000", "U+0000"), ("\\u001b", "U+001B"), ("\\ud800", "U+D800")]
)
def test_json_text_an_invoice_cannot_carry_names_its_field(escape: str, what: str) -> None:
    """A NUL, another control character or half a surrogate pair in platform JSON would stop
    the XML invoice (lxml refuses it) or the store (UTF-8 cannot hold it): refused at once,
    naming the field."""
    text = platform_json(catalogue.PLATFORM_EXPORT).decode("utf-8")
    number = catalogue.PLATFORM_EXPORT.number
    assert f'"{number}"' in text
    data = text.replace(f'"{number}"', f'"{number}{escape}"', 1).encode()
    with pytest.raises(InputError) as caught:
        parse(data, "fapiao-json")
    assert caught.value.rule == "json.text" and what in str(caught.value)
    assert caught.value.field


# zip -----------------------------------------------------------------------------------------


def _streamed_zeros_zip(name: str, size: int) -> bytes:
    buffer = io.BytesIO()
    zero = bytes(MiB)
    with (
        zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive,
        archive.open(name, "w", force_zip64=True) as member,
    ):
        for _ in range(size // MiB):
            member.write(zero)
    return buffer.getvalue()


def test_zip_bomb_refused_by_ratio() -> None:
    bomb = _streamed_zeros_zip("OFD.xml", 64 * MiB)
    assert len(bomb) < MiB
    with peak_memory(8 * MiB), pytest.raises(UnsafeInputError) as caught:
        parse(bomb)
    assert caught.value.rule in {"zip.max-ratio", "zip.max-member-bytes"}


def test_zip_member_larger_than_limit() -> None:
    data = _streamed_zeros_zip("OFD.xml", 4 * MiB)
    limits = IngestLimits(zip_max_member_bytes=MiB, zip_max_ratio=10**6)
    assert _rule_of(lambda: parse(data, limits=limits)) == "zip.max-member-bytes"


def test_zip_lying_about_its_size_stops_at_the_declared_size() -> None:
    data = bytearray(_streamed_zeros_zip("OFD.xml", 8 * MiB))
    central = data.rfind(b"PK\x01\x02")
    real = struct.pack("<I", 8 * MiB)
    for offset in (22, central + 24):
        if data[offset : offset + 4] == real:
            data[offset : offset + 4] = struct.pack("<I", 1000)
    limits = IngestLimits(zip_max_ratio=10**9)
    with peak_memory(8 * MiB):
        rule = _rule_of(lambda: parse(bytes(data), "fapiao-ofd", limits=limits))
    assert rule in {"zip.size-mismatch", "zip.corrupt", "xml.well-formed"}


def test_too_many_zip_members() -> None:
    data = zip_bytes({f"f{i}.xml": b"<a/>" for i in range(300)})
    assert _rule_of(lambda: parse(data)) == "zip.max-members"


@pytest.mark.parametrize(
    "name", ["../evil.xml", "Doc_0/../../evil.xml", "/etc/passwd", "C:/evil.xml"]
)
def test_zip_path_traversal(name: str) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("OFD.xml", b"<a/>")
        info = zipfile.ZipInfo("x")
        info.filename = name
        archive.writestr(info, b"data")
    assert _rule_of(lambda: parse(buffer.getvalue())) == "zip.path-traversal"


def test_truncated_zip() -> None:
    data = ofd_package(catalogue.OFD_SERVICES)
    for cut in (len(data) // 2, len(data) - 10):
        assert _rule_of(lambda cut=cut: parse(data[:cut])) == "zip.corrupt"  # type: ignore[misc]


def test_corrupt_member_data() -> None:
    data = bytearray(ofd_package(catalogue.OFD_SERVICES))
    start = data.find(b"PK\x03\x04") + 30 + len("OFD.xml")
    data[start : start + 20] = b"\x00" * 20
    assert _rule_of(lambda: parse(bytes(data))) in {"zip.corrupt", "xml.well-formed"}


def test_encrypted_member() -> None:
    data = bytearray(ofd_package(catalogue.OFD_SERVICES))
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        pos = data.find(signature)
        while pos >= 0:
            data[pos + offset] |= 0x01
            pos = data.find(signature, pos + 4)
    assert _rule_of(lambda: parse(bytes(data))) == "zip.encrypted"


# every error is typed and named -------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [b"", b"   ", b"%PDF-1.7 ...", b"hello", b"<html/>", b"<xbrli:xbrl xmlns:xbrli='x'/>",
     b"<eInvoice/>", b"<EInvoice><unclosed></EInvoice>", b"\x00\x01\x02\x03"],
)  # fmt: skip
def test_garbage_is_a_typed_error(data: bytes) -> None:
    with pytest.raises(LingangError) as caught:
        parse(data)
    assert caught.value.rule
