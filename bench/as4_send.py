"""Issue 13's figures: Peppol AS4 sends/s over loopback TLS with receipts verified, side by
side with the PyPI ``as4`` package doing the same exchange, and the peak memory of a large send.

    .venv/bin/python -m bench.as4_send [--count 50] [--runs 3] [--large-mb 100]

* **ours** — ``As4Sender.send`` (SBDH, gzip, RSA-SHA256 WS-Security signature, AES-128-GCM
  under RSA-OAEP, HTTPS POST, receipt signature and digests verified) to our codec's receiving
  AP (decrypt, verify, decompress, signed receipt), one connection pool.
* **as4 package** — ``build_peppol_message`` + ``get_request_data``, HTTPS POST with aiohttp,
  ``parse_peppol_receipt`` + ``verify_non_repudiation`` against a receiving AP made of
  ``parse_peppol_message`` + ``build_signal``. It builds only ``busdox-docid-qns`` document
  types, so both send the official BIS 3 base example.

Sends are sequential (one in flight), rounds alternate between the two, the same PKI (RSA
2048) and TLS on 127.0.0.1 for both; the median and spread of ``--runs`` rounds are printed
and the ratio of medians. ``--large-mb`` sends one document of that size through our sender to
a receiver in a child process and reports the sending process's peak memory growth (RSS high
water mark and traced Python allocations) as a multiple of the document's size.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import multiprocessing
import resource
import statistics
import tempfile
import threading
import time
import tracemalloc
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from as4 import AS4LocalPrivateKey
from as4.peppol import (
    build_peppol_message,
    create_peppol_external_party,
    create_peppol_internal_party,
    parse_peppol_message,
    parse_peppol_receipt,
    peppol_security_policy,
)

from adapters.peppol.discovery import Discovery
from adapters.peppol.identifiers import BIS3_INVOICE, BIS3_PROCESS, ParticipantId
from adapters.peppol.sender import As4Sender, SendReport
from adapters.peppol.smp import Endpoint, SmpClient
from adapters.peppol.testing import As4TestReceiver, large_document
from adapters.peppol.wssec import Credentials
from gateway.signing.peppol_pki import PeppolTestPki, make_peppol_pki
from gateway.signing.truststore import TrustStore
from gateway.testing.tls import TlsFiles, make_tls

REFERENCE = Path(__file__).resolve().parent.parent.parent / "shared" / "reference"
BASE = REFERENCE / "openpeppol-peppol-bis-invoice-3" / "rules" / "examples" / "base-example.xml"
RECEIVER = ParticipantId("0195:SGUEN200254321Z")


def base_document() -> bytes:
    """The BIS 3 base example, its buyer (BT-49) made the participant the bench sends to: the
    SBDH Receiver of a BIS 3 invoice must be its buyer's address (BR-SBDH-1)."""
    return BASE.read_bytes().replace(
        b'<cbc:EndpointID schemeID="0002">FR23342</cbc:EndpointID>',
        b'<cbc:EndpointID schemeID="0195">SGUEN200254321Z</cbc:EndpointID>',
    )


async def _serve(app: web.Application, tls: TlsFiles) -> tuple[web.AppRunner, int]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(
        runner, "127.0.0.1", 0, ssl_context=tls.server_context(require_client_cert=False)
    )
    await site.start()
    return runner, site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]


def _sender(pki: PeppolTestPki, tls: TlsFiles) -> As4Sender:
    trust = TrustStore((pki.ap_ca.cert,), what="access point certificate")
    import ssl

    context = ssl.create_default_context(cafile=str(tls.ca))
    return As4Sender(
        credentials=Credentials(pki.sender.key, pki.sender.cert),
        discovery=Discovery(smp=SmpClient(None, trust)),
        ap_trust=trust,
        country_c1="CN",
        ssl_context=context,
        max_document_bytes=1024 * 1024 * 1024,
    )


