"""Validate many documents across the cores.

With the JVM engine, threads of this process feed the JVM's worker threads. With SaxonC, a
process pool whose workers compile once: SaxonC cannot be shared across a ``fork``, so
workers are started with ``spawn``; each builds its own :class:`Validator` in the
initializer and keeps it (and its compiled stylesheets) for the pool's life. The pool is
kept between calls and shut down at exit.
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
import threading
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

from gateway.errors import InputError
from gateway.validation.engine import Validator
from gateway.validation.options import EngineOptions
from gateway.validation.report import Finding, ValidationReport

_pools: dict[tuple[int, Path, EngineOptions], ProcessPoolExecutor] = {}
_pools_lock = threading.Lock()
_worker: Validator | None = None


def _init_worker(home: str, options: EngineOptions, warm: tuple[str, ...]) -> None:
    global _worker
    _worker = Validator.default(Path(home), options)
    _worker.warm(warm, ("Invoice", "CreditNote"), exercise=True)


def validate_or_report(validator: Validator, xml: bytes, profile: str | None) -> ValidationReport:
    """Validate one document; unreadable input becomes a report with one fatal finding."""
    try:
        return validator.validate(xml, profile)
    except InputError as exc:
        finding = Finding(exc.rule or "INPUT", "fatal", exc.field or "/", exc.message, "input")
        return ValidationReport(profile or "unknown", "unknown", [finding])


def _validate_in_worker(args: tuple[bytes, str | None]) -> ValidationReport:
    assert _worker is not None, "worker not initialised"
    return validate_or_report(_worker, args[0], args[1])


def _pool(
    workers: int, home: Path, options: EngineOptions, warm: tuple[str, ...]
) -> ProcessPoolExecutor:
    with _pools_lock:
        pool = _pools.get((workers, home, options))
        if pool is None:
            pool = ProcessPoolExecutor(
                max_workers=workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_init_worker,
                initargs=(str(home), options, warm),
            )
            _pools[(workers, home, options)] = pool
        return pool


def shutdown_pools() -> None:
    """Stop every worker pool (also done at interpreter exit)."""
    with _pools_lock:
        for pool in _pools.values():
            pool.shutdown(wait=True, cancel_futures=True)
        _pools.clear()


atexit.register(shutdown_pools)


def _validate_threaded(
    validator: Validator,
    docs: Sequence[bytes],
    profile: str | None,
    workers: int,
    warm: tuple[str, ...],
) -> list[ValidationReport]:
    """With the JVM engine the rules already run on all cores in the JVM's threads: a few
    threads here keep it busy while they parse and check the XSD (lxml frees the GIL)."""
    validator.warm(warm, ("Invoice", "CreditNote"), exercise=True)
    with ThreadPoolExecutor(workers * 2) as threads:
        return list(threads.map(lambda doc: validate_or_report(validator, doc, profile), docs))


def validate_many(
    docs: Sequence[bytes],
    home: Path,
    profile: str | None = None,
    workers: int | None = None,
    options: EngineOptions | None = None,
) -> list[ValidationReport]:
    """Validate ``docs`` against the artefacts in ``home`` in parallel, reports in input order.

    ``workers`` defaults to the number of cores; with one worker (or a single document) the
    work is done in this process. With the JVM engine the documents go to its threads from a
    few threads of this process; with SaxonC, to a pool of processes.
    """
    workers = workers or os.cpu_count() or 1
    home = home.resolve()
    options = options or EngineOptions()
    validator = Validator.default(home, options)
    if workers <= 1 or len(docs) <= 1:
        return [validate_or_report(validator, doc, profile) for doc in docs]
    warm = (profile,) if profile else ("bis3",)
    if validator.engine.name == "jvm":
        return _validate_threaded(validator, docs, profile, workers, warm)
    pool = _pool(workers, home, options, warm)
    chunk = max(1, min(32, len(docs) // (workers * 4)))
    return list(pool.map(_validate_in_worker, [(d, profile) for d in docs], chunksize=chunk))
