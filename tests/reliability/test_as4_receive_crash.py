"""Crash test of the AS4 endpoint: a sending AP pushes 500 messages to a receiving gateway
process (``python -m gateway serve`` with its workers; SQLite, and PostgreSQL) that is SIGKILLed at random
moments and restarted; the sender retries each message, the very same bytes under the same
MessageId, until it holds a verified receipt. Afterwards every message is in the local system
(the ``folder`` adapter) exactly once.

The seed is printed; ``LINGANG_CRASH_SEED`` replays a run, ``LINGANG_AS4_CRASH_DOCS`` changes the
number of messages. The official rules are off here (``validate = false``): what is under test
is store-before-acknowledge and duplicate detection; the rules are the inbound flow's own tests.
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import psycopg
import pytest

from adapters.peppol import as4, signals
from adapters.peppol.identifiers import PINT_PROCESS, PINT_SG_INVOICE, ParticipantId
from adapters.peppol.sbdh import SbdhHeader, build_sbdh
from adapters.peppol.wssec import Credentials
from gateway.signing.peppol_pki import PeppolTestPki, make_peppol_pki
from gateway.signing.truststore import TrustStore
from gateway.testing.cluster import GatewayProcess, free_port
from gateway.testing.tenants import make_tenants
from gateway.testing.tls import TlsFiles
from reliability.harness import stop_tasks, supervised

DOCS = int(os.environ.get("LINGANG_AS4_CRASH_DOCS", "500"))
MIN_KILLS = 5
LOCAL = ParticipantId("0195:SGUEN200254321Z")
SUPPLIER = ParticipantId("0195:SGUEN200212345Z")
INVOICE = "openpeppol-pint-sg-1.4.1/trn-invoice/example/PINT-SG INV example 09 - Zero rated GST.xml"
_FIRST_ID = re.compile(rb"<cbc:ID>[^<]*</cbc:ID>")


def write_config(
    home: Path, port: int, pki: PeppolTestPki, tls: TlsFiles, artefacts: Path, store_url: str
) -> Path:
    home.mkdir(parents=True, exist_ok=True)
    config = home / "lingang.toml"
    config.write_text(
        f"""
