"""Signing keys behind one interface: PEM files, PKCS#12, and HSM/KMS back-ends.

A :class:`KeyProvider` holds one signing key and its certificate. It signs bytes and returns
the value exactly as XML-DSig's ``SignatureValue`` carries it: PKCS#1 v1.5 for RSA, the
fixed-width ``r || s`` pair for ECDSA (RFC 4050 / XML-DSig 1.1), never DER.

Keys are loaded once: :func:`load_pem_provider` and :func:`load_pkcs12_provider` cache the
provider per file (path, size and modification time), because parsing a PEM key costs tens of
milliseconds and signing must not pay it.

HSM / KMS: :class:`SigningBackend` is the seam. A back-end only signs a digest that the
gateway computed (as PKCS#11 and cloud KMS ``Sign`` with a pre-hashed message do) and never
hands out the private key. :class:`BackendKeyProvider` adapts any back-end to
:class:`KeyProvider`; :class:`InProcessBackend` is the in-memory back-end used in tests and
demos.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, runtime_checkable

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils
from cryptography.hazmat.primitives.serialization import pkcs12

from gateway.errors import InputError, SigningError
from gateway.signing.algorithms import SignatureAlgorithm

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
PublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey


@runtime_checkable
class KeyProvider(Protocol):
    """One signing key with its certificate and the chain up to (not including) a root."""

    @property
    def certificate(self) -> x509.Certificate:
        """The signer's certificate."""
        ...

    @property
    def chain(self) -> Sequence[x509.Certificate]:
        """Intermediate certificates, issuer of :attr:`certificate` first."""
        ...

    def sign(self, data: bytes, algorithm: SignatureAlgorithm) -> bytes:
        """Sign ``data`` (hashing it with ``algorithm``'s hash); XML-DSig value encoding."""
        ...


def default_algorithm(certificate: x509.Certificate) -> SignatureAlgorithm:
    """RSA-SHA256 for RSA certificates; ECDSA with the hash matching the curve (P-256: SHA-256,
    P-384: SHA-384, P-521: SHA-512)."""
    key = certificate.public_key()
    if isinstance(key, rsa.RSAPublicKey):
        return SignatureAlgorithm.RSA_SHA256
    if isinstance(key, ec.EllipticCurvePublicKey):
        if key.curve.key_size > 384:
            return SignatureAlgorithm.ECDSA_SHA512
        if key.curve.key_size > 256:
            return SignatureAlgorithm.ECDSA_SHA384
        return SignatureAlgorithm.ECDSA_SHA256
    raise SigningError(f"certificate key type {type(key).__name__} is not supported")


def ecdsa_der_to_raw(der: bytes, curve: ec.EllipticCurve) -> bytes:
    """Convert a DER ``ECDSA-Sig-Value`` to XML-DSig's fixed-width ``r || s``."""
    r, s = utils.decode_dss_signature(der)
    size = (curve.key_size + 7) // 8
    return r.to_bytes(size, "big") + s.to_bytes(size, "big")


def ecdsa_raw_to_der(raw: bytes) -> bytes:
    """Convert XML-DSig's ``r || s`` to DER (what ``cryptography`` verifies)."""
    half = len(raw) // 2
    if half == 0 or len(raw) % 2:
        raise ValueError("ECDSA signature value has an odd length")
    return utils.encode_dss_signature(
        int.from_bytes(raw[:half], "big"), int.from_bytes(raw[half:], "big")
    )


def _check_algorithm(key: PublicKey, algorithm: SignatureAlgorithm) -> None:
    if algorithm.is_ecdsa != isinstance(key, ec.EllipticCurvePublicKey):
        raise SigningError(f"{algorithm.name} does not match a {type(key).__name__} key")


def _check_pair(private: PrivateKey, certificate: x509.Certificate) -> None:
    cert_key = certificate.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    own_key = private.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    if cert_key != own_key:
        raise SigningError("the private key does not belong to the certificate", field="key")


