"""Where the subject key comes from: the key provider.

The export gate counts individuals as HMAC-SHA256 of their identity under the subject key
(:mod:`gateway.policy.subjects`). The key is never stored in the database or the ledger;
a provider holds it and answers two things: the **key id** (recorded with every counted
individual, so a count is checked against the right key after a rotation) and the **MAC**
of a message. A provider whose key cannot leave its device (an HSM over PKCS#11) computes
the MAC there; the others hold the bytes in memory.

=======================  ====================================================================
provider                 key from
=======================  ====================================================================
``key_from_file``        a private key file (default ``keys/subject.key`` in the data
                         directory, created with 32 random bytes when missing)
``key_from_env``         an environment variable (hex), e.g. from a secrets manager
``key_derived_from``     HKDF of another secret (the signing key's bytes)
``Pkcs11KeyProvider``    an HSM or token: a generic-secret key on a PKCS#11 token,
                         ``CKM_SHA256_HMAC`` computed on the token (see its docstring)
=======================  ====================================================================

A key id is the operator's name for the key (``[policy] subject_key_id``) or, by default,
``sha256:`` and the first 16 hex digits of SHA-256 over an HMAC of a fixed label under the
key: it tells keys apart without revealing anything of them.

Rotation: configure the new key (and id); individuals counted after that are hashed under
it and recorded with its id. The same person counted under both keys in one year counts
twice (the counts err on the side of more individuals, i.e. earlier filings); rotate at the
turn of the year to avoid it.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, runtime_checkable

from gateway.errors import ConfigError

MIN_KEY_BYTES = 16
KEY_ID_LABEL = b"lingang subject key id"
SUBJECT_KEY_INFO = b"lingang export-gate subject key v1"
"""The HKDF info of a subject key derived from another secret."""


@runtime_checkable
class KeyProvider(Protocol):
    """A subject key: its id and the HMAC-SHA256 of a message under it."""

    @property
    def key_id(self) -> str: ...

    def mac(self, message: bytes) -> bytes: ...


def fingerprint(mac: Callable[[bytes], bytes]) -> str:
    """The default key id: reveals nothing of the key, differs between keys."""
    return "sha256:" + hashlib.sha256(mac(KEY_ID_LABEL)).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class StaticKeyProvider:
    """A key held in memory (what the file, environment and derived providers give)."""

    secret: bytes
    name: str = ""
    """The operator's id for the key; empty: the fingerprint."""
    _id: str = field(init=False, repr=False, compare=False, default="")
    """The key id, made once (the gate records it with every document's individuals)."""

    def __post_init__(self) -> None:
        if len(self.secret) < MIN_KEY_BYTES:
            raise ConfigError(
                f"the subject key has {len(self.secret)} bytes; at least {MIN_KEY_BYTES} are "
                "needed",
                field="policy.subject_key",
            )
        object.__setattr__(self, "_id", self.name or fingerprint(self.mac))

    @property
    def key_id(self) -> str:
        return self._id

    def mac(self, message: bytes) -> bytes:
        return hmac.new(self.secret, message, hashlib.sha256).digest()


def key_from_file(path: Path, *, key_id: str = "", create: bool = True) -> StaticKeyProvider:
    """The key in a private file (32 random bytes written there when it is missing and
    ``create``); a :class:`~gateway.errors.ConfigError` for a short or unreadable key.

    A new key file appears whole or not at all, and only once: of processes that start
    together on a new data directory (``lingang serve`` and ``lingang worker``), the first to
    create it wins and the others read its key, so all hash individuals alike."""
    if not path.exists():
        if not create:
            raise ConfigError(f"subject key {path} does not exist", field="policy.subject_key")
        import secrets

        from gateway.private_files import create_private, private_dir

        private_dir(path.parent)
        create_private(path, secrets.token_bytes(32))
    try:
        secret = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"subject key {path}: {exc}", field="policy.subject_key") from exc
    if len(secret) < MIN_KEY_BYTES:
        raise ConfigError(
            f"subject key {path} has {len(secret)} bytes; at least {MIN_KEY_BYTES} are needed",
            field="policy.subject_key",
        )
    return StaticKeyProvider(secret, key_id)


