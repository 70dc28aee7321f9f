"""``lingang verify FILE --trust CA.pem``: verify a XAdES-signed document.

Verifies an enveloped signature (inside the document it signs) or, with ``--data``, a detached
one; an enveloping signature (the data inside its ``ds:Object``) is named as such and refused.
Checks the signature, references, signed properties, the chain to the trust store, validity
at the claimed signing time and now (a B-B signature has no time-stamp: a certificate expired
since is refused) and revocation (OCSP, then CRL files or distribution points). Prints what was
checked; ``-o`` writes exactly the signed content (use that, never the input).

Exit codes: 0 valid, 1 invalid (the failed check and why), 2 unreadable files or usage error.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from gateway.errors import InputError, LingangError, SigningError, VerificationError
from gateway.signing import VerifiedDocument, Verifier
from gateway.signing.structure import SignatureForm, signature_form
from gateway.xmlsafe import parse_xml


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``verify`` command."""
    parser = sub.add_parser("verify", help="verify a XAdES signature (chain, revocation)")
    parser.add_argument("file", type=Path, help="the signed document (or detached signature)")
    parser.add_argument(
        "--trust", type=Path, action="append", required=True, help="trusted CA certificate(s)"
    )
    parser.add_argument(
        "--intermediate", type=Path, action="append", default=[], help="extra intermediate(s)"
    )
    parser.add_argument("--crl", type=Path, action="append", default=[], help="CRL file(s)")
    parser.add_argument("--soft-fail", action="store_true", help="accept unknown revocation")
    parser.add_argument("--no-ocsp", action="store_true", help="do not ask OCSP responders")
    parser.add_argument(
        "--no-revocation", action="store_true", help="skip revocation checking entirely"
    )
    parser.add_argument("--data", type=Path, help="the data a detached signature covers")
    parser.add_argument("-o", "--output", type=Path, help="write the signed content here")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.set_defaults(handler=_verify)


def _verify(args: argparse.Namespace) -> int:
    try:
        signed = args.file.read_bytes()
        data = args.data.read_bytes() if args.data else None
        verifier = Verifier(
            trust=args.trust,
            intermediates=args.intermediate,
            crls=args.crl,
            ocsp=not args.no_ocsp,
            soft_fail=args.soft_fail,
            check_revocation=not args.no_revocation,
        )
    except (OSError, InputError, SigningError) as exc:
        print(f"lingang verify: {exc}", file=sys.stderr)
        return 2
    misuse = _form_misuse(_form(signed), data is not None)
    if misuse is not None:
        print(f"lingang verify: {args.file} is {misuse}", file=sys.stderr)
        return 2
    try:
        result = (
            verifier.verify_detached(signed, data) if data is not None else verifier.verify(signed)
        )
    except VerificationError as exc:
        if args.json:
            print(json.dumps({"valid": False, "check": exc.check, "reason": exc.message}))
        print(f"lingang verify: INVALID ({exc.check}): {exc.message}", file=sys.stderr)
        return 1
    if args.output:
        args.output.write_bytes(result.signed_xml)
    print(json.dumps(_summary(result), indent=2) if args.json else _text(result))
    return 0


def _form(signed: bytes) -> SignatureForm | None:
    """The form of the signature in ``signed``, or ``None`` when it is not readable XML (the
    verifier then says what is wrong)."""
    try:
        return signature_form(parse_xml(signed, what="signature"))
    except LingangError:
        return None


def _form_misuse(form: SignatureForm | None, with_data: bool) -> str | None:
    """What is wrong with verifying a signature of ``form`` with or without ``--data``."""
    if form is SignatureForm.ENVELOPING:
        return (
            "an enveloping signature (the signed data is inside its ds:Object): lingang verify "
            "checks enveloped signatures (inside the document) and detached ones (with --data)"
        )
    if form is SignatureForm.DETACHED and not with_data:
        return "a detached signature: name the data it covers with --data FILE"
    if form is SignatureForm.ENVELOPED and with_data:
        return "an enveloped signature (inside the document it signs): --data is for detached ones"
    return None


def _summary(result: VerifiedDocument) -> dict[str, object]:
    return {
        "valid": True,
        "form": str(result.form),
        "signer": result.signer_certificate.subject.rfc4514_string(),
        "signing_time": result.signing_time.isoformat(),
        "checks": result.checks,
        "chain": [c.subject.rfc4514_string() for c in result.chain],
    }


def _text(result: VerifiedDocument) -> str:
    return (
        f"VALID: {result.form} signature by {result.signer_certificate.subject.rfc4514_string()} "
        f"at {result.signing_time:%Y-%m-%dT%H:%M:%SZ}\nchecks: {', '.join(result.checks)}"
    )
