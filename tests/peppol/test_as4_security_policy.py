"""WS-Security methods at the AS4 endpoint: a message signed or encrypted with other methods
than the Peppol AS4 profile's is refused with ``EBMS:0103`` PolicyNoncompliance (ebMS 3 Core
§6.7.2: "the message's security methods, parameters, scope … were not satisfied"); a
signature or decryption that fails stays ``EBMS:0101`` / ``EBMS:0102``.

The profile's methods (``07-peppol-pki.adoc``, CEF eDelivery AS4 1.14, the phase4 wire message
in ``phax-phase4-examples/usermessage/dump-raw.as4out``): the signing key in a Binary Security
Token of ValueType X509v3, RSA-SHA256 over exclusive C14N, SHA-256 digests; the session key by RSA-OAEP
(xmlenc11) naming SHA-256 and MGF1-SHA256; the attachment by AES-128-GCM."""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from lxml import etree

from adapters.peppol import as4, ns, wssec, xmldsig
from adapters.peppol.ns import q
from adapters.peppol.receiver import ANSWERED
from gateway.signing.peppol_pki import PeppolTestPki
from gateway.signing.truststore import TrustStore
from gateway.testing.tls import TlsFiles
from tests.peppol.as4_gateway import INVOICE, GatewayAp, post, probe_message

Mutate = Callable[[PeppolTestPki, etree._Element, etree._Element], None]
"""Changes the finished ``wsse:Security`` header (given with its ``ds:Signature``)."""


def _message(pki: PeppolTestPki, document: bytes, mutate: Mutate) -> tuple[bytes, str]:
    """The invoice signed and encrypted by our codec, then its security header changed."""
    return probe_message(
        pki,
        document,
        "policy",
        mutate_security=lambda security, signature: mutate(pki, security, signature),
    )


def _resigned(algorithm: str, digest: hashes.HashAlgorithm) -> Mutate:
    """The SignatureValue made again with ``algorithm`` (a valid signature, another method)."""

    def mutate(pki: PeppolTestPki, _: etree._Element, signature: etree._Element) -> None:
        signed_info = signature.find("ds:SignedInfo", ns.NSMAP)
        assert signed_info is not None
        signed_info.find("ds:SignatureMethod", ns.NSMAP).set("Algorithm", algorithm)  # type: ignore[union-attr]
        octets = xmldsig.exc_c14n(signed_info)
        value = pki.sender.key.sign(octets, padding.PKCS1v15(), digest)
        signature.find("ds:SignatureValue", ns.NSMAP).text = base64.b64encode(value).decode()  # type: ignore[union-attr]

    return mutate


def _inclusive_c14n(pki: PeppolTestPki, _: etree._Element, signature: etree._Element) -> None:
    """SignedInfo canonicalized inclusively (a valid signature, another method)."""
    signed_info = signature.find("ds:SignedInfo", ns.NSMAP)
    assert signed_info is not None
    signed_info.find("ds:CanonicalizationMethod", ns.NSMAP).set("Algorithm", ns.C14N_INCLUSIVE)  # type: ignore[union-attr]
    octets = etree.tostring(signed_info, method="c14n", exclusive=False, with_comments=False)
    value = pki.sender.key.sign(octets, padding.PKCS1v15(), hashes.SHA256())
    signature.find("ds:SignatureValue", ns.NSMAP).text = base64.b64encode(value).decode()  # type: ignore[union-attr]


def _x509_data(_: PeppolTestPki, __: etree._Element, signature: etree._Element) -> None:
    """The signing certificate inline in ``ds:X509Data`` instead of a BST reference."""
    key_info = signature.find("ds:KeyInfo", ns.NSMAP)
    assert key_info is not None
    token = signature.getprevious()
    assert token is not None and token.tag == q("wsse", "BinarySecurityToken")
    for child in list(key_info):
        key_info.remove(child)
    data = etree.SubElement(key_info, q("ds", "X509Data"))
    etree.SubElement(data, q("ds", "X509Certificate")).text = token.text


def _token_value_type(_: PeppolTestPki, __: etree._Element, signature: etree._Element) -> None:
    token = signature.getprevious()
    assert token is not None
    token.set("ValueType", ns.X509V3.replace("#X509v3", "#X509PKIPathv1"))


def _set(path: str, value: str) -> Mutate:
    def mutate(_: PeppolTestPki, security: etree._Element, __: etree._Element) -> None:
        found = security.find(path, ns.NSMAP)
        assert found is not None, path
        found.set("Algorithm", value)

    return mutate


def _drop(path: str) -> Mutate:
    def mutate(_: PeppolTestPki, security: etree._Element, __: etree._Element) -> None:
        found = security.find(path, ns.NSMAP)
        assert found is not None, path
        found.getparent().remove(found)  # type: ignore[union-attr]

    return mutate


