"""The gateway's own signing key as ``[signing]`` configures it: one loader for every user.

``[signing] key`` names either a PKCS#12 file (``.p12`` / ``.pfx``: key, certificate and
chain in one file, so ``[signing] cert`` is optional) or a PEM private key, which may be
encrypted (PKCS#8 ``ENCRYPTED PRIVATE KEY`` or a legacy ``Proc-Type: 4,ENCRYPTED`` key) and
then needs ``[signing] cert``. The password of a protected key comes only from the
environment variable ``LINGANG_SIGNING_PASSWORD``: never from the TOML file, never part of
:class:`~gateway.flows.tools.ToolsSpec` or anything else pickled or logged; a stage process
reads it from the environment it inherits. A missing or wrong password stops the start with a
:class:`~gateway.errors.ConfigError` naming ``[signing] key`` and the variable, never the
password itself.

The key may instead stay inside an HSM or token (``[signing] pkcs11``, ``pkcs11_token``,
``pkcs11_label``, with ``cert``): :func:`load_token_key` signs through
:class:`~gateway.signing.pkcs11.Pkcs11Backend`, the user PIN read only from
``LINGANG_SIGNING_PIN``. Such a key is never extracted, so the subject key cannot be derived
from it (``[policy] subject_key`` or its file is used instead).

The XAdES signer, the transport-body JWS, the ledger checkpoints and the derived subject key
all load the key here; the providers of :mod:`gateway.signing.keys` cache it per file state,
so each process parses it once.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from cryptography.hazmat.primitives import serialization

from gateway.errors import ConfigError, InputError, SigningError
from gateway.signing.keys import (
    BackendKeyProvider,
    KeyProvider,
    PrivateKey,
    PrivateKeyProvider,
    load_certificates,
    load_pem_key,
    load_pem_provider,
    load_pkcs12_provider,
)
from gateway.signing.pkcs11 import Pkcs11Backend

PASSWORD_ENV = "LINGANG_SIGNING_PASSWORD"
"""The environment variable holding the password of a protected ``[signing] key``."""

PIN_ENV = "LINGANG_SIGNING_PIN"
"""The environment variable holding the user PIN of the token ``[signing] pkcs11`` names."""


@dataclass(frozen=True, slots=True)
class TokenKey:
    """Where ``[signing] pkcs11`` finds the gateway's key: the PKCS#11 library, the token's
    label and the key's label (plain data: a stage process receives it and opens its own
    session; the PIN is never part of it)."""

    module: Path
    token: str
    label: str


def signing_password() -> bytes | None:
    """The password from :data:`PASSWORD_ENV`, or ``None`` when unset or empty."""
    value = os.environ.get(PASSWORD_ENV, "")
    return value.encode("utf-8") if value else None


def is_pkcs12(path: Path) -> bool:
    """Whether ``path`` names a PKCS#12 file (by its ``.p12`` / ``.pfx`` suffix)."""
    return path.suffix.lower() in (".p12", ".pfx")


SETTINGS = ("[signing] key", "[signing] cert")
"""How the key and certificate are named in messages: by their settings (the default), or by
the command-line options of a command that loads a key the same way."""


def _refusal(key: Path, reason: str, names: tuple[str, str] = SETTINGS) -> ConfigError:
    return ConfigError(
        f"{names[0]} ({key}) cannot be loaded: {reason}",
        field="signing.key",
        rule="signing.key-unreadable",
    )


def _password_reason(key: Path, password: bytes | None, detail: str) -> str:
    """Why a protected key did not open, in words that name the variable, not its value."""
    kind = "the PKCS#12 file" if is_pkcs12(key) else "the PEM key"
    lowered = detail.lower()
    if password is None and ("encrypted" in lowered or "password" in lowered or is_pkcs12(key)):
        return (
            f"{kind} is password-protected (or damaged) and {PASSWORD_ENV} is not set "
            "(give the password in that environment variable, never in a settings file or "
            "on a command line)"
        )
    if password is not None and "not encrypted" in lowered:
        return (
            f"{PASSWORD_ENV} is set but {kind} is not encrypted "
            "(unset the variable, or protect the key)"
        )
    if password is not None:
        return f"the password in {PASSWORD_ENV} does not open {kind}, or the file is damaged"
    return f"{kind} is not readable as a private key"


def load_gateway_key(
    key: Path,
    cert: Path | None = None,
    chain: Sequence[Path] = (),
    *,
    names: tuple[str, str] = SETTINGS,
) -> PrivateKeyProvider:
    """The gateway's signing key with its certificate and chain.

    A PKCS#12 ``key`` brings its certificate and chain; a ``cert`` given as well must be that
    certificate, and ``chain`` certificates not already in the file are added after its own.
    A PEM ``key`` needs ``cert``. :class:`ConfigError` (field ``signing.key``) when the key
    cannot be loaded, its password is missing or wrong, or the certificate is not its own;
    its message names the key and certificate by ``names`` (default: their settings).
    """
    password = signing_password()
    try:
        if is_pkcs12(key):
            provider = load_pkcs12_provider(key, password)
            return _with_configured(provider, key, cert, chain, names)
        if cert is None:
            raise _refusal(key, f"a PEM key needs its certificate: give {names[1]}", names)
        return load_pem_provider(key, cert, chain, password)
    except ConfigError:
        raise
    except (SigningError, InputError) as exc:
        raise _unloadable(key, password, exc, names) from None


