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
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gateway.policy.keys import KeyProvider


def subject_hashes(
    subjects: Mapping[str, bool], key: KeyProvider | bytes, exporter: str
) -> list[tuple[str, bool]]:
    """``(hash, sensitive)`` per subject, sorted (stable across runs); ``key`` is the key
    provider (:mod:`gateway.policy.keys`) or the key's bytes."""
    mac = key.mac if not isinstance(key, bytes) else _local_mac(key)
    out = [
        (mac(f"{exporter}\x1f{identity}".encode()).hex(), sensitive)
        for identity, sensitive in subjects.items()
    ]
    return sorted(out)


def key_id_of(key: KeyProvider | bytes) -> str:
    """The id recorded with the individuals hashed under ``key`` (``""`` for raw bytes)."""
    return "" if isinstance(key, bytes) else key.key_id


def _local_mac(key: bytes) -> Callable[[bytes], bytes]:
    def mac(message: bytes) -> bytes:
        return hmac.new(key, message, hashlib.sha256).digest()

    return mac
