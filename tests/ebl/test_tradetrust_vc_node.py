"""TrustVC itself (``@trustvc/trustvc`` from npm, run under Node) judges our W3C VC 2.0 bills
of lading, and our verifier judges TrustVC's.

TrustVC fetches the issuer's DID document with its own ``did:web`` resolver from this test's
HTTPS server (a real TLS certificate of a test CA, trusted through ``NODE_EXTRA_CA_CERTS``);
only the chain is stubbed (``trustvc_check.cjs``: an ethers provider whose ``ownerOf`` answers
from the title tokens minted in our store's :class:`StoredTokenRegistry`). ``tests/run.sh``
installs the pinned npm packages (``tests/node/package.json``) into ``var/node``; without
them the test skips locally and fails in CI.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import os
import shutil
import ssl
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import trustme
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

from gateway.flows.ebl_convert import EblTarget, check_ebl, convert_document
from gateway.model.transport_document import DocumentParties, Party, TransportDocument
from gateway.render.tradetrust_vc import VcFacts, render_tradetrust_vc, token_id, uuid7
from gateway.signing.ecdsa_sd import verify_base_proof
from gateway.signing.jsonld_loader import known_contexts, static_loader
from gateway.signing.multikey import did_web, public_key_multibase, secret_key_multibase
from gateway.signing.vc_issuer import VcIssuer
from gateway.store.sqlite import SqliteStore
from gateway.store.title_tokens import StoredTokenRegistry
from tests.conftest import REPO, in_ci
from tests.ebl.support import BILLS_OF_LADING, EXAMPLES

SCRIPT = Path(__file__).with_name("trustvc_check.cjs")
MODULES = REPO / "var" / "node" / "node_modules"
REGISTRY = "0x0000000000000000000000000000000000000001"
TITLE_ESCROW = "0x00000000000000000000000000000000000000e5"
pytestmark = pytest.mark.xdist_group("trustvc-node")
MINIMAL = TransportDocument(
    type_code="BOL",
    is_shipped_on_board_type=True,
    is_electronic=True,
    is_to_order=False,
    parties=DocumentParties(shipper=Party(name="Shipper")),
    consignment_items=(),
    equipments=(),
    reference="LGTD0001",
)


def _node() -> str:
    node = shutil.which("node")
    if node is None or not (MODULES / "@trustvc" / "trustvc").is_dir():
        message = "node or the npm packages in var/node are missing (tests/run.sh installs them)"
        if in_ci():
            pytest.fail(message)
        pytest.skip(message)
    return node


class _DidServer:
    """An HTTPS server answering ``/.well-known/did.json`` with the document it is given."""

    def __init__(self, ca: trustme.CA) -> None:
        self.document: dict[str, Any] = {}
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = json.dumps(server.document).encode()
                status = 200 if self.path == "/.well-known/did.json" else 404
                self.send_response(status)
                self.send_header("Content-Type", "application/did+json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert("localhost").configure_cert(context)
        self.http.socket = context.wrap_socket(self.http.socket, server_side=True)
        self.port = self.http.server_address[1]
        self.thread = threading.Thread(target=self.http.serve_forever, daemon=True)

    @property
    def did(self) -> str:
        return did_web("localhost", port=self.port)


@pytest.fixture(scope="module")
def tls_ca(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[trustme.CA, Path]]:
    ca = trustme.CA()
    pem = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(pem))
    yield ca, pem


@pytest.fixture(scope="module")
def did_server(tls_ca: tuple[trustme.CA, Path]) -> Iterator[_DidServer]:
    server = _DidServer(tls_ca[0])
    server.thread.start()
    yield server
    server.http.shutdown()
    server.http.server_close()


@pytest.fixture(scope="module")
def issuer(did_server: _DidServer) -> VcIssuer:
    made = VcIssuer(ec.generate_private_key(ec.SECP256R1()), did_server.did)
    did_server.document = made.did_document()
    return made


def _run(request: dict[str, Any], ca_pem: Path) -> dict[str, Any]:
    env = {**os.environ, "NODE_EXTRA_CA_CERTS": str(ca_pem)}
    done = subprocess.run(
        [_node(), str(SCRIPT), str(MODULES)],
        input=json.dumps(request).encode(),
        capture_output=True,
        env=env,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode()[-3000:]
    answer: dict[str, Any] = json.loads(done.stdout)
    return answer


def _statuses(answer: dict[str, Any]) -> dict[str, str]:
    return {f["name"]: f["status"] for f in answer["fragments"] if f["status"] != "SKIPPED"}


async def _minted_owners(tmp_path: Path, token_ids: list[str]) -> dict[str, dict[str, str]]:
    """Mint each token in our store's registry; the chain stub answers ``ownerOf`` from it."""
    store = await SqliteStore.open(f"sqlite:///{tmp_path}/tokens.db")
    await store.migrate()
    registry = StoredTokenRegistry(store.connector, store.clock, REGISTRY)
    owners: dict[str, str] = {}
    for token in token_ids:
        minted = await registry.mint(token, TITLE_ESCROW, TITLE_ESCROW, remark="issued")
        owners[minted.token_id] = minted.beneficiary
    await store.close()
    return {REGISTRY: owners}


