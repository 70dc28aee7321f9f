"""Where flows run: on one thread of this process, or in stage processes.

:class:`ThreadFlowRunner` (the default) runs a flow on one dedicated thread: CPU work stays off
the event loop and libraries that are not thread-safe see one thread.
:class:`ProcessFlowRunner` (``[pipeline] stage_processes = N``) runs flows in ``N`` child
processes, each loading its own tools once from a :class:`~gateway.flows.ToolsSpec`, so the
CPU-heavy stages use other cores than the process serving the API and the store. A document
is one request in a pipe message each way, an idle child taking up to four queued at once
(:mod:`gateway.jobs.stage_pool`); the outcome crosses back as
plain data (:meth:`~gateway.flows.FlowOutcome.to_wire`); both runners return the same
:class:`~gateway.flows.FlowOutcome`.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from multiprocessing.connection import Connection
from typing import Any, Protocol

from gateway.errors import ConfigError
from gateway.flows import FLOWS, Flow, FlowOutcome, Source, Tools, ToolsSpec, flow_named, load_tools
from gateway.jobs.stage_pool import Handler, StagePool, child_main, dumps, loads

WARM_DOCUMENT_TYPES = ("Invoice", "CreditNote")


class FlowRunner(Protocol):
    """Runs one flow for one document."""

    async def run(self, flow: str, source: Source, directory: Any = None) -> FlowOutcome: ...

    def warm(self, profiles: Sequence[str]) -> None: ...

    def close(self) -> None: ...


class ThreadFlowRunner:
    """Flows on one dedicated thread of this process (``flows``: the table by name; tests
    and embedders may run their own)."""

    def __init__(self, tools: Tools, flows: Mapping[str, Flow[Any]] = FLOWS) -> None:
        self.tools = tools
        self.flows = dict(flows)
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lingang-flows")

    async def run(self, flow: str, source: Source, directory: Any = None) -> FlowOutcome:
        chosen = self.flows.get(flow)
        if chosen is None:
            raise ConfigError(f"no flow {flow!r} in this process", field="flow")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._thread, chosen.run, source, self.tools, directory)

    def warm(self, profiles: Sequence[str]) -> None:
        """Compile validation artefacts on the flows thread, without waiting for it."""
        validator = self.tools.validator
        if validator is not None and profiles:
            self._thread.submit(validator.warm, list(profiles), WARM_DOCUMENT_TYPES, exercise=True)

    def close(self) -> None:
        self._thread.shutdown(wait=False, cancel_futures=True)


_CHILD_TOOLS: Tools | None = None


def _die_with_parent(parent: int) -> None:
    """Linux: have the kernel SIGKILL this child when its parent dies (even by SIGKILL), so
    a crashed gateway leaves no stage processes behind; exit at once if it already has."""
    import ctypes
    import signal
    import sys

    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL("libc.so.6", use_errno=True)
            libc.prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:
        os._exit(0)


def _child_init(spec: ToolsSpec, parent: int) -> None:
    """Load the tools once in each child process and warm the rules it will run."""
    global _CHILD_TOOLS
    _die_with_parent(parent)
    tools = load_tools(spec)
    if tools.validator is not None and spec.warm_profiles:
        tools.validator.warm(list(spec.warm_profiles), WARM_DOCUMENT_TYPES, exercise=True)
    _CHILD_TOOLS = tools


def _child_run(flow: str, source: Source, directory: Any) -> dict[str, Any]:
    assert _CHILD_TOOLS is not None, "stage process not initialised"
    return flow_named(flow).run(source, _CHILD_TOOLS, directory).to_wire()


def _child_answer(request: bytes) -> bytes:
    """One request in a stage process: ``(flow, source, directory)`` in, ``("ok", outcome
    as plain data)`` or ``("raised", exception)`` out (the flow turns every document and
    operational error into its outcome; what is raised here is a bug, re-raised in the
    parent)."""
    try:
        return dumps(("ok", _child_run(*loads(request))))
    except Exception as exc:  # a bug: the parent re-raises it, the child lives on
        try:
            return dumps(("raised", exc))
        except Exception:  # an exception that cannot be pickled: its text
            return dumps(("raised", RuntimeError(f"{type(exc).__name__}: {exc}")))


def _child_setup(spec: ToolsSpec, parent: int) -> Handler:
    _child_init(spec, parent)
    return _child_answer


def _stage_main(conn: Connection, spec: ToolsSpec, parent: int) -> None:
    """A stage process: its tools, then requests until the pool stops it."""
    child_main(conn, partial(_child_setup, spec, parent))


class ProcessFlowRunner:
    """Flows in ``processes`` child processes (see the module docstring): queued documents
    go to an idle child a few per pipe message (:class:`~gateway.jobs.stage_pool.StagePool`).
    With ``pin``, each child and its JVM run on one of this process's cores, in turn."""

    def __init__(self, processes: int, spec: ToolsSpec, *, pin: bool = False) -> None:
        cpus = sorted(os.sched_getaffinity(0)) if pin else ()
        self._pool = StagePool(processes, _stage_main, (spec, os.getpid()), cpus=cpus)

    async def run(self, flow: str, source: Source, directory: Any = None) -> FlowOutcome:
        flow_named(flow)
        status, answer = loads(await self._pool.call(dumps((flow, source, directory))))
        if status != "ok":
            raise answer
        return FlowOutcome.from_wire(answer)

    def warm(self, profiles: Sequence[str]) -> None:
        """Children warm themselves when they start."""

    def close(self) -> None:
        self._pool.close()