async def ours(pki: PeppolTestPki, tls: TlsFiles, count: int, document: bytes) -> float:
    receiver = As4TestReceiver(
        Credentials(pki.receiver.key, pki.receiver.cert),
        tls.server_context(require_client_cert=False),
        check_signer=TrustStore((pki.ap_ca.cert,)).check,
    )
    await receiver.start()
    sender = _sender(pki, tls)
    endpoint = Endpoint(url=receiver.url, certificate=pki.receiver.cert, source="bench")
    try:
        await sender.send(document, message_id="warm@bench", receiver=RECEIVER, endpoint=endpoint)
        started = time.perf_counter()
        for number in range(count):
            await sender.send(
                document,
                message_id=f"{number}-{started}@bench",
                receiver=RECEIVER,
                endpoint=endpoint,
            )
        elapsed = time.perf_counter() - started
    finally:
        await sender.aclose()
        await receiver.stop()
    assert len(receiver.received) == count + 1
    return count / elapsed


async def as4_package(pki: PeppolTestPki, tls: TlsFiles, count: int, document: bytes) -> float:
    receiving = create_peppol_internal_party(
        party_id="PSG000002",
        certificate=pki.receiver.cert,
        private_key=AS4LocalPrivateKey(pki.receiver.key),
    )
    policy = peppol_security_policy(pki.root.cert, intermediates=[pki.ap_ca.cert])
    received = 0

    async def handle(request: web.Request) -> web.Response:
        nonlocal received
        exchange = parse_peppol_message(
            dict(request.headers), await request.read(), receiving, security_policy=policy
        )
        received += exchange.successful
        headers, signal = exchange.build_signal()
        return web.Response(body=signal, headers=headers)

    app = web.Application(client_max_size=256 * 1024 * 1024)
    app.router.add_post("/as4", handle)
    runner, port = await _serve(app, tls)
    local = create_peppol_internal_party(
        party_id="PSG000001",
        certificate=pki.sender.cert,
        private_key=AS4LocalPrivateKey(pki.sender.key),
    )
    remote = create_peppol_external_party(party_id="PSG000002", certificate=pki.receiver.cert)
    import ssl

    session = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(ssl=ssl.create_default_context(cafile=str(tls.ca)))
    )

    async def one() -> None:
        message = build_peppol_message(
            document,
            local_party=local,
            remote_party=remote,
            sender="0088:9482348239847239874",
            recipient=RECEIVER.value,
            document_type_identifier_scheme="busdox-docid-qns",
            document_type_identifier_value=BIS3_INVOICE.value,
            process_identifier=BIS3_PROCESS.value,
            sender_country_id="CN",
        )
        body, boundary = message.get_request_data()
        async with session.post(
            f"https://127.0.0.1:{port}/as4", data=body, headers=message.get_http_headers(boundary)
        ) as response:
            answer = await response.read()
        parse_peppol_receipt(answer, pki.receiver.cert).verify_non_repudiation(
            message.signed_references
        )

    try:
        await one()
        started = time.perf_counter()
        for _ in range(count):
            await one()
        elapsed = time.perf_counter() - started
    finally:
        await session.close()
        await runner.cleanup()
    assert received == count + 1
    return count / elapsed


def _rss() -> int:
    """The process's resident set size now, in bytes (Linux)."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * resource.getpagesize()


class _RssSampler(threading.Thread):
    """Samples the resident set size every few milliseconds; keeps the peak."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak = _rss()
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.is_set():
            self.peak = max(self.peak, _rss())
            self._done.wait(0.002)

    def stop(self) -> None:
        self._done.set()
        self.join()
        self.peak = max(self.peak, _rss())


