"""Every DCSA example and conformance template converts to every output, and each output
validates against its own official schema (the flow validates; the test validates again)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from lxml import etree

from gateway.errors import InputError
from gateway.flows.ebl_convert import (
    BILLS_OF_LADING_ONLY,
    OA_SCHEMA,
    UNCEFACT_SCHEMA,
    EblTarget,
    check_ebl,
    convert_ebl,
)
from gateway.model.transport_document import Location
from gateway.read.dcsa import read_dcsa
from gateway.read.ubl_bill_of_lading import read_bill_of_lading_xml
from gateway.render.dcsa import dump_json
from gateway.render.tradetrust_vc import token_id
from gateway.signing.openattestation import unsalt, verify_document
from gateway.signing.vc_issuer import VcIssuer
from gateway.validation import Validator
from gateway.validation.dcsa_schema import DcsaKind, validate_dcsa
from gateway.validation.json_schema import check
from tests.ebl.support import EXAMPLES, TEMPLATES

NAMES = EXAMPLES + TEMPLATES
TARGETS = list(EblTarget)
VC_ISSUER = VcIssuer(ec.generate_private_key(ec.SECP256R1()), "did:web:carrier.example")


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.value)
def test_converts_and_output_validates(
    artefacts_home: Path, ebl_inputs: dict[str, bytes], name: str, target: EblTarget
) -> None:
    if (
        target in BILLS_OF_LADING_ONLY
        and check_ebl(ebl_inputs[name], artefacts_home).document.type_code == "SWB"
    ):
        with pytest.raises(InputError) as refused:
            convert_ebl(ebl_inputs[name], target, artefacts_home, vc_issuer=VC_ISSUER)
        assert (refused.value.field, refused.value.rule) == (
            "/transportDocumentTypeCode",
            "ebl.bill-of-lading-only",
        )
        return
    result = convert_ebl(ebl_inputs[name], target, artefacts_home, vc_issuer=VC_ISSUER)
    if target is EblTarget.UBL:
        report = Validator(artefacts_home).validate(result.output)
        assert report.document_type == "BillOfLading"
        assert not report.fatal, report.to_text()
        # UBL document constraint [IND5]: no element is void of content
        root = etree.fromstring(result.output)
        empty = [e.tag for e in root.iter() if len(e) == 0 and not (e.text or "").strip()]
        assert empty == []
        return
    data = json.loads(result.output)
    if target is EblTarget.DCSA:
        kind = DcsaKind.TRANSPORT_DOCUMENT
        if "transportDocumentStatus" not in data:
            kind = DcsaKind.CREATE_SHIPPING_INSTRUCTIONS
        assert validate_dcsa(data, kind, artefacts_home) == []
    elif target is EblTarget.UNCEFACT:
        assert check(data, UNCEFACT_SCHEMA, artefacts_home) == []
        assert data["exchangedDocument"]["typeCode"]["content"] == "706"
    elif target is EblTarget.TRADETRUST_VC:
        assert VC_ISSUER.verify(data, artefacts_home) == []
        assert result.media_type == "application/vc"  # VC Data Model 2.0 §6.3, IANA
        assert data["credentialSubject"]["type"] == ["BillOfLadingCarrier"]
        assert data["credentialStatus"]["tokenId"] == token_id(data["id"])
    else:
        assert verify_document(data).valid
        assert check(unsalt(data["data"]), OA_SCHEMA, artefacts_home) == []


@pytest.mark.parametrize("name", NAMES)
def test_dcsa_to_dcsa_keeps_every_member(ebl_inputs: dict[str, bytes], name: str) -> None:
    """Nothing is lost: unmapped members travel as extensions and come back in place."""
    source = json.loads(ebl_inputs[name])
    inner = source.get("document") or source.get("transportDocument") or source
    if "data" in source:
        inner = source["data"]["transportDocument"]
    from gateway.render.dcsa import render_dcsa

    out = render_dcsa(read_dcsa(json.loads(ebl_inputs[name])).document)
    assert out.warnings == []
    assert json.loads(dump_json(out.data)) == json.loads(json.dumps(inner))


@pytest.mark.parametrize("name", NAMES)
def test_dcsa_to_ubl_to_dcsa_keeps_every_mapped_field(
    artefacts_home: Path, ebl_inputs: dict[str, bytes], name: str
) -> None:
    checked = check_ebl(ebl_inputs[name], artefacts_home)
    ubl = convert_ebl(ebl_inputs[name], EblTarget.UBL, artefacts_home)
    back = read_bill_of_lading_xml(ubl.output)
    doc = checked.document
    expected = dataclasses.replace(doc, place_of_issue=None)
    if doc.transports is not None:
        # a place given only by a facility code (not carried: a warning) leaves no element
        places = {
            member: None
            if getattr(doc.transports, member) == Location()
            else getattr(doc.transports, member)
            for member in ("place_of_receipt", "place_of_delivery")
        }
        expected = dataclasses.replace(
            expected, transports=dataclasses.replace(doc.transports, **places)
        )
    if doc.invoice_payable_at == Location():
        expected = dataclasses.replace(expected, invoice_payable_at=None)
    if doc.reference is None:
        back = dataclasses.replace(back, reference=None, source=doc.source)
    assert back == expected
    if doc.place_of_issue is not None:
        assert "/placeOfIssue: not carried by UBL BillOfLading" in ubl.warnings
    for where in doc.extensions:
        assert f"{where}: not carried by UBL BillOfLading" in ubl.warnings


def test_what_a_target_cannot_carry_is_a_warning(
    artefacts_home: Path, ebl_inputs: dict[str, bytes]
) -> None:
    data = ebl_inputs["EBL_v3.0.3.transport-document.GET.200.reefer.json"]
    result = convert_ebl(data, EblTarget.UNCEFACT, artefacts_home)
    assert "/isToOrder: not carried by UN/CEFACT D23B" in result.warnings
    oa = convert_ebl(data, EblTarget.TRADETRUST_OA, artefacts_home)
    assert any(w.startswith("/utilizedTransportEquipments/*/seals/*/number") for w in oa.warnings)


def test_uncefact_charge_payment_arrangement_is_untdid_4237(
    artefacts_home: Path, ebl_inputs: dict[str, bytes]
) -> None:
    """A prepaid charge is 4237 ``P`` (Prepaid), a collect charge ``C`` (Collect): the codes
    the schema's UNTDID4237Type lists (``A`` is Payable elsewhere, ``B`` Third party to pay)."""
    source = json.loads(ebl_inputs["EBL_v3.0.3.transport-document.GET.200.regular.json"])
    (charge,) = source["charges"]
    source["charges"] = [{**charge, "paymentTermCode": term} for term in ("PRE", "COL")]
    result = convert_ebl(json.dumps(source).encode(), EblTarget.UNCEFACT, artefacts_home)
    (consignment,) = json.loads(result.output)["specifiedConsignment"]
    codes = [
        c["paymentArrangementCode"]["content"]
        for c in consignment["applicableLogisticsServiceCharge"]
    ]
    assert codes == ["P", "C"]
