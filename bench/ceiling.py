"""What two cores of this machine give the baseline's work: the ceiling ``bench.e2e`` reports.

``bench.e2e`` sets the gateway on two cores against the in-process baseline on one. Two
cores are not twice one: the two share the last-level cache, the memory bus and the host
under the virtual machine. :func:`two_core_ceiling` measures it with the baseline's own
work: one process per core, each pinned with the Schematron JVM it starts and warmed; the
first measured alone, then both together, then the second alone, for the same seconds each.
The pair's summed rate over the mean of the two alone is the most two cores give that work
here (``scaling``); the same processes, warmed alike, measured back to back, so a host whose
speed drifts moves both sides alike.

:func:`gateway_bound` turns it into the most any gateway could reach in that benchmark: a
gateway does the baseline's work plus what a service adds, and the benchmark's own clients
and receiver run on the same two cores. Counting only those clients' CPU gives a hard upper
bound; counting the gateway's mirror of their work as well (it receives the POST the
clients send and sends the POST the receiver takes, over the same TLS, with a JWS) gives
an estimate.
"""

from __future__ import annotations

import multiprocessing
import os
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path

from bench.baseline import baseline_spec, baseline_work, measure_baseline, warm_baseline

READY_TIMEOUT = 300.0
"""Seconds a child may take to load its tools and warm up."""


@dataclass(frozen=True)
class Ceiling:
    """Two pinned baselines at once against each alone, measured in the same two processes
    one after the other: the first alone, both together, the second alone."""

    alone_docs_per_s: float
    """The mean of the two alone."""
    pair_docs_per_s: float
    pair_cpu_ms_per_doc: float
    """CPU per document in the pair (each child with its JVM), the two children's mean."""

    @property
    def scaling(self) -> float:
        """The pair's rate over one core's."""
        return self.pair_docs_per_s / self.alone_docs_per_s


def gateway_bound(scaling: float, work_ms: float, clients_ms: float, mirrored: bool) -> float:
    """The most a gateway could reach, as a multiple of the one-core baseline, on cores that
    give ``scaling``× one core: per document it pays the baseline's ``work_ms`` plus the
    benchmark clients' ``clients_ms`` (and, ``mirrored``, the same again for its own side of
    those two HTTP legs)."""
    extra = clients_ms * (2 if mirrored else 1)
    return scaling * work_ms / (work_ms + extra)


def _child(
    conn: Connection,
    cpu: int,
    bodies: list[bytes],
    partners: Path,
    keys: Path,
    warm_docs: int,
) -> None:
    """One core's baseline: pinned (its JVM inherits it), warmed, then measured for as many
    seconds as each message from the parent says (0: stop)."""
    os.sched_setaffinity(0, {cpu})
    one = baseline_work(baseline_spec(partners, keys))
    warm_baseline(one, bodies, warm_docs)
    conn.send("ready")
    while seconds := conn.recv():
        measured = measure_baseline(one, bodies, seconds)
        conn.send((measured.docs_per_s, measured.cpu_ms_per_doc))


def two_core_ceiling(
    bodies: list[bytes],
    partners: Path,
    keys: Path,
    *,
    warm_docs: int,
    seconds: float = 4.0,
) -> Ceiling:
    """Run the baseline's work in one process on each of this process's first two cores:
    the first alone, both at once, the second alone (see the module docstring)."""
    cpus = sorted(os.sched_getaffinity(0))[:2]
    context = multiprocessing.get_context("spawn")
    pipes = [context.Pipe() for _ in cpus]
    children = [
        context.Process(
            target=_child, args=(child, cpu, bodies, partners, keys, warm_docs), daemon=True
        )
        for cpu, (_, child) in zip(cpus, pipes, strict=True)
    ]
    for child in children:
        child.start()
    for _, child_end in pipes:
        child_end.close()  # so a child that dies is seen at once (end of file)
    ends = [parent for parent, _ in pipes]

    def measure(which: list[Connection]) -> list[tuple[float, float]]:
        for end in which:
            end.send(seconds)
        return [end.recv() for end in which]

    try:
        for end in ends:
            if not end.poll(READY_TIMEOUT):
                raise TimeoutError("a ceiling process did not warm up in time")
            end.recv()
        first = measure(ends[:1])
        pair = measure(ends)
        second = measure(ends[-1:])
        for end in ends:
            end.send(0)
    finally:
        for child in children:
            child.join(timeout=30)
            if child.is_alive():
                child.kill()
    return Ceiling(
        alone_docs_per_s=(first[0][0] + second[0][0]) / 2,
        pair_docs_per_s=sum(rate for rate, _ in pair),
        pair_cpu_ms_per_doc=sum(cpu for _, cpu in pair) / len(pair),
    )
