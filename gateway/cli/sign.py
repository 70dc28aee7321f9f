"""``lingang sign FILE --key KEY --cert CERT``: sign a document (XAdES baseline B-B).

UBL documents get an enveloped signature in ``ext:UBLExtensions``; other XML an enveloped
``ds:Signature`` as the root's last child; ``--detached`` makes a detached signature over the
file's bytes (CII, JSON). A PKCS#12 file can be given as ``--key`` without ``--cert``. A key
that stays in an HSM is named as the gateway's ``[signing] pkcs11`` names it: ``--pkcs11``
(the token's PKCS#11 library), ``--token`` and ``--key-label``, with ``--cert``; the user PIN
is read only from ``LINGANG_SIGNING_PIN``, never from the command line.

Peppol profiles (BIS 3, PINT, PINT SG) forbid empty elements (PEPPOL-EN16931-R008, PINT
ibr-079) and an enveloped signature is made of them: such a document is refused unless
``--force``, with a pointer to ``--detached`` (how the gateway keeps Peppol evidence).

Exit codes: 0 signed, 1 the key or document was refused, 2 unreadable files or usage error.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gateway.cli._io import UsageError, write_output
from gateway.errors import ConfigError, InputError, LingangError, SigningError
from gateway.settings import environment_value
from gateway.signing import XadesSigner
from gateway.signing.gateway_key import TokenKey, load_token_key
from gateway.validation.profiles import detect_profile
from gateway.xmlsafe import parse_xml


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``sign`` command."""
    parser = sub.add_parser("sign", help="sign a document with XAdES (enveloped or detached)")
    parser.add_argument("file", type=Path, help="the document to sign")
    parser.add_argument("--key", type=Path, help="PEM private key or PKCS#12 file")
    parser.add_argument(
        "--pkcs11",
        type=Path,
        metavar="LIBRARY",
        help="PKCS#11 library of the token holding the key (instead of --key; the PIN is "
        "read from LINGANG_SIGNING_PIN)",
    )
    parser.add_argument("--token", metavar="LABEL", help="the token's label (with --pkcs11)")
    parser.add_argument(
        "--key-label", metavar="LABEL", help="the key's label on the token (with --pkcs11)"
    )
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
        signer = _signer(args)
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


def _signer(args: argparse.Namespace) -> XadesSigner:
    """The signer the arguments name: a key file, or a key on a PKCS#11 token. A missing or
    doubled choice is a usage error (:class:`UsageError`, exit 2); a token that refuses (no
    PIN, wrong PIN, no such key, a certificate of another key) a :class:`SigningError`."""
    if args.pkcs11 is None:
        if args.key is None:
            raise UsageError("give the key: --key FILE, or --pkcs11 with --token and --key-label")
        if args.token or args.key_label:
            raise UsageError("--token and --key-label name a key on a token: give --pkcs11 too")
        return XadesSigner.from_files(args.key, args.cert, args.chain, _password(args))
    if args.key is not None:
        raise UsageError("give the key once: --key FILE or --pkcs11, not both")
    if not args.token or not args.key_label:
        raise UsageError("--pkcs11 needs --token (the token's label) and --key-label")
    if args.cert is None:
        raise UsageError("--pkcs11 needs --cert: the key's certificate")
    if not args.pkcs11.is_file():
        raise UsageError(f"--pkcs11 names {args.pkcs11}, which does not exist")
    token_key = TokenKey(args.pkcs11, args.token, args.key_label)
    try:
        provider = load_token_key(token_key, args.cert, args.chain)
    except ConfigError as exc:
        raise SigningError(exc.message, field="pkcs11") from None
    return XadesSigner(provider)


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