def key_from_env(
    variable: str = "LINGANG_SUBJECT_KEY",
    *,
    key_id: str = "",
    environ: dict[str, str] | None = None,
) -> StaticKeyProvider:
    """The key from an environment variable, hex-encoded (at least 16 bytes)."""
    value = (environ if environ is not None else dict(os.environ)).get(variable, "")
    if not value:
        raise ConfigError(f"{variable} is not set", field="policy.subject_key_env")
    try:
        secret = bytes.fromhex(value.strip())
    except ValueError:
        raise ConfigError(f"{variable} is not hex", field="policy.subject_key_env") from None
    return StaticKeyProvider(secret, key_id)


def key_derived_from(secret: bytes, *, key_id: str = "") -> StaticKeyProvider:
    """A key derived (HKDF-SHA256) from another secret, e.g. the signing key's bytes."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=SUBJECT_KEY_INFO)
    return StaticKeyProvider(derived.derive(secret), key_id)


class Pkcs11KeyProvider:
    """A subject key inside an HSM or token, over PKCS#11 (``python-pkcs11``, extra ``hsm``).

    Opens ``module`` (the vendor's PKCS#11 library), logs in to the token labelled ``token``
    with ``pin`` and computes each MAC on the token with ``CKM_SHA256_HMAC`` under the
    generic-secret key labelled ``label`` (``CKA_SIGN`` true; make it non-extractable): the
    key never leaves the device, every hash the gate makes goes through :meth:`mac`. The
    session is opened on first use, in the process that uses it (stage processes each open
    their own). Tested against SoftHSM2. A missing library, token or key is a
    :class:`~gateway.errors.ConfigError` at start-up (:meth:`check`), never a silent fallback
    to a key in memory.
    """

    def __init__(self, module: Path, token: str, label: str, pin: str, key_id: str = "") -> None:
        self.module = module
        self.token = token
        self.label = label
        self._pin = pin
        self._name = key_id
        self._key: object | None = None
        self._pid = 0
        self._lock = threading.Lock()
        self._fingerprint = ""
        """The default key id, made on the token once (not once per document)."""

    def _secret_key(self) -> object:
        with self._lock:
            if self._key is None or self._pid != os.getpid():
                try:
                    import pkcs11
                    from pkcs11 import ObjectClass
                except ImportError as exc:
                    raise ConfigError(
                        "a PKCS#11 subject key needs python-pkcs11 (pip install "
                        "'lingang-gateway[hsm]')",
                        field="policy.subject_key_pkcs11",
                    ) from exc
                try:
                    token = pkcs11.lib(str(self.module)).get_token(token_label=self.token)
                    try:
                        session = token.open(user_pin=self._pin)
                    except pkcs11.UserAlreadyLoggedIn:  # login is per process and token
                        session = token.open()
                    self._key = session.get_key(
                        object_class=ObjectClass.SECRET_KEY, label=self.label
                    )
                except (pkcs11.PKCS11Error, RuntimeError, OSError) as exc:
                    raise ConfigError(
                        f"PKCS#11 subject key {self.label!r} on token {self.token!r} "
                        f"({self.module}): {type(exc).__name__} {exc}",
                        field="policy.subject_key_pkcs11",
                    ) from exc
                self._pid = os.getpid()
            return self._key

    def check(self) -> None:
        """Open the token and find the key now (start-up), naming what is missing."""
        self._secret_key()

    @property
    def key_id(self) -> str:
        if self._name:
            return self._name
        if not self._fingerprint:
            self._fingerprint = fingerprint(self.mac)
        return self._fingerprint

    def mac(self, message: bytes) -> bytes:
        from pkcs11 import Mechanism

        key = self._secret_key()
        signed: bytes = key.sign(message, mechanism=Mechanism.SHA256_HMAC)  # type: ignore[attr-defined]
        return bytes(signed)
