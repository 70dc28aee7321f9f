"""The in-process baseline ``bench.e2e`` sets the gateway against: the same documents through
parse + map + render + validate + sign in one process (no HTTP, store, queue or TLS), pinned
to one core with the Schematron JVM it starts."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from bench._procs import tree_cpu_seconds
from gateway.settings import Settings, data_home
from gateway.validation.options import EngineOptions

if TYPE_CHECKING:
    from gateway.flows import ToolsSpec


def baseline_engine() -> EngineOptions:
    """The Schematron engine the gateway processes get (the same environment decides)."""
    return Settings.load().validation


@dataclass
class Baseline:
    """The in-process baseline's rate and what it cost."""

    docs_per_s: float
    cpu_ms_per_doc: float
    """CPU of this process and its children (the Schematron JVM) per document."""
    cpus: int
    """How many cores it was allowed (the JVM it starts inherits the same)."""

    @property
    def cores_busy(self) -> float:
        return self.cpu_ms_per_doc * self.docs_per_s / 1000


BASELINE_SAMPLES = 3
"""The pinned baseline is measured this many times at least: before the stores and after each
store's run (then again until there are this many), and the median is the yardstick. On a
shared machine one five-second measurement swung by a third between runs (152-207 docs/s);
measurements spread over the run see the same machine the stores saw."""
AGAIN_WARM_DOCS = 300
"""Documents run untimed before a later baseline measurement: its JVM and compiled rules are
the first measurement's (one host per options in this process), already warm; these only
bring the Python side's caches back after the gateway's run."""


def median_baseline(samples: list[Baseline]) -> Baseline:
    """The measurement with the median rate (an odd count: a real measurement, its CPU with
    it; an even count: the lower of the two middle ones)."""
    ordered = sorted(samples, key=lambda b: b.docs_per_s)
    return ordered[(len(ordered) - 1) // 2]


def baseline(
    bodies: list[bytes],
    partners: Path,
    keys: Path,
    warm_docs: int,
    seconds: float = 5.0,
    cpus: int | None = 1,
) -> Baseline:
    """Documents/s for parse + map + render + validate + sign in-process (no service),
    after ``warm_docs`` documents untimed (as the service gets its warm-up).

    ``cpus``: the cores this process — and the Schematron JVM it starts, which inherits its
    affinity — may run on (``None``: all). Unpinned, the JVM's compiler and collector threads
    run on the other core while the Python thread waits, so the "one process" baseline would
    use more than one core."""
    allowed = os.sched_getaffinity(0)
    if cpus is not None:
        os.sched_setaffinity(0, set(sorted(allowed)[:cpus]))
    try:
        return _baseline(bodies, partners, keys, warm_docs, seconds)
    finally:
        os.sched_setaffinity(0, allowed)


def baseline_spec(partners: Path, keys: Path) -> ToolsSpec:
    """The baseline's tools: the installed artefacts, the signing key with its chain, the
    partner directory file."""
    from gateway.flows import ToolsSpec

    return ToolsSpec(
        artefacts_dir=data_home(),
        engine=baseline_engine(),
        signing_key=keys / "signer-ec.key.pem",
        signing_cert=keys / "signer-ec.pem",
        signing_chain=(keys / "chain.pem",),
        partners_file=partners,
    )


def _baseline(
    bodies: list[bytes], partners: Path, keys: Path, warm_docs: int, seconds: float
) -> Baseline:
    one = baseline_work(baseline_spec(partners, keys))
    warm_baseline(one, bodies, warm_docs)
    return measure_baseline(one, bodies, seconds)


def baseline_work(spec: ToolsSpec) -> Callable[[bytes], None]:
    """The baseline's work on one document, with the tools of ``spec`` loaded: the outbound
    invoice flow in this process."""
    from gateway.flows import INVOICE_OUT, Source, load_tools

    tools = load_tools(spec, compile_rules=False)

    def one(body: bytes) -> None:
        outcome = INVOICE_OUT.run(Source(body, "application/xml"), tools)
        assert outcome.ok, outcome.error

    return one


def warm_baseline(one: Callable[[bytes], None], bodies: list[bytes], warm_docs: int) -> None:
    """Run ``one`` untimed over ``bodies`` in turn, ``warm_docs`` documents and each body at
    least once: every profile compiled, and the JIT warm."""
    for n in range(max(warm_docs, len(bodies))):
        one(bodies[n % len(bodies)])


def measure_baseline(one: Callable[[bytes], None], bodies: list[bytes], seconds: float) -> Baseline:
    """Run ``one`` over ``bodies`` in turn for ``seconds``: the rate and the CPU it took
    (this process and its JVM)."""
    done, started, cpu = 0, time.perf_counter(), tree_cpu_seconds()
    while time.perf_counter() - started < seconds:
        one(bodies[done % len(bodies)])
        done += 1
    elapsed, cpu = time.perf_counter() - started, tree_cpu_seconds() - cpu
    return Baseline(done / elapsed, 1000 * cpu / done, len(os.sched_getaffinity(0)))
