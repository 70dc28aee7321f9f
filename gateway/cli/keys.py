"""``lingang keys test-pki DIR``: make a test PKI for demos and tests.

Writes a root CA, an intermediate, RSA and ECDSA gateway signing certificates, an expired
and a revoked certificate, an OCSP responder certificate and the CRLs (see
:mod:`gateway.signing.testpki`). Test material only: the PEM keys are not encrypted (and are
``0600``). The PKCS#12 file's password comes from ``--password-env NAME`` or is the test
default; either way the command says which, so ``lingang sign --key signer-rsa.p12`` works.

``--peppol`` makes the Peppol-like test PKI instead (root, AP CA, SMP CA, AP and SMP
certificates with seat ids ``PSG00000N``; :mod:`gateway.signing.peppol_pki`).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gateway.settings import environment_value
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