KEY_METHOD = "xenc:EncryptedKey/xenc:EncryptionMethod"
DATA_METHOD = "xenc:EncryptedData/xenc:EncryptionMethod"
POLICY: dict[str, tuple[Mutate, str]] = {
    "RSA-SHA1 signature": (_resigned(ns.RSA_SHA1, hashes.SHA1()), "xmldsig.signature-method"),
    "RSA-SHA512 signature": (
        _resigned("http://www.w3.org/2001/04/xmldsig-more#rsa-sha512", hashes.SHA512()),
        "xmldsig.signature-method"),
    "inclusive C14N of SignedInfo": (_inclusive_c14n, "xmldsig.c14n"),
    "key in X509Data, no BST": (_x509_data, "as4.signer-token-type"),
    "BST of ValueType X509PKIPathv1": (_token_value_type, "as4.signer-token-type"),
    "RSA 1.5 key transport": (
        _set(KEY_METHOD, "http://www.w3.org/2001/04/xmlenc#rsa-1_5"), "as4.encryption-algorithm"),
    "RSA-OAEP with MGF1-SHA1": (
        _set(f"{KEY_METHOD}/xenc11:MGF", "http://www.w3.org/2009/xmlenc11#mgf1sha1"),
        "as4.encryption-algorithm"),
    "RSA-OAEP without its MGF (SHA-1)": (_drop(f"{KEY_METHOD}/xenc11:MGF"), "as4.encryption-algorithm"),
    "RSA-OAEP without its digest (SHA-1)": (
        _drop(f"{KEY_METHOD}/ds:DigestMethod"), "as4.encryption-algorithm"),
    "AES-256-GCM": (_set(DATA_METHOD, "http://www.w3.org/2009/xmlenc11#aes256-gcm"), "as4.encryption-algorithm"),
    "AES-128-CBC": (_set(DATA_METHOD, "http://www.w3.org/2001/04/xmlenc#aes128-cbc"), "as4.encryption-algorithm"),
}  # fmt: skip


def _parse(pki: PeppolTestPki, trust: TrustStore, body: bytes, content_type: str) -> object:
    return as4.parse_user_message(
        content_type,
        body,
        credentials=wssec.Credentials(pki.receiver.key, pki.receiver.cert),
        check_signer=trust.check,
    )


@pytest.mark.parametrize("case", sorted(POLICY))
def test_another_security_method_is_policy_noncompliance(
    pki: PeppolTestPki, ap_trust: TrustStore, reference: Path, case: str
) -> None:
    mutate, rule = POLICY[case]
    body, content_type = _message(pki, (reference / INVOICE).read_bytes(), mutate)
    with pytest.raises(as4.As4Invalid) as caught:
        _parse(pki, ap_trust, body, content_type)
    assert (caught.value.ebms_code, caught.value.rule) == ("EBMS:0103", rule)


def test_the_profiles_methods_pass_and_failures_keep_their_codes(
    pki: PeppolTestPki, ap_trust: TrustStore, reference: Path
) -> None:
    document = (reference / INVOICE).read_bytes()
    body, content_type = _message(pki, document, lambda *_: None)
    _parse(pki, ap_trust, body, content_type)

    def bad_value(_: PeppolTestPki, __: etree._Element, signature: etree._Element) -> None:
        value = signature.find("ds:SignatureValue", ns.NSMAP)
        assert value is not None and value.text
        value.text = ("B" if value.text[0] == "A" else "A") + value.text[1:]

    body, content_type = _message(pki, document, bad_value)
    with pytest.raises(as4.As4Invalid) as caught:
        _parse(pki, ap_trust, body, content_type)
    assert caught.value.ebms_code == "EBMS:0101"

    def other_key(pki: PeppolTestPki, security: etree._Element, _: etree._Element) -> None:
        token = security.find("wsse:BinarySecurityToken", ns.NSMAP)
        assert token is not None  # the receiver's token the EncryptedKey names
        cipher = security.find("xenc:EncryptedKey/xenc:CipherData/xenc:CipherValue", ns.NSMAP)
        assert cipher is not None
        cipher.text = base64.b64encode(
            pki.receiver.cert.public_key().encrypt(  # type: ignore[union-attr]
                b"\x00" * 16, wssec.OAEP
            )
        ).decode()

    body, content_type = _message(pki, document, other_key)
    with pytest.raises(as4.As4Invalid) as caught:
        _parse(pki, ap_trust, body, content_type)
    assert caught.value.ebms_code == "EBMS:0102"


async def test_the_endpoint_answers_policy_noncompliance(
    ap: GatewayAp, pki: PeppolTestPki, tls: TlsFiles, ap_trust: TrustStore, reference: Path
) -> None:
    mutate, _ = POLICY["RSA-SHA1 signature"]
    body, content_type = _message(pki, (reference / INVOICE).read_bytes(), mutate)
    answer = await post(ap.url, body, content_type, tls.client_context())
    assert answer.status == ANSWERED
    assert answer.error_codes(ap_trust) == [("EBMS:0103", "")]
    assert answer.signal(ap_trust).errors[0].short_description == "PolicyNoncompliance"
    assert await ap.services.store.list_inbound() == []
