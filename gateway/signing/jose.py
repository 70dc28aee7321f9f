"""Compact JWS (RFC 7515) with JWK keys (RFC 7517) named by their thumbprint (RFC 7638).

Algorithms signed and verified: ``PS256`` (RSASSA-PSS, SHA-256, MGF1-SHA-256, 32-byte salt),
``RS256`` (RSASSA-PKCS1-v1_5, SHA-256), ``ES256`` (ECDSA P-256, SHA-256, ``r || s``) and
``EdDSA`` (Ed25519). Nothing else is accepted: ``none``, HMAC and unknown names are refused
before any key is looked up, and a key is only used with the algorithm family it belongs to.

The protected header carries ``alg`` and ``kid`` = the base64url SHA-256 JWK thumbprint of the
signer's public key; a verifier finds the key by ``kid`` in a :class:`KeySet` (keys from
configuration or a partner's JWKS). A header with ``alg`` only (the DCSA conformance kit
exchanges certificates out of band and signs so) verifies when one known key of the
algorithm's family verifies it. A header may also carry ``x5c``: the certificate's public
key must then be the key the ``kid`` names, and, when the verifier has a trust store
(:class:`gateway.signing.truststore.TrustStore`), the chain must lead to one of its anchors,
within validity and — when the store checks revocation — not revoked (OCSP, then CRL).
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa, utils

from gateway.errors import SigningError, VerificationError
from gateway.jsontext import TooDeep, loads_bounded, unfit_text
from gateway.signing.algorithms import Check
from gateway.signing.chain import named, public_key_of, readable
from gateway.signing.truststore import TrustStore

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
PublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey

ALGORITHMS = ("PS256", "RS256", "ES256", "EdDSA")
_SUPPORTED_JWK = {("RSA", None), ("EC", "P-256"), ("OKP", "Ed25519")}
MAX_TOKEN_CHARS = 4 * 1024 * 1024
"""Longest compact JWS accepted (hostile input)."""
MIN_RSA_BITS = 2048
"""RFC 7518 3.3 and 3.5: "A key of size 2048 bits or larger MUST be used with" RS256 and
PS256; smaller RSA keys are refused wherever a key enters (a JWK, a configured key or
certificate, our own signing key)."""
MAX_HEADER_DEPTH = 8
"""Deepest nesting a protected header may have (a ``jwk`` in it is two levels)."""
MAX_PAYLOAD_DEPTH = 32
"""Deepest nesting a JSON payload may have (DCSA's envelopes nest far less)."""


def b64url(data: bytes) -> str:
    """Unpadded base64url."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Decode unpadded base64url (RFC 7515 2: no padding, "without the inclusion of any line
    breaks, whitespace, or other additional characters"); :class:`ValueError` for anything
    else. The text must be the one encoding of its octets: Python's decoder drops foreign
    characters, takes ``+`` and ``/`` and ignores the unused low bits of the last character,
    so ``YW!Jj``, ``YW+j`` and ``YR`` used to pass as other spellings of ``YWJj`` and ``YQ``,
    and one signed JWS had many string forms (and many PINT checksums)."""
    if not isinstance(text, str) or not text.isascii():
        raise ValueError("not unpadded base64url")
    decoded = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if b64url(decoded) != text:
        raise ValueError("not unpadded base64url")
    return decoded


# -- JWK ----------------------------------------------------------------------------


def _int_b64(value: int) -> str:
    return b64url(value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big"))


def public_jwk(key: PublicKey | PrivateKey) -> dict[str, str]:
    """The public JWK of a key (required members only, as RFC 7638 hashes them)."""
    public = key.public_key() if isinstance(key, PrivateKey) else key
    if isinstance(public, rsa.RSAPublicKey):
        numbers = public.public_numbers()
        return {"e": _int_b64(numbers.e), "kty": "RSA", "n": _int_b64(numbers.n)}
    if isinstance(public, ec.EllipticCurvePublicKey):
        if not isinstance(public.curve, ec.SECP256R1):
            raise SigningError(f"EC curve {public.curve.name} is not supported (P-256 only)")
        point = public.public_numbers()
        return {
            "crv": "P-256",
            "kty": "EC",
            "x": b64url(point.x.to_bytes(32, "big")),
            "y": b64url(point.y.to_bytes(32, "big")),
        }
    if isinstance(public, ed25519.Ed25519PublicKey):
        raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return {"crv": "Ed25519", "kty": "OKP", "x": b64url(raw)}
    raise SigningError(f"unsupported key type {type(public).__name__}")


def thumbprint(key: PublicKey | PrivateKey | Mapping[str, Any]) -> str:
    """The RFC 7638 SHA-256 JWK thumbprint (base64url) of a key or a JWK."""
    jwk = public_jwk(key_from_jwk(key)) if isinstance(key, Mapping) else public_jwk(key)
    members = json.dumps(jwk, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    return b64url(hashlib.sha256(members.encode("utf-8")).digest())


def key_from_jwk(jwk: Mapping[str, Any]) -> PublicKey:
    """The public key a JWK describes (``RSA``, ``EC`` P-256, ``OKP`` Ed25519)."""
    try:
        kty = jwk["kty"]
        if kty == "RSA":
            n = int.from_bytes(b64url_decode(jwk["n"]), "big")
            e = int.from_bytes(b64url_decode(jwk["e"]), "big")
            rsa_key = rsa.RSAPublicNumbers(e, n).public_key()
            short = short_rsa(rsa_key, "the JWK's RSA key")
            if short is not None:
                raise VerificationError(short, check=Check.ALGORITHM)
            return rsa_key
        if kty == "EC" and jwk.get("crv") == "P-256":
            x = int.from_bytes(b64url_decode(jwk["x"]), "big")
            y = int.from_bytes(b64url_decode(jwk["y"]), "big")
            return ec.EllipticCurvePublicNumbers(x, y, ec.SECP256R1()).public_key()
        if kty == "OKP" and jwk.get("crv") == "Ed25519":
            return ed25519.Ed25519PublicKey.from_public_bytes(b64url_decode(jwk["x"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise VerificationError(f"malformed JWK: {exc}", check="jwk") from exc
    raise VerificationError(
        f"unsupported JWK kty={jwk.get('kty')!r} crv={jwk.get('crv')!r}", check="jwk"
    )


def short_rsa(key: object, what: str) -> str | None:
    """Why ``key`` may not be used when it is an RSA key under :data:`MIN_RSA_BITS` (RFC 7518
    3.3), naming it as ``what``; ``None`` when it may."""
    if isinstance(key, rsa.RSAPublicKey) and key.key_size < MIN_RSA_BITS:
        return (
            f"{what} has {key.key_size} bits; RS256 and PS256 need {MIN_RSA_BITS} or more "
            "(RFC 7518 3.3)"
        )
    return None


def default_algorithm(key: PublicKey | PrivateKey) -> str:
    """The JWS algorithm a key signs with by default (RSA: PS256)."""
    if isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey):
        return "PS256"
    if isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey):
        return "ES256"
    return "EdDSA"


# -- keys to verify with ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TrustedKey:
    """A verification key and who holds it (a partner platform's code, e.g. ``IQAX``)."""

    key: PublicKey
    owner: str
    kid: str
    certificates: tuple[x509.Certificate, ...] = ()
    """The certificates the key was handed over in, out of band (a PINT partner's
    ``certificates``): the key is trusted within their validity only. Empty: a bare key (a
    JWKS, a PEM key, ours), trusted for as long as it is configured."""

    def check_certified(self, signed_at: datetime | None = None) -> None:
        """``check=Check.EXPIRED`` when the key was given in certificates and none of them is
        valid now, or at ``signed_at`` for a signature other signatures vouch for (see
        :func:`verify_compact`): DCSA PINT answers a signature whose "key ... expired" BSIG,
        and a key the partner certified for a time is not theirs to use after it."""
        if not self.certificates:
            return
        moment = signed_at or datetime.now(UTC)
        if any(
            c.not_valid_before_utc <= moment <= c.not_valid_after_utc for c in self.certificates
        ):
            return
        last = max(self.certificates, key=lambda c: c.not_valid_after_utc)
        at = "the time the signature claims" if signed_at is not None else "now"
        raise VerificationError(
            f"the key {self.kid} of {self.owner} is certified by {named(last)} from "
            f"{last.not_valid_before_utc:%Y-%m-%d %H:%M} to {last.not_valid_after_utc:%Y-%m-%d %H:%M}"
            f" UTC, not at {at} ({moment:%Y-%m-%d %H:%M} UTC; RFC 5280 4.1.2.5)",
            check=Check.EXPIRED,
        )


@dataclass(slots=True)
class KeySet:
    """Verification keys by their JWK thumbprint (and by the ``kid`` a JWKS names them with),
    with an optional trust store for ``x5c`` chains."""

    keys: dict[str, TrustedKey] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)
    """A JWKS's own ``kid`` for a key (RFC 7517 §4.5: any string) → the key's thumbprint. A
    name only finds the key; the signature must still verify with it."""
    trust: TrustStore | None = None
    """Where ``x5c`` chains must lead (anchors, validity, revocation); ``None``: the chain's
    first certificate must only be the named key."""
    require_x5c: bool = False
    """Refuse a token whose header carries no certificate chain (needs ``trust``)."""

    def add(
        self,
        key: PublicKey | PrivateKey,
        owner: str,
        *,
        certificate: x509.Certificate | None = None,
    ) -> str:
        """Add a key held by ``owner``; returns its kid. An RSA key under
        :data:`MIN_RSA_BITS` is a :class:`VerificationError` (RFC 7518 3.3). Given in a
        ``certificate``, the key is trusted within its validity (and that of any other
        certificate it was given in); given bare as well, without limit."""
        public = key.public_key() if isinstance(key, PrivateKey) else key
        short = short_rsa(public, f"the RSA key of {owner}")
        if short is not None:
            raise VerificationError(short, check=Check.ALGORITHM)
        kid = thumbprint(public)
        known = self.keys.get(kid)
        certificates: tuple[x509.Certificate, ...] = ()
        if certificate is not None and (known is None or known.certificates):
            certificates = (*(known.certificates if known else ()), certificate)
        self.keys[kid] = TrustedKey(public, owner, kid, certificates)
        return kid

    def add_jwks(self, jwks: Mapping[str, Any], owner: str) -> list[str]:
        """Add every supported signing key of a JWKS document (``{"keys": [...]}``; keys of
        other types and encryption keys are skipped); returns their thumbprints.

        A key's ``kid`` member may be any string (RFC 7517 §4.5): it is kept as a name that
        finds the key, never as proof of it; a name already given to another key is refused."""
        entries = jwks.get("keys")
        if not isinstance(entries, list):
            raise VerificationError("a JWKS needs a 'keys' array", check="jwk")
        kids = []
        for entry in entries:
            if not isinstance(entry, Mapping) or entry.get("use", "sig") != "sig":
                continue
            if (entry.get("kty"), entry.get("crv")) not in _SUPPORTED_JWK:
                continue  # another algorithm family (P-384, X25519 ...): not ours to use
            key = key_from_jwk(entry)
            name = entry.get("kid")
            if name is not None and not isinstance(name, str):
                raise VerificationError("a JWKS kid must be a string", check="jwk")
            kid = thumbprint(key)
            named = self.names.get(name, kid) if name is not None else kid
            if named != kid or (name in self.keys and name != kid):
                raise VerificationError(f"JWKS kid {name!r} already names another key", check="jwk")
            self.add(key, owner)
            if name is not None and name != kid:
                self.names[name] = kid
            kids.append(kid)
        return kids

    def resolve(
        self, header: Mapping[str, Any], *, signed_at: datetime | None = None
    ) -> TrustedKey:
        """The trusted key a protected header names (``kid``: its thumbprint or its JWKS
        name; without ``kid``, the key of the ``x5c`` certificate), checked against ``x5c``:
        its chain valid now, or at ``signed_at`` for a signature other signatures already
        vouch for (:func:`verify_compact`)."""
        kid = header.get("kid")
        chain = header.get("x5c")
        certificates = _x5c(chain) if chain is not None else []
        if kid is None and certificates:
            kid = _certificate_thumbprint(certificates[0])
        if isinstance(kid, str):
            kid = self.names.get(kid, kid)
        if not isinstance(kid, str) or kid not in self.keys:
            raise VerificationError(
                f"unknown signing key kid={header.get('kid')!r}", check="jws.key"
            )
        trusted = self.keys[kid]
        trusted.check_certified(signed_at)
        if chain is None:
            if self.require_x5c:
                raise VerificationError("the JWS header carries no x5c chain", check=Check.CHAIN)
            return trusted
        if _certificate_thumbprint(certificates[0]) != trusted.kid:
            raise VerificationError(
                "the x5c certificate is not the key named by kid", check="jws.x5c"
            )
        if self.trust is not None:
            self.trust.check(
                certificates[0], intermediates=certificates[1:], signer=True, moment=signed_at
            )
        return trusted


def _certificate_thumbprint(certificate: x509.Certificate) -> str:
    """The JWK thumbprint of an ``x5c`` certificate's key; a key of a type no JWS algorithm
    here can use (P-384, DSA ...) is a :class:`VerificationError`, as the rest of the header
    is, not the :class:`SigningError` :func:`public_jwk` raises for our own keys."""
    key = public_key_of(certificate)
    try:
        return thumbprint(key)  # type: ignore[arg-type]
    except SigningError as exc:
        raise VerificationError(
            f"the x5c certificate's key cannot sign any accepted JWS algorithm: {exc}",
            check="jws.x5c",
        ) from exc


def _x5c(chain: Any) -> list[x509.Certificate]:
    if not isinstance(chain, list) or not chain or len(chain) > 8:
        raise VerificationError("x5c must be a list of 1 to 8 certificates", check="jws.x5c")
    try:
        loaded = [x509.load_der_x509_certificate(base64.b64decode(c, validate=True)) for c in chain]
    except (TypeError, ValueError) as exc:
        raise VerificationError(f"undecodable x5c certificate: {exc}", check="jws.x5c") from exc
    return [readable(c) for c in loaded]


# -- sign and verify ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CompactSigner:
    """Signs JSON payloads as compact JWS with ``kid`` = the key's thumbprint."""

    key: PrivateKey
    algorithm: str = ""
    x5c: Sequence[x509.Certificate] = ()
    """Certificate chain (signer first) to put in the header, if any."""

    def __post_init__(self) -> None:
        algorithm = self.algorithm or default_algorithm(self.key)
        _check_pair(self.key, algorithm)
        short = short_rsa(self.key.public_key(), "the JWS signing key")
        if short is not None:
            raise SigningError(short)
        object.__setattr__(self, "algorithm", algorithm)

    @property
    def kid(self) -> str:
        """The signer's JWK thumbprint."""
        return thumbprint(self.key)

    def sign_bytes(self, payload: bytes) -> str:
        """``header.payload.signature`` over raw payload bytes."""
        header: dict[str, Any] = {"alg": self.algorithm, "kid": self.kid}
        if self.x5c:
            header["x5c"] = [
                base64.b64encode(c.public_bytes(serialization.Encoding.DER)).decode()
                for c in self.x5c
            ]
        protected = b64url(json.dumps(header, separators=(",", ":")).encode())
        signing_input = f"{protected}.{b64url(payload)}"
        signature = _sign(self.key, self.algorithm, signing_input.encode("ascii"))
        return f"{signing_input}.{b64url(signature)}"

    def sign_json(self, payload: Mapping[str, Any]) -> str:
        """A compact JWS over ``payload`` serialised as compact JSON."""
        return self.sign_bytes(json.dumps(payload, separators=(",", ":")).encode("utf-8"))


@dataclass(frozen=True, slots=True)
class Verified:
    """A compact JWS that verified: its header, payload and the key's owner."""

    header: dict[str, Any]
    payload: bytes
    signer: TrustedKey

    def json(self) -> Any:
        """The payload as JSON (a :class:`VerificationError` if it is not)."""
        return json_part(self.payload, MAX_PAYLOAD_DEPTH, "the JWS payload", "jws.payload")


def split_compact(token: str) -> tuple[dict[str, Any], bytes, bytes, bytes]:
    """``(header, payload, signature, signing input)`` of a compact JWS, unverified."""
    if not isinstance(token, str) or len(token) > MAX_TOKEN_CHARS:
        raise VerificationError("not a compact JWS of acceptable size", check="jws.format")
    parts = token.split(".")
    if len(parts) != 3 or not parts[0] or not parts[2]:
        raise VerificationError("a compact JWS has three non-empty parts", check="jws.format")
    try:
        encoded_header = b64url_decode(parts[0])
        payload = b64url_decode(parts[1])
        signature = b64url_decode(parts[2])
    except (ValueError, UnicodeDecodeError) as exc:
        raise VerificationError("undecodable compact JWS", check="jws.format") from exc
    header = json_part(encoded_header, MAX_HEADER_DEPTH, "the JWS header", "jws.format")
    if not isinstance(header, dict):
        raise VerificationError("the JWS header is not an object", check="jws.format")
    return header, payload, signature, f"{parts[0]}.{parts[1]}".encode("ascii")


def json_part(data: bytes, max_depth: int, what: str, check: str) -> Any:
    """``data`` as JSON: text, nested at most ``max_depth`` deep, no lone surrogates (else a
    :class:`VerificationError` with ``check``)."""
    try:
        value = loads_bounded(data.decode("utf-8"), max_depth)
    except TooDeep as exc:
        raise VerificationError(
            f"{what} nests deeper than {max_depth} levels", check=check
        ) from exc
    except ValueError as exc:  # UnicodeDecodeError among them
        raise VerificationError(f"{what} is not JSON", check=check) from exc
    unfit = unfit_text(value)
    if unfit is not None:
        raise VerificationError(f"{what}: {unfit[0] or 'the value'} {unfit[1]}", check=check)
    return value


def verify_compact(token: str, keys: KeySet, *, signed_at: datetime | None = None) -> Verified:
    """Verify a compact JWS with the key its ``kid`` names; raise :class:`VerificationError`.

    A JWS carries no trusted time, so its ``x5c`` chain must be valid now. ``signed_at``
    is for a signature that is historic evidence, vouched for by later signatures made now
    (a DCSA PINT transfer chain's earlier entries): its chain must have been valid at the
    time it claims, ``signed_at``, and may have expired since."""
    header, payload, signature, signing_input = split_compact(token)
    algorithm = header.get("alg")
    if algorithm not in ALGORITHMS:
        raise VerificationError(f"JWS algorithm {algorithm!r} is refused", check=Check.ALGORITHM)
    critical = header.get("crit")
    if critical is not None:
        raise VerificationError(
            f"the JWS marks header parameters {critical!r} critical; none is processed here, "
            "so it must be refused (RFC 7515 4.1.11)",
            check="jws.crit",
        )
    refuse_unencoded_payload(header)
    if "kid" not in header and "x5c" not in header:
        verified = _verify_without_kid(header, payload, signature, signing_input, keys)
        verified.signer.check_certified(signed_at)
        return verified
    trusted = keys.resolve(header, signed_at=signed_at)
    if not _verify(trusted.key, str(algorithm), signature, signing_input):
        raise VerificationError("the JWS signature does not verify", check=Check.SIGNATURE)
    return Verified(header, payload, trusted)


def refuse_unencoded_payload(header: Mapping[str, Any]) -> None:
    """Refuse a header whose ``b64`` is anything but ``true``: RFC 7797's unencoded payload
    (``"b64": false``) changes what was signed, and a producer "MUST" list it in ``crit``
    (RFC 7797 6), which is refused already; without ``crit`` the token is malformed, and
    reading its payload as base64url would verify something else than its signer meant."""
    if "b64" in header and header["b64"] is not True:
        raise VerificationError(
            f"the JWS header sets b64 to {header['b64']!r}: RFC 7797 unencoded payloads are "
            "not accepted (and b64 must be listed in crit, RFC 7797 6)",
            check="jws.b64",
        )


def _verify_without_kid(
    header: dict[str, Any], payload: bytes, signature: bytes, signing_input: bytes, keys: KeySet
) -> Verified:
    """A header naming only ``alg`` (as the DCSA conformance kit signs): the signature must
    verify with one of the known keys of that algorithm's family; that key names the signer."""
    if keys.require_x5c:
        raise VerificationError("the JWS header carries no x5c chain", check=Check.CHAIN)
    algorithm = str(header["alg"])
    for trusted in keys.keys.values():
        try:
            _check_pair(trusted.key, algorithm)
        except SigningError:
            continue
        if _verify(trusted.key, algorithm, signature, signing_input):
            return Verified(header, payload, trusted)
    raise VerificationError(
        "the JWS names no kid and verifies with no known key", check=Check.SIGNATURE
    )


def _check_pair(key: PrivateKey | PublicKey, algorithm: str) -> None:
    families: dict[str, tuple[type, ...]] = {
        "PS256": (rsa.RSAPrivateKey, rsa.RSAPublicKey),
        "RS256": (rsa.RSAPrivateKey, rsa.RSAPublicKey),
        "ES256": (ec.EllipticCurvePrivateKey, ec.EllipticCurvePublicKey),
        "EdDSA": (ed25519.Ed25519PrivateKey, ed25519.Ed25519PublicKey),
    }
    if algorithm not in families or not isinstance(key, families[algorithm]):
        raise SigningError(f"a {type(key).__name__} cannot sign {algorithm}")


def _sign(key: PrivateKey, algorithm: str, data: bytes) -> bytes:
    if isinstance(key, rsa.RSAPrivateKey):
        return key.sign(data, _rsa_padding(algorithm), hashes.SHA256())
    if isinstance(key, ec.EllipticCurvePrivateKey):
        r, s = utils.decode_dss_signature(key.sign(data, ec.ECDSA(hashes.SHA256())))
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")
    return key.sign(data)


def _rsa_padding(algorithm: str) -> padding.AsymmetricPadding:
    if algorithm == "PS256":
        return padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
    return padding.PKCS1v15()


def _verify(key: PublicKey, algorithm: str, signature: bytes, data: bytes) -> bool:
    try:
        _check_pair(key, algorithm)
    except SigningError as exc:
        raise VerificationError(str(exc), check=Check.ALGORITHM) from exc
    try:
        if isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, data, _rsa_padding(algorithm), hashes.SHA256())
        elif isinstance(key, ec.EllipticCurvePublicKey):
            if len(signature) != 64:
                return False
            der = utils.encode_dss_signature(
                int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
            )
            key.verify(der, data, ec.ECDSA(hashes.SHA256()))
        else:
            key.verify(signature, data)
    except InvalidSignature:
        return False
    return True


def load_private_key(pem: bytes) -> PrivateKey:
    """A PEM private key of a supported type."""
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as exc:
        raise SigningError(f"cannot load private key: {exc}") from exc
    if not isinstance(key, PrivateKey):
        raise SigningError(f"unsupported private key type {type(key).__name__}")
    return key


def jwks_of(keys: Iterable[PublicKey | PrivateKey]) -> dict[str, Any]:
    """A JWKS document publishing ``keys`` (each with its thumbprint as ``kid``)."""
    return {
        "keys": [
            {**public_jwk(k), "kid": thumbprint(k), "use": "sig", "alg": default_algorithm(k)}
            for k in keys
        ]
    }
