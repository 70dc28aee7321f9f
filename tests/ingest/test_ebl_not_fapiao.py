"""A bill of lading sent where a fapiao is read is refused saying what it is and where it goes.

A forwarder posting a DCSA eBL to ``/v1/documents`` without ``kind=ebl`` got "platform JSON has
no invoice: expected keys such as fphm, xsfnsrsbh, hjje", and a UBL BillOfLading "XML root
<BillOfLading> is not a fapiao": nothing said it was an eBL or how to send one.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gateway.cli import main
from gateway.errors import UnknownFormatError
from gateway.ingest import parse

DCSA_EXAMPLE = "ebl/dcsa/examples/EBL_v3.0.3.transport-document.GET.200.regular.json"
UBL_BILL_OF_LADING = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<BillOfLading xmlns="urn:oasis:names:specification:ubl:schema:xsd:BillOfLading-2" '
    b'xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">'
    b"<cbc:UBLVersionID>2.1</cbc:UBLVersionID><cbc:ID>LGTD0001</cbc:ID></BillOfLading>"
)


def _dcsa(reference: Path) -> bytes:
    return (reference / DCSA_EXAMPLE).read_bytes()


def test_a_dcsa_transport_document_is_named_an_ebl(reference: Path) -> None:
    with pytest.raises(UnknownFormatError) as refused:
        parse(_dcsa(reference), "auto")
    assert refused.value.rule == "detect.ebl"
    message = str(refused.value)
    assert message.startswith("a DCSA eBL is a bill of lading, not a fapiao")
    assert "kind=ebl" in message and "lingang ebl convert" in message


def test_a_pint_envelope_is_named_an_ebl_too(reference: Path) -> None:
    envelope = {
        "transportDocument": json.loads(_dcsa(reference)),
        "envelopeManifestSignedContent": "e30.e30.sig",
        "envelopeTransferChain": [],
    }
    with pytest.raises(UnknownFormatError) as refused:
        parse(json.dumps(envelope).encode(), "fapiao-json")
    assert refused.value.rule == "detect.ebl"


def test_a_ubl_bill_of_lading_is_named_an_ebl() -> None:
    with pytest.raises(UnknownFormatError) as refused:
        parse(UBL_BILL_OF_LADING, "auto")
    assert refused.value.rule == "detect.ebl"
    assert str(refused.value).startswith("a UBL BillOfLading is a bill of lading, not a fapiao")


def test_json_that_is_neither_still_names_the_fapiao_keys() -> None:
    with pytest.raises(Exception, match="expected keys such as fphm"):
        parse(b'{"invoiceNumber": "1"}', "auto")


def test_convert_tells_the_forwarder_which_command_to_use(
    reference: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "td.json"
    source.write_bytes(_dcsa(reference))
    directory = Path(__file__).resolve().parents[1] / "data" / "partners.toml"
    assert main(["convert", str(source), "--partners", str(directory), "--no-validate"]) == 1
    err = capsys.readouterr().err
    assert "a DCSA eBL is a bill of lading, not a fapiao" in err
    assert "(detect.ebl)" in err
