"""Independent proof: other implementations verify our signatures, and we verify theirs.

* xmlsec1 (the command-line tool, libxmlsec1 + OpenSSL) and python-xmlsec verify every kind
  of signature we make (UBL RSA / ECDSA, generic enveloped, detached);
* signxml's XAdES verifier accepts ours too;
* signatures made by xmlsec1 from a template (inclusive and exclusive C14N, RSA and ECDSA)
  verify with ours, and an xmlsec1 RSA-SHA1 signature is refused with ``check="algorithm"``.
"""

from __future__ import annotations

import base64
import subprocess
from pathlib import Path

import pytest
import xmlsec
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from lxml import etree
from signxml.xades import XAdESVerifier

from gateway.errors import VerificationError
from gateway.signing import SignatureAlgorithm, Verifier, XadesSigner
from gateway.signing.testpki import TestPki
from tests.conftest import require_tool

from .signing_support import BILL_OF_LADING, signer_for

DS = "{http://www.w3.org/2000/09/xmldsig#}"
XA = "{http://uri.etsi.org/01903/v1.3.2#}"
ID_ATTR = "--id-attr:Id"
SIGNED_PROPERTIES = "http://uri.etsi.org/01903/v1.3.2#:SignedProperties"
EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"


@pytest.fixture(scope="module")
def xmlsec1_tool() -> str:
    """The xmlsec1 command: these tests skip without it locally, and fail without it in CI."""
    return require_tool("xmlsec1")


needs_xmlsec1 = pytest.mark.usefixtures("xmlsec1_tool")


def xmlsec1(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["xmlsec1", *args], cwd=cwd, capture_output=True, text=True, timeout=60, check=False
    )


def xmlsec1_verify(pki: TestPki, signed: bytes, folder: Path) -> subprocess.CompletedProcess[str]:
    target = folder / "signed.xml"
    target.write_bytes(signed)
    return xmlsec1(
        "--verify",
        "--trusted-pem",
        str(pki.path("root.pem")),
        "--untrusted-pem",
        str(pki.path("intermediate.pem")),
        ID_ATTR,
        SIGNED_PROPERTIES,
        str(target),
        cwd=folder,
    )


@needs_xmlsec1
@pytest.mark.parametrize("which", ["signer_rsa", "signer_ec"])
def test_xmlsec1_cli_verifies_ours(
    pki: TestPki, bis_invoice: bytes, tmp_path: Path, which: str
) -> None:
    signer = signer_for(pki, which)
    for document in (bis_invoice, BILL_OF_LADING, b"<order><n>1</n></order>"):
        run = xmlsec1_verify(pki, signer.sign(document), tmp_path)
        assert run.returncode == 0, run.stderr
        assert "OK" in run.stdout + run.stderr


@needs_xmlsec1
def test_xmlsec1_cli_verifies_our_detached(pki: TestPki, tmp_path: Path) -> None:
    data = b'{"transportDocumentReference": "LGW-BL-0001"}'
    (tmp_path / "ebl.json").write_bytes(data)
    signed = signer_for(pki, "signer_ec").sign_detached(data, name="ebl.json")
    run = xmlsec1_verify(pki, signed, tmp_path)
    assert run.returncode == 0, run.stderr
    (tmp_path / "ebl.json").write_bytes(data + b" ")
    assert xmlsec1_verify(pki, signed, tmp_path).returncode != 0


@needs_xmlsec1
def test_xmlsec1_cli_rejects_tampering(pki: TestPki, bis_invoice: bytes, tmp_path: Path) -> None:
    signed = signer_for(pki).sign(bis_invoice).replace(b"<cbc:Note>", b"<cbc:Note>X")
    assert xmlsec1_verify(pki, signed, tmp_path).returncode != 0


@pytest.mark.parametrize("which", ["signer_rsa", "signer_ec"])
def test_python_xmlsec_verifies_ours(pki: TestPki, bis_invoice: bytes, which: str) -> None:
    root = etree.fromstring(signer_for(pki, which).sign(bis_invoice))
    xmlsec.tree.add_ids(root, ["Id"])
    # the intermediate travels in ds:KeyInfo; only the root is trusted
    manager = xmlsec.KeysManager()
    manager.load_cert(
        str(pki.path("root.pem")),
        xmlsec.constants.KeyDataFormatCertPem,
        xmlsec.constants.KeyDataTypeTrusted,
    )
    context = xmlsec.SignatureContext(manager)
    context.verify(next(root.iter(f"{DS}Signature")))


