"""Our ecdsa-sd-2023 base proofs and the static JSON-LD loader, without Node: the proofValue
layout, tampering anywhere fails, mandatory pointers, unknown contexts and terms."""

from __future__ import annotations

import base64
import copy
import json
from pathlib import Path
from typing import Any

import cbor2
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from gateway.errors import ConfigError, InputError
from gateway.flows.ebl_convert import EblTarget, check_ebl, convert_document
from gateway.flows.tools import ToolsSpec, load_vc_issuer
from gateway.signing.ecdsa_sd import (
    BaseProofValue,
    select_json_ld,
    undefined_terms,
    verify_base_proof,
)
from gateway.signing.jsonld_loader import UnknownContextError, static_loader
from gateway.signing.multikey import b58decode, b58encode, did_json_url, did_web
from gateway.signing.rdfc import canonical_quads, serialize_quad
from gateway.signing.vc_issuer import VcIssuer

REGULAR = "EBL_v3.0.3.transport-document.GET.200.regular.json"
ISSUER = VcIssuer(ec.generate_private_key(ec.SECP256R1()), "did:web:carrier.example")


@pytest.fixture(scope="module")
def signed(artefacts_home: Path, ebl_inputs: dict[str, bytes]) -> dict[str, Any]:
    checked = check_ebl(ebl_inputs[REGULAR], artefacts_home)
    result = convert_document(checked, EblTarget.TRADETRUST_VC, artefacts_home, vc_issuer=ISSUER)
    data: dict[str, Any] = json.loads(result.output)
    return data


def test_proof_value_layout(signed: dict[str, Any]) -> None:
    proof = signed["proof"]
    assert proof["type"] == "DataIntegrityProof" and proof["cryptosuite"] == "ecdsa-sd-2023"
    raw = base64.urlsafe_b64decode(proof["proofValue"][1:] + "==")
    assert proof["proofValue"][0] == "u" and raw[:3] == b"\xd9\x5d\x00"
    base_sig, public_key, hmac_key, signatures, pointers = cbor2.loads(raw[3:])
    assert len(base_sig) == 64 and public_key[:2] == b"\x80\x24" and len(public_key) == 35
    assert len(hmac_key) == 32 and all(len(s) == 64 for s in signatures)
    assert pointers == ["/issuer", "/validFrom"]
    again = BaseProofValue.decode(proof["proofValue"])
    assert again.encode() == proof["proofValue"]


def test_trustvc_sample_proof_value_parses(reference: Path) -> None:
    """TrustVC's own signed sample has the same layout and mandatory pointers."""
    sample = reference / "ebl/tradetrust/samples/w3c-vc2.signed.bl.ecdsa-sd-2023.surrender.json"
    value = BaseProofValue.decode(json.loads(sample.read_text())["proof"]["proofValue"])
    assert value.mandatory_pointers == ("/issuer", "/validFrom")
    assert value.public_key[:2] == b"\x80\x24"


@pytest.mark.parametrize(
    "change",
    [
        ("credentialSubject", "blNumber", "OTHER"),
        ("credentialStatus", "tokenId", "00" * 32),
        ("validFrom", None, "2030-01-01T00:00:00.000Z"),
        ("issuer", None, "did:web:evil.example"),
        ("proof", "created", "2030-01-01T00:00:00Z"),
    ],
)
def test_any_change_fails(
    signed: dict[str, Any], artefacts_home: Path, change: tuple[str, str | None, str]
) -> None:
    loader = static_loader(artefacts_home)
    assert verify_base_proof(signed, ISSUER.did_document(), loader) == []
    bad = copy.deepcopy(signed)
    where, key, value = change
    if key is None:
        bad[where] = value
    else:
        bad[where][key] = value
    assert verify_base_proof(bad, ISSUER.did_document(), loader)


def test_wrong_key_and_missing_assertion_method(
    signed: dict[str, Any], artefacts_home: Path
) -> None:
    loader = static_loader(artefacts_home)
    other = VcIssuer(ec.generate_private_key(ec.SECP256R1()), ISSUER.did).did_document()
    assert any("base signature" in p for p in verify_base_proof(signed, other, loader))
    no_assertion = {**ISSUER.did_document(), "assertionMethod": []}
    assert "assertionMethod" in verify_base_proof(signed, no_assertion, loader)[0]
    assert verify_base_proof(
        {**signed, "proof": {**signed["proof"], "proofValue": "zabc"}},
        ISSUER.did_document(),
        loader,
    )


def test_unknown_context_and_undefined_terms(artefacts_home: Path) -> None:
    loader = static_loader(artefacts_home)
    credential = {
        "@context": ["https://www.w3.org/ns/credentials/v2", "https://evil.example/ctx.json"],
        "type": ["VerifiableCredential"],
    }
    with pytest.raises(UnknownContextError, match=r"evil\.example"):
        ISSUER.sign(credential, artefacts_home)
    loose = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential"],
        "credentialSubject": {"madeUp": "x"},
    }
    assert undefined_terms(loose, loader) == ["/credentialSubject/madeUp"]
    assert undefined_terms(loose | {"credentialSubject": {"id": "urn:x:1"}}, loader) == []


