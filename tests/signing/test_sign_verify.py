"""Signing and verifying round trips, key providers, and each refusal with its ``check``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from lxml import etree

from gateway.errors import SigningError, VerificationError
from gateway.signing import (
    BackendKeyProvider,
    InProcessBackend,
    SignatureAlgorithm,
    Verifier,
    XadesSigner,
)
from gateway.signing.keys import PrivateKeyProvider
from gateway.signing.testpki import P12_PASSWORD, TestPki

from .signing_support import BILL_OF_LADING, Responder, signer_for

DS = "{http://www.w3.org/2000/09/xmldsig#}"
XA = "{http://uri.etsi.org/01903/v1.3.2#}"
CBC = "{urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2}"


def offline_verifier(pki: TestPki, **options: object) -> Verifier:
    """Trusts ``pki``'s root; revocation from its CRL files only."""
    return Verifier(
        trust=[pki.root.cert],
        crls=[pki.intermediate_crl, pki.root_crl],
        ocsp=False,
        fetch_crls=False,
        **options,  # type: ignore[arg-type]
    )


def refused(verifier: Verifier, data: bytes) -> str:
    with pytest.raises(VerificationError) as caught:
        verifier.verify(data)
    return caught.value.check


@pytest.mark.parametrize("which", ["signer_rsa", "signer_ec"])
def test_ubl_invoice_round_trip(pki: TestPki, bis_invoice: bytes, which: str) -> None:
    signed = signer_for(pki, which).sign(bis_invoice)
    result = offline_verifier(pki).verify(signed)
    assert result.signer_certificate == getattr(pki, which).cert
    assert result.chain[-1] == pki.root.cert
    assert result.checks[-1] == "revocation"
    root = etree.fromstring(result.signed_xml)
    assert root.findtext(f"{CBC}ID") == etree.fromstring(bis_invoice).findtext(f"{CBC}ID")
    assert root.find(f".//{DS}Signature") is None


def test_signature_sits_in_ubl_extensions(pki: TestPki, bis_invoice: bytes) -> None:
    root = etree.fromstring(signer_for(pki).sign(bis_invoice))
    ext = "{urn:oasis:names:specification:ubl:schema:xsd:CommonExtensionComponents-2}"
    assert root[0].tag == f"{ext}UBLExtensions"
    info = root[0][0].find(f"{ext}ExtensionContent")[0][0]  # type: ignore[index]
    assert info[2].tag == f"{DS}Signature"
    body = root.find(
        "{urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2}Signature"
    )
    assert body is not None
    assert body.findtext(f"{CBC}ID") == info.findtext(
        "{urn:oasis:names:specification:ubl:schema:xsd:SignatureBasicComponents-2}ReferencedSignatureID"
    )


def test_credit_note_and_bill_of_lading(pki: TestPki, bis_credit_note: bytes) -> None:
    verifier = offline_verifier(pki)
    for document in (bis_credit_note, BILL_OF_LADING):
        assert verifier.verify(signer_for(pki, "signer_ec").sign(document)).checks


def test_generic_xml_enveloped_and_detached(pki: TestPki) -> None:
    signer, verifier = signer_for(pki), offline_verifier(pki)
    signed = signer.sign(b"<order><line>1</line></order>")
    assert etree.fromstring(signed)[-1].tag == f"{DS}Signature"
    assert verifier.verify(signed).signed_xml == b"<order><line>1</line></order>"
    data = b'{"fphm": "24312000000000000001", "amount": "100.00"}'
    detached = signer.sign_detached(data, name="fapiao.json", mime_type="application/json")
    assert verifier.verify_detached(detached, data).signed_xml == data
    with pytest.raises(VerificationError) as caught:
        verifier.verify_detached(detached, data.replace(b"100", b"900"))
    assert caught.value.check == "reference"


def test_key_providers_pem_pkcs12_and_backend(pki: TestPki, bis_invoice: bytes) -> None:
    verifier = offline_verifier(pki)
    pem = XadesSigner.from_files(
        pki.path("signer-rsa.key.pem"), pki.path("signer-rsa.pem"), [pki.path("chain.pem")]
    )
    again = XadesSigner.from_files(
        pki.path("signer-rsa.key.pem"), pki.path("signer-rsa.pem"), [pki.path("chain.pem")]
    )
    assert pem.provider is again.provider
    p12 = XadesSigner.from_files(pki.path("signer-rsa.p12"), password=P12_PASSWORD)
    backend = InProcessBackend({"gw-ec": pki.signer_ec.key})
    hsm = XadesSigner(
        BackendKeyProvider(backend, "gw-ec", pki.signer_ec.cert, [pki.intermediate.cert])
    )
    for signer in (pem, p12, hsm):
        assert verifier.verify(signer.sign(bis_invoice)).checks
    assert backend.calls == 1