def _unloadable(
    key: Path,
    password: bytes | None,
    exc: SigningError | InputError,
    names: tuple[str, str] = SETTINGS,
) -> ConfigError:
    """The refusal of a key the loaders of :mod:`gateway.signing.keys` could not load: in
    password words when ``cryptography`` could not open the file, else their message."""
    cause = exc.__cause__
    if exc.field == str(key) and isinstance(cause, ValueError | TypeError):
        return _refusal(key, _password_reason(key, password, str(cause)), names)
    return _refusal(key, exc.message, names)


def _with_configured(
    provider: PrivateKeyProvider,
    key: Path,
    cert: Path | None,
    chain: Sequence[Path],
    names: tuple[str, str],
) -> PrivateKeyProvider:
    """A PKCS#12 provider checked against the configured ``cert``, extended by ``chain``."""
    if cert is not None:
        configured = load_certificates(cert)[0]
        if configured != provider.certificate:
            raise _refusal(
                key,
                f"{names[1]} ({cert}) is not the certificate in the PKCS#12 file "
                f"({provider.certificate.subject.rfc4514_string()}); leave {names[1]} "
                "out to use the file's",
                names,
            )
    if not chain:
        return provider
    extra = [c for path in chain for c in load_certificates(path)]
    combined = [*provider.chain, *(c for c in extra if c not in provider.chain)]
    return PrivateKeyProvider(provider.private_key, provider.certificate, combined)


def load_private_key(key: Path, cert: Path | None = None) -> PrivateKey:
    """Only the private key of ``[signing] key`` (a PEM key without ``cert`` is allowed
    here: a transport-body JWS needs no certificate); same errors as
    :func:`load_gateway_key`. Cached per file state and password, like the providers."""
    if is_pkcs12(key) or cert is not None:
        return load_gateway_key(key, cert).private_key
    password = signing_password()
    try:
        return load_pem_key(key, password)
    except SigningError as exc:
        raise _unloadable(key, password, exc) from None


def is_protected(key: Path) -> bool:
    """Whether ``[signing] key`` needs :data:`PASSWORD_ENV` (a PKCS#12 file, or a PEM key
    that is encrypted)."""
    if is_pkcs12(key):
        return True
    try:
        head = key.read_bytes()
    except OSError:
        return False
    return b"ENCRYPTED" in head


def subject_key_secret(key: Path) -> bytes:
    """The secret the subject key is derived from when ``[signing] key`` is its source.

    An unprotected PEM key gives its file bytes (as before, so existing subject keys stay);
    a protected one gives its private key (PKCS#8 DER), since the encrypted file is not a
    secret to anyone who reads it, and changing the password must not change the key."""
    if not is_protected(key):
        return key.read_bytes()
    private = load_private_key(key) if not is_pkcs12(key) else load_gateway_key(key).private_key
    return private.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def load_token_key(
    token_key: TokenKey, cert: Path | None, chain: Sequence[Path] = ()
) -> KeyProvider:
    """The gateway's key inside a PKCS#11 token, with its certificate (the first in ``cert``;
    the file's other certificates and ``chain`` are sent along). The certificate must be the
    key's: the public key on the token is compared with it. :class:`ConfigError` (field
    ``signing.pkcs11``) when the PIN is not set, the library, token or key is not there, the
    PIN is wrong, or the certificate belongs to another key. One session per process and
    token, opened here."""
    names = f"[signing] pkcs11 (token {token_key.token!r}, key {token_key.label!r})"
    if cert is None:
        raise _token_refusal(f"{names} needs the key's certificate: give [signing] cert")
    pin = os.environ.get(PIN_ENV, "")
    if not pin:
        raise _token_refusal(
            f"{names}: the token's user PIN is not set: give it in the environment variable "
            f"{PIN_ENV} (never in a settings file or on a command line)"
        )
    try:
        certificates = load_certificates(cert)
        extra = [c for path in chain for c in load_certificates(path)]
        backend = _token_backend(token_key.module, token_key.token, pin)
        return BackendKeyProvider(
            backend, token_key.label, certificates[0], [*certificates[1:], *extra]
        )
    except (SigningError, InputError) as exc:
        raise _token_refusal(f"{names} cannot be used: {exc.message}") from None


@cache
def _token_backend(module: Path, token: str, pin: str) -> Pkcs11Backend:
    """One back-end (so one session) per library, token and PIN in this process."""
    return Pkcs11Backend(module, token, pin)


def _token_refusal(message: str) -> ConfigError:
    return ConfigError(message, field="signing.pkcs11", rule="signing.key-unreadable")
