"""Where flows run: on one thread of this process, or in stage processes.

:class:`ThreadFlowRunner` (the default) runs a flow on one dedicated thread: CPU work stays off
the event loop and libraries that are not thread-safe see one thread.
:class:`ProcessFlowRunner` (``[pipeline] stage_processes = N``) runs flows in ``N`` child
processes, each loading its own tools once from a :class:`~gateway.flows.ToolsSpec`, so the
CPU-heavy stages use other cores than the process serving the API and the store. A document
is one request in a pipe message each way, an idle child taking up to four queued at once
(:mod:`gateway.jobs.stage_pool`), a large partner directory sent to each child once; the
outcome crosses back as plain data (:meth:`~gateway.flows.FlowOutcome.to_wire`); both
runners return the same :class:`~gateway.flows.FlowOutcome`.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from multiprocessing.connection import Connection
from typing import Any, Protocol

from gateway.errors import ConfigError
from gateway.flows import FLOWS, Flow, FlowOutcome, Source, Tools, ToolsSpec, flow_named, load_tools
from gateway.jobs.stage_pool import Handler, StagePool, child_main, dumps, loads

WARM_DOCUMENT_TYPES = ("Invoice", "CreditNote")

INLINE_DIRECTORY_BYTES = 8 * 1024
"""A tenant's partner directory up to this size (pickled) travels with every request; a
larger one only to a stage process that does not hold it yet (see
:class:`ProcessFlowRunner`)."""

KEPT_DIRECTORIES = 16
"""Partner directories a stage process keeps, the most recently used (and as many pickled
ones the serving process keeps ready to send)."""


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


_CHILD_DIRECTORIES: OrderedDict[str, Any] = OrderedDict()
"""The partner directories this stage process holds, by the digest of their pickled form."""


def _child_run(flow: str, source: Source, directory: Any) -> dict[str, Any]:
    assert _CHILD_TOOLS is not None, "stage process not initialised"
    return flow_named(flow).run(source, _CHILD_TOOLS, directory).to_wire()


def _child_directory(key: str | None, pickled: bytes | None) -> tuple[bool, Any]:
    """(held, directory): the directory ``key`` names (``None``: none), from this process's
    own or from ``pickled``; not held when it is neither."""
    if key is None:
        return True, None
    held = _CHILD_DIRECTORIES.get(key)
    if held is not None:
        _CHILD_DIRECTORIES.move_to_end(key)
        return True, held
    if pickled is None:
        return False, None
    directory = _CHILD_DIRECTORIES[key] = loads(pickled)
    while len(_CHILD_DIRECTORIES) > KEPT_DIRECTORIES:
        _CHILD_DIRECTORIES.popitem(last=False)
    return True, directory


def _child_answer(request: bytes) -> bytes:
    """One request in a stage process: ``(flow, source, directory key, pickled directory or
    None)`` in; ``("ok", outcome as plain data)``, ``("need", key)`` when it does not hold
    that directory and was not sent it, or ``("raised", exception)`` out (the flow turns
    every document and operational error into its outcome; what is raised here is a bug,
    re-raised in the parent)."""
    try:
        flow, source, key, pickled = loads(request)
        held, directory = _child_directory(key, pickled)
        if not held:
            return dumps(("need", key))
        return dumps(("ok", _child_run(flow, source, directory)))
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
    With ``pin``, each child and its JVM run on one of this process's cores, in turn.

    A tenant's partner directory is pickled once (per directory object: the job loop keeps
    one per tenant for a few seconds) and named by the digest of that form. A small one
    travels with every request; a larger one (above :data:`INLINE_DIRECTORY_BYTES`; a
    forwarder's thousand partners pickle to about 120 KiB, some 9 ms of CPU per document to
    pickle and load) only by its name, and is sent to a child that answers it does not
    hold it yet, which then keeps it."""

    def __init__(self, processes: int, spec: ToolsSpec, *, pin: bool = False) -> None:
        cpus = sorted(os.sched_getaffinity(0)) if pin else ()
        self._pool = StagePool(processes, _stage_main, (spec, os.getpid()), cpus=cpus)
        self._pickled: OrderedDict[int, tuple[Any, str, bytes]] = OrderedDict()

    async def run(self, flow: str, source: Source, directory: Any = None) -> FlowOutcome:
        flow_named(flow)
        key, pickled = self._pickled_directory(directory)
        inline = pickled if pickled is not None and len(pickled) <= INLINE_DIRECTORY_BYTES else None
        status, answer = loads(await self._pool.call(dumps((flow, source, key, inline))))
        if status == "need":
            status, answer = loads(await self._pool.call(dumps((flow, source, key, pickled))))
        if status != "ok":
            raise answer
        return FlowOutcome.from_wire(answer)

    def _pickled_directory(self, directory: Any) -> tuple[str | None, bytes | None]:
        """``directory``'s name and pickled form (``None``, ``None`` for no directory)."""
        if directory is None:
            return None, None
        known = self._pickled.get(id(directory))
        if known is not None and known[0] is directory:
            self._pickled.move_to_end(id(directory))
            return known[1], known[2]
        pickled = dumps(directory)
        key = hashlib.sha256(pickled).hexdigest()
        self._pickled[id(directory)] = (directory, key, pickled)
        while len(self._pickled) > KEPT_DIRECTORIES:
            self._pickled.popitem(last=False)
        return key, pickled

    def warm(self, profiles: Sequence[str]) -> None:
        """Children warm themselves when they start."""

    @property
    def stage_processes(self) -> tuple[int, int, int]:
        """``(configured, running, died)``: the stage processes' size, those running now,
        those that died since the start (the engines' health, for the metrics)."""
        return self._pool.size, self._pool.alive, self._pool.deaths

    def close(self) -> None:
        self._pool.close()
