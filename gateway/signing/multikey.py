"""P-256 keys as W3C Multikeys, ``did:web`` identifiers and the DID documents that publish them.

::

    key = load_vc_key(Path("vc-key.pem"))                 # ECDSA P-256 (PKCS#8 PEM)
    did = did_web("carrier.example", port=8443)          # did:web:carrier.example%3A8443
    doc = did_document(did, key.public_key())            # serve at did_json_url(did)
    public = multikey_public(doc, did + "#keys-1")       # back to a key, for verification

A P-256 public Multikey is ``z`` + base58btc(``0x80 0x24`` + the 33-byte compressed point); a
secret one is ``z`` + base58btc(``0x86 0x26`` + the 32-byte scalar) (W3C Controlled
Identifiers 1.0, Multikey; the multicodec table's ``p256-pub`` / ``p256-priv``).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from gateway.errors import InputError, SigningError

P256_PUB_PREFIX = b"\x80\x24"
P256_PRIV_PREFIX = b"\x86\x26"
KEY_FRAGMENT = "keys-1"
DID_CONTEXTS = ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"]
_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_DOMAIN = re.compile(r"^[A-Za-z0-9.-]+$")


def b58encode(data: bytes) -> str:
    """Bitcoin base58 (the multibase ``z`` alphabet)."""
    number = int.from_bytes(data, "big")
    out = ""
    while number:
        number, rest = divmod(number, 58)
        out = _ALPHABET[rest] + out
    return "1" * (len(data) - len(data.lstrip(b"\0"))) + out


def b58decode(text: str) -> bytes:
    """Inverse of :func:`b58encode`; :class:`InputError` on a character outside the alphabet."""
    number = 0
    for char in text:
        index = _ALPHABET.find(char)
        if index < 0:
            raise InputError(f"not base58btc: {char!r}", rule="multibase.base58btc")
        number = number * 58 + index
    body = number.to_bytes((number.bit_length() + 7) // 8, "big")
    return b"\0" * (len(text) - len(text.lstrip("1"))) + body


def public_multikey_bytes(key: ec.EllipticCurvePublicKey) -> bytes:
    """``0x80 0x24`` + the compressed point of a P-256 public key."""
    if not isinstance(key.curve, ec.SECP256R1):
        raise SigningError(f"ecdsa-sd-2023 needs a P-256 key, not {key.curve.name}")
    point = key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint
    )
    return P256_PUB_PREFIX + point


def public_key_from_multikey_bytes(data: bytes) -> ec.EllipticCurvePublicKey:
    """A P-256 public key from its multicodec bytes; :class:`InputError` otherwise."""
    if not data.startswith(P256_PUB_PREFIX) or len(data) != 35:
        raise InputError("not a P-256 Multikey (0x8024 + 33 bytes)", rule="multikey.p256")
    try:
        return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), data[2:])
    except ValueError as exc:
        raise InputError(f"P-256 Multikey: {exc}", rule="multikey.p256") from exc


def public_key_multibase(key: ec.EllipticCurvePublicKey) -> str:
    """``publicKeyMultibase`` of a P-256 key."""
    return "z" + b58encode(public_multikey_bytes(key))


def secret_key_multibase(key: ec.EllipticCurvePrivateKey) -> str:
    """``secretKeyMultibase`` of a P-256 key (as TrustVC's key pairs carry it)."""
    scalar = key.private_numbers().private_value.to_bytes(32, "big")
    return "z" + b58encode(P256_PRIV_PREFIX + scalar)


def load_vc_key(path: Path) -> ec.EllipticCurvePrivateKey:
    """An ECDSA P-256 private key from a PEM file; :class:`SigningError` otherwise."""
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise SigningError(f"{path}: not a readable unencrypted PEM private key: {exc}") from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
        raise SigningError(f"{path}: ecdsa-sd-2023 needs an ECDSA P-256 key")
    return key


def did_web(domain: str, *, port: int | None = None, path: str = "") -> str:
    """``did:web`` of a host (``%3A`` before a port) and an optional path (``:`` separated)."""
    if not _DOMAIN.match(domain):
        raise InputError(f"did:web domain {domain!r}: letters, digits, dots and hyphens only")
    host = domain if port is None else f"{domain}%3A{port}"
    parts = [quote(p, safe="") for p in path.strip("/").split("/") if p]
    return ":".join(["did:web", host, *parts])


def did_json_url(did: str) -> str:
    """Where a ``did:web`` DID document is served (``/.well-known/did.json`` without a path)."""
    if not did.startswith("did:web:"):
        raise InputError(f"{did!r} is not a did:web", field="issuer", rule="did.web")
    host, *path = did.removeprefix("did:web:").split(":")
    where = "/".join(unquote(p) for p in path) if path else ".well-known"
    return f"https://{unquote(host)}/{where}/did.json"


def did_document(did: str, key: ec.EllipticCurvePublicKey) -> dict[str, Any]:
    """The DID document publishing ``key`` as ``DID#keys-1`` (a Multikey), in TrustVC's shape."""
    method = f"{did}#{KEY_FRAGMENT}"
    return {
        "@context": list(DID_CONTEXTS),
        "id": did,
        "verificationMethod": [
            {
                "type": "Multikey",
                "id": method,
                "controller": did,
                "publicKeyMultibase": public_key_multibase(key),
            }
        ],
        "assertionMethod": [method],
        "authentication": [method],
        "capabilityInvocation": [method],
        "capabilityDelegation": [method],
    }


def multikey_public(document: dict[str, Any], method: str) -> ec.EllipticCurvePublicKey:
    """The P-256 key of verification method ``method``, which must be an assertion method."""
    assertion = [
        m if isinstance(m, str) else m.get("id") for m in document.get("assertionMethod", [])
    ]
    if method not in assertion:
        raise InputError(
            f"{method} is not an assertionMethod of {document.get('id')}",
            field="proof/verificationMethod",
            rule="did.assertion-method",
        )
    for entry in document.get("verificationMethod", []):
        if isinstance(entry, dict) and entry.get("id") == method:
            encoded = str(entry.get("publicKeyMultibase", ""))
            if entry.get("type") != "Multikey" or not encoded.startswith("z"):
                raise InputError(f"{method}: not a base58btc Multikey", rule="did.multikey")
            return public_key_from_multikey_bytes(b58decode(encoded[1:]))
    raise InputError(
        f"{method} is not in the DID document {document.get('id')}",
        field="proof/verificationMethod",
        rule="did.verification-method",
    )
