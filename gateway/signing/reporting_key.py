"""The key of the end-user hashes in Peppol Reporting records, and the hash itself.

Reporting must count distinct end users without keeping who they are: each record holds
``HMAC-SHA256(key, participant id)`` instead of the id. The key is a file of 32 random bytes
(hex), made on first use as a private file; a provider with the same interface (an HSM, a
KMS) can stand in for :func:`load_reporting_key`. Losing the key only means end users of
earlier months can no longer be matched with later ones, which the monthly reports never need.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from pathlib import Path

from gateway.errors import ConfigError
from gateway.private_files import create_private, private_dir

KEY_BYTES = 32
DEFAULT_KEY_FILE = Path("keys") / "peppol-reporting.key"


def load_reporting_key(path: Path) -> bytes:
    """The key in ``path`` (hex), made there first if the file does not exist: whole and
    once (:func:`~gateway.private_files.create_private`), so a process starting beside the
    one making it reads its key, never an empty file, and a crash leaves no cut key."""
    if not path.exists():
        private_dir(path.parent)
        create_private(path, secrets.token_hex(KEY_BYTES).encode() + b"\n")
    try:
        key = bytes.fromhex(path.read_text("ascii").strip())
    except (OSError, ValueError) as exc:
        raise ConfigError(
            f"the Peppol reporting key {path} is unreadable or not hex: {exc}",
            field="peppol.reporting_key",
        ) from exc
    if len(key) < 16:
        raise ConfigError(
            f"the Peppol reporting key {path} is shorter than 16 bytes",
            field="peppol.reporting_key",
        )
    return key


def end_user_hash(key: bytes, participant: str) -> str:
    """The keyed hash of an end user's participant id (``scheme:value``, case-insensitive
    as Peppol participant ids are)."""
    normalised = participant.strip().lower().encode("utf-8")
    return hmac.new(key, normalised, hashlib.sha256).hexdigest()