def _verify(documents: list[Any], owners: dict[str, Any], ca_pem: Path) -> list[Any]:
    request = {"action": "verify", "documents": documents, "chainId": 1337, "owners": owners}
    answers: list[Any] = _run(request, ca_pem)["answers"]
    return answers


async def test_trustvc_accepts_ours_and_rejects_a_tampered_copy(
    artefacts_home: Path,
    ebl_inputs: dict[str, bytes],
    issuer: VcIssuer,
    tls_ca: tuple[trustme.CA, Path],
    tmp_path: Path,
) -> None:
    """Every DCSA example and filled conformance template that is a bill of lading (a sea
    waybill has no TradeTrust form), signed by us, passes TrustVC's
    verifyDocument (integrity, TransferableRecords status, issuer identity); so does one whose
    strings need N-Quads escapes (quotes, backslash, CR/LF, tab, U+2028, astral, CJK) and
    one with other control characters (UCHAR escapes)."""
    _node()
    signed_docs = []
    for name in BILLS_OF_LADING:
        checked = check_ebl(ebl_inputs[name], artefacts_home)
        result = convert_document(
            checked, EblTarget.TRADETRUST_VC, artefacts_home, vc_issuer=issuer
        )
        signed_docs.append(json.loads(result.output))
    tricky = json.loads(ebl_inputs[EXAMPLES[0]])
    tricky["documentParties"]["shipper"]["partyName"] = 'Ningbo "Lingang" 宁波\\ Ltd 😀 <&>'
    tricky["termsAndConditions"] = "Line one\r\nLine\ttwo \u00e9\u0301 \u2028 end"
    checked = check_ebl(json.dumps(tricky).encode(), artefacts_home)
    result = convert_document(checked, EblTarget.TRADETRUST_VC, artefacts_home, vc_issuer=issuer)
    signed_docs.append(json.loads(result.output))
    controls = {k: copy.deepcopy(v) for k, v in signed_docs[-1].items() if k != "proof"}
    controls["id"] = f"urn:uuid:{uuid7(dt.datetime.now(dt.UTC))}"
    controls["credentialStatus"] = {
        **controls["credentialStatus"],
        "tokenId": token_id(controls["id"]),
    }
    controls["credentialSubject"]["carrierReceipt"] = 'a\x08b\x0cc\x01d\x7fe\x1f"\\'
    signed_docs.append(issuer.sign(controls, artefacts_home))
    owners = await _minted_owners(tmp_path, [d["credentialStatus"]["tokenId"] for d in signed_docs])
    tampered = copy.deepcopy(signed_docs[0])
    tampered["credentialSubject"]["blNumber"] += "X"
    answers = _verify([*signed_docs, tampered], owners, tls_ca[1])
    for name, answer in zip([*BILLS_OF_LADING, "escapes", "controls"], answers, strict=False):
        assert answer["valid"], (
            name,
            [f for f in answer["fragments"] if f["status"] not in ("VALID", "SKIPPED")],
        )
        assert _statuses(answer) == {
            "EcdsaW3CSignatureIntegrity": "VALID",
            "TransferableRecords": "VALID",
            "W3CIssuerIdentity": "VALID",
        }, name
        assert answer["calls"] and answer["calls"][0]["to"].lower() == REGISTRY
    assert not answers[-1]["valid"]
    assert _statuses(answers[-1])["EcdsaW3CSignatureIntegrity"] == "INVALID"

    (unminted,) = _verify(signed_docs[:1], {}, tls_ca[1])
    assert _statuses(unminted)["TransferableRecords"] == "INVALID"


