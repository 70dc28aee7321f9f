"""Job kinds: what a claimed job means, registered by name.

The claim loop (:mod:`gateway.jobs.loop`) knows no document and no adapter: it claims a job,
looks its ``kind`` up in a :class:`JobKinds` registry and runs it. A kind either records its
whole result itself, in one transaction fenced by the job's lease (``process`` writes outputs,
event and the next job with :meth:`~gateway.store.Store.finish_processing`), and answers
:class:`Recorded`; or it answers :class:`Completed` with the receipt and event the loop completes
the job with (``deliver``). A kind that raises has failed the attempt: the loop retries or
dead-letters by the error's ``retryable`` and asks the kind for the dead-letter event.

Kinds: ``process`` (run a flow on a submission), ``deliver`` (hand the stored envelope to an
adapter), ``receive`` (run the inbound flow on a received message), ``report`` (the monthly
Peppol reports, :mod:`gateway.delivery.peppol_reports`); later ``transfer``, ``release``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Protocol

from gateway.errors import ConfigError
from gateway.store import Job, Receipt, StateChange


@dataclass(frozen=True, slots=True)
class Recorded:
    """The kind recorded the job's result itself (the job is done).

    ``then`` is a job the kind queued already leased to this worker (a hand-off, e.g.
    ``process`` → ``deliver``): the loop runs it next in the same slot, with no claim."""

    then: Job | None = None


@dataclass(frozen=True, slots=True)
class Completed:
    """Complete the job with this receipt and event (one transaction, lease-fenced)."""

    receipt: Receipt | None = None
    event: StateChange | None = None


JobResult = Recorded | Completed


class JobKind(Protocol):
    """One kind of job."""

    @property
    def name(self) -> str: ...

    async def run(self, job: Job, worker_id: str) -> JobResult:
        """Do the job; raise to fail the attempt."""
        ...

    def dead_event(self, job: Job, reason: str, *, retryable: bool) -> StateChange | None:
        """The event recorded with the job when it goes to the dead letter (or ``None``)."""
        ...


class JobKinds:
    """The kinds a worker runs, by name."""

    def __init__(self, kinds: Iterable[JobKind] = ()) -> None:
        self._kinds: dict[str, JobKind] = {}
        for kind in kinds:
            self.register(kind)

    def register(self, kind: JobKind) -> None:
        """Add a kind; a second kind of the same name is a configuration error."""
        if kind.name in self._kinds:
            raise ConfigError(f"job kind {kind.name!r} is registered twice", field="jobs")
        self._kinds[kind.name] = kind

    def get(self, name: str) -> JobKind | None:
        """The kind called ``name``, if registered."""
        return self._kinds.get(name)

    def names(self) -> list[str]:
        """Registered kind names, sorted."""
        return sorted(self._kinds)

    def __iter__(self) -> Iterator[JobKind]:
        return iter(self._kinds.values())
