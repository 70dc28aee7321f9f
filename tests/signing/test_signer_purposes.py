"""A signer whose extendedKeyUsage excludes signing is refused (RFC 5280 4.2.1.12), and real
Peppol traffic is not.

"If the extension is present, then the certificate MUST only be used for one of the
purposes indicated." A certificate issued only as a TLS server certificate (serverAuth), for
code signing or time-stamping verified XAdES documents, AS4 messages, SMP answers and PINT
JWS until now. Every Peppol AP and SMP certificate carries exactly clientAuth, critical, and
signs with it: those (the real ones of the phase4 AS4 dumps and the SMP examples under
``../shared/reference``) must pass.
"""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

from gateway.errors import VerificationError
from gateway.signing import Verifier, XadesSigner
from gateway.signing.chain import check_signer_usage
from gateway.signing.jose import CompactSigner, KeySet, verify_compact
from gateway.signing.keys import PrivateKeyProvider
from gateway.signing.peppol_pki import make_peppol_pki
from gateway.signing.truststore import TrustStore
from tests.signing.issued import Issued, issue

from .signing_support import BILL_OF_LADING

DOCUMENT_SIGNING = ObjectIdentifier("1.3.6.1.5.5.7.3.36")
"""id-kp-documentSigning, RFC 9336."""
EKU = ExtendedKeyUsageOID
REFUSED = {
    "serverAuth": [EKU.SERVER_AUTH],
    "codeSigning": [EKU.CODE_SIGNING],
    "timeStamping": [EKU.TIME_STAMPING],
    "OCSPSigning": [EKU.OCSP_SIGNING],
    "serverAuth, codeSigning": [EKU.SERVER_AUTH, EKU.CODE_SIGNING],
    "1.3.6.1.4.1.55555.7.2": [ObjectIdentifier("1.3.6.1.4.1.55555.7.2")],
}
ACCEPTED = {
    "clientAuth (Peppol)": [EKU.CLIENT_AUTH],
    "serverAuth, clientAuth": [EKU.SERVER_AUTH, EKU.CLIENT_AUTH],
    "emailProtection": [EKU.EMAIL_PROTECTION],
    "documentSigning": [DOCUMENT_SIGNING],
    "anyExtendedKeyUsage": [EKU.ANY_EXTENDED_KEY_USAGE],
}


def _issue(name: str, issuer: Issued | None, purposes: list[ObjectIdentifier] | None) -> Issued:
    extensions = [] if purposes is None else [(x509.ExtendedKeyUsage(purposes), True)]
    return issue(name, issuer, ca=issuer is None, extensions=extensions)


def _pair(purposes: list[ObjectIdentifier] | None) -> tuple[Issued, Issued]:
    root = _issue("Purpose Test Root", None, None)
    return root, _issue("Purpose Test Signer", root, purposes)


def _real_peppol_certificates(reference: Path) -> list[x509.Certificate]:
    """The AP and SMP certificates in the phase4 AS4 dumps and the SMP examples (signers
    and the endpoint certificates SMP answers name)."""
    folders = [reference / "phax-phase4-examples", reference / "phax-peppol-commons"]
    found: dict[bytes, x509.Certificate] = {}
    pattern = re.compile(rb"(?:BinarySecurityToken[^>]*|Certificate)>\s*([A-Za-z0-9+/=\s]{400,})<")
    for path in (p for folder in folders for p in folder.rglob("*") if p.is_file()):
        for match in pattern.finditer(path.read_bytes()):
            der = base64.b64decode(re.sub(rb"\s", b"", match.group(1)))
            found[der] = x509.load_der_x509_certificate(der)
    return list(found.values())