def test_trustvc_signed_credential_verifies_with_ours(
    artefacts_home: Path, issuer: VcIssuer, tls_ca: tuple[trustme.CA, Path]
) -> None:
    _node()
    credential = {
        "@context": [
            "https://www.w3.org/ns/credentials/v2",
            "https://trustvc.io/context/bill-of-lading-carrier.json",
            "https://trustvc.io/context/render-method-context-v2.json",
            "https://trustvc.io/context/transferable-records-context.json",
            "https://w3id.org/security/data-integrity/v2",
        ],
        "type": ["VerifiableCredential"],
        "issuer": issuer.did,
        "validFrom": "2026-12-01T00:00:00.000Z",
        "renderMethod": [
            {
                "type": "EMBEDDED_RENDERER",
                "templateName": "BILL_OF_LADING_CARRIER",
                "id": "https://generic-templates.tradetrust.io",
            }
        ],
        "credentialStatus": {
            "type": "TransferableRecords",
            "tokenNetwork": {"chain": "ETH", "chainId": 1337},
            "tokenRegistry": REGISTRY,
        },
        "credentialSubject": {
            "type": ["BillOfLadingCarrier"],
            "blNumber": "LGTD20260001",
            "scac": "MAEU",
            "packages": [{"packagesDescription": "tea", "packagesWeight": "10 KGM"}],
        },
    }
    key_pair = {
        "id": issuer.verification_method,
        "type": "Multikey",
        "controller": issuer.did,
        "publicKeyMultibase": public_key_multibase(issuer.key.public_key()),
        "secretKeyMultibase": secret_key_multibase(issuer.key),
    }
    signed = _run({"action": "sign", "credential": credential, "keyPair": key_pair}, tls_ca[1])[
        "signed"
    ]
    assert signed["proof"]["cryptosuite"] == "ecdsa-sd-2023"
    loader = static_loader(artefacts_home)
    assert verify_base_proof(signed, issuer.did_document(), loader) == []
    tampered = copy.deepcopy(signed)
    tampered["credentialSubject"]["packages"][0]["packagesWeight"] = "11 KGM"
    assert verify_base_proof(tampered, issuer.did_document(), loader)
    moved = copy.deepcopy(signed)
    moved["validFrom"] = "2026-12-02T00:00:00.000Z"  # a mandatory statement
    assert any(
        "base signature" in p for p in verify_base_proof(moved, issuer.did_document(), loader)
    )


def test_our_contexts_are_trustvcs(artefacts_home: Path, tls_ca: tuple[trustme.CA, Path]) -> None:
    """Every context our static loader serves is exactly the one TrustVC's loader serves."""
    _node()
    theirs = _run({"action": "contexts"}, tls_ca[1])
    ours = known_contexts(artefacts_home)
    for url, context in ours.items():
        assert theirs.get(url) == context, url


FREE_TEXT = (
    "carrierReceipt",
    "termsOfCarriage",
    "signedForCarrierText",
    "placeOfIssueBL",
    "vessel",
)


