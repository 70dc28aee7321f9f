"""``lingang sign FILE --key KEY --cert CERT``: sign a document (XAdES baseline B-B).

UBL documents get an enveloped signature in ``ext:UBLExtensions``; other XML an enveloped
``ds:Signature`` as the root's last child; ``--detached`` makes a detached signature over the
file's bytes (CII, JSON). A PKCS#12 file can be given as ``--key`` without ``--cert``.

Peppol profiles (BIS 3, PINT, PINT SG) forbid empty elements (PEPPOL-EN16931-R008, PINT
ibr-079) and an enveloped signature is made of them: such a document is refused unless
``--force``, with a pointer to ``--detached`` (how the gateway keeps Peppol evidence).

Exit codes: 0 signed, 1 the key or document was refused, 2 unreadable files or usage error.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gateway.cli._io import write_output
from gateway.errors import InputError, LingangError, SigningError
from gateway.settings import environment_value
from gateway.signing import XadesSigner
from gateway.validation.profiles import detect_profile
from gateway.xmlsafe import parse_xml


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``sign`` command."""
    parser = sub.add_parser("sign", help="sign a document with XAdES (enveloped or detached)")
    parser.add_argument("file", type=Path, help="the document to sign")
    parser.add_argument("--key", type=Path, required=True, help="PEM private key or PKCS#12 file")
    parser.add_argument("--cert", type=Path, help="PEM certificate (not needed with PKCS#12)")
    parser.add_argument(
        "--chain", type=Path, action="append", default=[], help="PEM intermediate certificate(s)"
    )
    parser.add_argument(
        "--password-env", metavar="VAR", help="environment variable holding the key password"
    )
    parser.add_argument("--detached", action="store_true", help="make a detached signature")
    parser.add_argument(
        "--force",
        action="store_true",
        help="sign a Peppol document enveloped although that makes it invalid",
    )
    parser.add_argument("--mime-type", default=None, help="MIME type of detached data")
    parser.add_argument("-o", "--output", type=Path, help="output file (default: stdout)")
    parser.set_defaults(handler=_sign)


def _password(args: argparse.Namespace) -> bytes | None:
    if not args.password_env:
        return None
    value = environment_value(args.password_env)
    if value is None:
        raise InputError(f"environment variable {args.password_env} is not set", field="password")
    return value.encode()


def _sign(args: argparse.Namespace) -> int:
    try:
        data = args.file.read_bytes()
    except OSError as exc:
        print(f"lingang sign: cannot read {args.file}: {exc.strerror}", file=sys.stderr)
        return 2
    try:
        signer = XadesSigner.from_files(args.key, args.cert, args.chain, _password(args))
        if args.detached:
            mime = args.mime_type or _guess_mime(args.file)
            out = signer.sign_detached(data, name=args.file.name, mime_type=mime)
        else:
            _refuse_peppol_enveloped(data, args.force)
            out = signer.sign(data)
    except (SigningError, InputError) as exc:
        print(f"lingang sign: {exc}", file=sys.stderr)
        return 1
    write_output(args.output, out)
    if args.output:
        print(f"signed {args.file} -> {args.output}", file=sys.stderr)
    return 0


PEPPOL_PROFILES = frozenset({"bis3", "bis3-cii", "bis3-selfbilling", "pint", "pint-sg"})
"""Profiles whose rules forbid empty elements, and so an enveloped XAdES signature."""


def _refuse_peppol_enveloped(data: bytes, force: bool) -> None:
    if force:
        return
    try:
        profile = detect_profile(parse_xml(data, what="the document"))
    except LingangError:
        return  # not a document a profile applies to: the signer says what is wrong
    if profile in PEPPOL_PROFILES:
        raise InputError(
            f"this is a {profile} document: an enveloped signature makes it invalid "
            "(PEPPOL-EN16931-R008 / ibr-079 forbid its empty elements). Use --detached to "
            "keep the document as validated and the signature beside it, or --force to sign "
            "it enveloped anyway",
            field="file",
            rule="peppol-enveloped-signature",
        )


def _guess_mime(path: Path) -> str:
    return {".json": "application/json", ".xml": "text/xml", ".pdf": "application/pdf"}.get(
        path.suffix.lower(), "application/octet-stream"
    )
