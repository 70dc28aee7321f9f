"""``lingang sign FILE --key KEY --cert CERT``: sign a document (XAdES baseline B-B).

UBL documents get an enveloped signature in ``ext:UBLExtensions``; other XML an enveloped
``ds:Signature`` as the root's last child; ``--detached`` makes a detached signature over the
file's bytes (CII, JSON). A PKCS#12 file can be given as ``--key`` without ``--cert``.

Exit codes: 0 signed, 1 the key or document was refused, 2 unreadable files or usage error.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gateway.errors import InputError, SigningError
from gateway.settings import environment_value
from gateway.signing import XadesSigner


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
            out = signer.sign(data)
    except (SigningError, InputError) as exc:
        print(f"lingang sign: {exc}", file=sys.stderr)
        return 1
    if args.output:
        args.output.write_bytes(out)
        print(f"signed {args.file} -> {args.output}", file=sys.stderr)
    else:
        sys.stdout.buffer.write(out)
    return 0


def _guess_mime(path: Path) -> str:
    return {".json": "application/json", ".xml": "text/xml", ".pdf": "application/pdf"}.get(
        path.suffix.lower(), "application/octet-stream"
    )