@pytest.mark.parametrize("which", ["signer_rsa", "signer_ec"])
def test_signxml_verifies_ours(pki: TestPki, bis_invoice: bytes, which: str) -> None:
    signed = signer_for(pki, which).sign(bis_invoice)
    pem = getattr(pki, which).cert.public_bytes(serialization.Encoding.PEM).decode()
    results = XAdESVerifier().verify(signed, x509_cert=pem, expect_references=2)
    assert results


def _template(signed: bytes, *, exclusive: bool, algorithm: str | None = None) -> bytes:
    """Turn one of our signatures into an xmlsec1 template: values emptied, certs removed."""
    root = etree.fromstring(signed)
    signature = next(root.iter(f"{DS}Signature"))
    for value in signature.iter(f"{DS}DigestValue"):
        if value.getparent().tag == f"{DS}Reference":  # type: ignore[union-attr]
            value.text = ""
    signature.find(f"{DS}SignatureValue").text = ""  # type: ignore[union-attr]
    x509_data = signature.find(f"{DS}KeyInfo/{DS}X509Data")
    assert x509_data is not None
    for cert in list(x509_data):
        x509_data.remove(cert)
    info = signature.find(f"{DS}SignedInfo")
    assert info is not None
    if algorithm:
        info[1].set("Algorithm", algorithm)
    if exclusive:
        info[0].set("Algorithm", EXC_C14N)
        for transform in info.iter(f"{DS}Transform"):
            if "c14n" in transform.get("Algorithm", ""):
                transform.set("Algorithm", EXC_C14N)
    return etree.tostring(root)


def _cert_digest_matches(signed: bytes, pki: TestPki, which: str) -> bool:
    root = etree.fromstring(signed)
    claimed = next(root.iter(f"{XA}CertDigest")).findtext(f"{DS}DigestValue")
    cert = getattr(pki, which).cert
    digest = hashes.Hash(hashes.SHA256())
    digest.update(cert.public_bytes(serialization.Encoding.DER))
    return claimed == base64.b64encode(digest.finalize()).decode()


def xmlsec1_sign(pki: TestPki, template: bytes, which: str, folder: Path) -> bytes:
    name = {"signer_rsa": "signer-rsa", "signer_ec": "signer-ec"}[which]
    (folder / "template.xml").write_bytes(template)
    keys = f"{pki.path(name + '.key.pem')},{pki.path(name + '.pem')},{pki.path('intermediate.pem')}"
    run = xmlsec1(
        "--sign",
        "--privkey-pem",
        keys,
        ID_ATTR,
        SIGNED_PROPERTIES,
        "--output",
        str(folder / "out.xml"),
        str(folder / "template.xml"),
        cwd=folder,
    )
    assert run.returncode == 0, run.stderr
    return (folder / "out.xml").read_bytes()


@needs_xmlsec1
@pytest.mark.parametrize(
    ("which", "exclusive"),
    [("signer_rsa", False), ("signer_rsa", True), ("signer_ec", False), ("signer_ec", True)],
)
def test_xmlsec1_signatures_verify_with_ours(
    pki: TestPki, bis_invoice: bytes, tmp_path: Path, which: str, exclusive: bool
) -> None:
    ours = signer_for(pki, which).sign(bis_invoice)
    theirs = xmlsec1_sign(pki, _template(ours, exclusive=exclusive), which, tmp_path)
    assert _cert_digest_matches(theirs, pki, which)
    signature_value = next(etree.fromstring(theirs).iter(f"{DS}SignatureValue")).text
    assert signature_value and signature_value.strip()
    verifier = Verifier(
        trust=[pki.root.cert],
        intermediates=[pki.intermediate.cert],
        crls=[pki.intermediate_crl, pki.root_crl],
        ocsp=False,
        fetch_crls=False,
    )
    result = verifier.verify(theirs)
    assert result.signer_certificate == getattr(pki, which).cert
    tampered = theirs.replace(b"<cbc:Note>", b"<cbc:Note>X")
    with pytest.raises(VerificationError) as caught:
        verifier.verify(tampered)
    assert caught.value.check == "reference"


@needs_xmlsec1
def test_xmlsec1_sha1_signature_refused(pki: TestPki, bis_invoice: bytes, tmp_path: Path) -> None:
    ours = signer_for(pki).sign(bis_invoice)
    template = _template(
        ours, exclusive=False, algorithm="http://www.w3.org/2000/09/xmldsig#rsa-sha1"
    )
    theirs = xmlsec1_sign(pki, template, "signer_rsa", tmp_path)
    verifier = Verifier(trust=[pki.root.cert], check_revocation=False)
    with pytest.raises(VerificationError) as caught:
        verifier.verify(theirs)
    assert caught.value.check == "algorithm"