def test_real_peppol_ap_and_smp_certificates_may_sign(reference: Path) -> None:
    certificates = _real_peppol_certificates(reference)
    units = {
        str(a.value)
        for c in certificates
        for a in c.subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)
    }
    assert {"PEPPOL TEST AP", "PEPPOL PRODUCTION AP", "PEPPOL PRODUCTION SMP"} <= units
    for certificate in certificates:
        purposes = certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
        assert purposes.critical and list(purposes.value) == [EKU.CLIENT_AUTH]
        check_signer_usage(certificate, "access point certificate")


def test_the_gateway_s_own_peppol_test_pki_may_sign(tmp_path: Path) -> None:
    pki = make_peppol_pki(tmp_path / "peppol")
    for name, anchor in (("ap-sender.pem", "ap-ca.pem"), ("smp.pem", "smp-ca.pem")):
        cert = x509.load_pem_x509_certificate(pki.path(name).read_bytes())
        root = x509.load_pem_x509_certificates(pki.path(anchor).read_bytes())
        TrustStore(tuple(root)).check(cert, signer=True)


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_a_document_signer_for_another_purpose_is_refused(case: str) -> None:
    root, leaf = _pair(REFUSED[case])
    signed = XadesSigner(PrivateKeyProvider(leaf[1], leaf[0], [])).sign(BILL_OF_LADING)
    with pytest.raises(VerificationError) as caught:
        Verifier(trust=[root[0]], check_revocation=False).verify(signed)
    message = caught.value.message
    assert caught.value.check == "chain"
    assert "document signer certificate CN=Purpose Test Signer" in message
    assert f"serial {leaf[0].serial_number:x}" in message
    assert f"lists only {case}" in message and "RFC 5280 4.2.1.12" in message


@pytest.mark.parametrize("case", sorted(ACCEPTED))
def test_a_document_signer_for_a_signing_purpose_verifies(case: str) -> None:
    root, leaf = _pair(ACCEPTED[case])
    signed = XadesSigner(PrivateKeyProvider(leaf[1], leaf[0], [])).sign(BILL_OF_LADING)
    assert Verifier(trust=[root[0]], check_revocation=False).verify(signed).chain[-1] == root[0]


@pytest.mark.parametrize("what", ["access point certificate", "SMP certificate"])
def test_an_as4_or_smp_signer_for_a_tls_server_only_is_refused(what: str) -> None:
    """The AS4 message and receipt signers and the SMP signer go through the Peppol trust
    stores with ``signer=True``; the same certificate as a TLS or SMP endpoint certificate
    (no ``signer``) is not judged by this rule."""
    root, leaf = _pair([EKU.SERVER_AUTH])
    store = TrustStore((root[0],), what=what)
    with pytest.raises(VerificationError) as caught:
        store.check(leaf[0], signer=True)
    assert f"the {what} CN=Purpose Test Signer" in caught.value.message
    assert "serverAuth" in caught.value.message
    assert store.check(leaf[0])[-1] == root[0]


def test_a_pint_x5c_signer_for_a_tls_server_only_is_refused() -> None:
    """A PINT platform signing with its TLS server certificate as ``x5c``: refused (the
    envelope gets BSIG); one whose certificate also lists clientAuth verifies."""
    root, leaf = _pair([EKU.SERVER_AUTH])
    keys = KeySet(trust=TrustStore((root[0],), what="x5c signing certificate"))
    keys.add(leaf[1], "SGTD")
    token = CompactSigner(leaf[1], x5c=[leaf[0]]).sign_json({"hello": "world"})
    with pytest.raises(VerificationError) as caught:
        verify_compact(token, keys)
    assert "x5c signing certificate CN=Purpose Test Signer" in caught.value.message
    good_root, good = _pair([EKU.SERVER_AUTH, EKU.CLIENT_AUTH])
    keys = KeySet(trust=TrustStore((good_root[0],), what="x5c signing certificate"))
    keys.add(good[1], "SGTD")
    token = CompactSigner(good[1], x5c=[good[0]]).sign_json({"hello": "world"})
    assert verify_compact(token, keys).signer.owner == "SGTD"
