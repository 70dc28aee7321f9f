"""The ``ebl-out`` flow: every target kept and valid, a readable page, a rejected eBL stops at
``ebl-check`` naming the path, and the outcome crosses a process boundary."""

from __future__ import annotations

import json
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ec

from gateway.errors import FieldError, ValidationFailed
from gateway.flows import EBL_OUT, FlowOutcome, Source, Tools
from gateway.signing import XadesSigner
from gateway.signing.openattestation import verify_document
from gateway.signing.testpki import make_test_pki
from gateway.signing.vc_issuer import VcIssuer
from gateway.validation import Validator

REGULAR = "EBL_v3.0.3.transport-document.GET.200.dangerous-goods.json"


def test_every_target_kept(
    artefacts_home: Path, ebl_inputs: dict[str, bytes], tmp_path: Path
) -> None:
    pki = make_test_pki(tmp_path / "pki")
    signer = XadesSigner.from_files(
        pki.path("signer-ec.key.pem"), pki.path("signer-ec.pem"), [pki.path("chain.pem")]
    )
    vc_issuer = VcIssuer(ec.generate_private_key(ec.SECP256R1()), "did:web:carrier.example")
    tools = Tools(validator=Validator(artefacts_home), signer=signer, vc_issuer=vc_issuer)
    outcome = EBL_OUT.run(Source(ebl_inputs[REGULAR], "application/json"), tools)
    assert outcome.ok, outcome.error
    assert [t["stage"] for t in outcome.timings] == [
        "ingest",
        "ebl-check",
        "policy",
        "ebl-convert",
        "ebl-html",
    ]
    gate = outcome.facts["ebl_policy"]  # classified; recorded when it leaves over PINT
    assert "business" in gate["classification"]["categories"]
    assert all(f["reason"] for f in gate["classification"]["fields"])
    kinds = {o.kind for o in outcome.outputs}
    assert kinds == {
        "dcsa",
        "ubl",
        "uncefact",
        "tradetrust-oa",
        "tradetrust-vc",
        "warnings",
        "html",
    }
    vc = outcome.output("tradetrust-vc")
    assert vc is not None and vc_issuer.verify(json.loads(vc.data), artefacts_home) == []
    ubl = outcome.output("ubl")
    assert ubl is not None and b"SignatureValue" in ubl.data
    assert not Validator(artefacts_home).validate(ubl.data).fatal
    oa = outcome.output("tradetrust-oa")
    assert oa is not None and verify_document(json.loads(oa.data)).valid
    html = outcome.output("html")
    assert html is not None and b"Bill of lading" in html.data
    assert outcome.facts["format"] == "TransportDocument"
    assert outcome.transport is None
    again = FlowOutcome.from_wire(outcome.to_wire())
    assert again.output("ubl") == ubl


def test_rejected_at_check(artefacts_home: Path, ebl_inputs: dict[str, bytes]) -> None:
    doc = json.loads(ebl_inputs[REGULAR])
    doc["utilizedTransportEquipments"][0]["isShipperOwned"] = "no"
    tools = Tools(validator=Validator(artefacts_home))
    outcome = EBL_OUT.run(Source(json.dumps(doc).encode()), tools)
    assert outcome.failed_stage == "ebl-check"
    assert isinstance(outcome.error, ValidationFailed)
    assert (
        outcome.error.report.findings[0].location == "/utilizedTransportEquipments/0/isShipperOwned"
    )
    assert not outcome.outputs


def test_unknown_target(artefacts_home: Path, ebl_inputs: dict[str, bytes]) -> None:
    tools = Tools(validator=Validator(artefacts_home))
    source = Source(ebl_inputs[REGULAR], metadata={"targets": "ubl,pdf"})
    outcome = EBL_OUT.run(source, tools)
    assert outcome.failed_stage == "ebl-convert"
    assert isinstance(outcome.error, FieldError) and outcome.error.rule == "ebl.targets"


def test_vc_target_needs_an_issuer(artefacts_home: Path, ebl_inputs: dict[str, bytes]) -> None:
    tools = Tools(validator=Validator(artefacts_home))
    outcome = EBL_OUT.run(Source(ebl_inputs[REGULAR], metadata={"targets": "tradetrust-vc"}), tools)
    assert isinstance(outcome.error, FieldError) and outcome.error.rule == "ebl.targets"
    assert "vc_key" in outcome.error.message
    default = EBL_OUT.run(Source(ebl_inputs[REGULAR]), tools)
    assert default.ok and default.output("tradetrust-vc") is None


def test_html_escapes(artefacts_home: Path, ebl_inputs: dict[str, bytes]) -> None:
    doc = json.loads(ebl_inputs[REGULAR])
    doc["documentParties"]["shipper"]["partyName"] = "<script>alert(1)</script>"
    tools = Tools(validator=Validator(artefacts_home))
    outcome = EBL_OUT.run(Source(json.dumps(doc).encode(), metadata={"targets": "dcsa"}), tools)
    html = outcome.output("html")
    assert html is not None and b"<script>" not in html.data and b"&lt;script&gt;" in html.data
