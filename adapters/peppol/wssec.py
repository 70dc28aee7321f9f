"""WS-Security for AS4: the ``wsse:Security`` header's tokens, signature and encryption.

Sending signs first (RSA-SHA256 over ``eb:Messaging``, the SOAP ``Body`` and each compressed
attachment, key in a ``BinarySecurityToken``) and then encrypts each attachment with
AES-128-GCM under a fresh key sent as ``xenc:EncryptedKey`` (RSA-OAEP, MGF1-SHA256, SHA-256)
to the receiver's certificate. Receiving undoes it in the other order.
"""

from __future__ import annotations

import base64
import os
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from cryptography import x509
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from lxml import etree

from adapters.peppol import ns
from adapters.peppol.ns import q
from gateway.errors import VerificationError

ENCRYPTION_ALGORITHM = "as4.encryption-algorithm"
"""The check of an encryption method other than the profile's (RSA-OAEP with SHA-256 and
MGF1-SHA256, AES-128-GCM)."""
TOKEN_TYPE = "as4.signer-token-type"
"""The check of a signing key not given as a Binary Security Token of ValueType X509v3."""
OAEP = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
GCM_IV_BYTES = 12


@dataclass(frozen=True, slots=True)
class Credentials:
    """An access point's key and certificate (RSA, as Peppol AS4 2.0.3 requires)."""

    key: rsa.RSAPrivateKey
    cert: x509.Certificate

    @classmethod
    def from_pem(cls, key_pem: bytes, cert_pem: bytes) -> Credentials:
        """The key and certificate of PEM files; :class:`ValueError` when they are no RSA
        pair: messages signed with a key that is not the certificate's (the one sent in the
        BinarySecurityToken and published in the SMP) fail at every receiver, and what
        partners encrypt to the certificate cannot be decrypted."""
        key = serialization.load_pem_private_key(key_pem, password=None)
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ValueError("Peppol AS4 needs an RSA key")
        cert = x509.load_pem_x509_certificate(cert_pem)
        if cert.public_key() != key.public_key():
            raise ValueError(
                f"the key does not belong to the certificate ({cert.subject.rfc4514_string()}, "
                f"serial {cert.serial_number:x})"
            )
        return cls(key, cert)


def new_id(prefix: str) -> str:
    """A fresh XML id (NCName)."""
    return f"{prefix}-{uuid.uuid4()}"


def security_header() -> etree._Element:
    """An empty ``wsse:Security`` with ``S12:mustUnderstand="true"``."""
    security = etree.Element(q("wsse", "Security"), nsmap={"wsse": ns.WSSE, "wsu": ns.WSU})
    security.set(q("S12", "mustUnderstand"), "true")
    return security


def binary_security_token(cert: x509.Certificate, ident: str) -> etree._Element:
    bst = etree.Element(
        q("wsse", "BinarySecurityToken"),
        EncodingType=ns.BASE64_BINARY,
        ValueType=ns.X509V3,
    )
    bst.set(q("wsu", "Id"), ident)
    bst.text = _der_base64(cert)
    return bst


@lru_cache(maxsize=64)
def _der_base64(cert: x509.Certificate) -> str:
    return base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()


def token_reference(
    uri: str, *, value_type: str | None = ns.X509V3, token_type: str | None = None
) -> etree._Element:
    """``ds:KeyInfo/wsse:SecurityTokenReference/wsse:Reference``."""
    key_info = etree.Element(q("ds", "KeyInfo"), nsmap={"ds": ns.DS})
    reference = etree.SubElement(key_info, q("wsse", "SecurityTokenReference"))
    if token_type:
        reference.set(q("wsse11", "TokenType"), token_type)
    target = etree.SubElement(reference, q("wsse", "Reference"), URI=uri)
    if value_type:
        target.set("ValueType", value_type)
    return key_info


