"""The detached JWS (transport bodies, ledger checkpoints) names the algorithm its EC key makes.

RFC 7518 3.4: ES256 is ECDSA with P-256 and SHA-256, ES384 with P-384 and SHA-384, ES512 with
P-521 and SHA-512, the signature ``r || s`` of 64, 96 and 132 octets. The ``[signing]`` key may
be on any of the three (its XAdES signatures take the curve's hash); a P-384 key used to sign
as "ES256" with SHA-256, which an independent JOSE implementation refuses.
"""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jwcrypto import jwk, jws

from gateway.errors import SigningError, VerificationError
from gateway.signing.jws import DetachedJwsSigner, b64url, b64url_decode, verify_detached

BODY = b'{"invoice":"INV-1"}'


def _jwcrypto_verifies(token: str, key: ec.EllipticCurvePrivateKey) -> str:
    """Verify with jwcrypto (attached form); return the algorithm it read."""
    protected, _, signature = token.partition("..")
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    compact = f"{protected}.{b64url(BODY)}.{signature}"
    checked = jws.JWS()
    checked.deserialize(compact)
    alg = str(checked.jose_header["alg"])
    checked.verify(jwk.JWK.from_pem(public), alg=alg)
    return alg


@pytest.mark.parametrize(
    ("curve", "alg", "octets"),
    [(ec.SECP256R1(), "ES256", 64), (ec.SECP384R1(), "ES384", 96), (ec.SECP521R1(), "ES512", 132)],
)
def test_an_ec_key_signs_with_its_curves_algorithm(
    curve: ec.EllipticCurve, alg: str, octets: int
) -> None:
    key = ec.generate_private_key(curve)
    token = DetachedJwsSigner(key).sign_detached(BODY)
    assert len(b64url_decode(token.partition("..")[2])) == octets
    assert verify_detached(token, BODY, key.public_key())["alg"] == alg
    assert _jwcrypto_verifies(token, key) == alg


def test_an_alg_that_is_not_the_keys_curve_is_refused() -> None:
    """A P-384 key's signature labelled ES256 (what was made before) does not verify."""
    key = ec.generate_private_key(ec.SECP384R1())
    token = DetachedJwsSigner(key).sign_detached(BODY)
    protected = b64url(b'{"alg":"ES256","typ":"JOSE"}')
    relabelled = f"{protected}..{token.partition('..')[2]}"
    with pytest.raises(VerificationError) as caught:
        verify_detached(relabelled, BODY, key.public_key())
    assert caught.value.check == "jws.alg"


def test_a_signature_of_the_wrong_width_is_refused() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    protected, _, signature = DetachedJwsSigner(key).sign_detached(BODY).partition("..")
    padded = b64url(b"\0" + b64url_decode(signature) + b"\0")
    with pytest.raises(VerificationError) as caught:
        verify_detached(f"{protected}..{padded}", BODY, key.public_key())
    assert caught.value.check == "jws.signature"


def test_a_curve_with_no_jws_algorithm_is_a_signing_error() -> None:
    signer = DetachedJwsSigner(ec.generate_private_key(ec.SECP256K1()))
    with pytest.raises(SigningError, match="secp256k1 has no JWS algorithm"):
        signer.sign_detached(BODY)
