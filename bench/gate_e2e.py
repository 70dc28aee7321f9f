"""The export gate's end-to-end cost: CPU per delivered document and wall throughput, with
the gate on and off, measured in the same run.

    .venv/bin/python -m bench.gate_e2e [--docs 24] [--rounds 8] [--warm-docs 60]
                                       [--store sqlite,postgres]

Per store, two gateways run side by side as real subprocesses (``python -m gateway serve``
with its workers and stage processes, as in ``bench.e2e``): **on**, the production gateway;
**off**, the same with the invoice flow's ``policy`` stage removed
(``bench/gate_nogate/sitecustomize.py`` on its ``PYTHONPATH``), so its documents are
finished by ``Store.finish_processing`` instead of the export ledger. On PostgreSQL each
gateway has **its own throw-away server**, so the server processes counted for a burst are
exactly the ones working for that gateway (its backends, WAL writer, checkpointer,
autovacuum), never the idle twin's polling backends. Both get the same warm-up
(``--warm-docs`` delivered before anything is measured, in bursts alternating between the
two gateways so their JVMs age alike), then ``--rounds`` short rounds:
each round sends a burst of ``--docs`` documents (the same documents, in the same order) to
one gateway, waits until all are delivered (full validation, XAdES signing, mutual TLS to
the local receiver), then the same to the other; the order alternates between rounds
(on-off, off-on, ...), so a drift of the machine's load or of the JVMs' JIT hits both
alike. Only one gateway works at a time. Idle workers poll the store as often as the
gateway's default ``[worker] poll_seconds`` (0.5 s; ``bench.e2e`` polls every 0.05 s): a
poll costs CPU in the gateway and its database for every second a burst lasts, so a 10x
faster poll than deployed charges a slower mode with idling. A store takes about two minutes (the JVMs' start
is most of the warm-up).

Per burst: **CPU ms per delivered document** of the gateway side — the gateway process, its
stage processes and JVMs and, for ``postgres``, its database server — and of all processes
(adding this process: the HTTP clients, the receiving endpoint and the harness's own
polling, which is not the gateway's cost), and **documents/s** (first submit → last
delivery). CPU time is the scheduler's, per thread, in nanoseconds (``/proc/PID/task/TID/
schedstat``), not ``/proc/PID/stat``'s 10 ms ticks, whose truncation over some twenty
processes moved a short burst by several per cent. The headline leaves out the JVMs' JIT compiler threads: a JVM compiles for its
first thousand or so documents (``bench.e2e``), far more than a short run can warm up, in
bursts that land in one mode's round or the other's by chance; a gateway that has run for
a while has done it, and the gate does not change what the JVM runs. The figure with it is
printed too. An A/A check (``--aa``: both gateways with the gate) shows what is left of the
harness's own bias and noise.

The gate's cost is estimated per round as the paired ratio on/off − 1 of the same round (the
two bursts run seconds apart, under the same load); printed: each round's, their median and
quartiles, and the pooled ratio (all rounds' CPU on / off − 1). After the rounds, a check that the comparison was what it claims: the **on** gateway's export ledger
holds an entry for every document delivered and verifies, the **off** gateway's is empty.

The documents: the bundled samples plus a personal buyer's and a contact person's invoice
(``bench.gate.bodies``), so the gate classifies, counts and records individuals.
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
from pathlib import Path
from typing import Any

import aiohttp

from bench._procs import JIT_THREADS, _children
from bench.e2e import (
    ApiClients,
    burst,
    delivered_times,
    postgres_server,
    wait_ready,
)
from bench.gate import PERSON_PARTNER, bodies
from gateway.cli.demo import DEMO_DIRECTORY
from gateway.settings import data_home, default_stage_processes
from gateway.settings.sections import WorkerSettings
from gateway.store import open_store
from gateway.testing.cluster import ClusterConfig, GatewayProcess, write_config
from gateway.testing.receiver import Receiver
from gateway.testing.tls import TlsFiles, make_tls

NO_GATE_PATH = Path(__file__).resolve().parent / "gate_nogate"
MODES = ("on", "off")
WARM_STEPS = 3
"""The warm-up is sent in this many bursts per gateway, alternating between them."""


class Gateway:
    """One gateway (``on`` or ``off``) over its own store (on PostgreSQL: its own server,
    ``pg_data``), with its API key."""

    def __init__(
        self,
        mode: str,
        process: GatewayProcess,
        config: ClusterConfig,
        pg_data: Path | None,
        gated: bool,
    ) -> None:
        self.mode = mode
        self.gated = gated
        self.process = process
        self.config = config
        self.pg_data = pg_data
        self.api_key = ""

    def start(self) -> None:
        saved = {k: os.environ.get(k) for k in ("LINGANG_BENCH_GATE", "PYTHONPATH")}
        if not self.gated:
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


Threads = dict[tuple[int, str], tuple[str, int]]
"""(pid, thread id) → (thread name, nanoseconds on a CPU so far)."""


def thread_cpu(pids: list[int]) -> Threads:
    """Every thread of ``pids`` with its CPU time so far, in nanoseconds, from the scheduler
    (``/proc/PID/task/TID/schedstat``). ``/proc/PID/stat`` counts in 10 ms ticks: a burst
    costs a few hundred ms over some twenty processes, so its truncations alone moved a
    round by several per cent."""
    found: Threads = {}
    for pid in pids:
        for task in Path(f"/proc/{pid}/task").glob("*"):
            try:
                name = (task / "comm").read_text().strip()
                ns = int((task / "schedstat").read_text().split()[0])
            except (OSError, ValueError, IndexError):
                continue
            found[(pid, task.name)] = (name, ns)
    return found


def used(before: Threads, after: Threads, *, jit: bool | None = None) -> float:
    """CPU seconds the threads used between the two readings (a thread that started in
    between counts from zero; one that ended is left out, with only what it used in
    between); ``jit``: only the JIT compiler threads (True) or all but them (False)."""
    total = 0
    for key, (name, ns) in after.items():
        if jit is None or (name in JIT_THREADS) == jit:
            total += ns - before.get(key, (name, 0))[1]
    return total / 1e9


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
    gateway: Gateway, receiver: Receiver, documents: list[bytes], count: int, tag: str
) -> dict[str, float]:
    """A burst of ``count`` documents to ``gateway``: CPU ms per delivered document (the
    gateway side, and all processes) and documents/s."""
    pids = gateway.pids()
    children = [child for pid in pids for child in _children(pid)]
    database = postgres_pids(gateway.pg_data)
    before = {
        "gateway": thread_cpu(pids),
        "stages": thread_cpu(children),
        "postgres": thread_cpu(database),
        "bench": thread_cpu([os.getpid()]),
    }
    started = time.time()
    with ApiClients(gateway.config.base_url, gateway.api_key, documents) as clients:
        load = await burst(clients, documents, count, tag)
    done = await delivered_times(receiver, set(load.sent_at), 300)
    finished = max(done.values()) if done else time.time()
    after = {
        "gateway": thread_cpu(pids),
        "stages": thread_cpu([child for pid in pids for child in _children(pid)]),
        "postgres": thread_cpu(postgres_pids(gateway.pg_data)),
        "bench": thread_cpu([os.getpid()]),
    }
    parts = {name: used(before[name], after[name], jit=False) for name in before}
    jit = used(before["stages"], after["stages"], jit=True)
    delivered = max(1, len(done))
    gateway_side = parts["gateway"] + parts["stages"] + parts["postgres"]
    return {
        "delivered": len(done),
        "steady_ms_per_doc": 1000 * gateway_side / delivered,
        "jit_ms_per_doc": 1000 * jit / delivered,
        "gateway_ms_per_doc": 1000 * (gateway_side + jit) / delivered,
        "cpu_ms_per_doc": 1000 * (gateway_side + jit + parts["bench"]) / delivered,
        "parts_ms_per_doc": {name: 1000 * cpu / delivered for name, cpu in parts.items()},
        "docs_per_s": len(done) / max(1e-9, finished - started),
    }


async def check_ledgers(gateways: dict[str, Gateway]) -> dict[str, Any]:
    """What each gateway's export ledger holds: entries, and whether the chain verifies."""
    from gateway.store.ledger import LedgerStore
    from gateway.store.ledger_chain import verify_chain

    found: dict[str, Any] = {}
    for mode, gateway in gateways.items():
        store = await open_store(gateway.config.store_url)
        try:
            entries, head, marks = await LedgerStore(store.connector).chain_state()
            found[mode] = {
                "entries": len(entries),
                "verified": verify_chain(entries, head, marks).ok,
            }
        finally:
            await store.close()
    return found