def test_selection_keeps_ids_and_types() -> None:
    document = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": "urn:uuid:1",
        "type": ["VerifiableCredential"],
        "credentialSubject": {"id": "urn:bnid:x", "type": "T", "a": [1, 2, 3], "b": 2},
    }
    chosen = select_json_ld(document, ["/credentialSubject/a/2", "/credentialSubject/a/0"])
    assert chosen == {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": "urn:uuid:1",
        "type": ["VerifiableCredential"],
        "credentialSubject": {"id": "urn:bnid:x", "type": "T", "a": [1, 3]},
    }
    assert select_json_ld(document, []) is None
    with pytest.raises(InputError, match="does not match"):
        select_json_ld(document, ["/credentialSubject/c"])


def test_did_web_and_base58() -> None:
    assert did_web("carrier.example", port=8443, path="bl/issuer") == (
        "did:web:carrier.example%3A8443:bl:issuer"
    )
    assert did_json_url("did:web:carrier.example%3A8443:bl:issuer") == (
        "https://carrier.example:8443/bl/issuer/did.json"
    )
    assert did_json_url("did:web:carrier.example") == (
        "https://carrier.example/.well-known/did.json"
    )
    for data in (b"", b"\0\0abc", bytes(range(40))):
        assert b58decode(b58encode(data)) == data
    with pytest.raises(InputError):
        did_web("bad/host")


def test_canonical_nquads_escapes() -> None:
    """RDFC-1.0 canonical N-Quads (as rdf-canonize 5 writes them), not PyLD's own text."""
    quad = {
        "subject": {"type": "blank node", "value": "_:b0"},
        "predicate": {"type": "IRI", "value": "https://example.com/terms#x"},
        "object": {
            "type": "literal",
            "value": 'a\tb\nc\rd"e\\f\x08g\x0ch\x01i\x7fj\u2028k😀',
            "datatype": "http://www.w3.org/2001/XMLSchema#string",
        },
    }
    assert serialize_quad(quad) == (
        '_:b0 <https://example.com/terms#x> "a\\tb\\nc\\rd\\"e\\\\f\\bg\\fh\\u0001i\\u007Fj'
        '\u2028k😀" .\n'
    )
    iri = {**quad, "object": {"type": "IRI", "value": "urn:x:a b<c>"}}
    assert serialize_quad(iri).endswith("<urn:x:a\\u0020b\\u003Cc\\u003E> .\n")
    lines, issued = canonical_quads(
        {"@default": [quad, {**quad, "subject": {"type": "blank node", "value": "_:q"}}]}
    )
    assert sorted(issued) == ["_:b0", "_:q"] and all("_:c14n" in line for line in lines)


def test_vc_issuer_from_settings(tmp_path: Path) -> None:
    """``[signing] vc_key`` and ``vc_did`` go together; a bad key stops the start."""
    key = tmp_path / "vc-key.pem"
    key.write_bytes(
        ISSUER.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    assert load_vc_issuer(ToolsSpec()) is None
    loaded = load_vc_issuer(ToolsSpec(vc_key=key, vc_did=ISSUER.did))
    assert loaded is not None and loaded.did_document() == ISSUER.did_document()
    with pytest.raises(ConfigError, match="go together"):
        load_vc_issuer(ToolsSpec(vc_key=key))
    with pytest.raises(ConfigError, match="did:web"):
        load_vc_issuer(ToolsSpec(vc_key=key, vc_did="did:key:z6Mk"))
    (tmp_path / "rsa.pem").write_text("not a key")
    with pytest.raises(ConfigError):
        load_vc_issuer(ToolsSpec(vc_key=tmp_path / "rsa.pem", vc_did=ISSUER.did))


@pytest.mark.parametrize("text", ["_:c14n0 shipped on board", '_:Ýc"', "see _:b0\n_:u1 and _:"])
def test_free_text_that_looks_like_a_blank_node_signs_and_verifies(
    signed: dict[str, Any], artefacts_home: Path, text: str
) -> None:
    """A term such as ``termsOfCarriage`` may hold any text, ``_:`` included: the canonical
    quads' blank nodes are relabelled as terms, never by searching the N-Quads text (which
    once took ``_:Ýc"`` inside a literal for a blank node label and failed)."""
    credential = {k: v for k, v in copy.deepcopy(signed).items() if k != "proof"}
    credential["credentialSubject"]["termsOfCarriage"] = text
    again = ISSUER.sign(credential, artefacts_home)
    assert ISSUER.verify(again, artefacts_home) == []
    again["credentialSubject"]["termsOfCarriage"] = text + " "
    assert ISSUER.verify(again, artefacts_home)
