"""Detached JWS (RFC 7515 appendix F) over an HTTP body: sign on send, verify on receipt.

The header ``X-Lingang-Signature`` carries ``BASE64URL(header)..BASE64URL(signature)``; the
signing input is ``BASE64URL(header) "." BASE64URL(body)``. A header with ``crit`` is refused:
no extension is processed here (RFC 7515 4.1.11), the unencoded payload of RFC 7797
(``"b64": false``) among them. The protected header names the
algorithm and the certificate's SHA-256 thumbprint (``x5t#S256``) so the receiver can pick
the key. RSA keys sign with RS256, P-256 keys with ES256, Ed25519 keys with EdDSA.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa, utils

from gateway.errors import SigningError, VerificationError
from gateway.jsontext import loads_bounded
from gateway.signing.jose import MAX_HEADER_DEPTH

SIGNATURE_HEADER = "X-Lingang-Signature"
MESSAGE_ID_HEADER = "X-Lingang-Message-Id"


def b64url(data: bytes) -> str:
    """Unpadded base64url."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Decode unpadded base64url."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True, slots=True)
class DetachedJwsSigner:
    """Signs transport bodies with the gateway's key; never logs or exposes the key."""

    key: Any
    thumbprint: str | None = None

    @classmethod
    def from_files(cls, key: Path, cert: Path | None = None) -> DetachedJwsSigner:
        """Load a PEM private key (and optionally its certificate for the thumbprint)."""
        try:
            private = serialization.load_pem_private_key(key.read_bytes(), password=None)
        except (OSError, ValueError, TypeError) as exc:
            raise SigningError(f"cannot load transport signing key {key.name}: {exc}") from exc
        thumb = None
        if cert is not None:
            try:
                certificate = x509.load_pem_x509_certificate(cert.read_bytes())
            except (OSError, ValueError) as exc:
                raise SigningError(f"cannot load certificate {cert.name}: {exc}") from exc
            thumb = b64url(certificate.fingerprint(hashes.SHA256()))
        return cls(private, thumb)

    def algorithm(self) -> str:
        """The JWS ``alg`` for this key."""
        if isinstance(self.key, rsa.RSAPrivateKey):
            return "RS256"
        if isinstance(self.key, ec.EllipticCurvePrivateKey):
            return "ES256"
        if isinstance(self.key, ed25519.Ed25519PrivateKey):
            return "EdDSA"
        raise SigningError(f"unsupported key type {type(self.key).__name__}")

    def sign_detached(self, body: bytes) -> str:
        """``header..signature`` over ``body``."""
        header: dict[str, str] = {"alg": self.algorithm(), "typ": "JOSE"}
        if self.thumbprint:
            header["x5t#S256"] = self.thumbprint
        protected = b64url(json.dumps(header, separators=(",", ":")).encode())
        signing_input = f"{protected}.{b64url(body)}".encode("ascii")
        return f"{protected}..{b64url(self._sign(signing_input))}"

    def _sign(self, data: bytes) -> bytes:
        if isinstance(self.key, rsa.RSAPrivateKey):
            return self.key.sign(data, padding.PKCS1v15(), hashes.SHA256())
        if isinstance(self.key, ec.EllipticCurvePrivateKey):
            der = self.key.sign(data, ec.ECDSA(hashes.SHA256()))
            r, s = utils.decode_dss_signature(der)
            size = (self.key.curve.key_size + 7) // 8
            return r.to_bytes(size, "big") + s.to_bytes(size, "big")
        if isinstance(self.key, ed25519.Ed25519PrivateKey):
            return self.key.sign(data)
        raise SigningError(f"unsupported key type {type(self.key).__name__}")


def verify_detached(token: str, body: bytes, public_key: Any) -> dict[str, Any]:
    """Verify a detached JWS over ``body``; return its protected header or raise
    :class:`VerificationError`."""
    protected, sep, signature = token.partition("..")
    if not sep or not protected or not signature:
        raise VerificationError("malformed detached JWS", check="jws.format")
    try:
        header = loads_bounded(b64url_decode(protected).decode("utf-8"), MAX_HEADER_DEPTH)
        raw = b64url_decode(signature)
    except ValueError as exc:  # undecodable, not JSON or nested too deep
        raise VerificationError("undecodable detached JWS", check="jws.format") from exc
    if not isinstance(header, dict):
        raise VerificationError("the detached JWS header is not an object", check="jws.format")
    if "crit" in header:
        raise VerificationError(
            f"the detached JWS marks header parameters {header['crit']!r} critical; none is "
            "processed here, so it must be refused (RFC 7515 4.1.11)",
            check="jws.crit",
        )
    data = f"{protected}.{b64url(body)}".encode("ascii")
    try:
        if isinstance(public_key, rsa.RSAPublicKey) and header.get("alg") == "RS256":
            public_key.verify(raw, data, padding.PKCS1v15(), hashes.SHA256())
        elif isinstance(public_key, ec.EllipticCurvePublicKey) and header.get("alg") == "ES256":
            half = len(raw) // 2
            der = utils.encode_dss_signature(
                int.from_bytes(raw[:half], "big"), int.from_bytes(raw[half:], "big")
            )
            public_key.verify(der, data, ec.ECDSA(hashes.SHA256()))
        elif isinstance(public_key, ed25519.Ed25519PublicKey) and header.get("alg") == "EdDSA":
            public_key.verify(raw, data)
        else:
            raise VerificationError("key and algorithm do not match", check="jws.alg")
    except InvalidSignature as exc:
        raise VerificationError("detached JWS does not verify", check="jws.signature") from exc
    return dict(header)
