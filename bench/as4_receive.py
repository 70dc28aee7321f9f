"""Issue 14's receiving figure: incoming Peppol AS4 messages/s over loopback TLS until each is
durably stored and its signed receipt returned, side by side with the PyPI ``as4`` package's
receiver doing the same.

    .venv/bin/python -m bench.as4_receive [--count 100] [--runs 3] [--concurrency 8]

* **ours** — a ``lingang serve --no-worker`` process (SQLite store) with the ``peppol``
  adapter's AS4 endpoint: decrypt, verify (signature, sender certificate chain), gunzip, SBDH
  (official XSD and Peppol checks), signed receipt, then the message, its ``receive`` job and
  its receipt committed in one SQLite transaction before the answer.
* **as4 package** — a child process serving ``parse_peppol_message`` + ``build_signal`` with
  aiohttp, each accepted payload and its receipt committed to SQLite (WAL, ``synchronous=FULL``)
  before the answer.

Both get the same input: messages built beforehand by the ``as4`` package (the official BIS 3
base example, one MessageId each, built outside the timing), POSTed with ``--concurrency`` in
flight from this process over TLS on 127.0.0.1; every answer must be a receipt. Rounds alternate
between the two after a warm-up of 5 messages each; median and spread of ``--runs`` rounds and
the ratio of medians are printed. Timings on a shared machine are noisy: beside the rates,
each receiver process's CPU time per message (user + system, from ``/proc``) is printed, which
other processes' load disturbs much less.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
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
    peppol_security_policy,
)

from adapters.peppol.identifiers import BIS3_INVOICE, BIS3_PROCESS
from gateway.signing.peppol_pki import PeppolTestPki, make_peppol_pki
from gateway.testing.cluster import free_port
from gateway.testing.tenants import make_tenants
from gateway.testing.tls import TlsFiles, make_tls

REFERENCE = Path(__file__).resolve().parent.parent.parent / "shared" / "reference"
BASE = REFERENCE / "openpeppol-peppol-bis-invoice-3" / "rules" / "examples" / "base-example.xml"
RECEIVER = "0195:SGUEN200254321Z"

WARM_UP = 5
ARTEFACTS = Path(os.environ.get("LINGANG_HOME", "~/.lingang")).expanduser()
"""The data home whose official artefacts (the SBDH XSD) the receiving gateway uses."""


def base_document() -> bytes:
    """The BIS 3 base example, its buyer (BT-49) made the participant the bench sends to: the
    SBDH Receiver of a BIS 3 invoice must be its buyer's address (BR-SBDH-1)."""
    return BASE.read_bytes().replace(
        b'<cbc:EndpointID schemeID="0002">FR23342</cbc:EndpointID>',
        b'<cbc:EndpointID schemeID="0195">SGUEN200254321Z</cbc:EndpointID>',
    )


def build_messages(pki: PeppolTestPki, document: bytes, count: int) -> list[tuple[bytes, str]]:
    """``count`` messages from the ``as4`` package: body and Content-Type."""
    local = create_peppol_internal_party(
        party_id="PSG000001",
        certificate=pki.sender.cert,
        private_key=AS4LocalPrivateKey(pki.sender.key),
    )
    remote = create_peppol_external_party(party_id="PSG000002", certificate=pki.receiver.cert)
    out = []
    for _ in range(count):
        message = build_peppol_message(
            document,
            local_party=local,
            remote_party=remote,
            sender="0088:9482348239847239874",
            recipient=RECEIVER,
            document_type_identifier_scheme="busdox-docid-qns",
            document_type_identifier_value=BIS3_INVOICE.value,
            process_identifier=BIS3_PROCESS.value,
            sender_country_id="CN",
        )
        body, boundary = message.get_request_data()
        headers = message.get_http_headers(boundary)
        out.append((body, next(v for k, v in headers.items() if k.lower() == "content-type")))
    return out


