"""The export gate's end-to-end cost: CPU per delivered document and wall throughput, with
the gate on and off, measured in the same run.

    .venv/bin/python -m bench.gate_e2e [--docs 60] [--rounds 3] [--warm-docs 40]
                                       [--store sqlite,postgres]

Per store, two gateways run side by side as real subprocesses (``python -m gateway serve``
with its workers and stage processes, as in ``bench.e2e``): **on**, the production gateway;
**off**, the same with the invoice flow's ``policy`` stage removed
(``bench/gate_nogate/sitecustomize.py`` on its ``PYTHONPATH``), so its documents are
finished by ``Store.finish_processing`` instead of the export ledger. Both get the same
warm-up (``--warm-docs`` delivered before anything is measured), then ``--rounds`` rounds:
each round sends a burst of ``--docs`` documents to one gateway, waits until all are
delivered (full validation, XAdES signing, mutual TLS to the local receiver), then the same to
the other; the order alternates between rounds, so both warm (JIT, caches) alike. Only one
gateway works at a time.

Per burst: **CPU ms per delivered document** of every process involved — the gateway, its
stage processes and JVMs, the PostgreSQL server (for ``postgres``), and this process (HTTP
clients and the receiving endpoint) — and **documents/s** (first submit → last delivery).
Printed: per store and mode the median of the rounds and their spread (min–max), and the
gate's added share of the CPU per document and of the time per document (1/throughput).

The documents: the bundled samples plus a personal buyer's and a contact person's invoice
(``bench.gate.bodies``), so the gate classifies, counts and records individuals.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

from bench.e2e import (
    _children,
    burst,
    cpu_seconds,
    cpu_split,
    delivered_times,
    postgres_server,
    wait_ready,
)
from bench.gate import PERSON_PARTNER, bodies
from gateway.cli.demo import DEMO_DIRECTORY
from gateway.settings import data_home, default_stage_processes
from gateway.store import open_store
from gateway.testing.cluster import ClusterConfig, GatewayProcess, write_config
from gateway.testing.receiver import Receiver
from gateway.testing.tls import TlsFiles, make_tls

NO_GATE_PATH = Path(__file__).resolve().parent / "gate_nogate"
MODES = ("on", "off")


class Gateway:
    """One gateway (``on`` or ``off``) over its own store, with its API key."""

    def __init__(self, mode: str, process: GatewayProcess, config: ClusterConfig) -> None:
        self.mode = mode
        self.process = process
        self.config = config
        self.api_key = ""

    def start(self) -> None:
        saved = {k: os.environ.get(k) for k in ("LINGANG_BENCH_GATE", "PYTHONPATH")}
        if self.mode == "off":
            os.environ["LINGANG_BENCH_GATE"] = "off"
            os.environ["PYTHONPATH"] = os.pathsep.join(
                p for p in (str(NO_GATE_PATH), saved["PYTHONPATH"]) if p
            )
        try:
            self.process.start()
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value

    def pids(self) -> list[int]:
        return [self.process.process.pid] if self.process.process is not None else []


def postgres_pids(data: Path | None) -> list[int]:
    """The PostgreSQL server and its backends (from ``postmaster.pid``)."""
    if data is None:
        return []
    try:
        postmaster = int((data / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return []
    return [postmaster, *_children(postmaster)]


async def one_burst(
    gateway: Gateway,
    receiver: Receiver,
    documents: list[bytes],
    count: int,
    tag: str,
    pg_data: Path | None,
) -> dict[str, float]:
    """A burst of ``count`` documents to ``gateway``: CPU ms per delivered document (all
    processes) and documents/s."""
    headers = {"Authorization": f"Bearer {gateway.api_key}"}
    async with aiohttp.ClientSession(
        gateway.config.base_url,
        headers=headers,
        timeout=aiohttp.ClientTimeout(total=60),
        connector=aiohttp.TCPConnector(limit=64),
    ) as session:
        pids = gateway.pids()
        before = cpu_split(pids)
        pg_before = {pid: cpu_seconds(pid) for pid in postgres_pids(pg_data)}
        started = time.time()
        load = await burst(session, documents, count, tag)
        done = await delivered_times(receiver, set(load.sent_at), 300)
        finished = max(done.values()) if done else time.time()
        after = cpu_split(pids)
        pg_after = {pid: cpu_seconds(pid) for pid in postgres_pids(pg_data)}
    pg = sum(cpu - pg_before.get(pid, 0.0) for pid, cpu in pg_after.items())
    delivered = max(1, len(done))
    parts = {name: after[name] - before[name] for name in after}
    parts["postgres"] = pg
    return {
        "delivered": len(done),
        "cpu_ms_per_doc": 1000 * sum(parts.values()) / delivered,
        "gateway_ms_per_doc": 1000 * (parts["gateway"] + parts["stages"] + pg) / delivered,
        "docs_per_s": len(done) / max(1e-9, finished - started),
    }


async def run_store(
    name: str, urls: dict[str, str], args: argparse.Namespace, home: Path, tls: TlsFiles,
    pg_data: Path | None, order_first: str,
) -> dict[str, Any]:  # fmt: skip
    from cryptography import x509

    keys = home / "pki"
    public = x509.load_pem_x509_certificate((keys / "signer-ec.pem").read_bytes()).public_key()
    receiver = Receiver(ssl_context=tls.server_context(), verify_key=public)
    await receiver.start()
    documents = bodies()
    gateways: dict[str, Gateway] = {}
    for mode in MODES:
        config = ClusterConfig(
            home=home / f"{name}-{mode}", store_url=urls[mode], receiver_url=receiver.url,
            tls=tls, signing_key=keys / "signer-ec.key.pem", signing_cert=keys / "signer-ec.pem",
            artefacts_dir=data_home(), partners_file=home / "partners.toml", lease_seconds=30.0,
            poll_seconds=0.05, workers=2, concurrency=16, stage_processes=args.stage_processes,
        )  # fmt: skip
        path = write_config(config)
        store = await open_store(urls[mode])
        tenant = await store.create_tenant("bench")
        api_key, _ = await store.issue_api_key(tenant.id)
        await store.close()
        gateway = Gateway(mode, GatewayProcess(["serve"], path, config.home / "serve.log"), config)
        gateway.api_key = api_key
        gateways[mode] = gateway
    result: dict[str, Any] = {"store": name, "rounds": {m: [] for m in MODES}}
    try:
        for gateway in gateways.values():
            gateway.start()
        for gateway in gateways.values():
            headers = {"Authorization": f"Bearer {gateway.api_key}"}
            async with aiohttp.ClientSession(gateway.config.base_url, headers=headers) as session:
                await wait_ready(session)
                warm = await burst(session, documents, args.warm_docs, f"warm-{gateway.mode}")
                warmed = await delivered_times(receiver, set(warm.sent_at), 300)
            result.setdefault("warm_up", {})[gateway.mode] = len(warmed)
        first = order_first
        for index in range(args.rounds):
            order = (first, *(m for m in MODES if m != first))
            for mode in order:
                tag = f"r{index}-{mode}"
                measured = await one_burst(
                    gateways[mode], receiver, documents, args.docs, tag, pg_data
                )
                result["rounds"][mode].append(measured)
            first = order[-1]
    finally:
        for gateway in gateways.values():
            gateway.process.terminate()
        await receiver.stop()
    return result


def summary(values: list[float]) -> str:
    return f"{statistics.median(values):.1f} (spread {min(values):.1f}–{max(values):.1f})"


def report(results: list[dict[str, Any]], args: argparse.Namespace) -> None:
    print(
        f"\nwarm-up: {args.warm_docs} documents delivered per gateway before measuring; "
        f"{args.rounds} rounds of {args.docs} documents per mode, order alternating; "
        f"cpus {os.cpu_count()}, load average {os.getloadavg()[0]:.1f} at the end "
        "(a shared machine: timings are noisy)"
    )
    for r in results:
        print(f"\n[{r['store']}] delivered in warm-up: {r['warm_up']}")
        rounds = r["rounds"]
        for mode in MODES:
            runs = rounds[mode]
            print(
                f"  gate {mode:3}: CPU per document, all processes {summary([x['cpu_ms_per_doc'] for x in runs])} ms; "
                f"gateway side {summary([x['gateway_ms_per_doc'] for x in runs])} ms; "
                f"throughput {summary([x['docs_per_s'] for x in runs])} docs/s; "
                f"delivered {[x['delivered'] for x in runs]}"
            )
        cpu = [on["cpu_ms_per_doc"] / off["cpu_ms_per_doc"] - 1 for on, off in zip(rounds["on"], rounds["off"], strict=True)]  # fmt: skip
        wall = [off["docs_per_s"] / on["docs_per_s"] - 1 for on, off in zip(rounds["on"], rounds["off"], strict=True)]  # fmt: skip
        print(
            f"  the gate adds, per round (on vs off of the same round): CPU per document "
            f"{', '.join(f'{100 * c:+.1f}%' for c in cpu)} (median {100 * statistics.median(cpu):+.1f}%); "
            f"time per document (1/throughput) {', '.join(f'{100 * w:+.1f}%' for w in wall)} "
            f"(median {100 * statistics.median(wall):+.1f}%)"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.gate_e2e", description=__doc__)
    parser.add_argument("--docs", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--warm-docs", type=int, default=40)
    parser.add_argument("--store", default="sqlite,postgres")
    parser.add_argument("--stage-processes", type=int, default=default_stage_processes())
    args = parser.parse_args(argv)
    home = Path(tempfile.mkdtemp(prefix="lingang-gate-e2e-"))
    (home / "partners.toml").write_text(DEMO_DIRECTORY + PERSON_PARTNER, encoding="utf-8")
    from gateway.signing.testpki import make_test_pki

    make_test_pki(home / "pki")
    tls = make_tls(home / "tls")
    results = []
    for index, name in enumerate(args.store.split(",")):
        first = MODES[index % 2]
        if name == "sqlite":
            urls = {m: f"sqlite:///{home / f'gate-{m}.db'}" for m in MODES}
            results.append(asyncio.run(run_store(name, urls, args, home, tls, None, first)))
        elif name == "postgres":
            local, server = postgres_server()
            try:
                urls = {m: server.url(server.create_database()) for m in MODES}
                results.append(
                    asyncio.run(run_store(name, urls, args, home, tls, local.data, first))
                )
            finally:
                local.stop()
    report(results, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
