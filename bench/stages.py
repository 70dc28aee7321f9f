"""The stage processes' CPU per document against the in-process baseline's code path, alternated.

    .venv/bin/python -m bench.stages [--docs 400] [--rounds 3] [--warm-docs 1200]
                                     [--processes 2] [--variants stage,base,pinned]
                                     [--pace DOCS_PER_S] [--hog SHARE] [--idle-seconds 5]

Drives stage processes directly (no HTTP, store or delivery) with ``bench.e2e``'s documents
and counts, per document, the CPU (``/proc``) of the child Python processes, of their
Schematron JVMs, of those JVMs' JIT compiler threads (part of the JVMs'), and of this
process (the event loop writing and reading the pipes). Variants:

* ``stage``: :class:`~gateway.jobs.ProcessFlowRunner` with the tools ``serve`` loads (the
  service's :func:`~gateway.service.tools_spec` from a configuration like ``bench.e2e``'s),
  the outcome returned as ``serve`` gets it; suffixes change one thing: ``stage-pin`` each
  child (and the JVM it starts) on one core in turn, ``stage-t1`` one JVM worker thread,
  ``stage-apc1`` the JVM told it has one processor (``-XX:ActiveProcessorCount=1``);
* ``base``: as many child processes, each running ``bench.e2e``'s baseline code path
  (``INVOICE_OUT.run`` with the baseline's tools; nothing sent back but ``ok``);
* ``pinned``: one such child pinned to one core, one call at a time (``bench.e2e``'s
  baseline as it measures it, its JVM inheriting the core).

Every variant is started and warmed (``--warm-docs`` per child) before anything is measured,
then the variants run in turn, ``--docs`` documents each, for ``--rounds`` rounds; the median
and spread over rounds are printed, with the children's CPU per second while idle and their
start-up CPU (until the first documents were answered). ``--pace`` spaces the calls (the
children then wait between documents, as under ``serve`` below saturation); ``--hog`` keeps a
share of a core busy in another process throughout (as ``serve`` is, beside its children).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import partial
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from bench._procs import JIT_THREADS, _children, cpu_seconds, thread_cpu_seconds
from bench.baseline import baseline_spec, baseline_work
from gateway.cli.demo import DEMO_DIRECTORY, default_samples
from gateway.flows import ToolsSpec
from gateway.jobs.stage_pool import Handler, StagePool, child_main
from gateway.settings import data_home
from gateway.validation.jvm import JVM_OPTIONS


def service_spec(home: Path, processes: int) -> ToolsSpec:
    """What ``serve`` hands its stage processes under ``bench.e2e``'s configuration."""
    from gateway.service import tools_spec
    from gateway.settings import Settings

    keys = home / "pki"
    config = home / "lingang.toml"
    config.write_text(
        "\n".join(
            [
                f"data_dir = {str(home / 'serve')!r}",
                "[signing]",
                f"key = {str(keys / 'signer-ec.key.pem')!r}",
                f"cert = {str(keys / 'signer-ec.pem')!r}",
                "[pipeline]",
                f"partners = {str(home / 'partners.toml')!r}",
                f"artefacts = {str(data_home())!r}",
                f"stage_processes = {processes}",
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    return tools_spec(Settings.load(config))


def _base_setup(spec: ToolsSpec, cpus: int | None = None) -> Handler:
    from gateway.jobs.stage_pool import loads

    if cpus is not None:  # as bench.e2e pins its baseline (the JVM inherits it)
        os.sched_setaffinity(0, set(sorted(os.sched_getaffinity(0))[:cpus]))
    one = baseline_work(spec)

    def handle(request: bytes) -> bytes:
        one(loads(request)[1].data)
        return b"ok"

    return handle


def _base_main(conn: Connection, spec: ToolsSpec, cpus: int | None = None) -> None:
    child_main(conn, partial(_base_setup, spec, cpus))


@dataclass
class Variant:
    """One way of running the documents and what it cost, per round."""

    name: str
    call: Callable[[Any], Any]
    pids: Callable[[], list[int]]
    width: int | None = None
    """Calls in flight (default: one per process)."""
    rounds: list[dict[str, float]] = field(default_factory=list)
    start: float = 0.0
    """CPU seconds of the children until their first documents were answered (start-up)."""
    idle: dict[str, float] = field(default_factory=dict)
    """CPU ms per second of the children while no call is made."""


def hog(share: float) -> None:
    """Keep about ``share`` of one core busy in slices of 2 ms (as the serving process beside
    the stage processes is), touching a few MB so that caches see other work too."""
    import json

    payload = [{"k": i, "v": "x" * 64} for i in range(20000)]
    pause = 0.002 * (1 - share) / share
    while True:
        end = time.perf_counter() + 0.002
        while time.perf_counter() < end:
            json.dumps(payload[: 2000 + int(end * 1e6) % 18000])
        time.sleep(pause)


def split(pids: list[int]) -> dict[str, float]:
    """CPU seconds so far of the children (Python), of their descendants (JVMs) and of the
    JVMs' JIT compiler threads (part of ``jvm``)."""
    jvms = [c for p in pids for c in _children(p)]
    return {
        "python": sum(cpu_seconds(p) for p in pids),
        "jvm": sum(cpu_seconds(c) for c in jvms),
        "jit": sum(thread_cpu_seconds(c, *JIT_THREADS) for c in jvms),
    }


def own_cpu() -> float:
    return time.process_time()


async def drive(
    variant: Variant, sources: list[Any], docs: int, width: int, pace: float = 0.0
) -> None:
    """``docs`` calls, ``width`` at a time; with ``pace`` (documents/s), each lane starts its
    next call no earlier than ``width / pace`` seconds after its last one started."""
    queue = list(range(docs))
    interval = width / pace if pace else 0.0

    async def one_lane() -> None:
        while queue:
            index = queue.pop()
            started = time.perf_counter()
            await variant.call(sources[index % len(sources)])
            if interval:
                await asyncio.sleep(max(0.0, started + interval - time.perf_counter()))

    await asyncio.gather(*(one_lane() for _ in range(width)))


async def measure(
    variant: Variant, sources: list[Any], docs: int, width: int, pace: float = 0.0
) -> None:
    before, parent, started = split(variant.pids()), own_cpu(), time.perf_counter()
    await drive(variant, sources, docs, width, pace)
    elapsed = time.perf_counter() - started
    after, parent = split(variant.pids()), own_cpu() - parent
    row = {k: 1000 * (after[k] - before[k]) / docs for k in after}
    row["parent"] = 1000 * parent / docs
    row["children"] = row["python"] + row["jvm"]
    row["docs_per_s"] = docs / elapsed
    variant.rounds.append(row)


async def main_async(args: argparse.Namespace) -> None:
    from gateway.flows import Source
    from gateway.jobs import ProcessFlowRunner
    from gateway.jobs.stage_pool import dumps
    from gateway.signing.testpki import make_test_pki

    home = Path(tempfile.mkdtemp(prefix="lingang-stages-"))
    (home / "partners.toml").write_text(DEMO_DIRECTORY, encoding="utf-8")
    make_test_pki(home / "pki")
    bodies = [p.read_bytes() for p in default_samples()]
    sources = [Source(b, "application/xml") for b in bodies]
    variants: list[Variant] = []
    closers: list[Callable[[], None]] = []
    if args.hog:
        import multiprocessing

        hogging = multiprocessing.get_context("spawn").Process(
            target=hog, args=(args.hog,), daemon=True
        )
        hogging.start()
        closers.append(hogging.kill)
    base = baseline_spec(home / "partners.toml", home / "pki")
    for name in args.variants.split(","):
        if name.startswith("stage"):
            spec = service_spec(home, args.processes)
            if name.endswith("-t1"):
                spec = replace(spec, engine=replace(spec.engine, jvm_threads=1))
            if name.endswith("-apc1"):
                engine = replace(
                    spec.engine, jvm_options=(*JVM_OPTIONS, "-XX:ActiveProcessorCount=1")
                )
                spec = replace(spec, engine=engine)
            runner = ProcessFlowRunner(args.processes, spec, pin=name.endswith("-pin"))

            async def run_stage(source: Any, runner: Any = runner) -> Any:
                outcome = await runner.run("invoice-out", source, None)
                assert outcome.ok, outcome.error
                return outcome

            variants.append(Variant(name, run_stage, lambda r=runner: r._pool.pids))
            closers.append(runner.close)
        elif name == "base":
            pool = StagePool(args.processes, _base_main, (base,))

            async def run_base(source: Any, pool: StagePool = pool) -> Any:
                return await pool.call(dumps(("invoice-out", source, None, None)))

            variants.append(Variant(name, run_base, lambda p=pool: p.pids))
            closers.append(pool.close)
        elif name == "pinned":
            pinned = StagePool(1, _base_main, (base, 1))

            async def run_pinned(source: Any, pool: StagePool = pinned) -> Any:
                return await pool.call(dumps(("invoice-out", source, None, None)))

            variants.append(Variant(name, run_pinned, lambda p=pinned: p.pids, width=1))
            closers.append(pinned.close)
        else:
            raise SystemExit(f"unknown variant {name!r}")
    try:
        for variant in variants:
            width = variant.width or args.processes
            await drive(variant, sources, width, width)
            started = split(variant.pids())
            variant.start = started["python"] + started["jvm"]
            await drive(variant, sources, args.warm_docs * width, width)
        for variant in variants:
            before = split(variant.pids())
            await asyncio.sleep(args.idle_seconds)
            after = split(variant.pids())
            variant.idle = {k: 1000 * (after[k] - before[k]) / args.idle_seconds for k in after}
        for _ in range(args.rounds):
            for variant in variants:
                width = variant.width or args.processes
                await measure(variant, sources, args.docs, width, args.pace)
    finally:
        for close in closers:
            close()
    print(
        f"{args.processes} processes, {args.docs} documents per round, {args.rounds} rounds, "
        f"warm-up {args.warm_docs} documents per process, pace {args.pace or 'flat out'}, "
        f"hog {args.hog}; "
        "ms CPU per document, "
        "median [min-max] over rounds"
    )
    keys = ("python", "jvm", "jit", "children", "parent", "docs_per_s")
    for variant in variants:
        cells = []
        for key in keys:
            values = [r[key] for r in variant.rounds]
            cells.append(
                f"{key} {statistics.median(values):.2f} [{min(values):.2f}-{max(values):.2f}]"
            )
        print(f"  {variant.name:6} " + "; ".join(cells))
        idle = ", ".join(f"{k} {v:.1f}" for k, v in variant.idle.items())
        print(f"         idle: ms CPU per second {idle}; start-up {variant.start:.1f} s CPU")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--warm-docs", type=int, default=1200)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--variants", default="stage,base")
    parser.add_argument(
        "--hog",
        type=float,
        default=0.0,
        help="keep this share of a core busy beside the stage processes (as serve does)",
    )
    parser.add_argument("--idle-seconds", type=float, default=5.0)
    parser.add_argument(
        "--pace", type=float, default=0.0, help="documents/s while measuring (0: flat out)"
    )
    args = parser.parse_args(argv)
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10000))
    os.environ.setdefault("PYTHONFAULTHANDLER", "1")
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
