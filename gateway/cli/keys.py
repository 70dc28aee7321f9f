"""``lingang keys test-pki DIR``: make a test PKI for demos and tests.

Writes a root CA, an intermediate, RSA and ECDSA gateway signing certificates, an expired
and a revoked certificate, an OCSP responder certificate and the CRLs (see
:mod:`gateway.signing.testpki`). Test material only: the PEM keys are not encrypted (and are
``0600``). The PKCS#12 file's password comes from ``--password-env NAME`` or is the test
default; either way the command says which, so ``lingang sign --key signer-rsa.p12`` works.

``--peppol`` makes the Peppol-like test PKI instead (root, AP CA, SMP CA, AP and SMP
certificates with seat ids ``PSG00000N``; :mod:`gateway.signing.peppol_pki`).

``lingang keys did-web DOMAIN DIR [--port N] [--path P]``: a W3C VC issuer key (ECDSA P-256,
``vc-key.pem``, ``0600``) and the DID document publishing it as a Multikey (``did.json``), to
be served at the URL the command prints; ``lingang ebl convert --to tradetrust-vc --vc-key
DIR/vc-key.pem --did DID`` signs with it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from gateway.errors import InputError
from gateway.settings import environment_value
from gateway.signing.multikey import did_document, did_json_url, did_web
from gateway.signing.peppol_pki import make_peppol_pki
from gateway.signing.testpki import P12_PASSWORD, make_test_pki


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``keys`` command group."""
    parser = sub.add_parser("keys", help="signing keys and certificates")
    actions = parser.add_subparsers(dest="keys_command", metavar="ACTION", required=True)
    pki = actions.add_parser("test-pki", help="make a test PKI (root, intermediate, signers, CRLs)")
    pki.add_argument("directory", type=Path, help="folder to write into (created if missing)")
    pki.add_argument("--ocsp-url", help="OCSP responder URL to name in end-entity certificates")
    pki.add_argument("--crl-base", help="base URL of the CRL distribution points")
    pki.add_argument(
        "--password-env",
        metavar="NAME",
        help="protect signer-rsa.p12 with the password in this environment variable "
        f"(default: the test password {P12_PASSWORD.decode()!r}, printed)",
    )
    pki.add_argument(
        "--peppol",
        action="store_true",
        help="make the Peppol-like test PKI instead (root, AP CA, SMP CA, AP and SMP "
        "certificates with seat ids PSG00000N)",
    )
    pki.set_defaults(handler=_test_pki)
    did = actions.add_parser(
        "did-web", help="make a W3C VC issuer key (P-256) and its did:web DID document"
    )
    did.add_argument("domain", help="the host that serves the DID document (e.g. carrier.example)")
    did.add_argument("directory", type=Path, help="folder to write into (created if missing)")
    did.add_argument("--port", type=int, help="the HTTPS port, when not 443")
    did.add_argument("--path", default="", help="a path under the host (did:web:host:a:b)")
    did.set_defaults(handler=_did_web)


def _did_web(args: argparse.Namespace) -> int:
    try:
        did = did_web(args.domain, port=args.port, path=args.path)
    except InputError as exc:
        print(f"lingang keys did-web: {exc.message}", file=sys.stderr)
        return 2
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    document = json.dumps(did_document(did, key.public_key()), indent=2) + "\n"
    key_path, did_path = args.directory / "vc-key.pem", args.directory / "did.json"
    try:
        args.directory.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(pem)
        did_path.write_text(document, encoding="utf-8")
    except FileExistsError:
        print(f"lingang keys did-web: {key_path} exists; not overwritten", file=sys.stderr)
        return 2
    except OSError as exc:
        print(
            f"lingang keys did-web: cannot write {args.directory}: {exc.strerror}", file=sys.stderr
        )
        return 2
    print(f"{did}: key {key_path}, DID document {did_path}")
    print(f"serve {did_path} at {did_json_url(did)}")
    return 0


def _test_pki(args: argparse.Namespace) -> int:
    if args.peppol:
        return _peppol_pki(args.directory)
    password = P12_PASSWORD
    if args.password_env:
        given = environment_value(args.password_env)
        if not given:
            print(
                f"lingang keys: environment variable {args.password_env} is not set or empty",
                file=sys.stderr,
            )
            return 2
        password = given.encode()
    try:
        made = make_test_pki(
            args.directory, ocsp_url=args.ocsp_url, crl_base=args.crl_base, password=password
        )
    except OSError as exc:
        print(f"lingang keys: cannot write {args.directory}: {exc.strerror}", file=sys.stderr)
        return 2
    names = sorted(p.name for p in made.folder.iterdir())
    print(f"test PKI written to {made.folder}: {', '.join(names)}")
    p12 = made.path("signer-rsa.p12")
    if args.password_env:
        print(f"{p12} is protected by the password in ${args.password_env}")
    else:
        print(
            f"{p12} password: {P12_PASSWORD.decode()} (test material; --password-env NAME to choose)"
        )
    return 0


def _peppol_pki(directory: Path) -> int:
    try:
        made = make_peppol_pki(directory)
    except OSError as exc:
        print(f"lingang keys: cannot write {directory}: {exc.strerror}", file=sys.stderr)
        return 2
    names = sorted(p.name for p in made.folder.iterdir())
    print(f"Peppol-like test PKI written to {made.folder}: {', '.join(names)}")
    print("access points PSG000001 (ap-sender), PSG000002 (ap-receiver); SMP PSG000003 (smp)")
    return 0
