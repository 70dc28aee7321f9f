"""DCSA PINT: complete envelope transfers per second over loopback TLS, fully verified.

    .venv/bin/python -m bench.pint [--transfers 200] [--concurrency 16] [--runs 3]
                                   [--documents 1] [--reference ../shared/reference]

The receiving platform (IQAX) runs as a real ``python -m gateway serve`` process with TLS and
its own SQLite store; this process is the sending platform (AEOT). Each transfer is a fresh eBL
(the DCSA conformance transport document) issued by the carrier and transferred to a party on
the receiver, with ``--documents`` supporting documents. A transfer counts when the sender
holds the receiver's **signed** ``RECE``, verified: the receiver has checked the official
schema, the manifest and every chain signature (EdDSA), the carrier's issuance manifest
(ES256), every checksum and the title rules, received the documents, and recorded the eBL
in its registry (one transaction) before answering. Envelopes are signed before the clock
starts (that is the sender's own work, measured separately as ``sign/s``).

Baseline, same run: the receiver's verification alone (:func:`verify_envelope`, no HTTP, no
store) in this process. Runs ``--runs`` times; prints the median and the spread.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from adapters.base import Envelope
from gateway.pint import build
from gateway.pint.chain import verify_envelope
from gateway.pint.checksums import bytes_checksum, document_checksum
from gateway.pint.codes import ActionCode
from gateway.pint.schema import load_schema
from gateway.signing.jose import CompactSigner
from gateway.testing.cluster import GatewayProcess, free_port
from gateway.testing.pint import (
    SCHEMA,
    DemoPlatform,
    InProcessPlatform,
    key_sets,
    platform,
    transport_document,
    write_platform_homes,
)
from gateway.testing.tls import make_tls

REPO = Path(__file__).resolve().parent.parent


def make_envelopes(
    sender: DemoPlatform, receiver: DemoPlatform, reference: Path, count: int, documents: int
) -> list[tuple[dict[str, Any], dict[str, bytes]]]:
    """``count`` envelopes, each a fresh eBL from ``sender``'s carrier to ``receiver``'s party."""
    assert sender.carrier is not None and sender.carrier_key is not None
    carrier = CompactSigner(sender.carrier_key)
    made = []
    for _ in range(count):
        document = transport_document(reference, f"B{uuid.uuid4().hex[:14].upper()}")
        issuance = build.issuance_manifest(document, sender.party, carrier)
        transactions = [
            build.transaction(ActionCode.ISSUE, sender.carrier, sender.party),
            build.transaction(ActionCode.TRANSFER, sender.party, receiver.party),
        ]
        entry = build.chain_entry(
            sender.signer, sender.code, document_checksum(document), transactions, issuance=issuance
        )
        files = {f"doc{n}.pdf": f"%PDF-1.7 {uuid.uuid4()} {n}".encode() for n in range(documents)}
        metas = [build.document_metadata(n, d, "application/pdf") for n, d in files.items()]
        envelope = build.envelope(sender.signer, document, [entry], metas)
        made.append((envelope, {bytes_checksum(d): d for d in files.values()}))
    return made


async def run_transfers(
    adapter: Any, envelopes: list[tuple[dict[str, Any], dict[str, bytes]]], concurrency: int
) -> tuple[float, int]:
    """Send every envelope; ``(seconds, transfers with a verified signed RECE)``."""
    queue = list(envelopes)
    received = 0

    async def one_client() -> None:
        nonlocal received
        while queue:
            envelope, documents = queue.pop()
            receipt = await adapter.deliver(
                Envelope(
                    message_id=f"{uuid.uuid4()}@bench",
                    body=json.dumps(envelope).encode(),
                    content_type="application/json",
                    receiver="IQAX",
                    attachments=documents,
                )
            )
            if receipt.details.get("responseCode") == "RECE":
                received += 1

    started = time.perf_counter()
    await asyncio.gather(*(one_client() for _ in range(concurrency)))
    return time.perf_counter() - started, received


def baseline(
    envelopes: list[tuple[dict[str, Any], dict[str, bytes]]],
    platforms: list[DemoPlatform],
    reference: Path,
) -> float:
    """Verifications per second, in process (schema, manifest, chain, issuance, title)."""
    keys, carriers = key_sets(platforms)
    schema = load_schema(reference / SCHEMA)
    started = time.perf_counter()
    for envelope, _ in envelopes:
        verify_envelope(envelope, keys=keys, carriers=carriers, platform="IQAX", schema=schema)
    return len(envelopes) / (time.perf_counter() - started)


def spread(values: list[float]) -> str:
    return f"median {statistics.median(values):.1f}/s (min {min(values):.1f}, max {max(values):.1f}, runs {len(values)})"


async def main(args: argparse.Namespace) -> int:
    reference = Path(args.reference).resolve()
    sender = platform("AEOT", "ed25519", "SHANGHAI-EXPORTER", carrier=True)
    receiver = platform("IQAX", "ed25519", "HK-TRADER")
    with tempfile.TemporaryDirectory(prefix="bench-pint-") as tmp:
        root = Path(tmp)
        tls = make_tls(root / "tls")
        homes = write_platform_homes(
            root, [sender, receiver], reference_root=reference, tls=tls,
            ports=[free_port(), free_port()], worker_count=1,
        )  # fmt: skip
        server = GatewayProcess(["serve"], homes[1].config, root / "receiver.log")
        server.start()
        local = InProcessPlatform(homes[0], tls)
        try:
            deadline = time.monotonic() + 60
            while not server.ready():
                if not server.alive or time.monotonic() > deadline:
                    print((root / "receiver.log").read_text()[-3000:], file=sys.stderr)
                    return 1
                await asyncio.sleep(0.2)
            await local.start()
            warm = make_envelopes(
                sender, receiver, reference, min(20, args.transfers), args.documents
            )
            await run_transfers(local.adapter, warm, args.concurrency)
            rates, bases, signs = [], [], []
            for run in range(args.runs):
                t0 = time.perf_counter()
                envelopes = make_envelopes(
                    sender, receiver, reference, args.transfers, args.documents
                )
                signs.append(args.transfers / (time.perf_counter() - t0))
                bases.append(baseline(envelopes, [sender, receiver], reference))
                seconds, received = await run_transfers(local.adapter, envelopes, args.concurrency)
                if received != args.transfers:
                    print(f"run {run + 1}: only {received}/{args.transfers} RECE", file=sys.stderr)
                    return 1
                rates.append(received / seconds)
                print(
                    f"run {run + 1}: {received} transfers in {seconds:.2f}s = {received / seconds:.1f}/s"
                )
        finally:
            await local.stop()
            server.terminate()
    ratio = statistics.median(rates) / statistics.median(bases)
    print(f"PINT transfers over TLS, verified, recorded: {spread(rates)}")
    print(f"baseline verify_envelope in process:        {spread(bases)}")
    print(f"sender signing (envelope per eBL):          {spread(signs)}")
    print(f"ratio transfers / baseline verification: {ratio:.2f}")
    print(f"cores: {os.cpu_count()}, transfers per run {args.transfers}, concurrency {args.concurrency}, "
          f"documents per transfer {args.documents}; goal 100/s: {'met' if statistics.median(rates) >= 100 else 'NOT met'}")  # fmt: skip
    return 0


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench.pint", description=__doc__.split("\n\n")[0])
    parser.add_argument("--transfers", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--documents", type=int, default=1)
    parser.add_argument(
        "--reference",
        default=os.environ.get("LINGANG_REFERENCE", str(REPO.parent / "shared" / "reference")),
    )
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse())))