data_dir = "{home}"
log_level = "WARNING"
[store]
url = "{store_url}"
[server]
host = "127.0.0.1"
port = {port}
tls_cert = "{tls.server_cert}"
tls_key = "{tls.server_key}"
[worker]
count = 1
concurrency = 8
lease_seconds = 3.0
poll_seconds = 0.1
max_attempts = 10000
retry_base_seconds = 0.2
retry_cap_seconds = 1.0
[pipeline]
artefacts = "{artefacts}"
validate = false
sign = false
stage_processes = 0
[peppol]
seat_id = "PSG000002"
local_participants = ["importer={LOCAL.value}"]
[adapters.peppol]
type = "peppol"
key = "{pki.path("ap-receiver.key.pem")}"
cert = "{pki.path("ap-receiver.pem")}"
ap_trust = ["{pki.path("ap-ca.pem")}"]
smp_trust = ["{pki.path("smp-ca.pem")}"]
revocation = "off"
receive_path = "/as4"
[adapters.erp]
type = "folder"
path = "received"
[adapters.reports]
type = "folder"
path = "outbox"
[routing]
default = "reports"
inbound = "erp"
""",
        encoding="utf-8",
    )
    return config


def build_messages(pki: PeppolTestPki, invoice: bytes, count: int) -> list[as4.OutgoingMessage]:
    """``count`` messages, each an invoice with its own number (``AS4-CRASH-<n>``)."""
    messages = []
    credentials = Credentials(pki.sender.key, pki.sender.cert)
    for index in range(count):
        body = _FIRST_ID.sub(f"<cbc:ID>AS4-CRASH-{index:05d}</cbc:ID>".encode(), invoice, count=1)
        header = SbdhHeader(SUPPLIER, LOCAL, PINT_SG_INVOICE, PINT_PROCESS, "SG")
        messages.append(
            as4.build_user_message(
                build_sbdh(body, header),
                as4.UserMessageHeader(
                    from_party="PSG000001",
                    to_party="PSG000002",
                    service=PINT_PROCESS,
                    action=PINT_SG_INVOICE,
                    original_sender=SUPPLIER,
                    final_recipient=LOCAL,
                    message_id=f"crash-{index:05d}@sender",
                ),
                credentials,
                pki.receiver.cert,
            )
        )
    return messages


@dataclass
class Receipts:
    """When the sender last got a verified receipt, for a deadline on progress."""

    stall: float = 120.0
    last: float = field(default_factory=time.monotonic)

    def got_one(self) -> None:
        self.last = time.monotonic()

    def check(self, message_id: str) -> None:
        quiet = time.monotonic() - self.last
        assert quiet < self.stall, f"{message_id}: no receipt for any message in {quiet:.0f}s"


async def send_until_receipted(
    session: aiohttp.ClientSession,
    url: str,
    message: as4.OutgoingMessage,
    trust: TrustStore,
    receipts: Receipts,
) -> int:
    """POST the same bytes until a verified receipt for this message comes back; the tries.
    Fails when no message got a receipt for ``receipts.stall`` seconds."""
    tries = 0
    while True:
        receipts.check(message.message_id)
        tries += 1
        try:
            async with session.post(
                url, data=message.body, headers={"Content-Type": message.content_type}
            ) as response:
                answer, content_type = await response.read(), response.content_type
                status, wait = response.status, response.headers.get("Retry-After")
        except (aiohttp.ClientError, OSError, TimeoutError):
            await asyncio.sleep(0.2)
            continue
        try:
            result = signals.parse_signal(content_type, answer, check_signer=trust.check)
        except Exception:  # a half-written answer from a dying process
            await asyncio.sleep(0.2)
            continue
        if result.receipt is not None:
            assert result.receipt.ref_to_message_id == message.message_id
            receipts.got_one()
            return tries
        codes = [e.code for e in result.errors]
        assert codes == ["EBMS:0005"], f"{message.message_id}: refused {codes}"
        assert status != 503 or wait == "5", "a 503 says when to come back (Retry-After)"
        await asyncio.sleep(0.2)


async def until_all_received(folder: Path, stall: float) -> None:
    """Wait until ``DOCS`` files are in ``folder``; fail when none came for ``stall`` seconds."""
    last, seen = time.monotonic(), -1
    while True:
        found = len(list(folder.glob("*.xml"))) if folder.is_dir() else 0
        if found >= DOCS:
            return
        if found != seen:
            last, seen = time.monotonic(), found
        assert time.monotonic() - last < stall, f"{found} of {DOCS} received, none for {stall}s"
        await asyncio.sleep(0.5)


def counts(store_url: str) -> tuple[int, int]:
    """Stored inbound messages and kept receipts."""
    queries = ("SELECT count(*) FROM inbound_messages", "SELECT count(*) FROM inbound_answers")
    if store_url.startswith("sqlite:///"):
        with sqlite3.connect(store_url.removeprefix("sqlite:///")) as db:
            found = [db.execute(q).fetchone()[0] for q in queries]
    else:
        with psycopg.connect(store_url) as db:
            found = [db.execute(q).fetchone()[0] for q in queries]  # type: ignore[index]
    return found[0], found[1]


@pytest.mark.slow
@pytest.mark.xdist_group("crash")
async def test_as4_receiver_sigkill_sqlite(
    tmp_path: Path,
    tls: TlsFiles,
    artefacts_home: Path,
    reference: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await crash_run(
        f"sqlite:///{tmp_path / 'gateway.db'}",
        tmp_path,
        tls,
        artefacts_home,
        reference,
        monkeypatch,
    )


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.xdist_group("crash")
async def test_as4_receiver_sigkill_postgres(
    pg_url: str,
    tmp_path: Path,
    tls: TlsFiles,
    artefacts_home: Path,
    reference: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await crash_run(pg_url, tmp_path, tls, artefacts_home, reference, monkeypatch)


async def crash_run(
    store_url: str,
    tmp_path: Path,
    tls: TlsFiles,
    artefacts_home: Path,
    reference: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every message in the local folder exactly once (see the module docstring)."""
    monkeypatch.setenv("LINGANG_HOME", str(tmp_path / "home"))  # the child's data home
    seed = int(os.environ.get("LINGANG_CRASH_SEED", str(random.randrange(2**32))))
    print(f"\nAS4 crash test seed: {seed} (LINGANG_CRASH_SEED={seed} replays it)")
    rng = random.Random(seed)
    pki = make_peppol_pki(tmp_path / "pki")
    trust = TrustStore((pki.ap_ca.cert,), what="access point certificate")
    port = free_port()
    config = write_config(tmp_path / "home", port, pki, tls, artefacts_home, store_url)
    await make_tenants(store_url, ["importer"])
    server = GatewayProcess(["serve"], config, tmp_path / "serve.log")
    messages = build_messages(pki, (reference / INVOICE).read_bytes(), DOCS)
    url = f"https://127.0.0.1:{port}/as4"
    server.start()
    done = asyncio.Event()

    async def chaos() -> None:
        """Kill a random moment after each start has come up (a process killed while it
        starts would only test start-up)."""
        while not done.is_set() or server.kills < MIN_KILLS:
            started = time.monotonic()
            while not server.ready():
                server.check()
                assert time.monotonic() - started < 120, "serve did not start in 120s"
                await asyncio.sleep(0.1)
            await asyncio.sleep(rng.uniform(0.3, 1.5))
            server.kill()
            await asyncio.sleep(rng.uniform(0.0, 0.3))
            server.start()

    async def run() -> list[int]:
        connector = aiohttp.TCPConnector(ssl=tls.client_context(), limit=16)
        timeout = aiohttp.ClientTimeout(total=10)
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
            gate = asyncio.Semaphore(16)
            receipts = Receipts()

            async def one(message: as4.OutgoingMessage) -> int:
                async with gate:
                    return await send_until_receipted(session, url, message, trust, receipts)

            tries = await asyncio.gather(*(one(m) for m in messages))
        done.set()
        await chaos_task
        await until_all_received(received, stall=120)
        await asyncio.sleep(2.0)  # a late duplicate delivery would show now
        return tries

    received = tmp_path / "home" / "received"
    chaos_task = asyncio.create_task(chaos())
    try:
        tries = await supervised(run(), [server], companions=[chaos_task])
    finally:
        done.set()
        await stop_tasks(chaos_task)
        server.terminate()
    print(f"kills: {server.kills}, resends: {sum(tries) - DOCS}")
    files = sorted(received.glob("*.xml"))
    numbers = [re.search(rb"AS4-CRASH-\d{5}", f.read_bytes()) for f in files]
    found = [m.group(0).decode() for m in numbers if m is not None]
    assert len(files) == DOCS == len(found), f"{len(files)} files for {DOCS} messages"
    assert sorted(found) == [f"AS4-CRASH-{i:05d}" for i in range(DOCS)]
    stored, answers = counts(store_url)
    assert stored == answers == DOCS
    assert server.kills >= MIN_KILLS
