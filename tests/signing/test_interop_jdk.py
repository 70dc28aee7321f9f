"""The JDK's XML-DSig implementation (JSR 105) verifies every kind of XAdES signature we make:
enveloped in UBL, enveloped in other XML, detached; RSA and ECDSA. A changed document fails
its reference there too."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.signing.testpki import TestPki

from .jdk_xmldsig import compile_checker, jdk_verdict
from .signing_support import BILL_OF_LADING, signer_for


@pytest.fixture(scope="module")
def jdk(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return compile_checker(tmp_path_factory.mktemp("jdk"))


@pytest.mark.parametrize("which", ["signer_rsa", "signer_ec"])
def test_the_jdk_verifies_our_enveloped_signatures(
    jdk: Path, pki: TestPki, bis_invoice: bytes, tmp_path: Path, which: str
) -> None:
    signer = signer_for(pki, which)
    cert = getattr(pki, which).cert
    for document in (bis_invoice, BILL_OF_LADING, b"<order><n>1</n></order>"):
        signed = signer.sign(document)
        assert jdk_verdict(jdk, signed, cert, tmp_path) == "VALID"
    changed = signer.sign(BILL_OF_LADING).replace(b"Carrier Line", b"Carrier Lime")
    verdict = jdk_verdict(jdk, changed, cert, tmp_path)
    assert verdict.startswith("INVALID") and "signature value ok" in verdict


@pytest.mark.parametrize("which", ["signer_rsa", "signer_ec"])
def test_the_jdk_verifies_our_detached_signatures(
    jdk: Path, pki: TestPki, tmp_path: Path, which: str
) -> None:
    data = b'{"transportDocumentReference": "LGW-BL-0001"}'
    signature = signer_for(pki, which).sign_detached(data, name="ebl.json")
    cert = getattr(pki, which).cert
    verdict = jdk_verdict(jdk, signature, cert, tmp_path, data={"ebl.json": data})
    assert verdict == "VALID"
    verdict = jdk_verdict(jdk, signature, cert, tmp_path, data={"ebl.json": data + b" "})
    assert verdict.startswith("INVALID: signature value ok; ebl.json fails")