def gateway_config(home: Path, port: int, pki: PeppolTestPki, tls: TlsFiles) -> Path:
    home.mkdir(parents=True, exist_ok=True)
    config = home / "lingang.toml"
    config.write_text(
        f"""
data_dir = "{home}"
log_level = "WARNING"
[store]
url = "sqlite:///{home / "gateway.db"}"
[server]
host = "127.0.0.1"
port = {port}
tls_cert = "{tls.server_cert}"
tls_key = "{tls.server_key}"
[pipeline]
artefacts = "{ARTEFACTS}"
validate = false
sign = false
[peppol]
local_participants = ["importer={RECEIVER}"]
[adapters.peppol]
type = "peppol"
key = "{pki.path("ap-receiver.key.pem")}"
cert = "{pki.path("ap-receiver.pem")}"
ap_trust = ["{pki.path("ap-ca.pem")}"]
smp_trust = ["{pki.path("smp-ca.pem")}"]
revocation = "off"
receive_path = "/as4"
""",
        encoding="utf-8",
    )
    return config


def start_gateway(
    home: Path, port: int, pki: PeppolTestPki, tls: TlsFiles
) -> subprocess.Popen[bytes]:
    config = gateway_config(home, port, pki, tls)
    log = (home / "serve.log").open("wb")
    env = {**os.environ, "LINGANG_HOME": str(home)}
    process = subprocess.Popen(
        [sys.executable, "-m", "gateway", "serve", "--no-worker", "--config", str(config)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
    )
    deadline = time.monotonic() + 120
    while b"listening on" not in (home / "serve.log").read_bytes():
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError((home / "serve.log").read_text()[-2000:])
        time.sleep(0.1)
    return process


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of process ``pid`` (``None`` where ``/proc`` is missing)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def timed_round(
    url: str, messages: list[tuple[bytes, str]], tls: TlsFiles, concurrency: int, pid: int
) -> tuple[float, float | None]:
    """Messages/s of one round and the receiver's CPU milliseconds per message."""
    before = cpu_seconds(pid)
    rate = await push(url, messages, tls, concurrency)
    after = cpu_seconds(pid)
    if before is None or after is None:
        return rate, None
    return rate, 1000 * (after - before) / len(messages)


def _package_receiver(folder: str, tls_dir: str, db_path: str, ports: Any) -> None:
    """The ``as4`` package's receiver, storing each accepted payload durably (child process)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    key = serialization.load_pem_private_key(
        (Path(folder) / "ap-receiver.key.pem").read_bytes(), None
    )
    cert = x509.load_pem_x509_certificate((Path(folder) / "ap-receiver.pem").read_bytes())
    root = x509.load_pem_x509_certificate((Path(folder) / "peppol-root.pem").read_bytes())
    ap_ca = x509.load_pem_x509_certificate((Path(folder) / "ap-ca.pem").read_bytes())
    local = create_peppol_internal_party(
        party_id="PSG000002", certificate=cert, private_key=AS4LocalPrivateKey(key)
    )
    policy = peppol_security_policy(root, intermediates=[ap_ca])
    db = sqlite3.connect(db_path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("CREATE TABLE IF NOT EXISTS inbox (id TEXT PRIMARY KEY, data BLOB, receipt BLOB)")

    async def handle(request: web.Request) -> web.Response:
        exchange = parse_peppol_message(
            dict(request.headers), await request.read(), local, security_policy=policy
        )
        headers, signal = exchange.build_signal()
        if exchange.successful:
            payload = b"".join(exchange.message.decrypted_data.values())
            db.execute(
                "INSERT OR IGNORE INTO inbox VALUES (?, ?, ?)",
                (exchange.message_id, payload, signal),
            )
        return web.Response(body=signal, headers=headers)

    async def run() -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/as4", handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        tls = make_tls(Path(tls_dir))
        site = web.TCPSite(
            runner, "127.0.0.1", 0, ssl_context=tls.server_context(require_client_cert=False)
        )
        await site.start()
        ports.put(site._server.sockets[0].getsockname()[1])  # type: ignore[union-attr]
        await asyncio.sleep(3600)

    asyncio.run(run())


async def push(
    url: str, messages: list[tuple[bytes, str]], tls: TlsFiles, concurrency: int
) -> float:
    """POST every message (``concurrency`` in flight); messages/s. Every answer is a receipt."""
    import ssl

    context = ssl.create_default_context(cafile=str(tls.ca))
    gate = asyncio.Semaphore(concurrency)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=context)) as session:

        async def one(body: bytes, content_type: str) -> None:
            async with (
                gate,
                session.post(url, data=body, headers={"Content-Type": content_type}) as response,
            ):
                answer = await response.read()
                if response.status != 200 or b"Receipt" not in answer:
                    raise RuntimeError(f"not a receipt: HTTP {response.status} {answer[:300]!r}")

        started = time.perf_counter()
        await asyncio.gather(*(one(b, c) for b, c in messages))
        return len(messages) / (time.perf_counter() - started)


async def main(args: argparse.Namespace) -> None:
    folder = Path(tempfile.mkdtemp(prefix="as4-receive-bench-"))
    pki = make_peppol_pki(folder / "pki")
    tls = make_tls(folder / "tls")
    document = base_document()
    per_receiver = WARM_UP + args.count * args.runs
    print(f"building {2 * per_receiver} messages with the as4 package (not timed) ...")
    ours_messages = build_messages(pki, document, per_receiver)
    theirs_messages = build_messages(pki, document, per_receiver)
    port = free_port()
    (folder / "gateway").mkdir(parents=True, exist_ok=True)
    await make_tenants(f"sqlite:///{folder / 'gateway' / 'gateway.db'}", ["importer"])
    gateway = start_gateway(folder / "gateway", port, pki, tls)
    ports: Any = multiprocessing.get_context("spawn").Queue()
    child = multiprocessing.get_context("spawn").Process(
        target=_package_receiver,
        args=(str(pki.folder), str(folder / "tls"), str(folder / "package.db"), ports),
        daemon=True,
    )
    child.start()
    try:
        package_url = f"https://127.0.0.1:{ports.get(timeout=60)}/as4"
        ours_url = f"https://127.0.0.1:{port}/as4"
        await push(ours_url, ours_messages[:WARM_UP], tls, args.concurrency)
        await push(package_url, theirs_messages[:WARM_UP], tls, args.concurrency)
        rates: dict[str, list[float]] = {"ours": [], "as4 package": []}
        cpu: dict[str, list[float]] = {"ours": [], "as4 package": []}
        receivers = {
            "ours": (ours_url, ours_messages, gateway.pid),
            "as4 package": (package_url, theirs_messages, child.pid or 0),
        }
        for run in range(args.runs):
            chunk = slice(WARM_UP + run * args.count, WARM_UP + (run + 1) * args.count)
            for name, (url, messages, pid) in receivers.items():
                rate, ms = await timed_round(url, messages[chunk], tls, args.concurrency, pid)
                rates[name].append(rate)
                if ms is not None:
                    cpu[name].append(ms)
    finally:
        gateway.terminate()
        gateway.wait(30)
        child.kill()
    stored = sqlite3.connect(folder / "gateway" / "gateway.db").execute(
        "SELECT count(*) FROM inbound_messages"
    )
    print(
        f"AS4 messages received/s over loopback TLS, durably stored + signed receipt "
        f"({args.count} messages x {args.runs} rounds, {args.concurrency} in flight, warm-up "
        f"{WARM_UP}, {len(document)} B document; ours stored {stored.fetchone()[0]})"
    )
    for name, values in rates.items():
        spread = f"{min(values):.1f}-{max(values):.1f}"
        print(f"  {name:12s} median {statistics.median(values):7.1f}/s  spread {spread}")
    ratio = statistics.median(rates["ours"]) / statistics.median(rates["as4 package"])
    print(f"  ratio ours / as4 package: {ratio:.2f}x (goal >= 2x)")
    if all(cpu.values()):
        for name, values in cpu.items():
            spread = f"{min(values):.2f}-{max(values):.2f}"
            print(f"  {name:12s} CPU {statistics.median(values):5.2f} ms/message  spread {spread}")
        saving = statistics.median(cpu["as4 package"]) / statistics.median(cpu["ours"])
        print(f"  CPU per message, as4 package / ours: {saving:.2f}x")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100, help="messages per round")
    parser.add_argument("--runs", type=int, default=3, help="rounds (median and spread)")
    parser.add_argument("--concurrency", type=int, default=8, help="messages in flight")
    asyncio.run(main(parser.parse_args()))
