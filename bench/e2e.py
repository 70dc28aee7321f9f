"""End to end: documents/s through the HTTP API to delivered, latency and peak memory.

    .venv/bin/python -m bench.e2e [--docs 1000] [--paced-rate 100,50] [--paced-seconds 10]
                                  [--store sqlite,postgres] [--worker-procs 0]
                                  [--stage-processes N] [--stage-pin]

For each store (SQLite file, WAL, ``synchronous=FULL``; a throw-away PostgreSQL server
with ``initdb``, durable — fsync and synchronous commit on — unless ``--pg-fsync-off``,
reached over TCP on 127.0.0.1 unless ``--pg-socket``):

* the gateway runs as real subprocesses: ``python -m gateway serve`` (API + in-process
  workers), plus ``--worker-procs`` extra ``python -m gateway worker`` processes;
* the full stage table runs: parse, map, render, **full validation** (XSD + official
  Schematron) and **XAdES signing**, then delivery over **mutual TLS** with a detached JWS
  to the local receiving endpoint (in this process), which counts by message id;
* **warm-up**: ``--warm-docs`` documents per Schematron JVM of the gateway (one per stage
  process) delivered before anything is measured, so each of its JVMs has run as many
  documents as the baseline's before its first measurement (a JVM's JIT is still compiling
  after a few thousand documents: 0.2-0.4 ms of CPU per document after 1,500, printed as
  "JIT compiling"; a gateway runs for days, so the steady state is what is measured);
* **burst**: ``--docs`` documents submitted as fast as the API takes them (32 concurrent
  clients); throughput = documents / (first submit → last delivery);
* **paced**: an open-loop ``--paced-rate`` documents/s (each rate in turn) for
  ``--paced-seconds``; latency = the
  receiver's first acceptance − the client's send time, p50/p99;
* **peak memory**: the peak RSS (``VmHWM``) of every gateway process;
* **CPU per delivered document** in the burst: the gateway processes, their stage processes
  (and JVMs), the PostgreSQL server's processes (its throw-away cluster: postmaster,
  backends, WAL writer, …, exited ones too) and this process (clients, receiver), so the two
  stores compare like with like (SQLite's work is inside the gateway processes).

Baseline, measured in the same run: the same documents through parse + map + render +
validate + sign in one process, no service (no HTTP, store, queue or TLS), pinned to one core
with the JVM it starts, measured before the stores and again after each store's run; ratios
are printed against the median of those measurements, and in brackets against the same baseline
unpinned (printed with the cores it kept busy). Results are saved as JSON under
``bench/results/``.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import platform
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from statistics import median
from typing import Any

import aiohttp
from cryptography import x509

from bench._procs import (
    JIT_THREADS,
    _children,
    _grandchildren,
    cpu_seconds,
    thread_cpu_seconds,
)
from bench.baseline import (
    AGAIN_WARM_DOCS,
    BASELINE_SAMPLES,
    Baseline,
    baseline,
    median_baseline,
)
from bench.ceiling import Ceiling, gateway_bound, two_core_ceiling
from gateway.cli.demo import DEMO_DIRECTORY, default_samples
from gateway.settings import data_home, default_stage_processes
from gateway.store import open_store
from gateway.testing.cluster import ClusterConfig, GatewayProcess, write_config
from gateway.testing.receiver import Receiver
from gateway.testing.tls import make_tls

RESULTS = Path(__file__).resolve().parent / "results"


def sqlite_commit_ms(folder: Path, count: int = 300) -> dict[str, float]:
    """Milliseconds per small write transaction on this disk, WAL with synchronous FULL (what
    the store uses) and NORMAL: the floor under every store write of the pipeline."""
    import sqlite3

    out: dict[str, float] = {}
    for mode in ("FULL", "NORMAL"):
        path = folder / f"commit-{mode}.db"
        conn = sqlite3.connect(path, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(f"PRAGMA synchronous={mode}")
        conn.execute("CREATE TABLE t (data BLOB)")
        started = time.perf_counter()
        for _ in range(count):
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("INSERT INTO t VALUES (?)", (b"x" * 4096,))
            conn.execute("COMMIT")
        out[mode] = 1000 * (time.perf_counter() - started) / count
        conn.close()
    return out


# --------------------------------------------------------------------------- load


@dataclass
class Load:
    """Client-side record of one phase."""

    sent_at: dict[str, float] = field(default_factory=dict)
    """Submission id → wall-clock time the POST was sent."""
    errors: int = 0


class ApiConnection:
    """One keep-alive HTTP/1.1 connection to the gateway's API, sending pre-encoded
    ``POST /v1/documents`` requests (the load generator shares the gateway's two cores, so
    it spends as little as it can per request: no client framework, the request bytes built
    once per body, only the status and the ``id`` of the JSON answer read)."""

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def post(self, head: bytes, key: str, body: bytes) -> tuple[int, bytes]:
        """Send one request (``head``: its request line and fixed headers); the answer's
        status and body. Raises ``OSError`` / ``ValueError`` when the exchange failed (the
        connection is then closed)."""
        try:
            if self._writer is None:
                self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
            assert self._reader is not None
            self._writer.write(b"".join((head, key.encode(), b"\r\n\r\n", body)))
            header = await self._reader.readuntil(b"\r\n\r\n")
            status = int(header[9:12])
            length = None
            for line in header.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
                elif name.strip().lower() == b"connection" and b"close" in value.lower():
                    length = length if length is not None else -1
            if length is None or length < 0:
                raise ValueError("an answer without Content-Length")
            return status, await self._reader.readexactly(length)
        except (OSError, ValueError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            self.close()
            raise OSError("the exchange with the API failed") from None

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self._reader = self._writer = None


class ApiClients:
    """Keep-alive connections to the API, taken one per request in flight, with the
    request head of each body encoded once. The few sample fapiao are sent over and over,
    so every request is a deliberate resend (``resend=true``): otherwise the gateway sends
    each fapiao once and refuses the rest as ``already-sent``, which never deliver."""

    def __init__(self, base_url: str, api_key: str, bodies: list[bytes]) -> None:
        from urllib.parse import urlsplit

        parts = urlsplit(base_url)
        self.host, self.port = parts.hostname or "127.0.0.1", int(parts.port or 80)
        self.heads = {
            id(body): (
                f"POST /v1/documents?resend=true HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
                f"Authorization: Bearer {api_key}\r\nContent-Type: application/xml\r\n"
                f"Content-Length: {len(body)}\r\nIdempotency-Key: "
            ).encode()
            for body in bodies
        }
        self._idle: list[ApiConnection] = []

    async def post(self, body: bytes, key: str, load: Load, sent: float) -> None:
        connection = self._idle.pop() if self._idle else ApiConnection(self.host, self.port)
        try:
            for _ in range(50):
                try:
                    status, answer = await connection.post(self.heads[id(body)], key, body)
                    if status in (200, 202):
                        load.sent_at.setdefault(str(json.loads(answer)["id"]), sent)
                        return
                except OSError:
                    pass
                load.errors += 1
                await asyncio.sleep(0.1)
            raise RuntimeError(f"{key} never accepted")
        finally:
            self._idle.append(connection)

    def close(self) -> None:
        for connection in self._idle:
            connection.close()
        self._idle = []

    def __enter__(self) -> ApiClients:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


async def burst(clients: ApiClients, bodies: list[bytes], count: int, tag: str) -> Load:
    load = Load()
    queue = list(range(count))

    async def client() -> None:
        while queue:
            index = queue.pop()
            await clients.post(bodies[index % len(bodies)], f"{tag}-{index}", load, time.time())

    await asyncio.gather(*(client() for _ in range(32)))
    return load


async def paced(
    clients: ApiClients, bodies: list[bytes], rate: float, seconds: float, tag: str
) -> Load:
    load = Load()
    tasks = []
    start = time.perf_counter()
    for index in range(int(rate * seconds)):
        delay = start + index / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        sent = time.time()
        body = bodies[index % len(bodies)]
        tasks.append(asyncio.create_task(clients.post(body, f"{tag}-{index}", load, sent)))
    await asyncio.gather(*tasks)
    return load


async def delivered_times(receiver: Receiver, ids: set[str], timeout: float) -> dict[str, float]:
    """Submission id → first acceptance time, waiting until all ``ids`` are in.

    Each look reads only the messages accepted since the last one (the receiver's dicts
    only grow, in order): the poll costs the load generator nothing that grows with the
    number of documents delivered so far."""
    end = time.monotonic() + timeout
    seen: dict[str, float] = {}
    read = 0
    while True:
        accepted = receiver.submissions
        for message, submission in itertools.islice(accepted.items(), read, None):
            if submission in ids:
                seen[submission] = receiver.accepted_at[message]
        read = len(accepted)
        if len(seen) == len(ids) or time.monotonic() > end:
            return seen
        await asyncio.sleep(0.05)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def peak_rss_mib(pid: int) -> float:
    """Peak resident set size (``VmHWM``) in MiB of a process plus its child processes
    (stage processes); each process's own peak, summed."""
    total = 0.0
    for one in [pid, *_children(pid)]:
        try:
            for line in Path(f"/proc/{one}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total += int(line.split()[1]) / 1024
        except OSError:
            continue
    return total or float("nan")


def cpu_split(pids: list[int], server: int | None = None) -> dict[str, float]:
    """CPU seconds so far of the gateway processes themselves, of all their descendants
    (stage processes and their JVMs), of this benchmark process (clients, receiver) and,
    with ``server`` (a PostgreSQL postmaster's pid), of the database server
    (:func:`server_cpu_seconds`; 0 for SQLite, whose work is inside the gateway)."""
    import resource

    own = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "gateway": sum(cpu_seconds(pid) for pid in pids),
        "stages": sum(cpu_seconds(child) for pid in pids for child in _children(pid)),
        "stage_jvms": sum(cpu_seconds(c) for pid in pids for c in _grandchildren(pid)),
        "stage_jit": sum(
            thread_cpu_seconds(c, *JIT_THREADS) for pid in pids for c in _grandchildren(pid)
        ),
        "bench": own.ru_utime + own.ru_stime,
        "server": 0.0 if server is None else server_cpu_seconds(server),
    }


