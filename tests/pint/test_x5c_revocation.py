"""Revocation of ``x5c`` signing certificates in PINT JWS headers, against a live OCSP responder
(Debian's ``openssl ocsp``) on 127.0.0.1: a chain entry and manifest signed under a revoked
certificate get ``BSIG`` (the signing certificate is not acceptable, PINT 3.0), the same
envelope under a good certificate verifies; responder down → the soft-fail setting decides.
The check is the shared :class:`gateway.signing.truststore.TrustStore` the Peppol AP uses."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from adapters.dcsa_pint.options import PintOptions
from gateway.errors import ConfigError
from gateway.pint import build
from gateway.pint.chain import verify_envelope
from gateway.pint.checksums import document_checksum
from gateway.pint.codes import PintRejection, ResponseCode
from gateway.pint.schema import EnvelopeSchema
from gateway.signing.jose import CompactSigner, KeySet
from gateway.signing.revocation import RevocationChecker
from gateway.signing.truststore import TrustStore
from gateway.testing.pint import SCHEMA, DemoPlatform, key_sets
from tests.live_revocation import RevocationLab, revocation_lab, self_signed_ca

from .chains import issue_entry, transfer

if shutil.which("openssl") is None and not os.environ.get("CI"):
    pytest.skip("openssl is not installed", allow_module_level=True)


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[RevocationLab]:
    ca, key = self_signed_ca("PINT platforms test CA")
    with revocation_lab(tmp_path / "ca", ca, key) as made:
        yield made


def _envelope_signed_with(
    platforms: dict[str, DemoPlatform], document: dict[str, Any], cert: x509.Certificate
) -> dict[str, Any]:
    """A → B (no x5c), then B → C signed by B's key with ``cert`` as its x5c chain."""
    a, b, c = platforms["A"], platforms["B"], platforms["C"]
    signer = CompactSigner(b.key, x5c=[cert])
    first = issue_entry(a, document, a.party, transfer(a.party, b.party))
    second = build.chain_entry(
        signer,
        b.code,
        document_checksum(document),
        [transfer(b.party, c.party)],
        previous=first,
    )
    return build.envelope(signer, document, [first, second])


def _keys(
    platforms: dict[str, DemoPlatform], lab: RevocationLab, *, soft_fail: bool
) -> tuple[KeySet, KeySet]:
    keys, carriers = key_sets(list(platforms.values()))
    keys.trust = TrustStore(
        (lab.ca_cert,), revocation=RevocationChecker(timeout=2.0), soft_fail=soft_fail
    )
    return keys, carriers


def _at_c(env: Any, keys: KeySet, carriers: KeySet, schema: EnvelopeSchema) -> Any:
    return verify_envelope(env, keys=keys, carriers=carriers, platform="SGTD", schema=schema)


def test_revoked_x5c_signer_gets_bsig(
    platforms: dict[str, DemoPlatform],
    schema: EnvelopeSchema,
    document: dict[str, Any],
    lab: RevocationLab,
) -> None:
    b = platforms["B"]
    good, _ = lab.issue("IQAX signing", b.key)
    revoked, _ = lab.issue("IQAX signing (old)", b.key)
    lab.revoke(revoked)
    lab.start_ocsp()
    keys, carriers = _keys(platforms, lab, soft_fail=False)
    verified = _at_c(_envelope_signed_with(platforms, document, good), keys, carriers, schema)
    assert verified.title.possessor.same(platforms["C"].party)
    with pytest.raises(PintRejection) as caught:
        _at_c(_envelope_signed_with(platforms, document, revoked), keys, carriers, schema)
    assert caught.value.response is ResponseCode.BSIG
    assert "revoked" in caught.value.message


def test_responder_down_soft_fail_decides(
    platforms: dict[str, DemoPlatform],
    schema: EnvelopeSchema,
    document: dict[str, Any],
    lab: RevocationLab,
) -> None:
    good, _ = lab.issue("IQAX signing", platforms["B"].key)
    env = _envelope_signed_with(platforms, document, good)  # nobody answers OCSP
    keys, carriers = _keys(platforms, lab, soft_fail=True)
    assert _at_c(env, keys, carriers, schema).title.possessor.same(platforms["C"].party)
    keys, carriers = _keys(platforms, lab, soft_fail=False)
    with pytest.raises(PintRejection) as caught:
        _at_c(env, keys, carriers, schema)
    assert caught.value.response is ResponseCode.BSIG and "unknown" in caught.value.message


def test_revocation_option(
    tmp_path: Path, reference: Path, platforms: dict[str, DemoPlatform], lab: RevocationLab
) -> None:
    paths = platforms["C"].write(tmp_path / "keys")
    roots = tmp_path / "roots.pem"
    roots.write_bytes(lab.ca_cert.public_bytes(serialization.Encoding.PEM))
    base = {
        "platform": "SGTD",
        "signing_key": str(paths["key"]),
        "envelope_schema": str(reference / SCHEMA),
        "trust": [str(roots)],
    }
    hard = PintOptions.parse("pint", {**base, "revocation": "hard-fail"}, tmp_path)
    assert hard.keys.trust is not None and hard.keys.trust.revocation is not None
    assert hard.keys.trust.soft_fail is False and hard.carriers.trust is hard.keys.trust
    default = PintOptions.parse("pint", base, tmp_path)
    assert default.keys.trust is not None and default.keys.trust.soft_fail is True
    off = PintOptions.parse("pint", {**base, "revocation": "off"}, tmp_path)
    assert off.keys.trust is not None and off.keys.trust.revocation is None
    with pytest.raises(ConfigError, match="revocation"):
        PintOptions.parse("pint", {**base, "revocation": "sometimes"}, tmp_path)