async def run_store(
    name: str, urls: dict[str, str], pg_data: dict[str, Path | None], args: argparse.Namespace,
    home: Path, tls: TlsFiles, order_first: str,
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
            poll_seconds=args.poll_seconds, workers=2, concurrency=16, stage_processes=args.stage_processes,
        )  # fmt: skip
        path = write_config(config)
        store = await open_store(urls[mode])
        tenant = await store.create_tenant("bench")
        api_key, _ = await store.issue_api_key(tenant.id)
        await store.close()
        process = GatewayProcess(["serve"], path, config.home / "serve.log")
        gateway = Gateway(mode, process, config, pg_data[mode], mode == "on" or args.aa)
        gateway.api_key = api_key
        gateways[mode] = gateway
    result: dict[str, Any] = {"store": name, "rounds": {m: [] for m in MODES}}
    result["load_before"] = os.getloadavg()[0]
    try:
        for gateway in gateways.values():
            gateway.start()
        result["warm_up"] = dict.fromkeys(MODES, 0)
        for step in range(WARM_STEPS):  # alternating, so both JVMs age alike
            for gateway in gateways.values():
                headers = {"Authorization": f"Bearer {gateway.api_key}"}
                count = args.warm_docs // WARM_STEPS
                tag = f"warm{step}-{gateway.mode}"
                async with aiohttp.ClientSession(gateway.config.base_url, headers=headers) as web:
                    await wait_ready(web)
                    with ApiClients(gateway.config.base_url, gateway.api_key, documents) as clients:
                        warm = await burst(clients, documents, count, tag)
                    warmed = await delivered_times(receiver, set(warm.sent_at), 300)
                result["warm_up"][gateway.mode] += len(warmed)
        first = order_first
        for index in range(args.rounds):
            order = (first, *(m for m in MODES if m != first))
            for mode in order:
                tag = f"r{index}-{mode}"
                measured = await one_burst(gateways[mode], receiver, documents, args.docs, tag)
                result["rounds"][mode].append(measured)
            first = order[-1]
    finally:
        for gateway in gateways.values():
            gateway.process.terminate()
        await receiver.stop()
    result["load_after"] = os.getloadavg()[0]
    result["ledgers"] = await check_ledgers(gateways)
    result["delivered"] = {
        mode: sum(r["delivered"] for r in rounds) + result["warm_up"][mode]
        for mode, rounds in result["rounds"].items()
    }
    return result