@dataclass(frozen=True, slots=True)
class PrivateKeyProvider:
    """A key held in this process (loaded from PEM or PKCS#12, or made in memory)."""

    private_key: PrivateKey
    certificate: x509.Certificate
    chain: Sequence[x509.Certificate] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.private_key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
            raise SigningError("only RSA and EC private keys are supported", field="key")
        _check_pair(self.private_key, self.certificate)

    def sign(self, data: bytes, algorithm: SignatureAlgorithm) -> bytes:
        """Sign ``data`` with the held key."""
        key = self.private_key
        _check_algorithm(key.public_key(), algorithm)
        if isinstance(key, rsa.RSAPrivateKey):
            return key.sign(data, padding.PKCS1v15(), algorithm.hash())
        der = key.sign(data, ec.ECDSA(algorithm.hash()))
        return ecdsa_der_to_raw(der, key.curve)


class SigningBackend(Protocol):
    """An HSM or KMS: signs digests with keys it never releases.

    Implementations wrap PKCS#11, a cloud KMS or a signing service. ``sign_digest`` gets the
    digest made with ``algorithm``'s hash and returns the signature as the device does:
    PKCS#1 v1.5 for RSA, DER ``ECDSA-Sig-Value`` for ECDSA (the KMS convention).
    """

    def public_key(self, key_id: str) -> PublicKey:
        """The public key of ``key_id`` (to match it against the certificate)."""
        ...

    def sign_digest(self, key_id: str, digest: bytes, algorithm: SignatureAlgorithm) -> bytes:
        """Sign a pre-computed digest with ``key_id``."""
        ...


@dataclass(slots=True)
class InProcessBackend:
    """A :class:`SigningBackend` holding keys in memory by id (tests, demos)."""

    keys: dict[str, PrivateKey] = field(default_factory=dict)
    calls: int = 0
    """How many digests were signed (lets tests see the back-end was used)."""

    def public_key(self, key_id: str) -> PublicKey:
        """The public key of ``key_id``."""
        return self._key(key_id).public_key()

    def sign_digest(self, key_id: str, digest: bytes, algorithm: SignatureAlgorithm) -> bytes:
        """Sign ``digest`` with ``key_id``; DER for ECDSA."""
        key = self._key(key_id)
        self.calls += 1
        prehashed = utils.Prehashed(algorithm.hash())
        if isinstance(key, rsa.RSAPrivateKey):
            return key.sign(digest, padding.PKCS1v15(), prehashed)
        return key.sign(digest, ec.ECDSA(prehashed))

    def _key(self, key_id: str) -> PrivateKey:
        try:
            return self.keys[key_id]
        except KeyError:
            raise SigningError(f"no key {key_id!r} in the signing back-end") from None


@dataclass(frozen=True, slots=True)
class BackendKeyProvider:
    """A :class:`KeyProvider` whose key lives in a :class:`SigningBackend`."""

    backend: SigningBackend
    key_id: str
    certificate: x509.Certificate
    chain: Sequence[x509.Certificate] = ()

    def __post_init__(self) -> None:
        held = self.backend.public_key(self.key_id)
        spki = serialization.PublicFormat.SubjectPublicKeyInfo
        der = serialization.Encoding.DER
        if held.public_bytes(der, spki) != self.certificate.public_key().public_bytes(der, spki):
            raise SigningError(f"back-end key {self.key_id!r} does not match the certificate")

    def sign(self, data: bytes, algorithm: SignatureAlgorithm) -> bytes:
        """Hash ``data`` here and let the back-end sign the digest."""
        public = self.certificate.public_key()
        if not isinstance(public, rsa.RSAPublicKey | ec.EllipticCurvePublicKey):
            raise SigningError("only RSA and EC certificates are supported")
        _check_algorithm(public, algorithm)
        hasher = hashes.Hash(algorithm.hash())
        hasher.update(data)
        signature = self.backend.sign_digest(self.key_id, hasher.finalize(), algorithm)
        if isinstance(public, ec.EllipticCurvePublicKey):
            return ecdsa_der_to_raw(signature, public.curve)
        return signature


