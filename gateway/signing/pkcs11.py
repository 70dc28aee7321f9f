"""A :class:`~gateway.signing.keys.SigningBackend` over PKCS#11: signing keys inside an HSM.

::

    backend = Pkcs11Backend(Path("/usr/lib/softhsm/libsofthsm2.so"), token="lingang", pin=pin)
    provider = BackendKeyProvider(backend, "signer", certificate, chain)
    signed = XadesSigner(provider).sign(bill_of_lading)

The key (labelled ``key_id`` on the token) never leaves the device: the gateway hashes, the
token signs the digest. RSA keys sign with ``CKM_RSA_PKCS`` over the DER ``DigestInfo`` of the
digest (RFC 8017 9.2: what PKCS#1 v1.5 signs), EC keys with ``CKM_ECDSA`` over the digest; the
token's raw ``r || s`` is handed back DER-encoded, as :class:`SigningBackend` specifies. The
session is opened on first use in the process that signs (a forked worker opens its own) and
is used under a lock (PKCS#11 sessions are not for concurrent use). ``python-pkcs11`` is the
optional extra ``hsm``. Tested against SoftHSM2.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from gateway.errors import SigningError
from gateway.signing.algorithms import SignatureAlgorithm
from gateway.signing.keys import PublicKey, ecdsa_raw_to_der

DIGEST_INFO_PREFIX = {
    "sha256": bytes.fromhex("3031300d060960864801650304020105000420"),
    "sha384": bytes.fromhex("3041300d060960864801650304020205000430"),
    "sha512": bytes.fromhex("3051300d060960864801650304020305000440"),
}
"""The DER ``DigestInfo`` before the digest, per hash (RFC 8017 9.2, note 1)."""


class Pkcs11Backend:
    """Signs digests with private keys on one PKCS#11 token, found by their label."""

    def __init__(self, module: Path, token: str, pin: str) -> None:
        self.module = module
        self.token = token
        self._pin = pin
        self._session: Any = None
        self._pid = 0
        self._lock = threading.Lock()

    def public_key(self, key_id: str) -> PublicKey:
        """The public key stored beside the private key ``key_id``."""
        import pkcs11
        from pkcs11 import Attribute, KeyType, ObjectClass
        from pkcs11.util.ec import encode_ec_public_key

        with self._lock:
            session = self._open()
            try:
                key = session.get_key(object_class=ObjectClass.PUBLIC_KEY, label=key_id)
                if key.key_type == KeyType.RSA:
                    modulus = int.from_bytes(key[Attribute.MODULUS], "big")
                    exponent = int.from_bytes(key[Attribute.PUBLIC_EXPONENT], "big")
                    return rsa.RSAPublicNumbers(exponent, modulus).public_key()
                if key.key_type == KeyType.EC:
                    loaded = serialization.load_der_public_key(encode_ec_public_key(key))
                    if isinstance(loaded, PublicKey):
                        return loaded
            except pkcs11.PKCS11Error as exc:
                raise self._error(f"no public key {key_id!r}", exc) from exc
        raise SigningError(f"key {key_id!r} on token {self.token!r} is neither RSA nor EC")

    def sign_digest(self, key_id: str, digest: bytes, algorithm: SignatureAlgorithm) -> bytes:
        """Sign ``digest`` with the private key ``key_id``: PKCS#1 v1.5 or DER ECDSA."""
        import pkcs11
        from pkcs11 import Mechanism, ObjectClass

        with self._lock:
            session = self._open()
            try:
                key = session.get_key(object_class=ObjectClass.PRIVATE_KEY, label=key_id)
                if algorithm.is_ecdsa:
                    return ecdsa_raw_to_der(bytes(key.sign(digest, mechanism=Mechanism.ECDSA)))
                prefix = DIGEST_INFO_PREFIX[algorithm.hash().name]
                return bytes(key.sign(prefix + digest, mechanism=Mechanism.RSA_PKCS))
            except pkcs11.PKCS11Error as exc:
                raise self._error(f"cannot sign with key {key_id!r}", exc) from exc

    def _open(self) -> Any:
        """The logged-in session of this process (opened on first use, again after a fork)."""
        if self._session is not None and self._pid == os.getpid():
            return self._session
        try:
            import pkcs11
        except ImportError as exc:
            raise SigningError(
                "a PKCS#11 signing key needs python-pkcs11 (pip install 'lingang-gateway[hsm]')"
            ) from exc
        try:
            token = pkcs11.lib(str(self.module)).get_token(token_label=self.token)
            try:
                self._session = token.open(user_pin=self._pin)
            except pkcs11.UserAlreadyLoggedIn:  # login is per process and token
                self._session = token.open()
        except (pkcs11.PKCS11Error, RuntimeError, OSError) as exc:
            raise self._error("cannot open the token", exc) from exc
        self._pid = os.getpid()
        return self._session

    def _error(self, what: str, exc: Exception) -> SigningError:
        return SigningError(
            f"PKCS#11 token {self.token!r} ({self.module}): {what}: {type(exc).__name__} {exc}"
        )
