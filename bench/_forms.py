"""``bench.validate --forms``: each compiled form of the rules in a process of its own.

A gateway runs one form, so each form here runs as one would: in its own process (on
SaxonC its own heap; on the JVM engine its own JVM as well), never in the caches, heap or
JIT profile the other form just used. The parent only tells each process which documents
to validate next and reads back the CPU time that took: the process's own (all its threads)
and, on the JVM engine, all its JVM's (every thread, the JIT compiler threads counted
apart)."""

from __future__ import annotations

import contextlib
import multiprocessing
import time
from dataclasses import dataclass, replace
from multiprocessing.connection import Connection

from bench._procs import task_cpu_ns
from gateway.validation import EngineOptions

PROFILES = ("bis3", "pint-sg")


@dataclass(frozen=True, slots=True)
class Spent:
    """What validating some documents cost one form's process."""

    cpu_ns: int
    """All of it: the process and, on the JVM engine, its JVM (JIT included)."""
    jit_ns: int
    """Of which the JVM's JIT compiler threads (0 on SaxonC)."""
    fatal: int
    """Documents with a fatal finding."""

    def __add__(self, other: Spent) -> Spent:
        return Spent(
            self.cpu_ns + other.cpu_ns, self.jit_ns + other.jit_ns, self.fatal + other.fatal
        )


class FormProcess:
    """One form's validator, warmed, in a child process of its own."""

    def __init__(
        self,
        form: str,
        options: EngineOptions,
        docs: dict[str, list[bytes]],
        warm_docs: int,
    ) -> None:
        self.form = form
        context = multiprocessing.get_context("spawn")
        self._conn, child_end = context.Pipe()
        self.process = context.Process(
            target=_serve, args=(child_end, form, options, docs, warm_docs), daemon=True
        )
        self.process.start()
        child_end.close()

    def wait_ready(self) -> None:
        """Wait until the process has warmed its validator (both forms warm at once); raise
        what stopped it otherwise (an engine that cannot run here, say)."""
        try:
            status = self._conn.recv()
        except EOFError:
            status = f"it ended (exit code {self.process.exitcode})"
        if status != "ready":
            raise RuntimeError(f"the {self.form} form's process could not start: {status}")

    def validate(self, profile: str, start: int, stop: int) -> Spent:
        """Validate documents ``start:stop`` of ``profile``; what that cost."""
        self._conn.send((profile, start, stop))
        spent: Spent = self._conn.recv()
        return spent

    def close(self) -> None:
        """Stop the process (and with it its JVM)."""
        with contextlib.suppress(OSError):  # it has ended already
            self._conn.send(None)
        self.process.join(timeout=30)
        if self.process.is_alive():
            self.process.kill()


def _serve(
    conn: Connection,
    form: str,
    options: EngineOptions,
    docs: dict[str, list[bytes]],
    warm_docs: int,
) -> None:
    """The child: warm the form's validator (the profiles taking turns document by
    document, as mixed traffic does), then validate what the parent asks for."""
    from gateway.settings import data_home
    from gateway.validation import Validator
    from gateway.validation import schematron as sch

    home = data_home()
    try:
        engine = sch.engine(replace(options, explicit=True, work_dir=home, rules=form))
        validator = Validator(home, engine, form)
        validator.warm(PROFILES, ["Invoice"], exercise=True)
        for number in range(warm_docs):
            for profile in PROFILES:
                validator.validate(docs[profile][number % len(docs[profile])], profile)
    except Exception as exc:  # reported by the parent, which stops the run
        conn.send(f"{type(exc).__name__}: {exc}")
        return
    jvm = engine.host().pid if isinstance(engine, sch.JvmEngine) else None
    last = task_cpu_ns(jvm)
    conn.send("ready")
    while (asked := conn.recv()) is not None:
        profile, start, stop = asked
        before = time.process_time_ns()
        reports = [validator.validate(x, profile) for x in docs[profile][start:stop]]
        own = time.process_time_ns() - before
        # the JVM's CPU since the last answer: its JIT compiles while the other form runs too
        now = task_cpu_ns(jvm)
        fatal = sum(1 for report in reports if report.fatal)
        conn.send(Spent(own + now[0] - last[0], now[1] - last[1], fatal))
        last = now