def _signxml_xades(pki: TestPki, document: bytes, c14n: str) -> bytes:
    from signxml import CanonicalizationMethod, DigestAlgorithm, SignatureMethod
    from signxml.xades import XAdESSigner

    signer = XAdESSigner(
        signature_algorithm=SignatureMethod.RSA_SHA256,
        digest_algorithm=DigestAlgorithm.SHA256,
        c14n_algorithm=CanonicalizationMethod(c14n),
    )
    key = pki.path("signer-rsa.key.pem").read_bytes()
    certs = [pki.signer_rsa.cert, pki.intermediate.cert]
    pems = [c.public_bytes(serialization.Encoding.PEM).decode() for c in certs]
    return etree.tostring(signer.sign(etree.fromstring(document), key=key, cert=pems))


@needs_xmlsec1
def test_signxml_c14n11_xades_verifies_with_ours_and_xmlsec1(pki: TestPki, tmp_path: Path) -> None:
    signed = _signxml_xades(pki, b"<order><n>1</n></order>", "http://www.w3.org/2006/12/xml-c14n11")
    assert xmlsec1_verify(pki, signed, tmp_path).returncode == 0
    result = Verifier(trust=[pki.root.cert], check_revocation=False).verify(signed)
    assert result.signed_xml == b"<order><n>1</n></order>"


@needs_xmlsec1
def test_signxml_exclusive_c14n_trap(pki: TestPki, tmp_path: Path) -> None:
    """signxml's XAdESSigner with exclusive C14N: the SignedProperties reference has no
    transform, so every verifier digests it with inclusive C14N and refuses it."""
    signed = _signxml_xades(pki, b"<order><n>1</n></order>", EXC_C14N)
    assert xmlsec1_verify(pki, signed, tmp_path).returncode != 0
    with pytest.raises(VerificationError) as caught:
        Verifier(trust=[pki.root.cert], check_revocation=False).verify(signed)
    assert caught.value.check == "signed-properties"


@needs_xmlsec1
def test_inherited_xml_lang_canonicalised_like_xmlsec1(pki: TestPki, tmp_path: Path) -> None:
    """Inclusive C14N carries an ancestor's xml:lang into SignedInfo / SignedProperties."""
    document = b'<order xml:lang="zh" xml:space="preserve"><n>1</n></order>'
    signed = signer_for(pki).sign(document)
    assert xmlsec1_verify(pki, signed, tmp_path).returncode == 0
    assert Verifier(trust=[pki.root.cert], check_revocation=False).verify(signed).checks


def test_xml_base_on_ancestor_refused(pki: TestPki) -> None:
    from gateway.errors import SigningError

    with pytest.raises(SigningError):
        signer_for(pki).sign(b'<order xml:base="http://example.com/"><n>1</n></order>')


class MislabellingProvider:
    """Signs RSA PKCS#1 v1.5 whatever method the signature names."""

    def __init__(self, pki: TestPki) -> None:
        self.certificate = pki.signer_rsa.cert
        self.chain = [pki.intermediate.cert]
        self._key = pki.signer_rsa.key

    def sign(self, data: bytes, algorithm: SignatureAlgorithm) -> bytes:
        assert isinstance(self._key, rsa.RSAPrivateKey)
        return self._key.sign(data, padding.PKCS1v15(), algorithm.hash())


@needs_xmlsec1
def test_a_method_the_signers_key_cannot_make_is_refused_as_xmlsec1_does(
    pki: TestPki, bis_invoice: bytes, tmp_path: Path
) -> None:
    """An RSA signature whose ds:SignatureMethod says ECDSA: xmlsec1 refuses it, and so must
    we (XML-DSig: the value is checked with the algorithm the method names). Ours verified
    it, the key's type choosing the algorithm."""
    signer = XadesSigner(MislabellingProvider(pki), algorithm=SignatureAlgorithm.ECDSA_SHA256)
    signed = signer.sign(bis_invoice)
    assert xmlsec1_verify(pki, signed, tmp_path).returncode != 0
    verifier = Verifier(trust=[pki.root.cert], check_revocation=False)
    with pytest.raises(VerificationError) as caught:
        verifier.verify(signed)
    assert caught.value.check == "algorithm" and "ecdsa-sha256" in caught.value.message
