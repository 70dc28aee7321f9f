"""The gateway as a W3C VC issuer: a P-256 key published in a ``did:web`` DID document.

::

    issuer = VcIssuer.from_files(Path("vc-key.pem"), "did:web:carrier.example")
    signed = issuer.sign(credential, home)                 # ecdsa-sd-2023 base proof
    problems = issuer.verify(signed, home)                 # our verifier, [] when valid
    Path("did.json").write_text(json.dumps(issuer.did_document()))   # serve at did_json_url

``lingang keys did-web`` makes the key and the DID document.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec

from gateway.signing.ecdsa_sd import DEFAULT_MANDATORY, sign_base_proof, verify_base_proof
from gateway.signing.jsonld_loader import static_loader
from gateway.signing.multikey import KEY_FRAGMENT, did_document, did_json_url, load_vc_key


@dataclass(frozen=True, slots=True)
class VcIssuer:
    """A signing key and the ``did:web`` that publishes it as ``#keys-1``."""

    key: ec.EllipticCurvePrivateKey
    did: str

    def __post_init__(self) -> None:
        did_json_url(self.did)  # refuses anything but a did:web

    @classmethod
    def from_files(cls, key: Path, did: str) -> VcIssuer:
        """Load the PEM key (ECDSA P-256) for ``did``."""
        return cls(load_vc_key(key), did)

    @property
    def verification_method(self) -> str:
        """``DID#keys-1``."""
        return f"{self.did}#{KEY_FRAGMENT}"

    def did_document(self) -> dict[str, Any]:
        """The DID document to serve at :func:`did_json_url`."""
        return did_document(self.did, self.key.public_key())

    def sign(
        self, credential: dict[str, Any], home: Path, *, created: dt.datetime | None = None
    ) -> dict[str, Any]:
        """``credential`` with an ``ecdsa-sd-2023`` base proof, TrustVC's mandatory pointers."""
        moment = (created or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
        pointers = tuple(p for p in DEFAULT_MANDATORY if p[1:] in credential)
        return sign_base_proof(
            credential,
            self.key,
            self.verification_method,
            static_loader(home),
            created=moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
            mandatory_pointers=pointers,
        )

    def verify(self, signed: dict[str, Any], home: Path) -> list[str]:
        """Problems of ``signed``'s proof against this issuer's DID document ([] = valid)."""
        return verify_base_proof(signed, self.did_document(), static_loader(home))
