"""Run as a process by ``test_pkcs11.py``: sign with keys made inside a SoftHSM2 token.

SoftHSM2 reads ``SOFTHSM2_CONF`` once per process, when the library is first loaded, so the
signing runs in a process of its own (another test module may have loaded it with another
token directory). Arguments: the SoftHSM2 library, a test PKI folder, the document, an
output folder. Makes an RSA and a P-256 key pair on the token ``lingang`` (PIN 1234),
certifies each with the PKI's intermediate, signs the document through
:class:`~gateway.signing.pkcs11.Pkcs11Backend` into ``rsa.xml`` / ``ec.xml`` and writes what
a wrong PIN and a missing key say into ``errors.json``.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pkcs11
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID
from pkcs11 import Attribute, KeyType
from pkcs11.util.ec import encode_named_curve_parameters

from gateway.errors import SigningError
from gateway.signing import BackendKeyProvider, XadesSigner
from gateway.signing.keys import PublicKey
from gateway.signing.pkcs11 import Pkcs11Backend

TOKEN, PIN = "lingang", "1234"


def certificate(pki: Path, public: PublicKey, name: str) -> x509.Certificate:
    """A signing certificate for ``public`` from the test PKI's intermediate."""
    issuer = x509.load_pem_x509_certificate((pki / "intermediate.pem").read_bytes())
    issuer_key = serialization.load_pem_private_key(
        (pki / "intermediate.key.pem").read_bytes(), None
    )
    now = datetime.now(UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .issuer_name(issuer.subject)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(issuer_key, hashes.SHA256())  # type: ignore[arg-type]
    )


def main(library: Path, pki: Path, document: Path, out: Path) -> None:
    token = pkcs11.lib(str(library)).get_token(token_label=TOKEN)
    with token.open(user_pin=PIN, rw=True) as session:
        session.generate_keypair(KeyType.RSA, 2048, label="rsa", store=True)
        curve = {Attribute.EC_PARAMS: encode_named_curve_parameters("secp256r1")}
        session.create_domain_parameters(KeyType.EC, curve, local=True).generate_keypair(
            label="ec", store=True
        )
    backend = Pkcs11Backend(library, TOKEN, PIN)
    chain = [x509.load_pem_x509_certificate((pki / "intermediate.pem").read_bytes())]
    for label in ("rsa", "ec"):
        cert = certificate(pki, backend.public_key(label), f"HSM signer {label}")
        signer = XadesSigner(BackendKeyProvider(backend, label, cert, chain))
        (out / f"{label}.xml").write_bytes(signer.sign(document.read_bytes()))
    errors = {}
    for case, attempt in (
        ("missing key", lambda: Pkcs11Backend(library, TOKEN, PIN).public_key("nobody")),
        ("unknown token", lambda: Pkcs11Backend(library, "nowhere", PIN).public_key("rsa")),
    ):
        try:
            attempt()
        except SigningError as exc:
            errors[case] = exc.message
    (out / "errors.json").write_text(json.dumps(errors))


if __name__ == "__main__":
    main(*(Path(arg) for arg in sys.argv[1:5]))
