"""``lingang ledger verify``: check the export ledger's chain, head and signed checkpoints."""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography import x509

from gateway.cli._gatestore import gate_store
from gateway.cli._io import UsageError
from gateway.cli.migrate import add_database_arguments, database_url
from gateway.errors import ConfigError, VerificationError
from gateway.store.ledger_anchor import AnchorError, anchored_problem, read_anchor
from gateway.store.ledger_chain import ChainReport, checkpoint_payload, verify_chain

if TYPE_CHECKING:
    from gateway.settings import Settings


def register(actions: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = actions.add_parser(
        "verify",
        help="check the ledger's hash chain and signed checkpoints",
        description="Recompute every entry's hash and its link to the one before, check the "
        "head, every signed checkpoint and every checkpoint of the anchor file; name the first "
        "edited, removed, inserted or reordered entry (exit 1). Checkpoint signatures are "
        "checked against --cert, else the configured [signing] cert; with neither, a ledger "
        "with checkpoints is not called sound (exit 1). The anchor is --anchor, else (without "
        "--database) the configured [policy] ledger_anchor when it exists: entries cut off "
        "the end are caught only against it.",
    )
    parser.add_argument(
        "--cert",
        type=Path,
        action="append",
        default=[],
        help="a certificate the gateway signs or signed with (PEM; repeat it for the ones "
        "before a key rotation; default: [signing] cert and previous_certs)",
    )
    parser.add_argument(
        "--anchor",
        type=Path,
        action="append",
        default=[],
        help="an anchor file of signed checkpoints (repeat for each replica's)",
    )
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    add_database_arguments(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from gateway.settings import Settings

    settings = Settings.load(args.config)
    trusted = _trusted_certs(settings, args.cert)
    anchors = list(args.anchor)
    configured = settings.policy.anchor_path(settings.data_dir)
    if not anchors and not args.database and configured.is_file():
        anchors.append(configured)
    try:
        anchored = [mark for path in anchors for mark in read_anchor(path)]
    except (OSError, AnchorError) as exc:
        raise UsageError(f"--anchor: {exc}") from exc
    report = asyncio.run(_verify(database_url(args), trusted, anchored))
    if args.json:
        print(json.dumps(report.to_json()))
    elif report.ok:
        print(
            f"ledger ok: {report.entries} entries, {report.checkpoints} signed checkpoints, "
            f"{report.anchored} anchored"
        )
    else:
        where = f"entry {report.seq}" if report.seq is not None else "its checkpoints"
        print(f"ledger broken at {where}: {report.problem}")
    return 0 if report.ok else 1


def _trusted_certs(settings: Settings, given: list[Path]) -> list[x509.Certificate]:
    """The certificates checkpoints may be signed with: ``--cert`` (each), else the
    configured one (``[signing] cert`` or a PKCS#12 key's) and ``[signing] previous_certs``
    (those of keys rotated out)."""
    if given:
        return [_trusted_cert(path) for path in given]
    current = (
        _trusted_cert(settings.signing.cert)
        if settings.signing.cert is not None
        else _pkcs12_cert(settings)
    )
    previous = [_trusted_cert(path) for path in settings.signing.previous_certs]
    return [*([current] if current is not None else []), *previous]


def _pkcs12_cert(settings: Settings) -> x509.Certificate | None:
    """The certificate inside a PKCS#12 ``[signing] key`` (opened with
    ``LINGANG_SIGNING_PASSWORD``), when no certificate is configured."""
    from gateway.signing.gateway_key import is_pkcs12, load_gateway_key

    key = settings.signing.key
    if key is None or not is_pkcs12(key):
        return None
    try:
        return load_gateway_key(key).certificate
    except ConfigError as exc:
        raise UsageError(f"{exc.message}; or give the certificate with --cert") from exc


def _trusted_cert(path: Path) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(Path(path).read_bytes())
    except (OSError, ValueError) as exc:
        raise UsageError(f"the trusted certificate {path}: {exc}") from exc


def signature_checker(trusted: Sequence[x509.Certificate]) -> Any:
    """``check(payload, signature, certificate_pem)`` for :func:`verify_chain`: the
    signature is checked against the trusted certificates (the current one and those rotated
    out); a checkpoint stored with a certificate that is none of them fails, and the stored
    one is never trusted by itself (whoever rewrote the chain could have stored it)."""
    from gateway.signing.jws import verify_detached

    def verifies(payload: bytes, signature: str, cert: x509.Certificate) -> bool:
        try:
            verify_detached(signature, payload, cert.public_key())
        except VerificationError:
            return False
        return True

    def check(payload: bytes, signature: str, certificate: str) -> bool:
        candidates = list(trusted)
        if certificate:
            try:
                stored = x509.load_pem_x509_certificate(certificate.encode("ascii"))
            except ValueError:
                return False
            candidates = [cert for cert in trusted if cert == stored]
        return any(verifies(payload, signature, cert) for cert in candidates)

    return check


NO_TRUSTED_CERT = (
    "signed checkpoints cannot be checked: no trusted certificate (give --cert, or "
    "[signing] cert in the configuration); the certificates stored beside them prove nothing"
)


async def _verify(
    url: str, trusted: Sequence[x509.Certificate], anchored: list[dict[str, Any]]
) -> ChainReport:
    async with gate_store(url) as (_, ledger):
        entries, head, marks = await ledger.chain_state()
    if head is None:
        return ChainReport(False, len(entries), len(marks), "the ledger's head row is missing")
    if not trusted:
        report = verify_chain(entries, head)
        if report.ok and (marks or anchored):
            return replace(report, ok=False, problem=NO_TRUSTED_CERT)
        return report
    check = signature_checker(trusted)
    report = verify_chain(entries, head, marks, check)
    if not report.ok:
        return report
    for mark in anchored:
        payload = checkpoint_payload(int(mark["seq"]), str(mark["head_hash"]), str(mark["at"]))
        if not check(payload, str(mark["signature"]), ""):
            return replace(
                report,
                ok=False,
                seq=int(mark["seq"]),
                problem=f"the anchored checkpoint {mark['seq']} ({mark['file']}, line "
                f"{mark['line']}) has a bad signature",
            )
    problem = anchored_problem(entries, anchored)
    if problem is not None:
        return replace(report, ok=False, seq=problem[0], problem=problem[1])
    return replace(report, anchored=len({int(m["seq"]) for m in anchored}))
