"""Detached JWS (RFC 7515 appendix F) over an HTTP body: sign on send, verify on receipt.

The header ``X-Lingang-Signature`` carries ``BASE64URL(header)..BASE64URL(signature)``; the
signing input is ``BASE64URL(header) "." BASE64URL(body)``. A header with ``crit`` is refused:
no extension is processed here (RFC 7515 4.1.11), the unencoded payload of RFC 7797
(``"b64": false``, refused with or without ``crit``) among them. Both parts must be strict
unpadded base64url (:func:`gateway.signing.jose.b64url_decode`). The protected header names the
algorithm and the certificate's SHA-256 thumbprint (``x5t#S256``) so the receiver can pick
the key. RSA keys sign with RS256, Ed25519 keys with EdDSA, and an EC key with the algorithm
RFC 7518 3.4 defines for its curve: P-256 with ES256, P-384 with ES384, P-521 with ES512 (the
curve's hash; ``r || s``, each as long as the curve's order). The gateway's ``[signing]`` key
may be any of these, as its XAdES signatures allow; a verifier refuses an ``alg`` that is not
its key's.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

from gateway.errors import SigningError, VerificationError
from gateway.jsontext import loads_bounded
from gateway.signing.algorithms import SignatureAlgorithm
from gateway.signing.jose import MAX_HEADER_DEPTH, b64url_decode, refuse_unencoded_payload
from gateway.signing.keys import KeyProvider, ecdsa_der_to_raw, ecdsa_raw_to_der

SIGNATURE_HEADER = "X-Lingang-Signature"
MESSAGE_ID_HEADER = "X-Lingang-Message-Id"

EC_ALGORITHMS: dict[str, tuple[str, hashes.HashAlgorithm]] = {
    "secp256r1": ("ES256", hashes.SHA256()),
    "secp384r1": ("ES384", hashes.SHA384()),
    "secp521r1": ("ES512", hashes.SHA512()),
}
"""RFC 7518 3.4: the JWS ``alg`` of an EC key by its curve, and that algorithm's hash."""


def _ec_algorithm(curve: ec.EllipticCurve) -> tuple[str, hashes.HashAlgorithm] | None:
    return EC_ALGORITHMS.get(curve.name)


def _ec_alg_name(curve: ec.EllipticCurve) -> str | None:
    found = _ec_algorithm(curve)
    return found[0] if found else None


def _ec_width(curve: ec.EllipticCurve) -> int:
    """Octets of ``r`` (and of ``s``) in a JWS ECDSA signature (RFC 7518 3.4)."""
    return (curve.key_size + 7) // 8


def b64url(data: bytes) -> str:
    """Unpadded base64url."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _algorithm_of(public: Any) -> str:
    """The JWS ``alg`` a key signs with: RS256 for RSA, the curve's ES256 / ES384 / ES512 for
    EC (RFC 7518 3.4), EdDSA for Ed25519; :class:`SigningError` for any other."""
    if isinstance(public, rsa.RSAPublicKey):
        return "RS256"
    if isinstance(public, ec.EllipticCurvePublicKey):
        found = _ec_alg_name(public.curve)
        if found is None:
            raise SigningError(
                f"EC curve {public.curve.name} has no JWS algorithm "
                "(RFC 7518 3.4: P-256, P-384 or P-521)"
            )
        return found
    if isinstance(public, ed25519.Ed25519PublicKey):
        return "EdDSA"
    raise SigningError(f"unsupported key type {type(public).__name__}")


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
        return _algorithm_of(self.key.public_key())

    def sign_detached(self, body: bytes) -> str:
        """``header..signature`` over ``body``."""
        return _detached(self.algorithm(), self.thumbprint, body, self._sign)

    def _sign(self, data: bytes) -> bytes:
        if isinstance(self.key, rsa.RSAPrivateKey):
            return self.key.sign(data, padding.PKCS1v15(), hashes.SHA256())
        if isinstance(self.key, ec.EllipticCurvePrivateKey):
            found = _ec_algorithm(self.key.curve)
            if found is None:
                raise SigningError(f"EC curve {self.key.curve.name} has no JWS algorithm")
            return ecdsa_der_to_raw(self.key.sign(data, ec.ECDSA(found[1])), self.key.curve)
        if isinstance(self.key, ed25519.Ed25519PrivateKey):
            return self.key.sign(data)
        raise SigningError(f"unsupported key type {type(self.key).__name__}")


@dataclass(frozen=True, slots=True)
class ProviderJwsSigner:
    """Signs transport bodies with a :class:`~gateway.signing.keys.KeyProvider`'s key, one
    that may stay inside an HSM (the provider hashes, the device signs): RS256 for an RSA
    certificate, ES256 / ES384 / ES512 for its EC curve, with the certificate's SHA-256
    thumbprint in the header."""

    provider: KeyProvider

    def algorithm(self) -> str:
        """The JWS ``alg`` for the provider's certificate (RSA or EC: what a provider signs)."""
        public = self.provider.certificate.public_key()
        if isinstance(public, ed25519.Ed25519PublicKey):
            raise SigningError("a key provider signs with RSA or EC keys, not Ed25519")
        return _algorithm_of(public)

    def sign_detached(self, body: bytes) -> str:
        """``header..signature`` over ``body``."""
        alg = self.algorithm()
        method = _PROVIDER_METHODS[alg]
        thumbprint = b64url(self.provider.certificate.fingerprint(hashes.SHA256()))
        return _detached(alg, thumbprint, body, lambda data: self.provider.sign(data, method))


