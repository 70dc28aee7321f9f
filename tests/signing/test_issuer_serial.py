"""The issuer and serial number in xades:SigningCertificate must be the signer's.

XAdES 1.3.2 7.2.2 and EN 319 132-1 5.2.2: the signing certificate reference carries the
certificate's digest and its issuer name and serial number (``xades:IssuerSerial``, or the
DER ``xades:IssuerSerialV2``). The verifier checked the digest and ignored the rest: a
signature whose signed properties named another certificate's issuer and serial verified.
The issuer is compared as a name (RFC 5280 7.1), so other toolkits' spellings of the same
name are accepted.

The signatures under test are made by xmlsec1 from templates (our signatures with their
values emptied and their IssuerSerial changed): an independent signer, and valid XML-DSig
whatever the properties say.
"""

from __future__ import annotations

import base64
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from lxml import etree

from gateway.errors import VerificationError
from gateway.signing import Verifier, XadesSigner
from gateway.signing.keys import PrivateKeyProvider
from gateway.signing.names import rfc4514
from gateway.signing.testpki import TestPki
from tests.conftest import require_tool

from .signing_support import BILL_OF_LADING, signer_for
from .test_interop import DS, XA, _template, xmlsec1_sign


@pytest.fixture(scope="module")
def xmlsec1_tool() -> str:
    return require_tool("xmlsec1")


needs_xmlsec1 = pytest.mark.usefixtures("xmlsec1_tool")


def _signed_by_xmlsec1(
    pki: TestPki, document: bytes, folder: Path, name: str | None, serial: str | None
) -> bytes:
    """``document`` signed by xmlsec1 with the RSA signer, its IssuerSerial changed."""
    template = etree.fromstring(_template(signer_for(pki).sign(document), exclusive=False))
    holder = next(template.iter(f"{XA}IssuerSerial"))
    if name is not None:
        holder.find(f"{DS}X509IssuerName").text = name  # type: ignore[union-attr]
    if serial is not None:
        holder.find(f"{DS}X509SerialNumber").text = serial  # type: ignore[union-attr]
    return xmlsec1_sign(pki, etree.tostring(template), "signer_rsa", folder)


def _verifier(pki: TestPki) -> Verifier:
    return Verifier(trust=[pki.root.cert], check_revocation=False)


@needs_xmlsec1
def test_another_serial_number_is_refused(pki: TestPki, tmp_path: Path) -> None:
    other = str(pki.signer_ec.cert.serial_number)
    signed = _signed_by_xmlsec1(pki, BILL_OF_LADING, tmp_path, None, other)
    with pytest.raises(VerificationError) as caught:
        _verifier(pki).verify(signed)
    assert caught.value.check == "signed-properties"
    assert f"xades:IssuerSerial names serial number {other}" in caught.value.message


@needs_xmlsec1
def test_another_issuer_is_refused(pki: TestPki, other_pki: TestPki, tmp_path: Path) -> None:
    """Same serial, another CA's name (the other test PKI's root: same attributes, another
    common name)."""
    signed = _signed_by_xmlsec1(
        pki, BILL_OF_LADING, tmp_path, rfc4514(other_pki.root.cert.subject), None
    )
    with pytest.raises(VerificationError) as caught:
        _verifier(pki).verify(signed)
    assert caught.value.check == "signed-properties"
    assert "Test Root CA" in caught.value.message


@needs_xmlsec1
@pytest.mark.parametrize(
    "spelling",
    [
        "CN=Test Intermediate CA,O=Lingang Gateway Test PKI,C=CN",
        "cn=test  intermediate ca, o=LINGANG GATEWAY TEST PKI, c=cn",
        'CN="Test Intermediate CA";O=Lingang Gateway Test PKI;C=CN',
        "2.5.4.3=#0c145465737420496e7465726d656469617465204341,O=Lingang Gateway Test PKI,C=CN",
        "OID.2.5.4.3=Test Intermediate CA,O=Lingang\\20Gateway Test PKI,countryName=CN",
    ],
)
def test_the_issuer_is_compared_as_a_name(pki: TestPki, tmp_path: Path, spelling: str) -> None:
    signed = _signed_by_xmlsec1(
        pki, BILL_OF_LADING, tmp_path, spelling, f" {pki.signer_rsa.cert.serial_number} "
    )
    assert _verifier(pki).verify(signed).signer_certificate == pki.signer_rsa.cert


@needs_xmlsec1
@pytest.mark.parametrize(
    "spelling",
    [
        "C=CN,O=Lingang Gateway Test PKI,CN=Test Intermediate CA",  # RDNs the wrong way round
        "CN=Test Intermediate CA,O=Lingang Gateway Test PKI",  # one RDN missing
        "CN=Test Intermediate CA+O=Lingang Gateway Test PKI,C=CN",  # RDNs merged
    ],
)
def test_a_name_that_differs_as_a_name_is_refused(
    pki: TestPki, tmp_path: Path, spelling: str
) -> None:
    signed = _signed_by_xmlsec1(pki, BILL_OF_LADING, tmp_path, spelling, None)
    with pytest.raises(VerificationError) as caught:
        _verifier(pki).verify(signed)
    assert caught.value.check == "signed-properties"


