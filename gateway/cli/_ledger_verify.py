"""``lingang ledger verify``: check the export ledger's chain, head and signed checkpoints."""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path
from typing import Any

from cryptography import x509

from gateway.cli._gatestore import gate_store
from gateway.cli.migrate import add_database_arguments, database_url
from gateway.errors import VerificationError
from gateway.store.ledger_chain import ChainReport, verify_chain


def register(actions: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = actions.add_parser(
        "verify",
        help="check the ledger's hash chain and signed checkpoints",
        description="Recompute every entry's hash and its link to the one before, check the "
        "head and every signed checkpoint; name the first edited, removed, inserted or "
        "reordered entry (exit 1). Checkpoint signatures are checked against --cert, else the "
        "configured [signing] cert, else the certificate stored with each checkpoint.",
    )
    parser.add_argument("--cert", type=Path, help="the gateway's signing certificate (PEM)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    add_database_arguments(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    trusted = _trusted_cert(args)
    report = asyncio.run(_verify(database_url(args), trusted))
    if args.json:
        print(json.dumps(report.to_json()))
    elif report.ok:
        print(f"ledger ok: {report.entries} entries, {report.checkpoints} signed checkpoints")
    else:
        print(f"ledger broken at entry {report.seq}: {report.problem}")
    return 0 if report.ok else 1


def _trusted_cert(args: argparse.Namespace) -> x509.Certificate | None:
    path = args.cert
    if path is None:
        from gateway.settings import Settings

        path = Settings.load(args.config).signing.cert
    if path is None:
        return None
    return x509.load_pem_x509_certificate(Path(path).read_bytes())


def signature_checker(trusted: x509.Certificate | None) -> Any:
    """``check(payload, signature, certificate_pem)`` for :func:`verify_chain`."""
    from gateway.signing.jws import verify_detached

    def check(payload: bytes, signature: str, certificate: str) -> bool:
        try:
            stored = x509.load_pem_x509_certificate(certificate.encode("ascii"))
        except ValueError:
            return False
        if trusted is not None and stored != trusted:
            return False
        try:
            verify_detached(signature, payload, (trusted or stored).public_key())
        except VerificationError:
            return False
        return True

    return check


async def _verify(url: str, trusted: x509.Certificate | None) -> ChainReport:
    async with gate_store(url) as (_, ledger):
        entries, head, marks = await ledger.chain_state()
    return verify_chain(entries, head, marks, signature_checker(trusted))