_PROVIDER_METHODS = {
    "RS256": SignatureAlgorithm.RSA_SHA256,
    "ES256": SignatureAlgorithm.ECDSA_SHA256,
    "ES384": SignatureAlgorithm.ECDSA_SHA384,
    "ES512": SignatureAlgorithm.ECDSA_SHA512,
}
"""The signature method a provider signs a JWS ``alg`` with: PKCS#1 v1.5 for RS256 (RFC
7518 3.3), ECDSA with the curve's hash for ES* (3.4); a provider's ECDSA signatures are
already ``r || s`` of the curve's width, as JWS wants them."""


def _detached(alg: str, thumbprint: str | None, body: bytes, sign: Callable[[bytes], bytes]) -> str:
    """``BASE64URL(header)..BASE64URL(signature)`` over ``body`` (RFC 7515 appendix F)."""
    header: dict[str, str] = {"alg": alg, "typ": "JOSE"}
    if thumbprint:
        header["x5t#S256"] = thumbprint
    protected = b64url(json.dumps(header, separators=(",", ":")).encode())
    signing_input = f"{protected}.{b64url(body)}".encode("ascii")
    return f"{protected}..{b64url(sign(signing_input))}"


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
    refuse_unencoded_payload(header)
    data = f"{protected}.{b64url(body)}".encode("ascii")
    try:
        if isinstance(public_key, rsa.RSAPublicKey) and header.get("alg") == "RS256":
            public_key.verify(raw, data, padding.PKCS1v15(), hashes.SHA256())
        elif isinstance(public_key, ec.EllipticCurvePublicKey) and _ec_alg_name(
            public_key.curve
        ) == header.get("alg"):
            _verify_ecdsa(public_key, raw, data)
        elif isinstance(public_key, ed25519.Ed25519PublicKey) and header.get("alg") == "EdDSA":
            public_key.verify(raw, data)
        else:
            raise VerificationError("key and algorithm do not match", check="jws.alg")
    except InvalidSignature as exc:
        raise VerificationError("detached JWS does not verify", check="jws.signature") from exc
    return dict(header)


def _verify_ecdsa(public_key: ec.EllipticCurvePublicKey, raw: bytes, data: bytes) -> None:
    """Check a JWS ECDSA signature: ``r || s`` of exactly the curve's width (RFC 7518 3.4)."""
    size = _ec_width(public_key.curve)
    if len(raw) != 2 * size:
        raise InvalidSignature(
            f"an ECDSA signature on {public_key.curve.name} has {2 * size} octets"
        )
    algorithm = EC_ALGORITHMS[public_key.curve.name][1]
    public_key.verify(ecdsa_raw_to_der(raw), data, ec.ECDSA(algorithm))