def summary(values: list[float]) -> str:
    return f"{statistics.median(values):.1f} (spread {min(values):.1f}–{max(values):.1f})"


def paired(on: list[float], off: list[float], *, inverse: bool = False) -> dict[str, Any]:
    """The gate's added share per round (on/off − 1 of the same round; ``inverse``: off/on
    − 1, for rates), their median and quartiles, and the pooled share over all rounds."""
    shares = [(b / a if inverse else a / b) - 1 for a, b in zip(on, off, strict=True)]
    quartiles = statistics.quantiles(shares, n=4) if len(shares) > 1 else [shares[0]] * 3
    pooled = (sum(off) / sum(on) if inverse else sum(on) / sum(off)) - 1
    return {"rounds": shares, "median": statistics.median(shares), "q1": quartiles[0],
            "q3": quartiles[2], "pooled": pooled}  # fmt: skip


def percent(share: dict[str, Any]) -> str:
    rounds = ", ".join(f"{100 * s:+.1f}" for s in share["rounds"])
    return (
        f"median {100 * share['median']:+.1f}% (quartiles {100 * share['q1']:+.1f}…"
        f"{100 * share['q3']:+.1f}%, pooled {100 * share['pooled']:+.1f}%; rounds {rounds})"
    )


def report(results: list[dict[str, Any]], args: argparse.Namespace) -> None:
    print(
        f"\nwarm-up: {args.warm_docs} documents delivered per gateway before measuring; "
        f"{args.rounds} rounds of {args.docs} documents per mode, order alternating; "
        f"cpus {os.cpu_count()} (a shared machine: timings are noisy)"
    )
    for r in results:
        print(
            f"\n[{r['store']}] delivered in warm-up: {r['warm_up']}; load average "
            f"{r['load_before']:.1f} before, {r['load_after']:.1f} after"
        )
        rounds = r["rounds"]
        for mode in MODES:
            runs = rounds[mode]
            print(
                f"  gate {mode:3}: CPU per document, gateway side without JIT compiling "
                f"{summary([x['steady_ms_per_doc'] for x in runs])} ms (JIT compiling "
                f"{summary([x['jit_ms_per_doc'] for x in runs])} ms); "
                f"gateway side {summary([x['gateway_ms_per_doc'] for x in runs])} ms; "
                f"all processes {summary([x['cpu_ms_per_doc'] for x in runs])} ms; "
                f"throughput {summary([x['docs_per_s'] for x in runs])} docs/s; "
                f"delivered {[x['delivered'] for x in runs]}"
            )
            parts = {
                part: statistics.median(x["parts_ms_per_doc"][part] for x in runs)
                for part in runs[0]["parts_ms_per_doc"]
            }
            print(
                "           by process (medians, ms per document): "
                + ", ".join(f"{part} {ms:.1f}" for part, ms in parts.items())
                + " (stages: stage processes and JVMs without JIT compiling)"
            )
        on, off = rounds["on"], rounds["off"]
        for label, key, inverse in (
            ("CPU per document, gateway side without JIT compiling", "steady_ms_per_doc", False),
            ("CPU per document, gateway side", "gateway_ms_per_doc", False),
            ("CPU per document, all processes", "cpu_ms_per_doc", False),
            ("time per document (1/throughput)", "docs_per_s", True),
        ):
            share = paired([x[key] for x in on], [x[key] for x in off], inverse=inverse)
            r.setdefault("shares", {})[key] = share
            print(f"  the gate adds, {label}: {percent(share)}")
        print(f"  ledgers after the run: {r['ledgers']}; documents delivered: {r['delivered']}")
        on_ledger, off_ledger = r["ledgers"]["on"], r["ledgers"]["off"]
        if args.aa:
            print("  (A/A check: both gateways ran the gate; the differences above are noise)")
        elif (
            off_ledger["entries"]
            or not on_ledger["verified"]
            or (on_ledger["entries"] != r["delivered"]["on"])
        ):
            print("  WARNING: the comparison is not what it claims (see the ledgers above)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.gate_e2e", description=__doc__)
    parser.add_argument("--docs", type=int, default=24)
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--warm-docs", type=int, default=60)
    parser.add_argument("--store", default="sqlite,postgres")
    parser.add_argument("--stage-processes", type=int, default=default_stage_processes())
    parser.add_argument(
        "--poll-seconds",
        type=float,
        default=WorkerSettings().poll_seconds,
        help="[worker] poll_seconds (default: the gateway's default)",
    )
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument(
        "--aa",
        action="store_true",
        help="A/A check of the harness: the 'off' gateway runs with the gate too, so any "
        "difference printed is the harness's own bias and noise",
    )
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
            no_server: dict[str, Path | None] = dict.fromkeys(MODES)
            results.append(asyncio.run(run_store(name, urls, no_server, args, home, tls, first)))
        elif name == "postgres":
            servers = {m: postgres_server() for m in MODES}  # one server per gateway
            try:
                urls = {m: s.url(s.create_database()) for m, (_, s) in servers.items()}
                data: dict[str, Path | None] = {m: local.data for m, (local, _) in servers.items()}
                results.append(asyncio.run(run_store(name, urls, data, args, home, tls, first)))
            finally:
                for local, _ in servers.values():
                    local.stop()
    report(results, args)
    if args.json is not None:
        args.json.write_text(json.dumps({"args": vars(args), "results": results}, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
