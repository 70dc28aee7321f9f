"""``lingang ebl convert FILE --to dcsa|ubl|uncefact|tradetrust-oa|tradetrust-vc [-o OUT]``.

Reads a DCSA eBL JSON or UBL BillOfLading, checks it, converts it and validates the output
against its own schema; the output is written (atomically) only when all of that passed.
What the target cannot carry is printed as warnings on stderr (``--json``: in the summary).
The UBL output can be signed with an enveloped XAdES signature (``--sign-key``/``--sign-cert``:
a PEM key, encrypted or not, or a PKCS#12 file, its password only from
``LINGANG_SIGNING_PASSWORD`` as for ``[signing] key``);
the W3C VC output (``tradetrust-vc``) is always signed, ``ecdsa-sd-2023``, by ``--vc-key`` for
the issuer ``--did`` (a did:web; ``lingang keys did-web`` makes both).
Exit codes: 0 written, 1 the input or the output has fatal findings, 2 usage error.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

from gateway.cli._eblio import artefacts_home, with_artefacts
from gateway.cli._io import (
    EXIT_OK,
    EXIT_REJECTED,
    UsageError,
    check_output,
    read_source,
    write_output,
)
from gateway.errors import InputError, LingangError, ValidationFailed
from gateway.flows.ebl_convert import EblConversion, EblTarget, convert_ebl
from gateway.render.tradetrust_oa import TradeTrustIssuer, configured_issuer
from gateway.signing.vc_issuer import VcIssuer


def register(actions: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``ebl convert``."""
    parser = actions.add_parser(
        "convert", help="convert an eBL to DCSA, UBL, UN/CEFACT D23B or TradeTrust"
    )
    parser.add_argument("file", metavar="FILE", help="DCSA JSON or UBL BillOfLading ('-': stdin)")
    parser.add_argument("--to", required=True, choices=[t.value for t in EblTarget])
    parser.add_argument("-o", "--output", type=Path, help="output file (default: stdout)")
    parser.add_argument("--json", action="store_true", help="print a JSON summary on stdout")
    parser.add_argument(
        "--sign-key",
        type=Path,
        help="sign the UBL output: PEM key or .p12 (password in LINGANG_SIGNING_PASSWORD)",
    )
    parser.add_argument("--sign-cert", type=Path, help="the signing certificate (PEM)")
    parser.add_argument(
        "--sign-chain", type=Path, action="append", default=[], help="intermediate CA (PEM)"
    )
    parser.add_argument("--token-registry", help="TradeTrust: token registry address (0x…)")
    parser.add_argument("--identity-dns", help="TradeTrust: DNS name of the DNS-TXT identity proof")
    parser.add_argument("--chain-id", help="TradeTrust: chain id of the token registry's network")
    parser.add_argument("--vc-key", type=Path, help="tradetrust-vc: the issuer's P-256 key (PEM)")
    parser.add_argument("--did", help="tradetrust-vc: the issuer's did:web (the key is DID#keys-1)")
    parser.set_defaults(handler=_convert)


def _issuer(args: argparse.Namespace) -> TradeTrustIssuer:
    try:
        return configured_issuer(args.token_registry, args.identity_dns, args.chain_id, where="")
    except InputError as exc:
        raise UsageError(f"--token-registry/--identity-dns/--chain-id: {exc.message}") from exc


def _vc_issuer(args: argparse.Namespace) -> VcIssuer | None:
    if args.vc_key is None and args.did is None:
        return None
    if args.vc_key is None or args.did is None:
        raise UsageError("--vc-key and --did go together (the key is published as DID#keys-1)")
    if not args.vc_key.is_file():
        raise UsageError(f"--vc-key {args.vc_key}: no such file")
    try:
        return VcIssuer.from_files(args.vc_key, args.did)
    except LingangError as exc:
        raise UsageError(f"--vc-key/--did: {exc.message}") from exc


def _xml_signer(args: argparse.Namespace) -> Callable[[bytes], bytes] | None:
    """The XAdES signer of ``--sign-key``, loaded as ``[signing] key`` is: a PEM key (with
    ``--sign-cert``; encrypted or not) or a PKCS#12 file, whose password comes only from
    ``LINGANG_SIGNING_PASSWORD``, never from the command line."""
    if args.sign_key is None:
        return None
    from gateway.signing.gateway_key import load_gateway_key
    from gateway.signing.xades import XadesSigner

    if not args.sign_key.is_file():
        raise UsageError(f"--sign-key {args.sign_key}: no such file")
    names = ("--sign-key", "--sign-cert")
    try:
        provider = load_gateway_key(args.sign_key, args.sign_cert, args.sign_chain, names=names)
        return XadesSigner(provider).sign
    except LingangError as exc:
        raise UsageError(exc.message) from exc


def _convert(args: argparse.Namespace) -> int:
    if args.json and args.output is None:
        raise UsageError("--json prints a summary on stdout: give the document a file with -o")
    check_output(args.output)
    data, name = read_source(args.file)
    sign = _xml_signer(args)
    vc_issuer = _vc_issuer(args)
    issuer = _issuer(args)
    target = EblTarget(args.to)
    if target is EblTarget.TRADETRUST_VC and vc_issuer is None:
        raise UsageError(
            "--to tradetrust-vc signs the credential: give --vc-key and --did "
            "(`lingang keys did-web DOMAIN DIR` makes both)"
        )
    home = artefacts_home()
    try:
        result = with_artefacts(
            lambda: convert_ebl(
                data, target, home, issuer=issuer, sign_xml=sign, vc_issuer=vc_issuer
            ),
            home,
        )
    except ValidationFailed as exc:
        print(f"lingang ebl convert: {name}: rejected: {exc.message}", file=sys.stderr)
        for finding in getattr(exc.report, "findings", []):
            if finding.flag == "fatal":
                print(f"  {finding.rule_id} at {finding.location}: {finding.text}", file=sys.stderr)
        return EXIT_REJECTED
    except LingangError as exc:
        print(f"lingang ebl convert: {name}: rejected: {exc}", file=sys.stderr)
        return EXIT_REJECTED
    write_output(args.output, result.output)
    _report(args, name, result)
    return EXIT_OK


def _report(args: argparse.Namespace, name: str, result: EblConversion) -> None:
    if args.json:
        summary = {
            "file": name,
            "input": result.input_kind,
            "to": result.target.value,
            "output": str(args.output),
            "media_type": result.media_type,
            "warnings": result.warnings,
            "findings": [f.to_json() for f in result.findings],
        }
        print(json.dumps(summary, indent=2, ensure_ascii=False))
        return
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
