"""PINT checksums: lower-case hex SHA-256.

* the transport document and party objects: over their RFC 8785 canonical JSON;
* a signed entry (``EnvelopeTransferChainEntrySignedContent``): over the compact JWS text;
* an additional document: over its decoded bytes.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from gateway.signing.jcs import canonical_sha256

CHECKSUM = re.compile(r"^[0-9a-f]{64}$")


def document_checksum(document: Any) -> str:
    """Checksum of a JSON document (the transport document, an ``issueTo`` party)."""
    return canonical_sha256(document)


def jws_checksum(token: str) -> str:
    """Checksum of a compact JWS as sent (its ASCII text)."""
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def bytes_checksum(data: bytes) -> str:
    """Checksum of an additional document's decoded bytes."""
    return hashlib.sha256(data).hexdigest()


def is_checksum(value: object) -> bool:
    """Whether ``value`` is a well-formed checksum."""
    return isinstance(value, str) and CHECKSUM.match(value) is not None
