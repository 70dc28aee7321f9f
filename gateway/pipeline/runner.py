"""Where the stage table runs: on one thread of the gateway process, or in worker processes.

:class:`ThreadStageRunner` (the default) runs the stages on one dedicated thread: CPU work
stays off the event loop and libraries that are not thread-safe see one thread.
:class:`ProcessStageRunner` (``[pipeline] stage_processes = N``) runs them in ``N`` child
processes, each with its own validator, signer and directory loaded once, so the CPU-heavy
stages use other cores than the process serving the API and the store. Both fill the same
:class:`~gateway.pipeline.stages.StageContext` and return the same outcome.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol

from gateway.errors import LingangError, from_wire
from gateway.pipeline.stages import Stage, StageContext, StageOutcome, StageOutput, Toolbox
from gateway.store import Submission


def run_stage_table(stages: Sequence[Stage], context: StageContext) -> StageOutcome:
    """Run every stage in order, timing each one; stop at the first ``LingangError``."""
    timings: list[dict[str, Any]] = []
    for stage in stages:
        started = time.perf_counter()
        try:
            summary = stage.run(context)
        except LingangError as exc:
            elapsed = round((time.perf_counter() - started) * 1000, 3)
            timings.append({"stage": stage.name, "ok": False, "ms": elapsed, **exc.as_dict()})
            return StageOutcome(timings=timings, error=exc, failed_stage=stage.name)
        elapsed = round((time.perf_counter() - started) * 1000, 3)
        timings.append({"stage": stage.name, "ok": True, "ms": elapsed, **summary})
    return StageOutcome(timings=timings)


class StageRunner(Protocol):
    """Runs the stage table for one document."""

    async def run(self, context: StageContext) -> StageOutcome: ...

    def warm(self, profiles: Sequence[str]) -> None: ...

    def close(self) -> None: ...


class ThreadStageRunner:
    """The stage table on one dedicated thread of this process."""

    def __init__(self, stages: Sequence[Stage], toolbox: Toolbox) -> None:
        self.stages = tuple(stages)
        self.toolbox = toolbox
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lingang-stages")

    async def run(self, context: StageContext) -> StageOutcome:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._thread, run_stage_table, self.stages, context)

    def warm(self, profiles: Sequence[str]) -> None:
        """Compile validation artefacts on the stages thread, without waiting for it."""
        validator = self.toolbox.validator
        if validator is not None and profiles:
            self._thread.submit(
                validator.warm, list(profiles), ("Invoice", "CreditNote"), exercise=True
            )

    def close(self) -> None:
        self._thread.shutdown(wait=False, cancel_futures=True)


# --------------------------------------------------------------------------- processes


@dataclass(slots=True)
class _RemoteResult:
    """What a child process sends back: everything the stages left on the context."""

    timings: list[dict[str, Any]]
    failed_stage: str | None
    error: dict[str, Any] | None
    """The stopping error's :meth:`~gateway.errors.LingangError.to_wire` form."""
    outputs: list[StageOutput] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)
    profile: str = ""
    source_format: str = ""
    headers: dict[str, str] = field(default_factory=dict)


_CHILD: tuple[list[Stage], Toolbox] | None = None


def _die_with_parent(parent: int) -> None:
    """Linux: have the kernel SIGKILL this child when its parent dies (even by SIGKILL), so
    a crashed gateway leaves no stage processes behind; exit at once if it already has."""
    import ctypes
    import os
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


def _child_init(settings: Any, parent: int) -> None:
    """Load the validator, signer and directory once in each child process."""
    global _CHILD
    _die_with_parent(parent)
    from gateway.pipeline.standard import standard_stages
    from gateway.service import load_partners, load_signer, load_validator

    toolbox = Toolbox(
        default_profile=settings.pipeline.default_profile,
        validator=load_validator(settings),
        signer=load_signer(settings),
        partners=load_partners(settings),
        options={"max_body_bytes": settings.limits.max_body_bytes},
    )
    if toolbox.validator is not None:
        toolbox.validator.warm(
            ["pint-sg", "pint", "bis3"], ("Invoice", "CreditNote"), exercise=True
        )
    _CHILD = (standard_stages(toolbox), toolbox)


def _child_run(submission: Submission, directory: Any) -> _RemoteResult:
    assert _CHILD is not None, "stage process not initialised"
    stages, toolbox = _CHILD
    context = StageContext(
        submission=submission,
        toolbox=toolbox,
        directory=directory if directory is not None else toolbox.partners,
    )
    outcome = run_stage_table(stages, context)
    error = outcome.error
    return _RemoteResult(
        timings=outcome.timings,
        failed_stage=outcome.failed_stage,
        error=error.to_wire() if error is not None else None,
        outputs=context.outputs,
        facts=context.facts,
        profile=context.profile,
        source_format=context.source_format,
        headers=context.headers,
    )


class ProcessStageRunner:
    """The stage table in ``processes`` child processes (see the module docstring)."""

    def __init__(self, processes: int, settings: Any, fallback_directory: Any = None) -> None:
        import multiprocessing

        self._pool = ProcessPoolExecutor(
            max_workers=processes,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_child_init,
            initargs=(settings, os.getpid()),
        )
        self.fallback_directory = fallback_directory

    async def run(self, context: StageContext) -> StageOutcome:
        loop = asyncio.get_running_loop()
        directory = context.directory if context.directory is not context.toolbox.partners else None
        result = await loop.run_in_executor(self._pool, _child_run, context.submission, directory)
        context.outputs.extend(result.outputs)
        context.facts.update(result.facts)
        context.profile = result.profile
        context.source_format = result.source_format
        context.headers.update(result.headers)
        error = from_wire(result.error) if result.error is not None else None
        return StageOutcome(result.timings, error=error, failed_stage=result.failed_stage)

    def warm(self, profiles: Sequence[str]) -> None:
        """Children warm themselves when they start."""

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
