"""Crash test: SIGKILL of the sending and the receiving gateway while eBLs are in transfer.

Two ``lingang serve`` processes on loopback TLS (AEOT sends, IQAX receives), each eBL with a
supporting document. While the transfers run, one of the two processes is killed (SIGKILL, at
random moments) and started again, repeatedly. At the end every eBL has exactly one possessor
(the sender says ``transferred``, the receiver ``held``, with the same chain) and every chain
verifies at the receiver.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters.base import AdapterContext
from adapters.dcsa_pint import PintAdapter
from adapters.dcsa_pint.platform import Attachment
from gateway.settings import Settings
from gateway.store import open_store
from gateway.testing.cluster import GatewayProcess, free_port
from gateway.testing.pint import PlatformHome, platform, transport_document, write_platform_homes
from gateway.testing.tls import make_tls

TRANSFERS = int(os.environ.get("LINGANG_PINT_CRASH_TRANSFERS", "50"))


async def _open(home: PlatformHome) -> PintAdapter:
    settings = Settings.load(home.config)
    store = await open_store(settings.store.url)
    return PintAdapter.from_config(
        "pint", settings.adapters["pint"].options, AdapterContext(data_dir=home.home, store=store)
    )


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_urls(request: pytest.FixtureRequest) -> Iterator[list[str] | None]:
    """``None`` (a SQLite file per platform) or two fresh migrated PostgreSQL databases."""
    if request.param == "sqlite":
        yield None
        return
    server = request.getfixturevalue("pg_server")
    template = request.getfixturevalue("pg_template")
    names = [server.create_database(template) for _ in range(2)]
    try:
        yield [server.url(n) for n in names]
    finally:
        for name in names:
            server.drop_database(name)


@pytest.mark.slow
async def test_sigkill_sender_and_receiver_during_transfers(
    tmp_path: Path, reference: Path, store_urls: list[str] | None
) -> None:
    tls = make_tls(tmp_path / "tls")
    sender, receiver = (
        platform("AEOT", "ed25519", "SHIPPER", carrier=True),
        platform("IQAX", "rsa", "BUYER"),
    )
    homes = write_platform_homes(tmp_path, [sender, receiver], reference_root=reference, tls=tls,
                                 ports=[free_port(), free_port()], store_urls=store_urls)  # fmt: skip
    a = await _open(homes[0])
    references = [f"CRASH{n:05d}" for n in range(TRANSFERS)]
    for number in references:
        await a.platform.issue(transport_document(reference, number), to=a.options.party("SHIPPER"))
    processes = [GatewayProcess(["serve"], h.config, h.home / "serve.log") for h in homes]
    for process in processes:
        process.start()
    to = receiver.party
    for n, number in enumerate(references):
        await a.platform.transfer(
            number, to=to, attachments=[Attachment(f"doc{n}.pdf", f"%PDF {number}".encode())]
        )
    rng = random.Random(16)
    kills = 0
    deadline = time.monotonic() + 240
    registry = a.platform.registry
    try:
        while True:
            states = [(await registry.find(n)) for n in references]
            if all(s is not None and s.state == "transferred" for s in states):
                break
            assert time.monotonic() < deadline, f"not done: {[s.state for s in states if s]}"
            await asyncio.sleep(rng.uniform(0.2, 0.8))
            victim = processes[rng.randrange(2)]
            if victim.alive and kills < 12:
                victim.kill()
                kills += 1
                await asyncio.sleep(rng.uniform(0.0, 0.3))
            for process in processes:
                process.start()
    finally:
        for process in processes:
            process.terminate()
    assert kills >= 4
    b = await _open(homes[1])
    try:
        for number in references:
            sent, held = await registry.find(number), await b.platform.registry.find(number)
            assert sent is not None and held is not None
            assert (sent.state, held.state) == ("transferred", "held")
            assert sent.chain == held.chain and len(held.chain) == 2
            history = await b.platform.history(number)
            assert history["possessor"] == "IQAX:IQAX/BUYER"
    finally:
        await a.aclose()
        await b.aclose()
        await a.platform.registry.connector.close()
        await b.platform.registry.connector.close()
