"""Throw-away PINT platforms for tests, the demo and the benchmark: keys, parties and
transport documents made from the DCSA conformance template. Never use these for anything real."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from gateway.pint.title import Party
from gateway.signing.jose import CompactSigner, KeySet, PrivateKey, jwks_of

TEMPLATE = Path("ebl/dcsa/conformance-templates/pint-3.0.0-transport-document.json")
"""The DCSA conformance kit's PINT transport document, under the reference folder."""
SCHEMA = Path("ebl/dcsa/jsonschema/EBL_PINT_v3.0.0.EblEnvelope.schema.json")
"""The official PINT envelope schema, under the reference folder."""


def transport_document(reference_root: Path, number: str, **changes: Any) -> dict[str, Any]:
    """A transport document from the DCSA conformance template with its placeholders filled."""
    text = (reference_root / TEMPLATE).read_text("utf-8")
    text = (
        text.replace("TRANSPORT_DOCUMENT_REFERENCE_PLACEHOLDER", number)
        .replace("SHIPPING_INSTRUCTION_REFERENCE_PLACEHOLDER", f"SI-{number}")
        .replace("BOOKING_REFERENCE_PLACEHOLDER", f"BK-{number}")
    )
    document: dict[str, Any] = json.loads(text)
    document.update(changes)
    return document


def make_key(kind: str) -> PrivateKey:
    """A fresh key: ``ed25519``, ``p256`` or ``rsa``."""
    if kind == "ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    if kind == "p256":
        return ec.generate_private_key(ec.SECP256R1())
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@dataclass(slots=True)
class DemoPlatform:
    """One platform: its code, signing key, one party of its own, and a carrier it issues for."""

    code: str
    key: PrivateKey
    party: Party
    algorithm: str = ""
    carrier_key: PrivateKey | None = None
    carrier: Party | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def signer(self) -> CompactSigner:
        return CompactSigner(self.key, self.algorithm)

    def write(self, folder: Path) -> dict[str, Path]:
        """PEM private key, JWKS of the public key (and the carrier's) under ``folder``."""
        folder.mkdir(parents=True, exist_ok=True)
        paths = {"key": folder / f"{self.code}.key.pem", "jwks": folder / f"{self.code}.jwks.json"}
        paths["key"].write_bytes(pem(self.key))
        paths["jwks"].write_text(json.dumps(jwks_of([self.key])), "utf-8")
        if self.carrier_key is not None:
            paths["carrier_key"] = folder / f"{self.code}.carrier.key.pem"
            paths["carrier_jwks"] = folder / f"{self.code}.carrier.jwks.json"
            paths["carrier_key"].write_bytes(pem(self.carrier_key))
            paths["carrier_jwks"].write_text(json.dumps(jwks_of([self.carrier_key])), "utf-8")
        return paths


def pem(key: PrivateKey) -> bytes:
    """A private key as unencrypted PKCS#8 PEM."""
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def platform(code: str, kind: str, party_code: str, *, carrier: bool = False) -> DemoPlatform:
    """A test platform with a key of ``kind`` and one party (``ZZZ`` code ``party_code``)."""
    made = DemoPlatform(
        code, make_key(kind), Party(code, f"{party_code} Ltd", frozenset({("ZZZ", party_code)}))
    )
    if carrier:
        made.carrier_key = make_key("p256")
        made.carrier = Party(code, "COSCO Shipping Lines", frozenset({("SMDG", "COS")}))
    return made


def key_sets(platforms: list[DemoPlatform]) -> tuple[KeySet, KeySet]:
    """``(platform keys, carrier keys)`` knowing every platform of ``platforms``."""
    keys, carriers = KeySet(), KeySet()
    for each in platforms:
        keys.add(each.key, each.code)
        if each.carrier_key is not None:
            carriers.add(each.carrier_key, each.code)
    return keys, carriers