def encrypt_attachments(
    security: etree._Element, receiver: x509.Certificate, attachments: Mapping[str, bytes]
) -> dict[str, bytes]:
    """Append the receiver's token, the ``EncryptedKey`` and one ``EncryptedData`` per
    attachment to ``security``; the encrypted octets (IV ‖ ciphertext ‖ tag) by Content-ID."""
    public = receiver.public_key()
    if not isinstance(public, rsa.RSAPublicKey):
        raise ValueError("the receiver's certificate has no RSA key")
    session = AESGCM.generate_key(bit_length=128)
    token_id = new_id("X509")
    key_id = new_id("EK")
    security.append(binary_security_token(receiver, token_id))
    encrypted_key = etree.SubElement(
        security, q("xenc", "EncryptedKey"), Id=key_id, nsmap={"xenc": ns.XENC}
    )
    method = etree.SubElement(encrypted_key, q("xenc", "EncryptionMethod"), Algorithm=ns.RSA_OAEP)
    etree.SubElement(method, q("ds", "DigestMethod"), Algorithm=ns.SHA256, nsmap={"ds": ns.DS})
    etree.SubElement(
        method, q("xenc11", "MGF"), Algorithm=ns.MGF1_SHA256, nsmap={"xenc11": ns.XENC11}
    )
    encrypted_key.append(token_reference(f"#{token_id}"))
    cipher = etree.SubElement(encrypted_key, q("xenc", "CipherData"))
    etree.SubElement(cipher, q("xenc", "CipherValue")).text = base64.b64encode(
        public.encrypt(session, OAEP)
    ).decode()
    references = etree.SubElement(encrypted_key, q("xenc", "ReferenceList"))
    sealed: dict[str, bytes] = {}
    aead = AESGCM(session)
    for content_id, octets in attachments.items():
        data_id = new_id("ED")
        etree.SubElement(references, q("xenc", "DataReference"), URI=f"#{data_id}")
        data = etree.SubElement(
            security,
            q("xenc", "EncryptedData"),
            Id=data_id,
            MimeType="application/gzip",
            Type=ns.ATTACHMENT_CONTENT_ONLY,
            nsmap={"xenc": ns.XENC},
        )
        etree.SubElement(data, q("xenc", "EncryptionMethod"), Algorithm=ns.AES128_GCM)
        data.append(
            token_reference(f"#{key_id}", value_type=None, token_type=ns.ENCRYPTED_KEY_TOKEN)
        )
        cipher_data = etree.SubElement(data, q("xenc", "CipherData"))
        reference = etree.SubElement(
            cipher_data, q("xenc", "CipherReference"), URI=f"cid:{content_id}"
        )
        transforms = etree.SubElement(reference, q("xenc", "Transforms"))
        etree.SubElement(
            transforms,
            q("ds", "Transform"),
            Algorithm=ns.ATTACHMENT_CIPHERTEXT_TRANSFORM,
            nsmap={"ds": ns.DS},
        )
        iv = os.urandom(GCM_IV_BYTES)
        sealed[content_id] = iv + aead.encrypt(iv, octets, None)
    return sealed


