"""Reproducer of the start-up SIGSEGV of ``lingang serve`` (not collected by pytest).

Starts ``python -m gateway serve`` with the AS4 crash test's configuration
(:mod:`reliability.test_as4_receive_crash`), POSTs AS4 messages at it from the first moment
(16 at a time, new ones until all were receipted), SIGKILLs it 0.3-2 s after it listens,
and starts it again; stops at the first start that ends on its own. A crash whose core dump
is cut short by the kill is still found: the fault handler's ``Fatal Python error`` in the
log fails the run too. About 3 s per start on 2 cores; the crash this was written for came
about once in 50-100 starts before the fix.

    ulimit -c unlimited   # optional: a core file for gdb
    LINGANG_HOME=var/test-home python tests/reliability/serve_restarts.py 150 postgres
"""

from __future__ import annotations

import asyncio
import os
import random
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(REPO), str(REPO / "tests")]

import aiohttp  # noqa: E402

from gateway.signing.peppol_pki import make_peppol_pki  # noqa: E402
from gateway.testing.cluster import GatewayDied, GatewayProcess, free_port  # noqa: E402
from gateway.testing.tls import make_tls  # noqa: E402
from reliability.test_as4_receive_crash import (  # noqa: E402
    INVOICE,
    build_messages,
    write_config,
)

REFERENCE = REPO.parent / "shared" / "reference"
ARTEFACTS = Path(os.environ.get("LINGANG_HOME", REPO / "var" / "test-home")).resolve()
"""Where the official artefacts are installed (the SBDH XSD is read from there)."""


async def pg_url(work: Path) -> tuple[str, object]:
    from pg import LocalServer, find_pg_bin

    from gateway.store.postgres import PostgresStore

    local = LocalServer(find_pg_bin())
    server = local.start()
    name = server.create_database()
    url = server.url(name)

    async def migrate() -> None:
        store = await PostgresStore.open(url)
        await store.migrate()
        await store.close()

    await migrate()
    return url, local


async def main(starts: int, backend: str) -> int:
    import tempfile

    work = Path(tempfile.mkdtemp(prefix="seg10-"))
    os.environ["LINGANG_HOME"] = str(work / "home")
    local = None
    if backend == "postgres":
        url, local = await pg_url(work)
    else:
        url = f"sqlite:///{work / 'gateway.db'}"
    try:
        pki = make_peppol_pki(work / "pki")
        tls = make_tls(work / "tls")
        port = free_port()
        config = write_config(work / "home", port, pki, tls, ARTEFACTS, url)
        server = GatewayProcess(["serve"], config, work / "serve.log")
        count = int(os.environ.get("REPRO_MESSAGES", "3000"))
        t0 = time.monotonic()
        messages = build_messages(pki, (REFERENCE / INVOICE).read_bytes(), count)
        print(
            f"{count} messages built in {time.monotonic() - t0:.1f}s; log {work / 'serve.log'}",
            flush=True,
        )
        endpoint = f"https://127.0.0.1:{port}/as4"
        rng = random.Random(int(os.environ.get("REPRO_SEED", "1")))
        queue: asyncio.Queue[int] = asyncio.Queue()
        for index in range(count):
            queue.put_nowait(index)
        receipted = 0

        async def sender(session: aiohttp.ClientSession) -> None:
            nonlocal receipted
            while True:
                index = await queue.get()
                message = messages[index % count]
                try:
                    async with session.post(
                        endpoint,
                        data=message.body,
                        headers={"Content-Type": message.content_type},
                    ) as response:
                        await response.read()
                        if response.status == 200:
                            receipted += 1
                            continue
                except (aiohttp.ClientError, OSError, TimeoutError):
                    await asyncio.sleep(0.05)
                queue.put_nowait(index)  # again later

        connector = aiohttp.TCPConnector(ssl=tls.client_context(), limit=16)
        timeout = aiohttp.ClientTimeout(total=10)
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
            senders = [asyncio.create_task(sender(session)) for _ in range(16)]
            try:
                for start in range(1, starts + 1):
                    server.start()
                    began = time.monotonic()
                    while not server.ready():
                        server.check()
                        assert time.monotonic() - began < 120, "no start in 120s"
                        await asyncio.sleep(0.05)
                    lived = rng.uniform(0.3, 2.0)
                    until = time.monotonic() + lived
                    while time.monotonic() < until:
                        server.check()
                        await asyncio.sleep(0.05)
                    server.check()
                    server.kill()
                    if start % 10 == 0:
                        print(f"start {start}: ok; receipts {receipted}", flush=True)
                    await asyncio.sleep(rng.uniform(0.0, 0.3))
                    if queue.qsize() < 100:
                        for index in range(count):
                            queue.put_nowait(index)
            except GatewayDied as died:
                print(f"DIED after {server.starts} starts:\n{died}", flush=True)
                print(f"full log: {work / 'serve.log'}")
                return 1
            finally:
                for task in senders:
                    task.cancel()
                server.terminate()
        if b"Fatal Python error" in (work / "serve.log").read_bytes():
            print(f"a start crashed while it was being killed; see {work / 'serve.log'}")
            return 1
        print(f"{starts} starts, no crash; receipts {receipted}")
        return 0
    finally:
        if local is not None:
            local.stop()


if __name__ == "__main__":
    sys.exit(asyncio.run(main(int(sys.argv[1]), sys.argv[2] if len(sys.argv) > 2 else "postgres")))
