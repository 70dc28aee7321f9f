"""``lingang keys test-pki DIR``: make a test PKI for demos and tests.

Writes a root CA, an intermediate, RSA and ECDSA gateway signing certificates, an expired
and a revoked certificate, an OCSP responder certificate and the CRLs (see
:mod:`gateway.signing.testpki`). Test material only: the keys are not encrypted.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gateway.signing.testpki import make_test_pki


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``keys`` command group."""
    parser = sub.add_parser("keys", help="signing keys and certificates")
    actions = parser.add_subparsers(dest="keys_command", metavar="ACTION", required=True)
    pki = actions.add_parser("test-pki", help="make a test PKI (root, intermediate, signers, CRLs)")
    pki.add_argument("directory", type=Path, help="folder to write into (created if missing)")
    pki.add_argument("--ocsp-url", help="OCSP responder URL to name in end-entity certificates")
    pki.add_argument("--crl-base", help="base URL of the CRL distribution points")
    pki.set_defaults(handler=_test_pki)


def _test_pki(args: argparse.Namespace) -> int:
    try:
        made = make_test_pki(args.directory, ocsp_url=args.ocsp_url, crl_base=args.crl_base)
    except OSError as exc:
        print(f"lingang keys: cannot write {args.directory}: {exc.strerror}", file=sys.stderr)
        return 2
    names = sorted(p.name for p in made.folder.iterdir())
    print(f"test PKI written to {made.folder}: {', '.join(names)}")
    return 0
