"""RSA keys for RS256 / PS256 are 2048 bits or more wherever they enter (RFC 7518 3.3, 3.5:
"A key of size 2048 bits or larger MUST be used with these algorithms").

Only keys read from a JWK were held to it. A partner's key configured as a PEM certificate
(``partners.X.certificates``) or added to a key set directly was taken at any size, and a
PINT envelope signed RS256 with a 1024-bit key verified; our own signing key could be 1024
bits too. Now the key set refuses such a key (``check=algorithm``), the adapter's
configuration says which, and the signer refuses to sign.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from adapters.dcsa_pint.options import PintOptions
from gateway.errors import ConfigError, SigningError, VerificationError
from gateway.signing.jose import CompactSigner, KeySet
from gateway.testing.pint import SCHEMA, DemoPlatform


def _certificate(key: rsa.RSAPrivateKey) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Short key platform")])
    now = datetime.now(UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .sign(key, hashes.SHA256())
    )


@pytest.fixture(scope="module")
def short_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=1024)


def test_a_key_set_refuses_a_short_rsa_key(short_key: rsa.RSAPrivateKey) -> None:
    with pytest.raises(VerificationError) as caught:
        KeySet().add(short_key.public_key(), "HKSP")
    assert caught.value.check == "algorithm"
    assert "HKSP" in caught.value.message and "RFC 7518 3.3" in caught.value.message


def test_our_signer_refuses_a_short_rsa_key(short_key: rsa.RSAPrivateKey) -> None:
    with pytest.raises(SigningError, match="1024 bits"):
        CompactSigner(short_key, "RS256")


def test_a_partner_certificate_with_a_short_rsa_key_is_a_configuration_error(
    tmp_path: Path,
    reference: Path,
    platforms: dict[str, DemoPlatform],
    short_key: rsa.RSAPrivateKey,
) -> None:
    paths = platforms["C"].write(tmp_path / "keys")
    partner = tmp_path / "hksp.pem"
    partner.write_bytes(_certificate(short_key).public_bytes(serialization.Encoding.PEM))
    options = {
        "platform": "SGTD",
        "signing_key": str(paths["key"]),
        "envelope_schema": str(reference / SCHEMA),
        "partners": {"HKSP": {"url": "https://hksp.example/v3", "certificates": [str(partner)]}},
    }
    with pytest.raises(ConfigError, match=r"HKSP has 1024 bits.*RFC 7518 3\.3"):
        PintOptions.parse("pint", options, tmp_path)