@settings(max_examples=2, deadline=None, phases=[Phase.generate])
@given(
    texts=st.lists(st.lists(st.text(min_size=1), min_size=5, max_size=5), min_size=20, max_size=20)
)
def test_trustvc_accepts_any_text(
    artefacts_home: Path, issuer: VcIssuer, tls_ca: tuple[trustme.CA, Path], texts: list[list[str]]
) -> None:
    """Arbitrary Unicode in the bill's free-text terms (controls, line separators, astral
    characters, NUL …) signs into credentials TrustVC verifies (one Node run per example)."""
    _node()
    documents, owners = [], {}
    for values in texts:
        credential = render_tradetrust_vc(MINIMAL, VcFacts(issuer.did, REGISTRY)).data
        credential["credentialSubject"].update(zip(FREE_TEXT, values, strict=True))
        credential["credentialSubject"]["packages"] = [{"packagesDescription": values[0]}]
        signed = issuer.sign(credential, artefacts_home)
        assert issuer.verify(signed, artefacts_home) == []
        documents.append(signed)
        owners[signed["credentialStatus"]["tokenId"]] = TITLE_ESCROW
    for values, answer in zip(
        texts, _verify(documents, {REGISTRY: owners}, tls_ca[1]), strict=True
    ):
        assert answer["valid"], (values, answer["fragments"])


async def test_trustvc_verifies_our_openattestation_bills(
    artefacts_home: Path,
    ebl_inputs: dict[str, bytes],
    tls_ca: tuple[trustme.CA, Path],
    tmp_path: Path,
) -> None:
    """Our OpenAttestation v2 wrapped bills (``tradetrust-oa``) pass TrustVC's verifyDocument
    for every DCSA example and template that is a bill of lading: integrity (OpenAttestationHash), the title token minted
    in the registry (OpenAttestationEthereumTokenRegistryStatus) and the issuer's DNS-TXT
    identity (the DNS answer is served in DNS-over-HTTPS form by the script: no DNS here). A
    tampered copy fails integrity, an unminted token fails the status, an unlisted registry
    fails the identity."""
    _node()
    wrapped = []
    for name in BILLS_OF_LADING:
        checked = check_ebl(ebl_inputs[name], artefacts_home)
        result = convert_document(checked, EblTarget.TRADETRUST_OA, artefacts_home)
        wrapped.append(json.loads(result.output))
    owners = await _minted_owners(tmp_path, [d["signature"]["merkleRoot"] for d in wrapped])
    unminted = json.loads(
        convert_document(
            check_ebl(ebl_inputs[EXAMPLES[1]], artefacts_home),
            EblTarget.TRADETRUST_OA,
            artefacts_home,
        ).output
    )
    tampered = copy.deepcopy(wrapped[0])
    shipper = tampered["data"]["issuers"][0]
    shipper["name"] = shipper["name"].rsplit(":", 1)[0] + ":Someone Else"
    dns = {"example.tradetrust.io": [f"openatts net=ethereum netId=1337 addr={REGISTRY}"]}
    request = {
        "action": "verify",
        "documents": [*wrapped, tampered, unminted],
        "chainId": 1337,
        "owners": owners,
        "dns": dns,
    }
    answers = _run(request, tls_ca[1])["answers"]
    for name, answer in zip(BILLS_OF_LADING, answers, strict=False):
        assert _statuses(answer) == {
            "OpenAttestationHash": "VALID",
            "OpenAttestationEthereumTokenRegistryStatus": "VALID",
            "OpenAttestationDnsTxtIdentityProof": "VALID",
        }, name
        assert answer["valid"], name
    tampered_answer, unminted_answer = answers[-2], answers[-1]
    assert _statuses(tampered_answer)["OpenAttestationHash"] == "INVALID"
    assert not tampered_answer["valid"]
    assert _statuses(unminted_answer)["OpenAttestationEthereumTokenRegistryStatus"] == "INVALID"
    assert not unminted_answer["valid"]
    other = {**request, "documents": wrapped[:1], "dns": {"example.tradetrust.io": []}}
    (elsewhere,) = _run(other, tls_ca[1])["answers"]
    assert _statuses(elsewhere)["OpenAttestationDnsTxtIdentityProof"] != "VALID"
    assert not elsewhere["valid"]
