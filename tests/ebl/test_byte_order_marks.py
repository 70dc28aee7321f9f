"""An eBL or invoice whose bytes start with a byte-order mark is read as the document it is.

XML 1.0 (Fifth Edition) §4.3.3 and Appendix F: a document may start with a UTF-8 byte-order
mark, and one encoded in UTF-16 must start with one; the mark is not part of the document.
RFC 8259 §8.1 lets a JSON parser ignore a leading mark. Windows ERPs and editors write both,
and the gateway's fapiao path already sniffs past them; the eBL path used to look only for a
literal ``<`` or ``{`` and answered such an eBL "not an eBL".
"""

from __future__ import annotations

import codecs
from collections.abc import Callable
from pathlib import Path

import pytest
from lxml import etree

from gateway.flows.ebl_convert import EblTarget, check_ebl, convert_ebl
from gateway.readable.kinds.ebl import RENDERER as EBL_RENDERER
from gateway.readable.kinds.ebl import read_ebl
from gateway.readable.kinds.invoice import RENDERER as INVOICE_RENDERER
from gateway.readable.registry import RenderSource

REGULAR = "EBL_v3.0.3.transport-document.GET.200.regular.json"
INVOICE = (
    "openpeppol-pint-sg-1.4.1/trn-invoice/example/PINT-SG INV example 04 - none GST registered.xml"
)


def _utf16_xml(data: bytes) -> bytes:
    return etree.tostring(etree.fromstring(data), xml_declaration=True, encoding="UTF-16")


ENCODINGS: dict[str, Callable[[bytes], bytes]] = {
    "utf-8 with BOM": lambda data: codecs.BOM_UTF8 + data,
}


@pytest.fixture(scope="module")
def bill_of_lading(artefacts_home: Path, ebl_inputs: dict[str, bytes]) -> bytes:
    return convert_ebl(ebl_inputs[REGULAR], EblTarget.UBL, artefacts_home).output


@pytest.mark.parametrize("encoding", [*ENCODINGS, "utf-16"])
def test_bill_of_lading_xml_after_a_bom(
    artefacts_home: Path, bill_of_lading: bytes, encoding: str
) -> None:
    data = (
        _utf16_xml(bill_of_lading) if encoding == "utf-16" else ENCODINGS[encoding](bill_of_lading)
    )
    assert check_ebl(data, artefacts_home).input_kind == "BillOfLading"
    assert read_ebl(data)[1] == "BillOfLading"
    assert EBL_RENDERER.accepts(RenderSource(data))


@pytest.mark.parametrize("encoding", [*ENCODINGS, "utf-16"])
def test_dcsa_json_after_a_bom(
    artefacts_home: Path, ebl_inputs: dict[str, bytes], encoding: str
) -> None:
    original = ebl_inputs[REGULAR]
    data = (
        original.decode("utf-8").encode("utf-16")
        if encoding == "utf-16"
        else ENCODINGS[encoding](original)
    )
    checked = check_ebl(data, artefacts_home)
    assert checked.input_kind == "TransportDocument"
    assert checked.document == check_ebl(original, artefacts_home).document
    assert read_ebl(data)[1] == "TransportDocument"
    assert EBL_RENDERER.accepts(RenderSource(data))


def test_received_invoice_after_a_bom_has_a_readable_view(reference: Path) -> None:
    data = codecs.BOM_UTF8 + (reference / INVOICE).read_bytes()
    source = RenderSource(data)
    assert INVOICE_RENDERER.accepts(source)
    assert "<html" in INVOICE_RENDERER.render(source).lower()