def test_mismatched_key_and_certificate_refused(pki: TestPki) -> None:
    with pytest.raises(SigningError):
        PrivateKeyProvider(pki.signer_ec.key, pki.signer_rsa.cert)
    with pytest.raises(SigningError):
        BackendKeyProvider(InProcessBackend({"k": pki.signer_ec.key}), "k", pki.signer_rsa.cert)


def test_mismatched_key_and_certificate_files_are_named(pki: TestPki) -> None:
    """What ``lingang serve`` and ``lingang sign`` print for a key and certificate that are no
    pair names both files (it said only 'the private key does not belong to the
    certificate')."""
    key, cert = pki.path("signer-rsa.key.pem"), pki.path("signer-ec.pem")
    with pytest.raises(SigningError) as caught:
        XadesSigner.from_files(key, cert)
    assert str(key) in caught.value.message and str(cert) in caught.value.message
    assert "Lingang Gateway Signing EC" in caught.value.message


def test_sha1_refused_when_signing(pki: TestPki) -> None:
    provider = PrivateKeyProvider(pki.signer_rsa.key, pki.signer_rsa.cert)
    with pytest.raises(SigningError):
        XadesSigner(provider, algorithm="http://www.w3.org/2000/09/xmldsig#rsa-sha1")  # type: ignore[arg-type]
    with pytest.raises(SigningError):
        XadesSigner(provider, algorithm=SignatureAlgorithm.ECDSA_SHA256).sign(b"<a/>")


def test_expired_certificate_refused_by_signer_and_verifier(
    pki: TestPki, bis_invoice: bytes
) -> None:
    with pytest.raises(SigningError):
        signer_for(pki, "expired").sign(bis_invoice)
    signed = signer_for(pki, "expired", check_validity=False).sign(bis_invoice)
    assert refused(offline_verifier(pki), signed) == "expired"


def test_expired_since_signing_is_not_valid_without_proof_of_existence(
    pki: TestPki, bis_invoice: bytes
) -> None:
    """A B-B signature claims its SigningTime; nothing proves it (no time-stamp). A certificate
    that has expired since is refused (EN 319 102-1 5.3: the basic signature is validated at
    the current time; out of bounds with no proof of existence): once it has expired, its
    revocation is no longer published, and anyone holding the key could sign now and claim a
    time inside the validity. It verified as valid."""
    now = datetime.now(UTC)
    key = ec.generate_private_key(ec.SECP256R1())
    lapsed = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Lapsed Signer")]))
        .issuer_name(pki.intermediate.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(pki.intermediate.cert.not_valid_before_utc)
        .not_valid_after(now - timedelta(minutes=1))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(pki.intermediate.key, hashes.SHA256())
    )
    provider = PrivateKeyProvider(key, lapsed, [pki.intermediate.cert])
    signer = XadesSigner(provider, check_validity=False)
    signed = signer.sign(bis_invoice, signing_time=now - timedelta(minutes=30))
    with pytest.raises(VerificationError) as caught:
        offline_verifier(pki).verify(signed)
    assert caught.value.check == "expired"
    assert "no time-stamp" in caught.value.message


def test_not_yet_valid_at_claimed_signing_time(pki: TestPki, bis_invoice: bytes) -> None:
    early = pki.signer_rsa.cert.not_valid_before_utc - timedelta(days=2)
    signed = signer_for(pki, check_validity=False).sign(bis_invoice, signing_time=early)
    assert refused(offline_verifier(pki), signed) == "not-yet-valid"


def test_tampered_content_refused(pki: TestPki, bis_invoice: bytes) -> None:
    signed = signer_for(pki).sign(bis_invoice)
    tampered = signed.replace(
        b'<cbc:PayableAmount currencyID="EUR">', b'<cbc:PayableAmount currencyID="USD">'
    )
    assert tampered != signed
    assert refused(offline_verifier(pki), tampered) == "reference"


def test_tampered_signed_properties_refused(pki: TestPki, bis_invoice: bytes) -> None:
    root = etree.fromstring(signer_for(pki).sign(bis_invoice))
    signing_time = next(root.iter(f"{XA}SigningTime"))
    signing_time.text = "2026-01-01T00:00:00Z"
    assert refused(offline_verifier(pki), etree.tostring(root)) == "signed-properties"


class WrongKeyProvider:
    """Claims one certificate, signs with another key."""

    def __init__(self, pki: TestPki) -> None:
        self.certificate = pki.signer_ec.cert
        self.chain = [pki.intermediate.cert]
        self._other = PrivateKeyProvider(pki.revoked.key, pki.revoked.cert)

    def sign(self, data: bytes, algorithm: SignatureAlgorithm) -> bytes:
        return self._other.sign(data, algorithm)