def server_cpu_seconds(postmaster: int) -> float:
    """CPU seconds so far of a PostgreSQL server: the postmaster, its live processes
    (backends, WAL writer, checkpointer, …) and those that have exited (counted in the
    postmaster's ``cutime``/``cstime`` once it has reaped them)."""
    try:
        fields = Path(f"/proc/{postmaster}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    reaped = (int(fields[13]) + int(fields[14])) / os.sysconf("SC_CLK_TCK")
    live = sum(cpu_seconds(child) for child in _children(postmaster))
    return cpu_seconds(postmaster) + reaped + live


def postmaster_pid(data_dir: Path) -> int:
    """The pid of the PostgreSQL server running on ``data_dir`` (its ``postmaster.pid``)."""
    return int((data_dir / "postmaster.pid").read_text().split()[0])


# --------------------------------------------------------------------------- one store


async def run_store(
    name: str,
    store_url: str,
    args: argparse.Namespace,
    home: Path,
    bodies: list[bytes],
    server: int | None = None,
) -> dict[str, Any]:
    """One store's run; ``server``: the PostgreSQL postmaster's pid, whose CPU is counted."""
    tls = make_tls(home / "tls")
    from gateway.signing.testpki import make_test_pki

    keys = home / "pki"
    if not (keys / "signer-ec.pem").exists():
        make_test_pki(keys)
    public = x509.load_pem_x509_certificate((keys / "signer-ec.pem").read_bytes()).public_key()
    receiver = Receiver(ssl_context=tls.server_context(), verify_key=public)
    await receiver.start()
    partners = home / "partners.toml"
    config = ClusterConfig(
        home=home / name,
        store_url=store_url,
        receiver_url=receiver.url,
        tls=tls,
        signing_key=keys / "signer-ec.key.pem",
        signing_cert=keys / "signer-ec.pem",
        artefacts_dir=data_home(),
        partners_file=partners,
        lease_seconds=30.0,
        poll_seconds=0.05,
        workers=args.workers,
        concurrency=args.concurrency,
        stage_processes=args.stage_processes,
        stage_pin=args.stage_pin,
    )
    path = write_config(config)
    store = await open_store(store_url)
    tenant = await store.create_tenant("bench")
    api_key, _ = await store.issue_api_key(tenant.id)
    await store.close()
    processes = [GatewayProcess(["serve"], path, config.home / "serve.log")]
    processes += [
        GatewayProcess(["worker"], path, config.home / f"worker-{n}.log")
        for n in range(args.worker_procs)
    ]
    for process in processes:
        process.start()
    headers = {"Authorization": f"Bearer {api_key}"}
    timeout = aiohttp.ClientTimeout(total=30)
    connector = aiohttp.TCPConnector(limit=64)
    result: dict[str, Any] = {"store": name}
    clients = ApiClients(config.base_url, api_key, bodies)
    try:
        async with aiohttp.ClientSession(
            config.base_url, headers=headers, timeout=timeout, connector=connector
        ) as session:
            await wait_ready(session)
            warm = await burst(clients, bodies, args.warm_docs * stage_jvms(args), "warm")
            warmed = await delivered_times(receiver, set(warm.sent_at), 300)
            result["warm_up"] = {"sent": len(warm.sent_at), "delivered": len(warmed)}
            pids = [p.process.pid for p in processes if p.process is not None]
            cpu_before = cpu_split(pids, server)
            started = time.time()
            load = await burst(clients, bodies, args.docs, "burst")
            submitted = time.time() - started
            done = await delivered_times(receiver, set(load.sent_at), 300)
            finished = max(done.values()) if done else time.time()
            latencies = [1000 * (done[s] - load.sent_at[s]) for s in done]
            cpu_after = cpu_split(pids, server)
            result["cpu_ms_per_doc"] = {
                name: 1000 * (cpu_after[name] - cpu_before[name]) / max(1, len(done))
                for name in cpu_after
            }
            result["burst"] = {
                "docs": args.docs,
                "delivered": len(done),
                "docs_per_s": len(done) / (finished - started),
                "api_accept_per_s": args.docs / submitted,
                "p50_ms": percentile(latencies, 0.5),
                "p99_ms": percentile(latencies, 0.99),
                "client_retries": load.errors,
            }
            result["paced"] = []
            for rate in args.paced_rate:
                await asyncio.sleep(1.0)
                tag = f"paced{rate:g}"
                slow = await paced(clients, bodies, rate, args.paced_seconds, tag)
                done = await delivered_times(receiver, set(slow.sent_at), 120)
                latencies = [1000 * (done[s] - slow.sent_at[s]) for s in done]
                result["paced"].append(
                    {
                        "rate": rate,
                        "docs": len(slow.sent_at),
                        "delivered": len(done),
                        "p50_ms": percentile(latencies, 0.5),
                        "p99_ms": percentile(latencies, 0.99),
                        "max_ms": max(latencies) if latencies else float("nan"),
                    }
                )
        result["peak_rss_mib"] = {
            f"{' '.join(p.command)} #{n}": peak_rss_mib(p.process.pid)
            for n, p in enumerate(processes)
            if p.process is not None
        }
        stats = receiver.stats()
        result["receiver"] = {"accepted": stats["accepted"], "posts": stats["posts"]}
    finally:
        clients.close()
        for process in processes:
            process.terminate()
        await receiver.stop()
    return result


def stage_jvms(args: argparse.Namespace) -> int:
    """How many Schematron JVMs the gateway processes run: one per stage process (or one in
    each process that runs its flows on a thread)."""
    return max(1, args.stage_processes) * (1 + args.worker_procs)


async def wait_ready(session: aiohttp.ClientSession) -> None:
    for _ in range(300):
        try:
            async with session.get("/healthz") as response:
                if response.status == 200:
                    return
        except (aiohttp.ClientError, OSError):
            pass
        await asyncio.sleep(0.1)
    raise RuntimeError("the gateway did not become healthy")


# --------------------------------------------------------------------------- main


def postgres_server(durable: bool = False) -> tuple[Any, Any]:
    """A throw-away PostgreSQL (``initdb``; fsync off as in the test suite unless
    ``durable``): ``(local, server)``; ``server.url(server.create_database())`` is a fresh
    database, ``local.stop()`` ends it."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.pg import LocalServer, find_pg_bin

    bindir = find_pg_bin()
    if bindir is None:
        raise RuntimeError("PostgreSQL binaries not found")
    local = LocalServer(bindir)
    return local, local.start(durable=durable)


def start_postgres(durable: bool = False, socket: bool = False) -> tuple[Any, str]:
    """A throw-away PostgreSQL with one database: ``(local, url)``; ``socket``: the URL
    reaches it through its Unix socket instead of TCP on 127.0.0.1."""
    local, server = postgres_server(durable)
    database = server.create_database()
    if socket:
        return (
            local,
            f"postgresql://{server.user}@/{database}?host={local.sockets}&port={server.port}",
        )
    return local, server.url(database)


def report(
    results: list[dict[str, Any]],
    pinned: Baseline,
    free: Baseline,
    commits: dict[str, float],
    samples: list[Baseline],
    ceilings: Sequence[Ceiling] = (),
) -> None:
    base = pinned.docs_per_s
    rates = ", ".join(f"{b.docs_per_s:.1f}" for b in samples)
    print(
        f"\nbaseline (in-process parse+map+render+validate+sign, its JVM too, on 1 core): "
        f"{base:.1f} docs/s, {pinned.cpu_ms_per_doc:.1f} ms CPU/doc (the median of "
        f"{len(samples)} measurements through the run: {rates})"
    )
    print(
        f"  the same unpinned ({free.cpus} cores): {free.docs_per_s:.1f} docs/s, "
        f"{free.cpu_ms_per_doc:.1f} ms CPU/doc ({free.cores_busy:.2f} cores busy); "
        "ratios to it are printed in [brackets]"
    )
    scaling = median([c.scaling for c in ceilings]) if ceilings else None
    if ceilings:
        print(
            "two-core ceiling: the baseline's work on both cores at once (one pinned process "
            "each, its JVM too; each also measured alone, just before and after), beside each "
            "measurement above: "
            + ", ".join(
                f"{c.pair_docs_per_s:.1f} docs/s = {c.scaling:.2f}× one alone "
                f"({c.pair_cpu_ms_per_doc:.1f} ms CPU/doc)"
                for c in ceilings
            )
            + f"; median {scaling:.2f}×, the most two cores give this work here"
        )
    print(
        f"SQLite write transaction on this disk: {commits['FULL']:.2f} ms (synchronous=FULL, "
        f"the store's setting), {commits['NORMAL']:.2f} ms (NORMAL)"
    )
    for r in results:
        b = r["burst"]
        print(f"\n[{r['store']}]")
        print(
            f"  warm-up: {r['warm_up']['delivered']} of {r['warm_up']['sent']} documents delivered "
            f"before measuring\n"
            f"  burst: {b['delivered']} of {b['docs']} documents delivered, "
            f"{b['docs_per_s']:.1f} docs/s "
            f"({b['docs_per_s'] / base:.2f}× baseline "
            f"[{b['docs_per_s'] / free.docs_per_s:.2f}×]); API accepted {b['api_accept_per_s']:.1f}/s; "
            f"latency p50 {b['p50_ms']:.0f} ms, p99 {b['p99_ms']:.0f} ms (queueing included)"
        )
        cpu = r["cpu_ms_per_doc"]
        total = sum(v for k, v in cpu.items() if k not in ("stage_jvms", "stage_jit"))  # in stages
        print(
            f"  CPU per delivered document in the burst: gateway processes "
            f"{cpu['gateway']:.1f} ms, their stage processes and JVMs {cpu['stages']:.1f} ms "
            f"(JVMs {cpu.get('stage_jvms', float('nan')):.1f} ms, of which their JIT compiling "
            f"{cpu.get('stage_jit', float('nan')):.2f} ms), "
            f"database server {cpu.get('server', 0.0):.1f} ms (SQLite: inside the gateway), "
            f"clients and receiver {cpu['bench']:.1f} ms; all {total:.1f} ms "
            f"(baseline: {1000 / base:.1f} ms wall, {pinned.cpu_ms_per_doc:.1f} ms CPU)"
        )
        if scaling is not None:
            work, clients = pinned.cpu_ms_per_doc, cpu["bench"]
            print(
                f"  bound on these cores: at most "
                f"{gateway_bound(scaling, work, clients, mirrored=False):.2f}× baseline for any "
                f"gateway beside these clients and receiver ({clients:.1f} ms/doc), about "
                f"{gateway_bound(scaling, work, clients, mirrored=True):.2f}× if it pays as much "
                "again for its own side of the two HTTP legs"
            )
        for p in r["paced"]:
            print(
                f"  paced {p['rate']:.0f} docs/s × {p['docs']} docs: latency p50 {p['p50_ms']:.0f} ms, "
                f"p99 {p['p99_ms']:.0f} ms, max {p['max_ms']:.0f} ms; delivered {p['delivered']}"
            )
        for command, rss in r["peak_rss_mib"].items():
            print(f"  peak RSS {command} (with its child processes): {rss:.0f} MiB")
        print(f"  receiver: {r['receiver']['accepted']} accepted / {r['receiver']['posts']} posts")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.e2e", description=__doc__)
    parser.add_argument("--docs", type=int, default=1000)
    parser.add_argument(
        "--paced-rate",
        type=lambda text: [float(x) for x in text.split(",")],
        default=[100.0, 50.0],
        help="comma-separated documents/s for the paced phases",
    )
    parser.add_argument("--paced-seconds", type=float, default=10.0)
    parser.add_argument(
        "--warm-docs",
        type=int,
        default=1500,
        help="documents per Schematron JVM sent (and delivered) before measuring, as many as "
        "the baseline runs before its first measurement: JIT and caches warm",
    )
    parser.add_argument("--store", default="sqlite,postgres")
    parser.add_argument(
        "--pg-fsync-off",
        action="store_true",
        help="PostgreSQL without fsync and synchronous commit, as the test suite runs it "
        "(default: durable, like SQLite's synchronous=FULL)",
    )
    parser.add_argument(
        "--pg-socket",
        action="store_true",
        help="reach PostgreSQL through its Unix socket (default: TCP on 127.0.0.1)",
    )
    parser.add_argument("--workers", type=int, default=2, help="worker loops in `serve`")
    parser.add_argument("--concurrency", type=int, default=16, help="jobs per worker loop")
    parser.add_argument("--worker-procs", type=int, default=0, help="extra `worker` processes")
    parser.add_argument(
        "--stage-processes",
        type=int,
        default=default_stage_processes(),
        help="[pipeline] stage_processes per process (default: the service's default)",
    )
    parser.add_argument(
        "--stage-pin",
        action="store_true",
        help="[pipeline] stage_pin: each stage process and its JVM on one core, in turn",
    )
    parser.add_argument(
        "--no-ceiling",
        action="store_true",
        help="skip the two-core ceiling (the baseline's work on both cores at once, measured "
        "beside each baseline measurement)",
    )
    args = parser.parse_args(argv)
    samples = default_samples()
    bodies = [p.read_bytes() for p in samples]
    home = Path(tempfile.mkdtemp(prefix="lingang-bench-"))
    (home / "partners.toml").write_text(DEMO_DIRECTORY, encoding="utf-8")
    from gateway.signing.testpki import make_test_pki

    make_test_pki(home / "pki")
    print(
        f"samples: {[p.name for p in samples]}; cpus: {os.cpu_count()}; {platform.python_version()}"
        f"; stage_processes: {args.stage_processes}{' pinned' if args.stage_pin else ''}"
    )

    ceilings: list[Ceiling] = []

    def pinned_sample(warm_docs: int) -> Baseline:
        alone = baseline(bodies, home / "partners.toml", home / "pki", warm_docs, cpus=1)
        if not args.no_ceiling:  # right after, so both see the same machine
            ceilings.append(
                two_core_ceiling(
                    bodies, home / "partners.toml", home / "pki", warm_docs=args.warm_docs
                )
            )
        return alone

    measured = [pinned_sample(args.warm_docs)]
    free = baseline(bodies, home / "partners.toml", home / "pki", args.warm_docs, cpus=None)
    commits = sqlite_commit_ms(home)
    results = []
    for name in args.store.split(","):
        if name == "sqlite":
            url = f"sqlite:///{home / 'bench.db'}"
            results.append(asyncio.run(run_store(name, url, args, home, bodies)))
        elif name == "postgres":
            local, url = start_postgres(durable=not args.pg_fsync_off, socket=args.pg_socket)
            try:
                server = postmaster_pid(local.data)
                results.append(asyncio.run(run_store(name, url, args, home, bodies, server)))
            finally:
                local.stop()
        measured.append(pinned_sample(AGAIN_WARM_DOCS))
    while len(measured) < BASELINE_SAMPLES:
        measured.append(pinned_sample(AGAIN_WARM_DOCS))
    pinned = median_baseline(measured)
    report(results, pinned, free, commits, measured, ceilings)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"e2e-{datetime.now(UTC).strftime('%Y%m%dT%H%M%S')}.json"
    out.write_text(
        json.dumps(
            {
                "baseline_docs_per_s": pinned.docs_per_s,
                "baseline_samples_docs_per_s": [b.docs_per_s for b in measured],
                "baseline_cpu_ms_per_doc": pinned.cpu_ms_per_doc,
                "baseline_unpinned_docs_per_s": free.docs_per_s,
                "baseline_unpinned_cpu_ms_per_doc": free.cpu_ms_per_doc,
                "ceiling": [asdict(c) | {"scaling": c.scaling} for c in ceilings],
                "args": vars(args),
                "results": results,
            },
            indent=2,
        )
    )
    print(f"\nsaved {out.relative_to(RESULTS.parent.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