def decrypt_attachments(
    security: etree._Element, key: rsa.RSAPrivateKey, attachments: Mapping[str, bytes | memoryview]
) -> dict[str, bytes]:
    """Decrypt every attachment the ``EncryptedKey`` lists; :class:`VerificationError`
    (check ``as4.decrypt``) when an algorithm is not the profile's or a part fails."""
    encrypted_key = ns.first(security, "xenc:EncryptedKey")
    if encrypted_key is None:
        return {}
    method = ns.first(encrypted_key, "xenc:EncryptionMethod")
    if method is None or method.get("Algorithm") != ns.RSA_OAEP:
        raise VerificationError(
            "key transport is not RSA-OAEP (xmlenc11)", check=ENCRYPTION_ALGORITHM
        )
    digest = ns.first(method, "ds:DigestMethod")
    mgf = ns.first(method, "xenc11:MGF")
    if (
        digest is None
        or digest.get("Algorithm") != ns.SHA256
        or mgf is None
        or mgf.get("Algorithm") != ns.MGF1_SHA256
    ):
        raise VerificationError(
            "RSA-OAEP must name SHA-256 (ds:DigestMethod) and MGF1-SHA256 (xenc11:MGF); "
            "left out, XML Encryption 1.1 means SHA-1 for both",
            check=ENCRYPTION_ALGORITHM,
        )
    value = ns.first_text(encrypted_key, "xenc:CipherData/xenc:CipherValue") or ""
    try:
        session = key.decrypt(base64.b64decode(value.strip()), OAEP)
    except ValueError as exc:
        raise VerificationError(
            "the session key does not decrypt with our key", check="as4.decrypt"
        ) from exc
    if len(session) != 16:
        raise VerificationError("the session key is not AES-128", check="as4.decrypt")
    aead = AESGCM(session)
    plain: dict[str, bytes] = {}
    for data_ref in encrypted_key.iterfind(
        f"{q('xenc', 'ReferenceList')}/{q('xenc', 'DataReference')}"
    ):
        data_id = (data_ref.get("URI") or "").removeprefix("#")
        data = next(
            (
                d
                for d in security.iterchildren(ns.q("xenc", "EncryptedData"))
                if d.get("Id") == data_id
            ),
            None,
        )
        if data is None:
            raise VerificationError(f"EncryptedData #{data_id} is missing", check="as4.decrypt")
        algorithm = ns.first(data, "xenc:EncryptionMethod")
        if algorithm is None or algorithm.get("Algorithm") != ns.AES128_GCM:
            raise VerificationError(
                "attachment encryption is not AES-128-GCM", check=ENCRYPTION_ALGORITHM
            )
        reference = ns.first(data, "xenc:CipherData/xenc:CipherReference")
        uri = reference.get("URI", "") if reference is not None else ""
        if not uri.startswith("cid:") or uri[4:] not in attachments:
            raise VerificationError(
                f"encrypted attachment {uri!r} is not in the message", check="as4.decrypt"
            )
        sealed = attachments[uri[4:]]
        try:
            plain[uri[4:]] = aead.decrypt(sealed[:GCM_IV_BYTES], sealed[GCM_IV_BYTES:], None)
        except (InvalidTag, ValueError) as exc:
            raise VerificationError(
                f"attachment {uri} fails AES-GCM authentication", check="as4.decrypt"
            ) from exc
    return plain


def signing_certificate(root: etree._Element, signature: etree._Element) -> x509.Certificate:
    """The certificate in the ``BinarySecurityToken`` the signature's ``KeyInfo`` points at."""
    reference = ns.first(signature, "ds:KeyInfo/wsse:SecurityTokenReference/wsse:Reference")
    uri = reference.get("URI", "") if reference is not None else ""
    if not uri.startswith("#"):
        raise VerificationError(
            "the signature's KeyInfo names no BinarySecurityToken (the Peppol AS4 profile: "
            "the key identifier type MUST be a Binary Security Token)",
            check=TOKEN_TYPE,
        )
    tokens = [
        el
        for el in root.iter(q("wsse", "BinarySecurityToken"))
        if el.get(q("wsu", "Id")) == uri[1:]
    ]
    if len(tokens) != 1:
        raise VerificationError(f"token {uri} is missing or repeated", check="as4.signer-token")
    if tokens[0].get("ValueType") != ns.X509V3:
        raise VerificationError(
            f"the signing token's ValueType is {tokens[0].get('ValueType')!r}, not {ns.X509V3}",
            check=TOKEN_TYPE,
        )
    try:
        return x509.load_der_x509_certificate(base64.b64decode((tokens[0].text or "").strip()))
    except ValueError as exc:
        raise VerificationError(
            "the signing token is not a certificate", check="as4.signer-token"
        ) from exc