def test_wrong_key_refused(pki: TestPki, bis_invoice: bytes) -> None:
    signed = XadesSigner(WrongKeyProvider(pki)).sign(bis_invoice)
    assert refused(offline_verifier(pki), signed) == "signature"


def test_untrusted_certificate_refused(
    pki: TestPki, other_pki: TestPki, bis_invoice: bytes
) -> None:
    signed = signer_for(other_pki).sign(bis_invoice)
    assert refused(offline_verifier(pki), signed) == "chain"


def test_revoked_by_crl_file(pki: TestPki, bis_invoice: bytes) -> None:
    signed = signer_for(pki, "revoked").sign(bis_invoice)
    assert refused(offline_verifier(pki), signed) == "revoked"


@pytest.mark.xdist_group("responder")
def test_revoked_by_ocsp(pki: TestPki, live_responder: Responder, bis_invoice: bytes) -> None:
    verifier = Verifier(trust=[pki.root.cert])
    before = live_responder.ocsp_requests
    with pytest.raises(VerificationError) as caught:
        verifier.verify(signer_for(pki, "revoked").sign(bis_invoice))
    assert caught.value.check == "revoked" and "OCSP" in caught.value.message
    assert live_responder.ocsp_requests > before
    result = verifier.verify(signer_for(pki, "signer_ec").sign(bis_invoice))
    assert result.checks[-1] == "revocation"


@pytest.mark.xdist_group("responder")
def test_crl_distribution_point_fallback_when_ocsp_down(
    pki: TestPki, live_responder: Responder, bis_invoice: bytes
) -> None:
    live_responder.ocsp_down = True
    verifier = Verifier(trust=[pki.root.cert])
    before = live_responder.crl_requests
    with pytest.raises(VerificationError) as caught:
        verifier.verify(signer_for(pki, "revoked").sign(bis_invoice))
    assert caught.value.check == "revoked" and "CRL http" in caught.value.message
    assert live_responder.crl_requests > before
    assert verifier.verify(signer_for(pki).sign(bis_invoice)).checks[-1] == "revocation"


@pytest.mark.xdist_group("responder")
def test_unknown_revocation_hard_and_soft_fail(
    pki: TestPki, live_responder: Responder, bis_invoice: bytes
) -> None:
    live_responder.ocsp_down = True
    live_responder.crl_down = True
    signed = signer_for(pki).sign(bis_invoice)
    assert refused(Verifier(trust=[pki.root.cert]), signed) == "revocation-unknown"
    soft = Verifier(trust=[pki.root.cert], soft_fail=True).verify(signed)
    assert soft.checks[-1] == "revocation-soft-fail"


def test_offline_pki_without_crl_is_unknown(offline_pki: TestPki, bis_invoice: bytes) -> None:
    signed = signer_for(offline_pki).sign(bis_invoice)
    verifier = Verifier(trust=[offline_pki.root.cert])
    assert refused(verifier, signed) == "revocation-unknown"
    with_crls = Verifier(
        trust=[offline_pki.root.cert],
        crls=[offline_pki.path("intermediate.crl.pem"), offline_pki.path("root.crl.pem")],
    )
    assert with_crls.verify(signed).checks[-1] == "revocation"


def test_ecdsa_value_is_raw_r_s(pki: TestPki) -> None:
    signed = signer_for(pki, "signer_ec").sign(b"<a>x</a>")
    value = etree.fromstring(signed).findtext(f".//{DS}SignatureValue")
    import base64

    assert len(base64.b64decode(value or "")) == 64
    assert isinstance(pki.signer_ec.cert.public_key(), ec.EllipticCurvePublicKey)


def test_already_signed_and_bad_input(pki: TestPki, bis_invoice: bytes) -> None:
    signer = signer_for(pki)
    with pytest.raises(SigningError):
        signer.sign(signer.sign(bis_invoice))
    assert refused(offline_verifier(pki), b"<not-xml") == "structure"
    assert refused(offline_verifier(pki), bis_invoice) == "structure"
    assert isinstance(pki.root.cert, x509.Certificate)


def test_cii_is_signed_detached(pki: TestPki, reference: Path) -> None:
    cii = (
        reference / "connectingeurope-einvoicing-en16931/cii/examples/CII_example1.xml"
    ).read_bytes()
    signer = signer_for(pki, "signer_ec")
    with pytest.raises(SigningError, match="detached"):
        signer.sign(cii)
    signature = signer.sign_detached(cii, name="invoice.xml", mime_type="text/xml")
    assert offline_verifier(pki).verify_detached(signature, cii).signed_xml == cii


