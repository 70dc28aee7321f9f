"""Personal-information subjects as keyed hashes: counted, never kept in clear.

A subject's identity key (an ID-card number, or a name with what qualifies it) is turned into
HMAC-SHA256 under the gateway's subject key, per exporter, so the yearly counts deduplicate
individuals without storing who they are; without the key the hashes cannot be recomputed
from a guessed identity. The key comes from the key provider (a key file, or derived from
the gateway's signing key) and is never written to the store or the ledger.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

SUBJECT_KEY_INFO = b"lingang export-gate subject key v1"


def subject_hashes(
    subjects: Mapping[str, bool], key: bytes, exporter: str
) -> list[tuple[str, bool]]:
    """``(hash, sensitive)`` per subject, sorted (stable across runs)."""
    out = [
        (hmac.new(key, f"{exporter}\x1f{identity}".encode(), hashlib.sha256).hexdigest(), sensitive)
        for identity, sensitive in subjects.items()
    ]
    return sorted(out)


def derive_subject_key(secret: bytes) -> bytes:
    """A subject key derived from another secret (e.g. the signing key's bytes) with HKDF."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=SUBJECT_KEY_INFO).derive(
        secret
    )
