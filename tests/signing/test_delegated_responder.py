"""Which delegated OCSP responders are believed (RFC 6960 4.2.2.2), asked live.

The answers come from ``openssl ocsp`` signing as a delegated responder of the lab's CA. A
responder certificate is believed when the CA issued it directly, it carries
id-kp-OCSPSigning and, like any certificate the gateway relies on, its key is strong enough,
its keyUsage (when present) allows digitalSignature and it is not signed with SHA-1. Until
now a responder with a 1024-bit key or one whose keyUsage allows only keyCertSign was
believed: its "good" answer stood for the CA's word. (One signed with SHA-1 was already
refused, as ``cryptography`` does not verify SHA-1 certificate signatures; kept as a guard.)
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from gateway.signing.revocation import RevocationChecker
from tests.live_revocation import RevocationLab, SubjectKey, revocation_lab, self_signed_ca

PEM = serialization.Encoding.PEM
NO_PASSWORD = serialization.NoEncryption()
ALL_USAGES_OFF = dict.fromkeys(
    (
        "digital_signature",
        "content_commitment",
        "key_encipherment",
        "data_encipherment",
        "key_agreement",
        "key_cert_sign",
        "crl_sign",
        "encipher_only",
        "decipher_only",
    ),
    False,
)


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[RevocationLab]:
    cert, key = self_signed_ca("Delegated responder test CA")
    with revocation_lab(tmp_path / "ca", cert, key) as made:
        yield made


def _responder(
    issuer: tuple[x509.Certificate, rsa.RSAPrivateKey],
    *,
    key: SubjectKey | None = None,
    purposes: tuple[x509.ObjectIdentifier, ...] = (ExtendedKeyUsageOID.OCSP_SIGNING,),
    usage: dict[str, bool] | None = None,
) -> tuple[x509.Certificate, SubjectKey]:
    """A responder certificate (id-pkix-ocsp-nocheck, so its own status is not asked)."""
    key = key or ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "delegated responder")]))
        .issuer_name(issuer[0].subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage(list(purposes)), critical=False)
        .add_extension(x509.OCSPNoCheck(), critical=False)
    )
    if usage is not None:
        builder = builder.add_extension(x509.KeyUsage(**{**ALL_USAGES_OFF, **usage}), critical=True)
    return builder.sign(issuer[1], hashes.SHA256()), key


def _status_from(lab: RevocationLab, responder: tuple[x509.Certificate, SubjectKey]) -> str:
    cert, _ = lab.issue("signer")
    assert isinstance(lab.ca_key, rsa.RSAPrivateKey)
    lab.start_ocsp(signer=responder)
    return RevocationChecker(fetch_crls=False, timeout=5.0).status(cert, lab.ca_cert)


def _ca(lab: RevocationLab) -> tuple[x509.Certificate, rsa.RSAPrivateKey]:
    assert isinstance(lab.ca_key, rsa.RSAPrivateKey)
    return lab.ca_cert, lab.ca_key


@pytest.mark.parametrize(
    "usage",
    [None, {"digital_signature": True}, {"digital_signature": True, "content_commitment": True}],
)
def test_a_delegated_responder_of_the_issuing_ca_is_believed(
    lab: RevocationLab, usage: dict[str, bool] | None
) -> None:
    responder = _responder(_ca(lab), usage=usage)
    assert _status_from(lab, responder) == f"good:ocsp {lab.ocsp_url}"


def test_a_responder_with_a_1024_bit_key_is_not_believed(lab: RevocationLab) -> None:
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    assert _status_from(lab, _responder(_ca(lab), key=weak)) == "unknown"


def test_a_responder_whose_key_usage_excludes_signatures_is_not_believed(
    lab: RevocationLab,
) -> None:
    """RFC 5280 4.2.1.3: digitalSignature is the bit for verifying signatures other than on
    certificates and CRLs; an OCSP answer is such a signature."""
    responder = _responder(_ca(lab), usage={"key_cert_sign": True, "key_encipherment": True})
    assert _status_from(lab, responder) == "unknown"


def _sha1_responder(lab: RevocationLab, folder: Path) -> tuple[x509.Certificate, SubjectKey]:
    """A responder certificate the lab's CA signed with SHA-1 (by ``openssl x509``:
    ``cryptography`` no longer signs with SHA-1)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "delegated responder")])
    request = x509.CertificateSigningRequestBuilder().subject_name(name).sign(key, hashes.SHA256())
    folder.mkdir()
    (folder / "r.csr").write_bytes(request.public_bytes(PEM))
    (folder / "ca.pem").write_bytes(lab.ca_cert.public_bytes(PEM))
    (folder / "ca.key").write_bytes(
        lab.ca_key.private_bytes(PEM, serialization.PrivateFormat.PKCS8, NO_PASSWORD)
    )
    (folder / "ext.cnf").write_text(
        "basicConstraints=critical,CA:FALSE\nextendedKeyUsage=OCSPSigning\nnoCheck=ignored\n"
    )
    subprocess.run(
        [
            "openssl",
            "x509",
            "-req",
            "-in",
            "r.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-sha1",
            "-days",
            "2",
            "-extfile",
            "ext.cnf",
            "-out",
            "r.pem",
        ],
        cwd=folder,
        check=True,
        capture_output=True,
    )
    cert = x509.load_pem_x509_certificate((folder / "r.pem").read_bytes())
    assert isinstance(cert.signature_hash_algorithm, hashes.SHA1)
    return cert, key


def test_a_responder_certificate_signed_with_sha1_is_not_believed(
    lab: RevocationLab, tmp_path: Path
) -> None:
    assert _status_from(lab, _sha1_responder(lab, tmp_path / "sha1")) == "unknown"


@pytest.mark.parametrize(
    "purposes",
    [(ExtendedKeyUsageOID.SERVER_AUTH,), (ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE,)],
)
def test_a_responder_without_the_ocsp_signing_purpose_is_not_believed(
    lab: RevocationLab, purposes: tuple[x509.ObjectIdentifier, ...]
) -> None:
    """RFC 6960 4.2.2.2: the CA "MUST" include id-kp-OCSPSigning; anyExtendedKeyUsage is not
    that authorisation (4.2.2.2: "explicitly designated")."""
    assert _status_from(lab, _responder(_ca(lab), purposes=purposes)) == "unknown"


def test_a_responder_of_a_sibling_ca_is_not_believed(lab: RevocationLab) -> None:
    """RFC 6960 4.2.2.2: issued directly by the CA that issued the certificate in question;
    a responder of another CA (under the same root or not) speaks for that CA only."""
    sibling = self_signed_ca("Delegated responder test CA")
    assert _status_from(lab, _responder(sibling)) == "unknown"