def test_existing_extensions_and_top_level_nodes_kept(pki: TestPki, bis_invoice: bytes) -> None:
    root = etree.fromstring(bis_invoice)
    ext = "urn:oasis:names:specification:ubl:schema:xsd:CommonExtensionComponents-2"
    extensions = etree.Element(f"{{{ext}}}UBLExtensions", nsmap={"ext": ext})
    other = etree.SubElement(extensions, f"{{{ext}}}UBLExtension")
    etree.SubElement(other, f"{{{ext}}}ExtensionURI").text = "urn:example:other"
    etree.SubElement(etree.SubElement(other, f"{{{ext}}}ExtensionContent"), "Other").text = "x"
    root.insert(0, extensions)
    document = b'<?xml version="1.0" encoding="UTF-8"?>\n<?app hint="1"?>\n' + etree.tostring(root)
    signed = signer_for(pki).sign(document)
    assert signed.count(b"<ext:UBLExtensions") == 1
    assert b'<?app hint="1"?>' in signed
    result = offline_verifier(pki).verify(signed)
    assert b'<?app hint="1"?>' in result.signed_xml
    assert b"urn:example:other" in result.signed_xml


@pytest.mark.xdist_group("responder")
def test_rogue_ocsp_answer_ignored(
    pki: TestPki, live_responder: Responder, bis_invoice: bytes
) -> None:
    """An OCSP answer signed by a key the issuer never delegated counts for nothing: the
    CRL at the distribution point decides."""
    live_responder.rogue = True
    verifier = Verifier(trust=[pki.root.cert])
    before = live_responder.crl_requests
    result = verifier.verify(signer_for(pki, "signer_ec").sign(bis_invoice))
    assert result.checks[-1] == "revocation"
    assert live_responder.crl_requests > before


def test_signing_time_in_the_future_refused(pki: TestPki, bis_invoice: bytes) -> None:
    later = datetime.now(UTC) + timedelta(days=1)
    signed = signer_for(pki, check_validity=False).sign(bis_invoice, signing_time=later)
    assert refused(offline_verifier(pki), signed) == "not-yet-valid"


def test_p384_key_signs_with_sha384(tmp_path: Path, pki: TestPki) -> None:
    from cryptography.hazmat.primitives import hashes as h
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP384R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "P-384 signer")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(pki.intermediate.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=1))
        .sign(pki.intermediate.key, h.SHA256())
    )
    signer = XadesSigner(PrivateKeyProvider(key, cert, [pki.intermediate.cert]))
    assert signer.algorithm == SignatureAlgorithm.ECDSA_SHA384
    verifier = Verifier(trust=[pki.root.cert], check_revocation=False)
    assert verifier.verify(signer.sign(b"<a>1</a>")).signer_certificate == cert


def test_unreadable_key_material_is_a_typed_error(pki: TestPki, tmp_path: Path) -> None:
    from gateway.errors import InputError

    with pytest.raises(InputError):
        Verifier(trust=[tmp_path / "missing.pem"])
    (tmp_path / "junk.pem").write_bytes(
        b"-----BEGIN CERTIFICATE-----\nxx\n-----END CERTIFICATE-----\n"
    )
    with pytest.raises(InputError):
        Verifier(trust=[tmp_path / "junk.pem"])
    with pytest.raises(SigningError):
        XadesSigner.from_files(tmp_path / "missing.key.pem", pki.path("signer-rsa.pem"))
    with pytest.raises(SigningError):
        XadesSigner.from_files(pki.path("signer-rsa.p12"), password=b"wrong")


@pytest.mark.xdist_group("responder")
def test_untrusted_certificates_trigger_no_fetches(
    live_responder: Responder, pki: TestPki, tmp_path: Path, bis_invoice: bytes
) -> None:
    """Revocation URLs are only followed for certificates that chain to the trust store."""
    from gateway.signing.testpki import make_test_pki

    base = live_responder.base
    stranger = make_test_pki(tmp_path / "stranger", ocsp_url=f"{base}/ocsp", crl_base=f"{base}/crl")
    before = (live_responder.ocsp_requests, live_responder.crl_requests)
    assert (
        refused(Verifier(trust=[pki.root.cert]), signer_for(stranger).sign(bis_invoice)) == "chain"
    )
    assert (live_responder.ocsp_requests, live_responder.crl_requests) == before


async def test_verify_async(pki: TestPki, bis_invoice: bytes) -> None:
    result = await offline_verifier(pki).verify_async(signer_for(pki).sign(bis_invoice))
    assert result.checks[-1] == "revocation"


@pytest.mark.xdist_group("responder")
def test_replayed_ocsp_answer_ignored(
    pki: TestPki, live_responder: Responder, bis_invoice: bytes
) -> None:
    """With a nonce asked for, an OCSP answer carrying another request's nonce is not taken;
    the CRL decides."""
    live_responder.replay = True
    before = live_responder.crl_requests
    verifier = Verifier(trust=[pki.root.cert], ocsp_nonce=True)
    result = verifier.verify(signer_for(pki).sign(bis_invoice))
    assert result.checks[-1] == "revocation"
    assert live_responder.crl_requests > before
