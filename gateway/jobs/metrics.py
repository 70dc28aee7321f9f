"""Prometheus metrics of this process's workers: what they did with the jobs they ran.

These count in the process that ran the job (``lingang worker`` or ``lingang serve`` with
in-process workers), from its start: Prometheus adds up the processes and turns the counters
into rates. The store-wide gauges (submissions and outbox jobs by state, breakers not closed)
are :mod:`gateway.api.metrics`'.

Labels are bounded: the job's kind (``process``, ``deliver``, ...), its adapter's configured
name and an :class:`Outcome`; never an endpoint, a tenant or a document id.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from enum import StrEnum
from typing import Protocol

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector


class Outcome(StrEnum):
    """How one run of a claimed job ended."""

    COMPLETED = "completed"
    """Done (delivered, processed, ...)."""
    RETRY = "retry"
    """Failed; tried again after a backoff."""
    DEAD = "dead"
    """Failed for good: in the dead letter."""
    DEFERRED = "deferred"
    """Not run: its endpoint's circuit breaker is open (the attempt is not counted)."""
    LEASE_LOST = "lease_lost"
    """Stopped or refused: another worker holds the job now and records its outcome."""
    STORE_ERROR = "store_error"
    """Ran, but the outcome could not be recorded; the job runs again when its lease ends."""
    RELEASED = "released"
    """Given back unfinished because the worker stopped."""


class InFlight(Protocol):
    """A worker as the in-flight gauge sees it."""

    def running_jobs(self) -> int:
        """Jobs running in this worker now."""
        ...


class JobMetrics:
    """The job metric families of one process, in ``registry``."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry(auto_describe=True)
        self.jobs = Counter(
            "lingang_jobs",
            "Job runs this process finished, by kind, adapter and outcome (completed, retry, "
            "dead, deferred, lease_lost, store_error, released).",
            ["kind", "adapter", "outcome"],
            registry=self.registry,
        )
        self.duration = Histogram(
            "lingang_job_duration_seconds",
            "Time a job's run took in this process, claim to recorded outcome, by kind.",
            ["kind"],
            buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0),
            registry=self.registry,
        )
        self.in_flight = Gauge(
            "lingang_jobs_in_flight",
            "Jobs running in this process's workers now.",
            registry=self.registry,
        )
        self._workers: list[InFlight] = []
        self.in_flight.set_function(self._running)

    def watch(self, workers: Iterable[InFlight]) -> None:
        """Count ``workers``' running jobs in the in-flight gauge."""
        self._workers.extend(workers)

    def _running(self) -> float:
        return float(sum(worker.running_jobs() for worker in self._workers))

    def watch_stages(self, stage_processes: Callable[[], tuple[int, int, int]]) -> None:
        """Serve the stage processes' health from ``stage_processes`` (``(configured,
        running, died)``, e.g. :attr:`~gateway.jobs.runner.ProcessFlowRunner.stage_processes`)."""
        self.registry.register(_StageProcesses(stage_processes))

    def ran(self, kind: str, adapter: str, outcome: Outcome, seconds: float) -> None:
        """Record one run of a job."""
        self.jobs.labels(kind, adapter, outcome.value).inc()
        self.duration.labels(kind).observe(seconds)


class _StageProcesses(Collector):
    """``lingang_stage_processes{state}`` and ``lingang_stage_process_deaths_total``, read
    from the pool at each scrape."""

    def __init__(self, read: Callable[[], tuple[int, int, int]]) -> None:
        self.read = read

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        configured, running, died = self.read()
        processes = GaugeMetricFamily(
            "lingang_stage_processes",
            "Stage processes (each with its Schematron engine) of this process: configured, "
            "and running now (they start with the first document).",
            labels=["state"],
        )
        processes.add_metric(["configured"], configured)
        processes.add_metric(["running"], running)
        yield processes
        deaths = CounterMetricFamily(
            "lingang_stage_process_deaths",
            "Stage processes that died (killed, out of memory) since this process started; "
            "each is replaced and its documents tried again.",
        )
        deaths.add_metric([], died)
        yield deaths