@needs_xmlsec1
@pytest.mark.parametrize(
    ("name", "serial"), [("Test Intermediate CA", None), (None, "12ab"), (None, "")]
)
def test_an_unreadable_issuer_serial_is_refused(
    pki: TestPki, tmp_path: Path, name: str | None, serial: str | None
) -> None:
    signed = _signed_by_xmlsec1(pki, BILL_OF_LADING, tmp_path, name, serial)
    with pytest.raises(VerificationError) as caught:
        _verifier(pki).verify(signed)
    assert caught.value.check == "signed-properties"
    assert "issuer and serial number cannot be read" in caught.value.message


def _der(tag: int, content: bytes) -> bytes:
    if len(content) < 0x80:
        return bytes([tag, len(content)]) + content
    size = (len(content).bit_length() + 7) // 8
    return bytes([tag, 0x80 | size]) + len(content).to_bytes(size, "big") + content


def _issuer_serial_v2(issuer: x509.Name, serial: int) -> str:
    """base64 DER of an RFC 5035 IssuerSerial: { GeneralNames { [4] Name }, INTEGER }."""
    names = _der(0x30, _der(0xA4, issuer.public_bytes()))
    number = _der(0x02, serial.to_bytes((serial.bit_length() + 8) // 8, "big"))
    return base64.b64encode(_der(0x30, names + number)).decode()


@needs_xmlsec1
@pytest.mark.parametrize("right", [True, False])
def test_issuer_serial_v2(pki: TestPki, tmp_path: Path, right: bool) -> None:
    """A non-UBL signature carries SigningCertificateV2; with an IssuerSerialV2 it is compared."""
    ours = signer_for(pki).sign(b"<order><n>1</n></order>")
    template = etree.fromstring(_template(ours, exclusive=False))
    cert = next(template.iter(f"{XA}Cert"))
    serial = pki.signer_rsa.cert.serial_number if right else pki.signer_ec.cert.serial_number
    etree.SubElement(cert, f"{XA}IssuerSerialV2").text = _issuer_serial_v2(
        pki.intermediate.cert.subject, serial
    )
    signed = xmlsec1_sign(pki, etree.tostring(template), "signer_rsa", tmp_path)
    if right:
        assert _verifier(pki).verify(signed).signer_certificate == pki.signer_rsa.cert
        return
    with pytest.raises(VerificationError) as caught:
        _verifier(pki).verify(signed)
    assert caught.value.check == "signed-properties"
    assert "xades:IssuerSerialV2 names serial number" in caught.value.message


NAME_CHECK = """
import java.io.FileInputStream;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import javax.security.auth.x500.X500Principal;

public class NameCheck {
    public static void main(String[] args) throws Exception {
        X509Certificate cert = (X509Certificate) CertificateFactory.getInstance("X.509")
            .generateCertificate(new FileInputStream(args[0]));
        X500Principal named = new X500Principal(args[1]);
        System.out.println(named.equals(cert.getIssuerX500Principal()) ? "same" : "different");
    }
}
"""
"""Java's reading of an RFC 4514 name (X500Principal, what Java XAdES verifiers compare
IssuerSerial with) against a certificate's issuer."""


def _issued_under(issuer_name: x509.Name) -> tuple[x509.Certificate, PrivateKeyProvider]:
    """A CA named ``issuer_name`` and a signing certificate it issued, with its key."""
    now = datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    leaf_key = ec.generate_private_key(ec.SECP256R1())

    def issue(subject: x509.Name, key: ec.EllipticCurvePrivateKey, ca: bool) -> x509.Certificate:
        return (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer_name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
            .sign(ca_key, hashes.SHA256())
        )

    ca = issue(issuer_name, ca_key, True)
    leaf = issue(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "signer")]), leaf_key, False)
    return ca, PrivateKeyProvider(leaf_key, leaf)


def test_we_write_issuer_names_java_reads_back_as_the_issuer(tmp_path: Path) -> None:
    """RFC 4514 2.3/2.4: a type outside its table is written as its OID with the value's DER
    in hex. ``cryptography``'s ``rfc4514_string`` writes ``2.5.4.97=NTRCN-91310000`` for the
    organizationIdentifier that eIDAS CAs put in their names; Java reads that as another name
    than the certificate's issuer, so a Java XAdES verifier comparing IssuerSerial refused
    our UBL signatures from such a CA."""
    java = require_tool("java")
    issuer_name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Shanghai CA, Ltd."),
            x509.NameAttribute(x509.ObjectIdentifier("2.5.4.97"), "NTRCN-91310000"),
            x509.NameAttribute(NameOID.EMAIL_ADDRESS, "ca@example.cn"),
            x509.NameAttribute(NameOID.COMMON_NAME, "#1 Signing CA "),
        ]
    )
    ca, provider = _issued_under(issuer_name)
    signed = XadesSigner(provider).sign(BILL_OF_LADING)
    written = next(etree.fromstring(signed).iter(f"{DS}X509IssuerName")).text or ""
    assert "2.5.4.97=#0c0e4e5452434e2d3931333130303030" in written
    assert Verifier(trust=[ca], check_revocation=False).verify(signed)
    (tmp_path / "NameCheck.java").write_text(NAME_CHECK)
    (tmp_path / "leaf.pem").write_bytes(
        provider.certificate.public_bytes(serialization.Encoding.PEM)
    )
    run = subprocess.run(
        [java, str(tmp_path / "NameCheck.java"), str(tmp_path / "leaf.pem"), written],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert run.stdout.strip() == "same"