def _receiver_process(folder: str, tls_dir: str, ports: Any) -> None:
    """A receiving AP in a child process (so the large send's memory is the sender's alone)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    async def run() -> None:
        key = serialization.load_pem_private_key(
            (Path(folder) / "ap-receiver.key.pem").read_bytes(), None
        )
        cert = x509.load_pem_x509_certificate((Path(folder) / "ap-receiver.pem").read_bytes())
        ca = x509.load_pem_x509_certificate((Path(folder) / "ap-ca.pem").read_bytes())
        tls = make_tls(Path(tls_dir))
        receiver = As4TestReceiver(
            Credentials(key, cert),  # type: ignore[arg-type]
            tls.server_context(require_client_cert=False),
            check_signer=TrustStore((ca,)).check,
            check_sbdh=False,
            max_payload=1024 * 1024 * 1024,
        )
        await receiver.start()
        ports.put(receiver.port)
        await asyncio.sleep(3600)

    asyncio.run(run())


async def large_send(
    pki: PeppolTestPki, tls: TlsFiles, tls_dir: str, megabytes: int
) -> dict[str, float]:
    document = large_document(base_document(), megabytes * 1024 * 1024)
    ports: Any = multiprocessing.get_context("spawn").Queue()
    child = multiprocessing.get_context("spawn").Process(
        target=_receiver_process, args=(str(pki.folder), tls_dir, ports), daemon=True
    )
    child.start()
    try:
        port = ports.get(timeout=60)
        sender = _sender(pki, tls)
        endpoint = Endpoint(
            url=f"https://127.0.0.1:{port}/as4", certificate=pki.receiver.cert, source="bench"
        )
        gc.collect()
        before = _rss()
        sampler = _RssSampler()
        sampler.start()
        tracemalloc.start()
        started = time.perf_counter()
        report = SendReport("large@bench")
        await sender.send(
            document, message_id="large@bench", receiver=RECEIVER, endpoint=endpoint, report=report
        )
        elapsed = time.perf_counter() - started
        _, traced = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        sampler.stop()
        await sender.aclose()
    finally:
        child.kill()
    size = len(document)
    return {
        "bytes": size,
        "seconds": elapsed,
        "rss_peak_growth_x": (sampler.peak - before) / size,
        "rss_peak_total_x": sampler.peak / size,
        "traced_peak_x": traced / size,
        "receipt_verified": float(bool(report.receipt and report.receipt.get("verified"))),
    }


async def main(args: argparse.Namespace) -> None:
    folder = tempfile.mkdtemp(prefix="as4-bench-")
    pki = make_peppol_pki(Path(folder) / "pki")
    tls_dir = str(Path(folder) / "tls")
    tls = make_tls(Path(tls_dir))
    document = base_document()
    rates: dict[str, list[float]] = {"ours": [], "as4 package": []}
    for _ in range(args.runs):
        rates["ours"].append(await ours(pki, tls, args.count, document))
        rates["as4 package"].append(await as4_package(pki, tls, args.count, document))
    print(
        f"AS4 sends/s over loopback TLS, receipts verified ({args.count} sends x {args.runs} rounds, {len(document)} B document)"
    )
    for name, values in rates.items():
        spread = f"{min(values):.1f}-{max(values):.1f}"
        print(f"  {name:12s} median {statistics.median(values):7.1f}/s  spread {spread}")
    ratio = statistics.median(rates["ours"]) / statistics.median(rates["as4 package"])
    print(f"  ratio ours / as4 package: {ratio:.2f}x (goal >= 2x)")
    if args.large_mb:
        large = await large_send(pki, tls, tls_dir, args.large_mb)
        print(
            f"large send: {large['bytes'] / 1e6:.1f} MB in {large['seconds']:.1f}s, receipt verified: "
            f"{bool(large['receipt_verified'])}; peak RSS during the send grew {large['rss_peak_growth_x']:.2f}x "
            f"the document's size (whole process incl. the document {large['rss_peak_total_x']:.2f}x), traced Python peak "
            f"{large['traced_peak_x']:.2f}x (goal: peak under 5x)"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=50, help="sends per round")
    parser.add_argument("--runs", type=int, default=3, help="rounds (median and spread)")
    parser.add_argument(
        "--large-mb", type=int, default=0, help="also send one document of this size"
    )
    asyncio.run(main(parser.parse_args()))
