"""Processes and their CPU, read from ``/proc``: shared by the benchmarks."""

from __future__ import annotations

import os
from pathlib import Path


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used so far (0 when it is gone)."""
    try:
        return cpu_seconds_of(Path(f"/proc/{pid}/stat"))
    except OSError:
        return 0.0


JIT_THREADS = ("C1 CompilerThre", "C2 CompilerThre")
"""HotSpot's JIT compiler threads (their names as Linux shows them in
``/proc/<pid>/task/*/comm``, cut to 15 bytes)."""


def task_cpu_ns(pid: int | None) -> tuple[int, int]:
    """CPU time, in ns, of every thread of process ``pid`` so far, and of its JIT compiler
    threads among them (``/proc/.../schedstat``: exact, where ``/proc/.../stat`` counts 10 ms
    ticks); (0, 0) for no process."""
    if pid is None:
        return 0, 0
    total = jit = 0
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            spent = int((task / "schedstat").read_text().split()[0])
            name = (task / "comm").read_text()
        except (OSError, ValueError, IndexError):
            continue
        total += spent
        jit += spent if name.startswith(JIT_THREADS) else 0
    return total, jit


def thread_cpu_seconds(pid: int, *names: str) -> float:
    """CPU seconds so far of ``pid``'s threads whose name starts with one of ``names``."""
    total = 0.0
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            name = (task / "comm").read_text().strip()
            if name.startswith(names):
                total += cpu_seconds_of(task / "stat")
        except OSError:
            continue
    return total


def cpu_seconds_of(stat: Path) -> float:
    """User + system CPU seconds of the process or thread whose ``stat`` file this is."""
    fields = stat.read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _grandchildren(pid: int) -> list[int]:
    """The children's children (a stage process's JVM) and further down."""
    return [g for child in _direct_children(pid) for g in _children(child)]


def _direct_children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            found += [int(c) for c in task.read_text().split()]
        except OSError:
            continue
    return found


def _children(pid: int) -> list[int]:
    found = _direct_children(pid)
    return found + [grandchild for child in found for grandchild in _children(child)]


def tree_cpu_seconds() -> float:
    """CPU seconds so far of this process and all its descendants."""
    import resource

    own = resource.getrusage(resource.RUSAGE_SELF)
    return own.ru_utime + own.ru_stime + sum(cpu_seconds(c) for c in _children(os.getpid()))