def load_certificates(path: str | Path) -> list[x509.Certificate]:
    """All certificates in a PEM (or single DER) file; :class:`InputError` if unreadable."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}", field=str(path)) from exc
    try:
        if b"-----BEGIN" in data:
            return x509.load_pem_x509_certificates(data)
        return [x509.load_der_x509_certificate(data)]
    except ValueError as exc:
        raise InputError(f"{path} holds no readable certificate: {exc}", field=str(path)) from exc


_CACHE: dict[tuple[object, ...], PrivateKeyProvider] = {}
_CACHE_LOCK = threading.Lock()


def _file_stamp(path: str | Path) -> tuple[str, int, int]:
    resolved = Path(path).resolve()
    try:
        stat = resolved.stat()
    except OSError as exc:
        raise SigningError(f"cannot read {path}: {exc.strerror}", field=str(path)) from exc
    return (str(resolved), stat.st_size, stat.st_mtime_ns)


def _password_tag(password: bytes | None) -> str:
    return hashlib.sha256(password).hexdigest() if password is not None else ""


_KEYS: dict[tuple[object, ...], PrivateKey] = {}


def load_pem_key(key: str | Path, password: bytes | None = None) -> PrivateKey:
    """A PEM private key (RSA or EC), encrypted or not; cached per file state and password.

    :class:`SigningError` (field: the file) when it cannot be read, opened with ``password``
    (the cause is ``cryptography``'s ``ValueError``/``TypeError``) or is of another kind."""
    cache_key = (_file_stamp(key), _password_tag(password))
    with _CACHE_LOCK:
        cached = _KEYS.get(cache_key)
    if cached is not None:
        return cached
    try:
        private = serialization.load_pem_private_key(Path(key).read_bytes(), password)
    except (ValueError, TypeError) as exc:
        raise SigningError(f"cannot load the private key {key}: {exc}", field=str(key)) from exc
    if not isinstance(private, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise SigningError("only RSA and EC private keys are supported", field=str(key))
    with _CACHE_LOCK:
        _KEYS[cache_key] = private
    return private


def load_pem_provider(
    key: str | Path,
    cert: str | Path,
    chain: Sequence[str | Path] = (),
    password: bytes | None = None,
) -> PrivateKeyProvider:
    """A provider for a PEM key, its certificate and chain files; cached per file state."""
    stamp = ("pem", _file_stamp(key), _file_stamp(cert), *(_file_stamp(c) for c in chain))
    cache_key = (*stamp, _password_tag(password))
    with _CACHE_LOCK:
        cached = _CACHE.get(cache_key)
    if cached is not None:
        return cached
    private = load_pem_key(key, password)
    certificates = load_certificates(cert)
    intermediates = [c for path in chain for c in load_certificates(path)]
    try:
        provider = PrivateKeyProvider(private, certificates[0], [*certificates[1:], *intermediates])
    except SigningError as exc:
        raise SigningError(
            f"the private key {key} does not belong to the certificate {cert} "
            f"({certificates[0].subject.rfc4514_string()})",
            field=str(key),
        ) from exc
    with _CACHE_LOCK:
        _CACHE[cache_key] = provider
    return provider


def load_pkcs12_provider(path: str | Path, password: bytes | None = None) -> PrivateKeyProvider:
    """A provider for a PKCS#12 file (key, certificate and chain); cached per file state."""
    cache_key = ("p12", _file_stamp(path), _password_tag(password))
    with _CACHE_LOCK:
        cached = _CACHE.get(cache_key)
    if cached is not None:
        return cached
    try:
        bundle = pkcs12.load_pkcs12(Path(path).read_bytes(), password)
    except (ValueError, TypeError) as exc:
        raise SigningError(f"cannot open PKCS#12 file {path}: {exc}", field=str(path)) from exc
    private = bundle.key
    if bundle.cert is None or not isinstance(
        private, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
    ):
        raise SigningError(f"{path} holds no RSA/EC key with a certificate", field=str(path))
    extra = [c.certificate for c in bundle.additional_certs]
    provider = PrivateKeyProvider(private, bundle.cert.certificate, extra)
    with _CACHE_LOCK:
        _CACHE[cache_key] = provider
    return provider
